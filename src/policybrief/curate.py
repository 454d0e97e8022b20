"""Resolve a brief's note references for one audience: what templates render. No I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .config import Audience, Markings
from .load import Project
from .models import (
    INLINE_CITATION,
    Brief,
    CitedText,
    Note,
    Paragraph,
    PartialDate,
    Section,
    Source,
    citation_refs,
    rename_places,
)
from .vocabulary import PRIORITY_RANK, in_language


@dataclass(frozen=True)
class Citation:
    """A note as cited in a brief: the note, its source, its reference and endnote number.
    The note's locator and event label and the source's assessment are the texts in the
    brief's language (a field written in several languages, taken by in_language)."""

    ref: str
    note: Note
    source: Source
    text: str  # the note's text in the brief's language
    locator: str  # the note's locator in the brief's language
    number: int  # order of the note's first citation in the brief
    source_number: int  # order of the source's first citation: its endnote number


@dataclass(frozen=True)
class CitationPoint:
    """A place in the brief that cites notes: one footnote (or in-text citation)."""

    index: int  # document order: key messages, sections, recommendations, lines, questions
    citations: list[Citation]
    paragraph: str | None = None  # a section paragraph's number, "2.3"


@dataclass(frozen=True)
class TimelineEvent:
    """A dated event for timelines, labelled with the place names in force at the time."""

    date: PartialDate
    end_date: PartialDate | None
    label: str
    citation: Citation


@dataclass(frozen=True)
class Endnote:
    """A cited source with the notes cited from it (endnote-style citation)."""

    number: int
    source: Source
    citations: list[Citation]


@dataclass(frozen=True)
class CuratedText:
    """A key message, recommendation or line to take, with the notes it cites."""

    text: str
    point: CitationPoint

    @property
    def citations(self) -> list[Citation]:
        """The notes this item cites."""
        return self.point.citations


@dataclass(frozen=True)
class CuratedQuestion:
    """A likely question, its suggested answer and the notes behind the answer."""

    question: str
    answer: str
    point: CitationPoint

    @property
    def citations(self) -> list[Citation]:
        """The notes the answer cites."""
        return self.point.citations


# Where an inline citation stood in a text: MARK, the point's number in the text, MARK_END.
# Private-use characters, which pass through Markdown as text and no user text keeps.
MARK, MARK_END = "\ue000", "\ue001"
_MARKS = str.maketrans("", "", MARK + MARK_END)


@dataclass(frozen=True)
class Prose:
    """Text in the brief's words (Markdown) with the citation points it makes inline:
    `text` holds a mark where each point's footnote call goes (the `cited` filter puts
    the calls there); `plain` is the text with its citations left out."""

    text: str
    points: list[CitationPoint]

    @property
    def plain(self) -> str:
        """The text without its inline citations."""
        return re.sub(f"{MARK}\\d+{MARK_END}", "", self.text)

    @property
    def citations(self) -> list[Citation]:
        """The notes the text cites, each once, in order."""
        return list({c.ref: c for p in self.points for c in p.citations}.values())


@dataclass(frozen=True)
class CuratedParagraph:
    """A numbered paragraph of a section: authored prose citing notes inline, or one
    note's text with its citation (a section that lists `notes`)."""

    number: str  # "2.3": the section's number, then the paragraph's
    prose: Prose
    judgement: bool  # the authors' own judgement
    confidence: str | None  # the paragraph's (a judgement) or its note's
    key: bool  # a note paragraph of a key-priority note
    quote: Citation | None  # the note whose quote is pulled out beside the paragraph

    @property
    def points(self) -> list[CitationPoint]:
        """The citation points the paragraph makes."""
        return self.prose.points

    @property
    def citations(self) -> list[Citation]:
        """The notes the paragraph cites, each once."""
        return self.prose.citations


