"""The claim map of a rendered target (claims.json): each claim the target cites, with
the numbered paragraphs that make it, its source and locator, the citation as printed,
the source sentence around its quote, and the analyst's assessment of the source. Built
after citations are formatted, from the curated brief; written by manifest.py, attached to
archival PDFs by build.py.
"""

from __future__ import annotations

from typing import Any

from .cite import FormattedCitations, html_to_text
from .curate import CuratedBrief


def claim_map(
    brief_id: str, curated: CuratedBrief, citations: FormattedCitations,
    sentences: dict[str, str] | None = None,
) -> dict[str, Any]:
    """claims.json: each cited claim with the paragraph that makes it, its source, locator,
    the citation as printed, the source sentence around its quote (`sentences`, by
    reference: evidence.quote_sentences; null without a quote or an archived text), and
    the analyst's assessment of the source."""
    return {
        "brief": brief_id,
        "audience": curated.audience.name,
        "claims": [
            {
                "ref": c.ref,
                "paragraphs": curated.paragraphs_citing(c.ref),
                "claim": c.text,
                "quote": c.note.quote,
                "source_sentence": (sentences or {}).get(c.ref),
                "date": str(c.note.date) if c.note.date else None,
                "source": c.source.id,
                "source_title": c.source.title,
                "locator": c.locator,
                "citation": html_to_text(citations.short[c.ref]),
                "perspective": c.source.perspective,
                "assessment": c.source.assessment,
            }
            for c in curated.cited
        ],
    }
