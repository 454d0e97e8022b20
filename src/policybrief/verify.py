"""Checks on a laid-out WeasyPrint document: that nothing was lost and nothing runs off
the page (issue 14). Works on the box tree WeasyPrint keeps after layout
(`Document.pages[i]._page_box`), not on the PDF. A prototype: not yet wired into the
build; pdf.py (which owns the Document) is the intended caller.

Footnotes as WeasyPrint 70 represents them: the call is an inline box with a
`footnote` attribute (the footnote's original box; element_tag ends with
'::footnote-call'), in the page's root box; a body is a child of the page's
FootnoteAreaBox (or, with `footnote-display: inline`, an inline box in its line boxes),
with the same `element` as its call (its style's float is reset to 'none' when the box
is built, so `float` does not find it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TOLERANCE = 0.5  # CSS px: rounding in line layout stays well under this


@dataclass(frozen=True)
class Note:
    """A footnote call or body: its number (as printed), page (1-based), first words."""

    number: int | None
    page: int
    text: str


@dataclass(frozen=True)
class Problem:
    """A violation: what kind, on which page, the offending text and what to do."""

    kind: str  # footnote-missing|-misplaced|-duplicate|-orphan, overflow, off-page
    page: int
    text: str
    message: str


@dataclass
class Footnotes:
    """Every footnote call and body of a document, and what does not match."""

    calls: list[Note] = field(default_factory=list)
    bodies: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _walk(child)


def _text(box: Any, limit: int = 60) -> str:
    words = " ".join("".join(getattr(b, "text", "") or "" for b in _walk(box)).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _number(text: str) -> int | None:
    found = re.search(r"\d+", text)
    return int(found.group()) if found else None


def _page_parts(page: Any) -> tuple[Any, list[Any], list[Any]]:
    """(root box, footnote areas, margin boxes) of a laid-out page."""
    from weasyprint.formatting_structure import boxes

    children = list(page._page_box.children)
    areas = [c for c in children if isinstance(c, boxes.FootnoteAreaBox)]
    margins = [c for c in children if isinstance(c, boxes.MarginBox)]
    return children[0], areas, margins


def footnotes(document: Any) -> Footnotes:
    """The calls and bodies of a laid-out document, page by page, and the problems: a
    call whose body is on neither its page nor the next, a body on a page before its
    call, a body without a call, a footnote printed more than once."""
    result = Footnotes()
    call_pages: dict[Any, tuple[int, Note]] = {}  # element -> first call
    body_pages: dict[Any, list[Note]] = {}
    for number, page in enumerate(document.pages, start=1):
        root, areas, _ = _page_parts(page)
        for box in _walk(root):
            if getattr(box, "footnote", None) is not None:
                note = Note(_number(_text(box)), number, _context(root, box))
                result.calls.append(note)
                call_pages.setdefault(box.footnote.element, (number, note))
        for area in areas:
            for body in _bodies(area, area.element):
                seen = body_pages.setdefault(body.element, [])
                if seen and seen[-1].page == number:
                    continue  # an inline body broken across lines: one footnote
                note = Note(_number(_text(body, 12)), number, _text(body))
                result.bodies.append(note)
                seen.append(note)
    for element, (page, call) in call_pages.items():
        bodies = body_pages.get(element, [])
        if not bodies:
            result.problems.append(Problem(
                "footnote-missing", page, call.text,
                f"footnote {call.number} is called on page {page} but its text is on no "
                "page (WeasyPrint lost it)"))
        elif len(bodies) > 1:  # on consecutive pages: one body the engine split
            pages = ", ".join(str(b.page) for b in bodies)
            if [b.page for b in bodies] != list(range(bodies[0].page, bodies[-1].page + 1)):
                result.problems.append(Problem(
                    "footnote-duplicate", page, call.text,
                    f"footnote {call.number} is printed on pages {pages}"))
        if bodies and not page <= bodies[0].page <= page + 1:
            result.problems.append(Problem(
                "footnote-misplaced", bodies[0].page, bodies[0].text,
                f"footnote {call.number} is called on page {page} but printed on page "
                f"{bodies[0].page}"))
    for element, bodies in body_pages.items():
        if element not in call_pages:
            result.problems.append(Problem(
                "footnote-orphan", bodies[0].page, bodies[0].text,
                f"footnote {bodies[0].number} is printed on page {bodies[0].page} but "
                "called nowhere"))
    return result


def _bodies(box: Any, area_element: Any) -> Iterator[Any]:
    """The footnote bodies in a footnote area: the outermost boxes of an element other
    than the area's own (a block per footnote, or with `footnote-display: inline` an
    inline box inside the area's anonymous line boxes)."""
    for child in getattr(box, "children", None) or ():
        if child.element is not area_element:
            yield child
        else:
            yield from _bodies(child, area_element)