@dataclass(frozen=True)
class CuratedSection:
    """A section for one audience: notes below the audience's priority are left out."""

    key: str
    title: str
    lead: Prose | None
    summary: Prose | None  # the section's short version: its `summary`, else its lead
    paragraphs: list[CuratedParagraph]  # what the audience prints below the lead
    words: int  # words the audience reads in this section

    @property
    def points(self) -> list[CitationPoint]:
        """Every citation point of the section: its lead's or summary's, its paragraphs'."""
        prose = [self.lead, self.summary, *(p.prose for p in self.paragraphs)]
        seen = {p.index: p for text in prose if text for p in text.points}
        return sorted(seen.values(), key=lambda p: p.index)

    @property
    def citations(self) -> list[Citation]:
        """The notes the section cites for this audience, each once, in order."""
        return list({c.ref: c for p in self.points for c in p.citations}.values())


@dataclass(frozen=True)
class Marking:
    """A target's protective marking: its level, caveats and embargo date."""

    level: str
    caveats: tuple[str, ...] = ()
    embargo: dt.date | None = None
    printed: tuple[str, ...] = ()  # the level and caveats in the brief's language

    @property
    def printed_level(self) -> str:
        """The level as the brief's language names it (the scheme's `names`)."""
        return self.printed[0] if self.printed else self.level


def target_marking(brief: Brief, audience: str, scheme: Markings | None) -> Marking | None:
    """The marking of the brief for an audience: its `audience_markings` entry, else the
    brief's `marking`, else the scheme's default (None when markings are off)."""
    if scheme is None:
        return None
    level = brief.audience_markings.get(audience) or brief.marking or scheme.default
    caveats = tuple(brief.caveats)
    return Marking(level, caveats, brief.embargo,
                   tuple(scheme.name(term, brief.language) for term in (level, *caveats)))


def source_marking(source: Source, scheme: Markings) -> str:
    """A source's level: its own `marking`, else the scheme's default."""
    return source.marking or scheme.default


@dataclass(frozen=True)
class CuratedBrief:
    """Everything a template needs to render one brief for one audience."""

    brief: Brief
    audience: Audience
    key_messages: list[CuratedText]
    sections: list[CuratedSection]
    recommendations: list[CuratedText]
    lines_to_take: list[CuratedText]
    questions: list[CuratedQuestion]
    references: list[Source]
    timeline: list[TimelineEvent]
    endnotes: list[Endnote]
    points: list[CitationPoint]  # every citation point, in document order
    cited: list[Citation]  # every cited note once, in order of first citation
    marking: Marking | None = None  # None: the project declares no marking scheme

    def paragraphs_citing(self, ref: str) -> list[str]:
        """The numbered paragraphs ("2.3") that cite the note `ref`, in order."""
        numbers = (p.paragraph for p in self.points
                   if p.paragraph and any(c.ref == ref for c in p.citations))
        return list(dict.fromkeys(numbers))

    def context(self) -> dict[str, Any]:
        """Template variables (documented in docs/templates.md)."""
        return {
            "brief": self.brief,
            "audience": self.audience,
            "key_messages": self.key_messages,
            "sections": self.sections,
            "recommendations": self.recommendations,
            "lines_to_take": self.lines_to_take,
            "questions": self.questions,
            "references": self.references,
            "timeline": self.timeline,
            "endnotes": self.endnotes,
            "points": self.points,
            "cited": self.cited,
            "paragraphs_citing": self.paragraphs_citing,
            "marking": self.marking,
        }


def prints_summary(section: Section, audience: Audience) -> bool:
    """Whether the audience prints the section's short version (`summary`, else `lead`),
    its notes or paragraphs then being only the evidence for it: an audience not citing
    in footnotes (the executive note, talking points)."""
    return audience.citations != "footnotes" and bool(section.summary or section.lead)


