"""Typed models of sources, notes and briefs: the user-facing file formats."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    create_model,
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
# The CSL 1.0.2 variables (specification, appendix IV) a source file may give, by kind: a
# standard variable is text, a number variable a number or text ("12", "3-4", "xii"), a
# date variable a date (YYYY, YYYY-MM or YYYY-MM-DD) and a name variable a list of names.
# Their YAML keys are the CSL names. `Source` declares some of them itself (`title`,
# `author`, `issued`, ...); it has a field for each of the others, made from this table.
CslKind = Literal["standard", "number", "date", "name"]
CSL_VARIABLES: dict[str, CslKind] = {
    **dict.fromkeys((
        "abstract", "annote", "archive", "archive_collection", "archive_location",
        "archive-place", "authority", "call-number", "citation-label", "collection-title",
        "container-title", "container-title-short", "dimensions", "division", "DOI",
        "event-title", "event-place", "genre", "ISBN", "ISSN", "jurisdiction", "keyword",
        "language", "license", "medium", "note", "original-publisher",
        "original-publisher-place", "original-title", "part-title", "PMCID", "PMID",
        "publisher", "publisher-place", "references", "reviewed-genre", "reviewed-title",
        "scale", "source", "status", "title", "title-short", "URL", "volume-title",
    ), "standard"),
    **dict.fromkeys((
        "chapter-number", "collection-number", "edition", "issue", "number",
        "number-of-pages", "number-of-volumes", "page", "page-first", "part-number",
        "printing-number", "section", "supplement-number", "version", "volume",
    ), "number"),
    **dict.fromkeys((
        "accessed", "available-date", "event-date", "issued", "original-date", "submitted",
    ), "date"),
    **dict.fromkeys((
        "author", "chair", "collection-editor", "compiler", "composer", "container-author",
        "contributor", "curator", "director", "editor", "editor-translator",
        "editorial-director", "executive-producer", "guest", "host", "illustrator",
        "interviewer", "narrator", "organizer", "original-author", "performer", "producer",
        "recipient", "reviewed-author", "script-writer", "series-creator", "translator",
    ), "name"),
}
# The CSL 1.0.2 variables a source does not give, and why: the processor sets them.
CSL_NOT_SOURCE_DATA = {
    "citation-key": "the file name is the citation key",
    "citation-number": "numbered by the citation style",
    "first-reference-note-number": "numbered by the citation style",
    "locator": "each note gives its own `locator`",
    "year-suffix": "added by the citation style",
}
# Fields named like CSL variables that mean something else in a source file: not passed
# to the citation style.
OWN_MEANING = {"archive": "a source's `archive` names its archived text file"}
MAX_QUOTE_WORDS = 25
CITING_LISTS = ("key_messages", "recommendations", "lines_to_take", "questions")
PROSE_FIELDS = ("lead", "summary")  # a section's own words that may cite notes inline
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


def _csl_number(value: Any) -> int | str:
    """A CSL number variable: a whole number, or text (\"12a\", \"3-4\", \"xii\")."""
    if type(value) is int:  # type(): not bool
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, bool):
        found = f"YAML reads the unquoted value as true/false ({value!r})"
    elif isinstance(value, float):
        found = f"YAML reads the unquoted value as a fraction ({value!r}); put it in quotes"
    elif isinstance(value, str) or value is None:
        found = "it has no value"
    else:
        found = f"found {'a list' if isinstance(value, list) else 'a mapping'}"
    raise ValueError(f"expected a number or text (e.g. 12 or \"12a\"), but {found}")


