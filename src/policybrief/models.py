"""Typed models of sources, notes and briefs: the user-facing file formats."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from .vocabulary import LANGUAGE, Perspective, Priority, text_in

# The WithJsonSchema annotations below say in JSON Schema (`brief schema`) what the
# validators accept, for editors; they change no validation.
SLUG = r"^[a-z0-9][a-z0-9-]*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG, max_length=80)]
# An unquoted tag like 2015 is read by YAML as a number; as a tag it means the text.
Tag = Annotated[
    Slug,
    BeforeValidator(lambda v: str(v) if type(v) is int else v),  # type(): not bool
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": SLUG, "maxLength": 80},
                   {"type": "integer", "minimum": 0}]},
        mode="validation",
    ),
]
NoteRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$", max_length=161)
]
TEXT_SCHEMA = {"type": "string", "minLength": 1, "pattern": r"\S"}  # not blank once stripped
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), WithJsonSchema(TEXT_SCHEMA)
]
Language = Annotated[str, StringConstraints(pattern=LANGUAGE)]
# One text per language. (Pydantic's own schema would let keys that are not languages by.)
Texts = Annotated[
    dict[Language, Text],
    WithJsonSchema({"type": "object", "patternProperties": {LANGUAGE: TEXT_SCHEMA},
                    "additionalProperties": False, "minProperties": 1}),
]
Confidence = Literal[
    "almost no chance",
    "very unlikely",
    "unlikely",
    "roughly even chance",
    "likely",
    "very likely",
    "almost certain",
]
CslType = Literal[
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "book",
    "chapter",
    "document",
    "interview",
    "legislation",
    "post",
    "post-weblog",
    "report",
    "speech",
    "webpage",
]
MAX_QUOTE_WORDS = 25
CITING_LISTS = ("key_messages", "recommendations", "lines_to_take", "questions")
# The year as written, of any sign and (bounded) length: 0000 or 10000 gets its own message.
_DATE = re.compile(r"^(-?\d{1,8})(?:-(\d{2})(?:-(\d{2}))?)?$")
_YEAR = r"(?!0000)\d{4}"  # the years a date (datetime.date) can have: 0001 to 9999
_MONTH_DAYS = (
    ("(0[13578]|1[02])", r"(0[1-9]|[12]\d|3[01])"),
    ("(0[469]|11)", r"(0[1-9]|[12]\d|30)"),
    ("02", r"(0[1-9]|[12]\d)"),  # the validator, not the schema, knows leap years
)


def _date_pattern(full: bool) -> str:
    """YYYY[-MM[-DD]] (full: YYYY-MM-DD) as a JSON Schema pattern, months and days in range."""
    optional = "" if full else "?"
    months = "|".join(f"{month}(-{day}){optional}" for month, day in _MONTH_DAYS)
    return rf"^\s*{_YEAR}(-({months})){optional}\s*$"


PARTIAL_DATE, FULL_DATE = _date_pattern(full=False), _date_pattern(full=True)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day (CSL date-parts)."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: Any) -> PartialDate:
        """Read YYYY, YYYY-MM or YYYY-MM-DD (a string, an int year or a date)."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        text = str(value).strip()
        match = _DATE.match(text)
        if isinstance(value, bool) or not match:
            raise ValueError(f"{text!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise ValueError(
                f"{text!r} is not a real date: year {match.group(1)} is not a calendar year "
                f"({dt.MINYEAR}–{dt.MAXYEAR})"
            )
        if len(match.group(1)) != 4:
            raise ValueError(f"{text!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"{text!r} is not a real date: there is no month {month}")
        if month is not None and day is not None:
            last = calendar.monthrange(year, month)[1]
            if not 1 <= day <= last:
                name = calendar.month_name[month]
                raise ValueError(
                    f"{text!r} is not a real date: {name} {year} has {last} days"
                )
        return cls(year, month, day)

    @property
    def start(self) -> dt.date:
        """The first day the date could mean, for sorting and comparisons."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def end(self) -> dt.date:
        """The last day the date could mean ('2025' ends on 31 December 2025)."""
        if self.day is not None:
            return self.start
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def parts(self) -> list[int]:
        """CSL-JSON date-parts."""
        return [p for p in (self.year, self.month, self.day) if p is not None]

    def __str__(self) -> str:
        return "-".join(f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate(self.parts))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # YAML reads an unquoted year as a number; `parse` takes it.
        return {
            "anyOf": [{"type": "string", "pattern": PARTIAL_DATE},
                      {"type": "integer", "minimum": 1000, "maximum": 9999}],
            "description": "YYYY, YYYY-MM or YYYY-MM-DD",
        }


def _full_date(value: Any) -> dt.date:
    date = PartialDate.parse(value)
    if date.day is None:
        raise ValueError(f"{str(value)!r} is not a full date; write YYYY-MM-DD")
    return date.start


FullDate = Annotated[  # a day, not a month or a year
    dt.date,
    BeforeValidator(_full_date),
    WithJsonSchema({"type": "string", "pattern": FULL_DATE, "description": "YYYY-MM-DD"}),
]


def _some_text(value: Any) -> Any:
    """A field in several languages needs at least one."""
    if isinstance(value, dict) and not value:
        raise ValueError("give the text, or a mapping of languages to texts")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Name(_Model):
    """A CSL name: a person (family, given) or an organisation (literal)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [
            {"required": [key], "properties": {key: {"type": "string"}}}
            for key in ("family", "literal")
        ]}
    )

    family: Text | None = None
    given: Text | None = None
    literal: Text | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Name:
        if not (self.family or self.literal):
            raise ValueError("a name needs `family` (a person) or `literal` (an organisation)")
        return self

    @property
    def display(self) -> str:
        """Given name first, as printed in running text."""
        if self.literal:
            return self.literal
        return " ".join(p for p in (self.given, self.family) if p)

    @property
    def sort_key(self) -> str:
        """Family name first, for ordering a bibliography."""
        return (self.literal or f"{self.family} {self.given or ''}").casefold()