def counted_fields(section: Section, audience: Audience) -> tuple[str, ...]:
    """The fields of a brief's section whose words its word budget counts for an
    audience, as its template prints them: its `summary` (else `lead`) where the
    audience prints that, else its lead and its paragraphs (or its notes' text)."""
    if prints_summary(section, audience):
        return ("summary",) if section.summary else ("lead",)
    body = "paragraphs" if section.paragraphs else "notes' text"
    return ("lead", body) if section.lead else (body,)


def count_words(*texts: str | None) -> int:
    """Words as a reader counts them (Markdown markup is not a word)."""
    return sum(len([w for w in (t or "").split() if any(c.isalnum() for c in w)]) for t in texts)


class _Citer:
    """Resolves references and numbers each cited note once, in order of first use."""

    def __init__(self, project: Project, language: str) -> None:
        self.project = project
        self.language = language
        self.cited: dict[str, Citation] = {}
        self.source_numbers: dict[str, int] = {}  # source id -> its endnote number
        self.sources: dict[str, Source] = {}  # source id -> it, in the brief's language
        self.points: list[CitationPoint] = []

    def point(self, refs: list[str], paragraph: str | None = None) -> CitationPoint:
        point = CitationPoint(len(self.points), [self(r) for r in refs], paragraph)
        self.points.append(point)
        return point

    def note(self, ref: str) -> tuple[Note, Source]:
        found = self.project.note(ref)
        if found is None:  # validation has refused the brief before curation
            raise KeyError(ref)
        return found

    def text(self, value: Any) -> Any:
        """A field written in one or several languages, in the brief's (validate.py
        reports a missing language; an allowed gap shows the project language's text)."""
        return None if value is None else in_language(
            value, self.language, self.project.config.language)

    def __call__(self, ref: str) -> Citation:
        if ref not in self.cited:
            note, source = self.note(ref)
            number = self.source_numbers.setdefault(source.id, len(self.source_numbers) + 1)
            if source.id not in self.sources:
                self.sources[source.id] = source.model_copy(
                    update={"assessment": self.text(source.assessment)})
            # Templates read the note's and source's fields in the brief's language.
            shown = note.model_copy(update={
                "locator": self.text(note.locator), "event": self.text(note.event)})
            self.cited[ref] = Citation(
                ref, shown, self.sources[source.id], self.text(note.text), self.text(note.locator),
                len(self.cited) + 1, number)
        return self.cited[ref]

    def texts(self, items: list[CitedText]) -> list[CuratedText]:
        return [CuratedText(i.text, self.point(i.notes)) for i in items]

    def prose(self, text: str | None, paragraph: str | None = None, *,
              cites: bool = True) -> Prose | None:
        """`text` with each inline citation made a citation point (cites=False: left
        out, for a text this audience does not print), its mark where the call goes."""
        if text is None:
            return None
        text = text.translate(_MARKS)
        points: list[CitationPoint] = []

        def mark(match: re.Match[str]) -> str:
            if not cites:
                return ""
            points.append(self.point(citation_refs(match), paragraph))
            return f"{MARK}{len(points) - 1}{MARK_END}"

        return Prose(re.sub(r"\s*" + INLINE_CITATION.pattern, mark, text), points)

    def note_paragraph(self, ref: str, number: str) -> CuratedParagraph:
        point = self.point([ref], number)
        c = point.citations[0]
        text = c.text.translate(_MARKS).rstrip()
        # After a table (a last line of cells), the call is a paragraph of its own.
        joint = "\n\n" if text.rsplit("\n", 1)[-1].lstrip().startswith("|") else ""
        prose = Prose(f"{text}{joint}{MARK}0{MARK_END}", [point])
        return CuratedParagraph(number, prose, False, c.note.confidence,
                                c.note.priority == "key", c if c.note.quote else None)

    def paragraph(self, paragraph: Paragraph, number: str) -> CuratedParagraph:
        prose = self.prose(paragraph.text, number)
        assert prose is not None
        quoted = [c for c in prose.citations if c.ref == paragraph.pull_quote]
        return CuratedParagraph(number, prose, paragraph.judgement, paragraph.confidence,
                                False, quoted[0] if quoted else None)