CslNumber = Annotated[
    int | str,
    PlainValidator(_csl_number),
    WithJsonSchema({"anyOf": [TEXT_SCHEMA, {"type": "integer"}]}),
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
    speaker: Text | None = None  # who said the quoted words, when not the source's author
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
        if self.speaker is not None and self.quote is None:
            raise ValueError("a `speaker` says who said a quote; add the `quote` or remove it")
        if self.event is not None and self.date is None:
            raise ValueError("an `event` label needs a `date`; add one or remove the label")
        return self


class _SourceFields(_Model):
    """The fields a source file has with their own types and meanings."""

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
    marking: Text | None = None  # a level of the project's marking scheme (not CSL)
    perspective: Perspective
    assessment: Text | Texts  # one text, or one per language
    notes: list[Note] = []

    @field_validator("assessment")
    @classmethod
    def _some_language(cls, value: Any) -> Any:
        return _some_text(value)


_DECLARED = {f.alias or name for name, f in _SourceFields.model_fields.items()}
_KIND_TYPES: dict[CslKind, tuple[Any, Any]] = {
    "standard": (Text | None, None), "number": (CslNumber | None, None),
    "date": (PartialDate | None, None), "name": (list[Name], []),
}
_KIND_HELP = {
    "standard": "CSL standard variable: text",
    "number": "CSL number variable: a number or text",
    "date": "CSL date variable: YYYY, YYYY-MM or YYYY-MM-DD",
    "name": "CSL name variable: a list of names",
}
if TYPE_CHECKING:  # the fields are made from the table; the type checker sees the others
    _CslSourceFields = _SourceFields
else:
    _CslSourceFields = create_model(
        "_CslSourceFields", __base__=_SourceFields, **{
            name.replace("-", "_"): (kind_type, Field(
                default=default, alias=name, description=_KIND_HELP[kind]))
            for name, kind in CSL_VARIABLES.items() if name not in _DECLARED
            for kind_type, default in [_KIND_TYPES[kind]]
        },
    )


class Source(_CslSourceFields):
    """One source document: CSL-JSON-named metadata, the analyst's assessment, notes."""

    def csl_variables(self) -> dict[str, Any]:
        """The CSL variables the source gives (not those of OWN_MEANING), by CSL name."""
        given = {}
        for name, field in type(self).model_fields.items():
            key = field.alias or name
            value = getattr(self, name)
            if key in CSL_VARIABLES and key not in OWN_MEANING and value not in (None, []):
                given[key] = value
        return given

    @property
    def outlet(self) -> str | None:
        """Who published it: the container (newspaper, journal), else the publisher."""
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
        first = self.author[0].sort_key if self.author else (self.outlet or self.title)
        return first.casefold().lstrip("[“\"'"), self.title.casefold()


class _TextOrFields(_Model):
    """A model written either as its `text` alone or as a mapping of its fields."""

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


class CitedText(_TextOrFields):
    """A key message or recommendation: the brief's own words, optionally citing notes."""

    text: Text
    notes: list[NoteRef] = []


class Question(_Model):
    """A likely question with the suggested answer (talking points)."""

    question: Text
    answer: Text
    notes: list[NoteRef] = []


# An inline citation in a section's prose: [@source/note] or [@a/b; @c/d], placed where
# the footnote call goes.
INLINE_CITATION = re.compile(
    r"\[(@[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*(?:\s*;\s*@[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*)*)\]"
)
# Anything that looks like an attempt at one, for the error when it is malformed.
CITATION_LIKE = re.compile(r"\[@[^\]]*\]?")


def citation_refs(match: re.Match[str]) -> list[str]:
    """The note references of one inline citation (an INLINE_CITATION match)."""
    return [r.strip().lstrip("@") for r in match.group(1).split(";")]


def inline_refs(text: str) -> list[list[str]]:
    """The note references of each inline citation in `text`, in order."""
    return [citation_refs(m) for m in INLINE_CITATION.finditer(text)]


class Paragraph(_TextOrFields):
    """An authored paragraph of a section: a point in the brief's own words, citing the
    notes it rests on inline ([@source/note] after the sentence or clause each supports),
    or marked as the authors' judgement."""

    text: Text
    judgement: bool = False  # the authors' own judgement: may cite no note
    confidence: Confidence | None = None  # how sure the authors are (a judgement)
    pull_quote: NoteRef | None = None  # a note it cites whose quote is set beside it

    @property
    def refs(self) -> list[list[str]]:
        """The notes each inline citation cites."""
        return inline_refs(self.text)


class Section(_Model):
    """A curated section: a lead in the brief's words, then either argued paragraphs
    that cite notes inline, or the notes it draws on, one numbered paragraph each."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["notes"]}, {"required": ["paragraphs"]}]}
    )

    key: Slug
    title: Text | None = None
    lead: Text | None = None
    summary: Text | None = None  # a short version of the lead for short audiences
    paragraphs: list[Paragraph] = []
    notes: list[NoteRef] = []

    @model_validator(mode="after")
    def _body(self) -> Section:
        if self.paragraphs and self.notes:
            raise ValueError(
                "a section holds either `paragraphs` (argued prose citing notes inline as "
                "[@source/note]) or `notes` (one numbered paragraph per note), not both"
            )
        if not self.paragraphs and not self.notes:
            raise ValueError(
                "a section needs `paragraphs` (argued prose citing notes as [@source/note]) "
                "or `notes` (the notes it draws on, one paragraph each)"
            )
        return self


# Where a brief is in clearance, and what a clearer decided.
STATUSES = ("draft", "for clearance", "cleared", "final")
Status = Literal["draft", "for clearance", "cleared", "final"]
Decision = Literal["cleared", "changes requested", "not cleared"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9][0-9 ()./-]{4,30}$"


class ClearanceEntry(_Model):
    """One step of a brief's clearance: who saw it, when, and what they decided."""

    name: Text
    role: Text | None = None
    date: FullDate
    decision: Decision
    comment: Text | None = None


class Contact(_Model):
    """The officer who answers for a brief."""

    name: Text
    role: Text | None = None
    email: Annotated[str, StringConstraints(pattern=EMAIL)] | None = None
    phone: Annotated[str, StringConstraints(pattern=PHONE)] | None = None


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
    # Document control: the version, where it is in clearance, the clearance history
    # (oldest first), who answers for it, and who receives it.
    version: Text | None = None
    status: Status = "draft"
    clearance: list[ClearanceEntry] = []
    contact: Contact | None = None
    distribution: list[Text] = []
    # Protective marking: a level of the project's scheme, its caveats, an embargo date,
    # and a level per audience that differs from `marking`.
    marking: Text | None = None
    caveats: list[Text] = []
    embargo: FullDate | None = None
    audience_markings: dict[Slug, Text] = {}
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
        refs: list[tuple[tuple[str | int, ...], str]] = []
        for i, section in enumerate(self.sections):
            for field in PROSE_FIELDS:
                for ref in (r for group in inline_refs(getattr(section, field) or "")
                            for r in group):
                    refs.append((("sections", i, field), ref))
            for j, paragraph in enumerate(section.paragraphs):
                refs += [(("sections", i, "paragraphs", j), r)
                         for group in paragraph.refs for r in group]
            refs += [(("sections", i, "notes", j), ref) for j, ref in enumerate(section.notes)]
        refs += [
            ((name, i, "notes", j), ref)
            for name in CITING_LISTS
            for i, item in enumerate(getattr(self, name)) for j, ref in enumerate(item.notes)
        ]
        return refs

    @property
    def has_document_control(self) -> bool:
        """Whether the brief gives document control to print (a version, a contact,
        clearance steps or a distribution list)."""
        return bool(self.version or self.contact or self.clearance or self.distribution)

    @property
    def last_clearance(self) -> ClearanceEntry | None:
        """The latest clearance step, if any."""
        return self.clearance[-1] if self.clearance else None

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