def _context(root: Any, call: Any) -> str:
    """The words of the line a call is on (for a message)."""
    from weasyprint.formatting_structure import boxes

    for line in _walk(root):
        if isinstance(line, boxes.LineBox) and any(b is call for b in _walk(line)):
            return _text(line)
    return _text(call)


def overflows(document: Any, tolerance: float = TOLERANCE) -> list[Problem]:
    """Inline content (text, inline boxes, images) that ends right of its page's content
    area, or starts left of it, by more than tolerance px; and any box, margin boxes
    included, that lies partly outside the page."""
    from weasyprint.formatting_structure import boxes

    problems: list[Problem] = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        left = page_box.content_box_x()
        right = left + page_box.width
        root, areas, margins = _page_parts(page)
        for top in (root, *areas):
            for line in _walk(top):
                if not isinstance(line, boxes.LineBox):
                    continue
                for box in _walk(line):
                    if box is line or not isinstance(
                        box, (boxes.InlineLevelBox, boxes.TextBox)
                    ):
                        continue
                    end = box.position_x + box.margin_width()
                    if end > right + tolerance or box.position_x < left - tolerance:
                        side = "right" if end > right + tolerance else "left"
                        by = end - right if side == "right" else left - box.position_x
                        problems.append(Problem(
                            "overflow", number, _text(line),
                            f"a line on page {number} runs {by:.1f} px past the {side} "
                            f"margin at “{_text(box, 40)}”"))
                        break  # one report per line
        for top in (root, *areas, *margins):
            for box in _walk(top):
                if isinstance(box, boxes.ReplacedBox) and not _inside(
                        box, left, right, tolerance):
                    problems.append(Problem(
                        "overflow", number, getattr(box, "element_tag", "image"),
                        f"an image on page {number} runs past the content area"))
            problems.extend(_outside_page(top, page_box, number, tolerance))
    return _dedupe(problems)


def _outside_page(top: Any, page_box: Any, number: int, tolerance: float) -> list[Problem]:
    """The outermost boxes under top that lie partly outside the page (one report for a
    box and all it contains)."""
    found = []
    stack = [top]
    while stack:
        box = stack.pop()
        if _off_page(box, page_box, tolerance):
            found.append(Problem(
                "off-page", number, _text(box) or box.element_tag,
                f"a box on page {number} lies partly outside the page"))
            continue
        stack.extend(reversed(getattr(box, "children", None) or ()))
    return found


def _inside(box: Any, left: float, right: float, tolerance: float) -> bool:
    return bool(box.position_x >= left - tolerance
                and box.position_x + box.margin_width() <= right + tolerance)


def _off_page(box: Any, page_box: Any, tolerance: float) -> bool:
    width, height = page_box.margin_width(), page_box.margin_height()
    x, y = box.position_x, box.position_y
    if box.width == 0 or box.height == 0:  # empty placeholders have no ink
        return False
    return bool(x < -tolerance or y < -tolerance
                or x + box.margin_width() > width + tolerance
                or y + box.margin_height() > height + tolerance)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    return [p for p in problems if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def verify(document: Any, tolerance: float = TOLERANCE) -> list[Problem]:
    """Every problem found in a laid-out document: footnotes, then overflow."""
    return footnotes(document).problems + overflows(document, tolerance)