def _section(cite: _Citer, section: Section, n: int, audience: Audience,
             title: str) -> CuratedSection:
    """One section as the audience prints it, its citation points made in reading order."""
    limit = PRIORITY_RANK[audience.min_priority]
    if prints_summary(section, audience):
        # The short version is the section's text; its inline citations are its evidence,
        # else the section's notes (or its paragraphs' citations) at the audience's priority.
        summary = cite.prose(section.summary or section.lead)
        assert summary is not None
        if not summary.points:
            refs = section.notes or [r for p in section.paragraphs for g in p.refs for r in g]
            shown = [r for r in dict.fromkeys(refs)
                     if PRIORITY_RANK[cite.note(r)[0].priority] <= limit]
            if shown:
                summary = Prose(f"{summary.text}{MARK}0{MARK_END}", [cite.point(shown)])
        lead = cite.prose(section.lead, cites=False)
        paragraphs: list[CuratedParagraph] = []
        words = count_words(summary.plain)
    else:
        lead = cite.prose(section.lead)
        summary = cite.prose(section.summary or section.lead, cites=False)
        if section.paragraphs:
            paragraphs = [cite.paragraph(p, f"{n}.{j}")
                          for j, p in enumerate(section.paragraphs, 1)]
        else:
            refs = [r for r in section.notes if PRIORITY_RANK[cite.note(r)[0].priority] <= limit]
            paragraphs = [cite.note_paragraph(r, f"{n}.{j}") for j, r in enumerate(refs, 1)]
        words = count_words(lead.plain if lead else None, *(p.prose.plain for p in paragraphs))
    return CuratedSection(section.key, title, lead, summary, paragraphs, words)


def curate(project: Project, brief: Brief, audience: Audience) -> CuratedBrief:
    """Resolve a validated brief against the project's notes for one audience."""
    cite = _Citer(project, brief.language)
    parts = audience.parts  # a part the audience does not print is left out, uncited
    key_messages = cite.texts(brief.key_messages) if "key_messages" in parts else []
    sections = [
        _section(cite, s, n, audience, s.title or cite.text(project.config.sections[s.key]))
        for n, s in enumerate(brief.sections, 1)
    ] if "sections" in parts else []
    recommendations = cite.texts(brief.recommendations) if "recommendations" in parts else []
    lines_to_take = cite.texts(brief.lines_to_take) if "lines_to_take" in parts else []
    questions = [
        CuratedQuestion(q.question, q.answer, cite.point(q.notes)) for q in brief.questions
    ] if "questions" in parts else []
    cited = list(cite.cited.values())
    sources = {c.source.id: c.source for c in cited}
    by_source: dict[str, list[Citation]] = {}
    for c in cited:
        by_source.setdefault(c.source.id, []).append(c)
    endnotes = [
        Endnote(n, source, by_source[source.id]) for n, source in enumerate(sources.values(), 1)
    ]
    return CuratedBrief(
        brief=brief,
        audience=dataclasses.replace(audience, label=cite.text(audience.label)),
        key_messages=key_messages,
        sections=sections,
        recommendations=recommendations,
        lines_to_take=lines_to_take,
        questions=questions,
        references=sorted(sources.values(), key=lambda s: s.sort_key),
        timeline=sorted(
            (
                TimelineEvent(
                    c.note.date, c.note.end_date,
                    rename_places(cite.text(c.note.event), c.note.date, project.places), c,
                )
                for c in cited
                if c.note.date and c.note.event
            ),
            key=lambda e: (e.date.start, e.citation.ref),
        ),
        endnotes=endnotes,
        points=cite.points,
        cited=cited,
        marking=target_marking(brief, audience.name, project.config.markings),
    )
