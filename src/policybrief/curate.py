"""Resolve a brief's note references into what templates render: no I/O, no formatting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .load import Project
from .models import Brief, CitedText, Note, Source


@dataclass(frozen=True)
class Citation:
    """A note as cited in a brief: the note, its source and its reference string."""

    ref: str
    note: Note
    source: Source


@dataclass(frozen=True)
class CuratedText:
    """A key message or recommendation with the notes it cites."""

    text: str
    citations: list[Citation]


@dataclass(frozen=True)
class CuratedSection:
    """A section with its title resolved and its notes in the brief's order."""

    key: str
    title: str
    lead: str | None
    citations: list[Citation]


@dataclass(frozen=True)
class CuratedBrief:
    """Everything a template needs to render one brief."""

    brief: Brief
    key_messages: list[CuratedText]
    sections: list[CuratedSection]
    recommendations: list[CuratedText]
    references: list[Source]
    timeline: list[Citation]

    def context(self) -> dict[str, Any]:
        """Template variables (documented in the README)."""
        return {
            "brief": self.brief,
            "key_messages": self.key_messages,
            "sections": self.sections,
            "recommendations": self.recommendations,
            "references": self.references,
            "timeline": self.timeline,
        }


def _cite(project: Project, ref: str) -> Citation:
    source_id, note_id = ref.split("/", 1)
    source = project.sources[source_id].model
    note = next(n for n in source.notes if n.id == note_id)
    return Citation(ref, note, source)


def curate(project: Project, brief: Brief) -> CuratedBrief:
    """Resolve a validated brief against the project's notes."""

    def texts(items: list[CitedText]) -> list[CuratedText]:
        return [CuratedText(i.text, [_cite(project, r) for r in i.notes]) for i in items]

    sections = [
        CuratedSection(
            s.key,
            s.title or project.config.sections[s.key],
            s.lead,
            [_cite(project, r) for r in s.notes],
        )
        for s in brief.sections
    ]
    key_messages = texts(brief.key_messages)
    recommendations = texts(brief.recommendations)
    cited = [c for part in (key_messages, sections, recommendations) for x in part
             for c in x.citations]
    sources = {c.source.id: c.source for c in cited}
    unique = {c.ref: c for c in cited}
    timeline = sorted(
        (c for c in unique.values() if c.note.date and c.note.event),
        key=lambda c: (c.note.date.start if c.note.date else None, c.ref),
    )
    return CuratedBrief(
        brief=brief,
        key_messages=key_messages,
        sections=sections,
        recommendations=recommendations,
        references=sorted(sources.values(), key=lambda s: s.sort_key),
        timeline=timeline,
    )