class Note(_Model):
    """One fact or claim, in the analyst's words, tied to a place in its source."""

    model_config = ConfigDict(
        json_schema_extra={"dependentRequired": {"end_date": ["date"], "event": ["date"]}}
    )

    id: Slug
    section: Slug
    text: Text | Texts  # one text, or one per language: {en: ..., ru: ...}
    locator: Text | Texts
    quote: Text | None = Field(
        default=None,
        json_schema_extra={"pattern": rf"^\s*\S+(\s+\S+){{0,{MAX_QUOTE_WORDS - 1}}}\s*$"},
    )
    date: PartialDate | None = None
    end_date: PartialDate | None = None
    event: Text | Texts | None = None
    priority: Priority = "supporting"
    tags: list[Tag] = []
    confidence: Confidence | None = None

    @field_validator("text", "locator", "event")
    @classmethod
    def _some_language(cls, value: Any) -> Any:
        return _some_text(value)

    def text_in(self, language: str, default: str) -> str | None:
        """The note's text in `language` (vocabulary.text_in); a plain text is in the
        project's `default` language. None if the note lacks that language."""
        return text_in(self.text, language, default)

    @property
    def texts(self) -> list[str]:
        """Every language version of the text."""
        return list(self.text.values()) if isinstance(self.text, dict) else [self.text]

    @field_validator("quote")
    @classmethod
    def _short_quote(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) > MAX_QUOTE_WORDS:
            raise ValueError(
                f"quote has {len(value.split())} words; keep quotes to {MAX_QUOTE_WORDS} words "
                "or fewer and put the rest in your own words in `text`"
            )
        return value

    @model_validator(mode="after")
    def _dates_agree(self) -> Note:
        if self.end_date is not None:
            if self.date is None:
                raise ValueError("`end_date` needs a `date` for the first day")
            if self.end_date.start < self.date.start:
                raise ValueError(f"`end_date` {self.end_date} is before `date` {self.date}")
        if self.event is not None and self.date is None:
            raise ValueError("an `event` label needs a `date`; add one or remove the label")
        return self


