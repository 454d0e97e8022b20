"""Resolve a brief's note references for one audience: what templates render. No I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .config import Audience
from .load import Project
from .models import Brief, CitedText, Note, PartialDate, Section, Source, rename_places
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


@dataclass(frozen=True)
class CuratedSection:
    """A section for one audience: notes below the audience's priority are left out."""

    key: str
    title: str
    lead: str | None
    summary: str | None  # the section's short version: its `summary`, else its lead
    points: list[CitationPoint]  # one per shown note, in the brief's order
    words: int  # words the audience reads in this section

    @property
    def citations(self) -> list[Citation]:
        """The notes shown in this section."""
        return [p.citations[0] for p in self.points]


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
        }


def counted_fields(section: Section, audience: Audience) -> tuple[str, ...]:
    """The fields of a brief's section whose words its word budget counts for an
    audience, as its template prints them: with endnotes (the executive note) its
    `summary`, else its `lead`, else its notes' `text`; otherwise its lead and notes."""
    if audience.citations == "endnotes" and (section.summary or section.lead):
        return ("summary",) if section.summary else ("lead",)
    return ("lead", "notes' text") if section.lead else ("notes' text",)


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


def curate(project: Project, brief: Brief, audience: Audience) -> CuratedBrief:
    """Resolve a validated brief against the project's notes for one audience."""
    cite = _Citer(project, brief.language)
    limit = PRIORITY_RANK[audience.min_priority]
    key_messages = cite.texts(brief.key_messages)
    sections = []
    for n, s in enumerate(brief.sections, 1):
        refs = [r for r in s.notes if PRIORITY_RANK[cite.note(r)[0].priority] <= limit]
        points = [cite.point([r], f"{n}.{j}") for j, r in enumerate(refs, 1)]
        shown = [p.citations[0] for p in points]
        summary = s.summary or s.lead
        # With endnotes the summary is the section's text and its notes are the evidence.
        texts: dict[str, list[str | None]] = {
            "summary": [s.summary], "lead": [s.lead], "notes' text": [c.text for c in shown]}
        words = count_words(*(t for f in counted_fields(s, audience) for t in texts[f]))
        title = s.title or cite.text(project.config.sections[s.key])
        sections.append(
            CuratedSection(s.key, title, s.lead, summary, points, words)
        )
    recommendations = cite.texts(brief.recommendations)
    lines_to_take = cite.texts(brief.lines_to_take)
    questions = [
        CuratedQuestion(q.question, q.answer, cite.point(q.notes)) for q in brief.questions
    ]
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
    )
