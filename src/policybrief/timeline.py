"""A timeline figure as SVG, drawn from the dated events a brief cites.

One row per event, in date order, with wider gaps where years pass. The figure carries
its own text alternative (<title>, <desc>), and its text stays text in the PDF.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .brand import Brand
from .curate import TimelineEvent
from .i18n import format_span

WIDTH = 168.0  # mm: the A4 text width; the figure scales to its container
ROW = 5.4  # mm between events
DATE_RIGHT, AXIS, LABEL = 36.0, 39.5, 43.0


def timeline_svg(
    events: list[TimelineEvent], language: str, brand: Brand, title: str = "Timeline",
    inline_style: bool = True,
) -> Markup:
    """The SVG figure (inline markup) for events in date order; empty if none.

    Colours and font come from the brand as SVG attributes: WeasyPrint does not apply
    the page's CSS inside an SVG. Without `inline_style` (a web page, whose policy allows
    no style attribute: web.POLICY) the figure's width is left to the stylesheet.
    """
    if not events:
        return Markup()
    colour = brand.colours
    font = escape(brand.sans)
    rows: list[tuple[float, TimelineEvent, str]] = []
    y, previous = 6.0, events[0].date.year
    for event in events:
        y += min(event.date.year - previous, 4) * 2.2  # a wider gap for every year passed
        previous = event.date.year
        rows.append((y, event, format_span(event.date, event.end_date, language)))
        y += ROW
    height = y + 1.0
    description = "; ".join(f"{when}: {event.label}" for _, event, when in rows)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" role="img" '
        # never wider than its column, with or without the audience's stylesheet
        + ('style="max-width: 100%" ' if inline_style else "") +
        f'viewBox="0 0 {WIDTH:g} {height:.1f}" width="{WIDTH:g}mm" height="{height:.1f}mm" '
        f'font-family="{font}" font-size="2.75" fill="{colour["ink"]}" '
        f'aria-labelledby="timeline-title timeline-desc">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<desc id="timeline-desc">{escape(description)}</desc>',
        f'<line x1="{AXIS}" y1="2" x2="{AXIS}" y2="{height - 1:.1f}" '
        f'stroke="{colour["rule"]}" stroke-width="0.5"/>',
    ]
    for y, event, when in rows:
        key = event.citation.note.priority == "key"
        weight = ' font-weight="bold"' if key else ""
        parts.append(
            f'<text x="{DATE_RIGHT}" y="{y + 1:.1f}" text-anchor="end" font-weight="bold" '
            f'fill="{colour["brand"]}">{escape(when)}</text>'
            f'<circle cx="{AXIS}" cy="{y:.1f}" r="{1.3 if key else 0.9}" '
            f'fill="{colour["accent" if key else "brand"]}"/>'
            f'<text x="{LABEL}" y="{y + 1:.1f}"{weight}>{escape(event.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