class Source(_Model):
    """One source document: CSL-JSON-named metadata, the analyst's assessment, notes."""

    id: Slug
    type: CslType
    title: Text
    title_short: Text | None = Field(default=None, alias="title-short")
    author: list[Name] = []
    container_title: Text | None = Field(default=None, alias="container-title")
    publisher: Text | None = None
    issued: PartialDate | None = None
    URL: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    accessed: PartialDate | None = None
    language: Language = "en"
    archive: Text | None = None
    perspective: Perspective
    assessment: Text | Texts  # one text, or one per language
    notes: list[Note] = []

    @field_validator("assessment")
    @classmethod
    def _some_language(cls, value: Any) -> Any:
        return _some_text(value)

    @property
    def creator(self) -> str | None:
        """Who to name in a short citation: the authors, else the outlet, else the publisher.

        None for an unsigned document from an unknown outlet: cite it by title.
        """
        if self.author:
            names = [n.family or n.display for n in self.author]
            return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        return self.container_title or self.publisher

    @property
    def short_title(self) -> str:
        """CSL title-short, else the title up to its first colon or question mark."""
        if self.title_short:
            return self.title_short
        return re.split(r"(?<=[?!])\s|:\s", self.title, maxsplit=1)[0]

    @property
    def sort_key(self) -> tuple[str, str]:
        """Bibliography order: first creator (or the title when there is none), then title."""
        first = self.author[0].sort_key if self.author else (self.creator or self.title)
        return first.casefold().lstrip("[“\"'"), self.title.casefold()


class CitedText(_Model):
    """A key message or recommendation: the brief's own words, optionally citing notes."""

    text: Text
    notes: list[NoteRef] = []

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        mapping = handler(schema)
        return {"description": mapping.pop("description"), "anyOf": [TEXT_SCHEMA, mapping]}


class Question(_Model):
    """A likely question with the suggested answer (talking points)."""

    question: Text
    answer: Text
    notes: list[NoteRef] = []


class Section(_Model):
    """A curated section: a lead in the brief's words, then the notes it draws on."""

    key: Slug
    title: Text | None = None
    lead: Text | None = None
    summary: Text | None = None  # a short version of the lead for short audiences
    notes: list[NoteRef] = Field(min_length=1)


class Brief(_Model):
    """A brief spec: what to say, to whom, from which notes."""

    id: Slug
    title: Text
    subtitle: Text | None = None
    short_title: Text | None = None
    as_of: FullDate
    authors: list[Text] = Field(min_length=1)
    organisation: Text | None = None
    language: Language = "en"
    status: Literal["draft", "final"] = "draft"
    audiences: list[Slug] = Field(default=["analyst"], min_length=1)
    keywords: list[Text] = []
    key_messages: list[CitedText] = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)
    recommendations: list[CitedText] = []
    outlook_signposts: list[Text] = []
    lines_to_take: list[CitedText] = []
    questions: list[Question] = []
    do_not_say: list[Text] = []

    def references(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every note reference with its field path, sections first, then
        key messages, recommendations, lines to take and questions."""
        refs: list[tuple[tuple[str | int, ...], str]] = [
            (("sections", i, "notes", j), ref)
            for i, section in enumerate(self.sections) for j, ref in enumerate(section.notes)
        ]
        refs += [
            ((name, i, "notes", j), ref)
            for name in CITING_LISTS
            for i, item in enumerate(getattr(self, name)) for j, ref in enumerate(item.notes)
        ]
        return refs

    @property
    def running_title(self) -> str:
        """The short title for running headers."""
        return self.short_title or self.title


class FormerName(_Model):
    """A name a place had between two dates (inclusive)."""

    name: Text
    start: FullDate = Field(alias="from")
    end: FullDate = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> FormerName:
        if self.end < self.start:
            raise ValueError(f"`to` {self.end} is before `from` {self.start}")
        return self


class Place(_Model):
    """A place whose official name changed: its name today and its former names."""

    name: Text
    former: list[FormerName] = Field(min_length=1)

    @property
    def names(self) -> list[str]:
        """Every name the place has had, today's first."""
        return [self.name, *(f.name for f in self.former)]

    def name_on(self, date: PartialDate) -> str | None:
        """The name in force throughout `date` (None if it changed within it)."""
        first, last = date.start, date.end
        for former in self.former:
            if former.start <= first and last <= former.end:
                return former.name
            if first <= former.end and former.start <= last:
                return None  # the period straddles a renaming
        return self.name


class Places(_Model):
    """places.yaml: time-aware names for timelines and checks."""

    places: list[Place] = []


def rename_places(text: str, date: PartialDate | None, places: list[Place]) -> str:
    """Text with each renamed place given the name in force on `date`."""
    if date is None:
        return text
    for place in places:
        right = place.name_on(date)
        if right:
            for name in place.names:
                text = re.sub(rf"\b{re.escape(name)}\b", right, text)
    return text
