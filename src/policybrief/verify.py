"""Checks on a laid-out WeasyPrint document, before it is written: that nothing was lost
and nothing runs off the page. Works on the box tree WeasyPrint keeps after layout
(`Document.pages[i]._page_box`), not on the PDF; pdf.render_pdf (which owns the
Document) calls check_layout for every target, with the audience's LayoutRules.

The checks: every footnote call has one body, on its page or the next, and no body
lacks a call; no line, inline box or image crosses the content area's side edges and no
box lies outside the page; the last page is not near-empty (Audience.min_last_page_lines)
and no heading ends a page; no line of a paragraph but its last on the page ends far
short of the line while the next line's first word would have fitted (a premature
break: one word alone on a line mid-paragraph); the contents' page numbers are the
pages their targets are on, with a bookmark of the same words there; every numbered
paragraph of the claim map is printed, with a citation.

Footnotes as WeasyPrint 70 represents them: the call is an inline box with a
`footnote` attribute (the footnote's original box; element_tag ends with
'::footnote-call'), in the page's root box; a body is a child of the page's
FootnoteAreaBox (or, with `footnote-display: inline`, an inline box in its line boxes),
with the same `element` as its call (its style's float is reset to 'none' when the box
is built, so `float` does not find it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import count

TOLERANCE = 0.5  # CSS px: rounding in line layout stays well under this

# What the user can do about each kind of problem (the message says what is wrong).
REMEDIES = {
    "footnote-missing": "shorten the text before it, or move the paragraph, so that the "
                        "footnote fits on its page; report the document to us",
    "footnote-misplaced": "shorten the text before it so that the footnote fits nearer",
    "footnote-duplicate": "report the document to us (a layout engine fault)",
    "footnote-orphan": "check the template: a footnote body without its call",
    "overflow": "let the text wrap (no `white-space: nowrap` on long text), or make the "
                "image or box narrower",
    "off-page": "check the template's and stylesheet's positions, margins and widths",
    "near-empty": "shorten the brief a little, or lower the audience's "
                  "min_last_page_lines setting (0 allows any last page)",
    "heading-last": "give the heading `break-after: avoid` in the stylesheet, or shorten "
                    "the section before it",
    "contents-page": "check the template's contents: a link printing a page number "
                     "(target-counter) that is not its target's",
    "bookmark": "give the heading the same words as its contents entry, and a "
                "bookmark-level in the stylesheet",
    "line-break": "report the document to us (a line-breaking fault of the layout "
                  "engine); rewording the sentence around the break avoids it",
    "paragraph": "print every numbered paragraph the claim map lists, with its "
                 "citation, in the template; or have the audience cite in endnotes or "
                 "sources (`citations`), whose claim maps are not the brief's claims.json",
}


@dataclass(frozen=True)
class LayoutRules:
    """What check_layout holds a target to, beyond what every target must pass: from
    its audience (min_last_page_lines) and its claim map (the numbered paragraphs)."""

    min_last_page_lines: int = 0  # 0: any last page will do
    pages: int = 0  # the page budget; over it, the budget error says more than the last page
    paragraphs: tuple[str, ...] = ()  # "1.2": each must be printed, with a citation


NO_RULES = LayoutRules()


@dataclass(frozen=True)
class Note:
    """A footnote call or body: its number (as printed), page (1-based), first words."""

    number: int | None
    page: int
    text: str


@dataclass(frozen=True)
class Problem:
    """A violation: what kind, on which page, the offending text and what to do."""

    kind: str  # a key of REMEDIES
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
                    ) or not _text(box, 2):  # images: reported below, as images
                        continue
                    end = box.position_x + box.margin_width()
                    if end > right + tolerance or box.position_x < left - tolerance:
                        side = "right" if end > right + tolerance else "left"
                        by = end - right if side == "right" else left - box.position_x
                        problems.append(Problem(
                            "overflow", number, _text(line),
                            f"a line runs {by:.1f} px past the {side} margin"))
                        break  # one report per line
        for top in (root, *areas, *margins):
            for box in _walk(top):
                if isinstance(box, boxes.ReplacedBox) and not _inside(
                        box, left, right, tolerance):
                    problems.append(Problem(
                        "overflow", number, _image_name(box),
                        "an image runs past the content area"))
            problems.extend(_outside_page(top, page_box, number, tolerance))
    return _dedupe(problems)


def _image_name(box: Any) -> str:
    """An image as the author knows it: its alt text, file or kind (svg, img)."""
    element = getattr(box, "element", None)
    named = element is not None and (element.get("alt") or element.get("src"))
    return named or str(getattr(box, "element_tag", "image")).rpartition("}")[2]


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
                "a box lies partly outside the page"))
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


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _flow_lines(root: Any) -> list[tuple[Any, list[Any]]]:
    """The line boxes of a page's main flow (not its footnotes or margins), each with the
    boxes above it, in order down the page."""
    from weasyprint.formatting_structure import boxes

    found: list[tuple[Any, list[Any]]] = []

    def visit(box: Any, above: list[Any]) -> None:
        if isinstance(box, boxes.LineBox):
            found.append((box, above))
            return
        for child in getattr(box, "children", None) or ():
            visit(child, [*above, box])

    visit(root, [])
    return found


def _last_page(document: Any, minimum: int) -> list[Problem]:
    """A last page with fewer than `minimum` lines (footnotes included) after a page of
    more: a near-empty page the reader turns to for one line."""
    from weasyprint.formatting_structure import boxes

    if minimum <= 0 or len(document.pages) < 2:
        return []
    root, areas, _ = _page_parts(document.pages[-1])
    lines = [b for top in (root, *areas) for b in _walk(top) if isinstance(b, boxes.LineBox)
             and _text(b, 2)]
    # A line is a row of text: a list marker beside its item, or the cells of a table
    # row, are on one line, not several.
    rows = sorted({round(b.position_y) for b in lines})
    if len(rows) >= minimum:
        return []
    number = len(document.pages)
    lines.sort(key=lambda b: (b.position_y, b.position_x))
    text = _text(lines[0], 40) + (f" … {_text(lines[-1], 40)}" if len(lines) > 1 else "")
    return [Problem("near-empty", number, text,
                    f"the last page holds {len(rows)} line"
                    f"{'' if len(rows) == 1 else 's'} (min_last_page_lines = {minimum})")]


def _headings_last(document: Any) -> list[Problem]:
    """A heading that is the last thing in the flow of a page other than the last."""
    problems = []
    for number, page in enumerate(document.pages[:-1], start=1):
        root, _, _ = _page_parts(page)
        lines = _flow_lines(root)
        if not lines:
            continue
        line, above = max(lines, key=lambda item: item[0].position_y + item[0].height)
        heading = next((b for b in reversed(above)
                        if getattr(b, "element_tag", "") in _HEADINGS), None)
        if heading is not None:
            problems.append(Problem(
                "heading-last", number, _text(heading),
                "a heading is the last thing on the page, its text on the next"))
    return problems


_SPACE_EM = 0.35  # wider than a space in any of our fonts: an estimate never too small


def premature_breaks(document: Any, tolerance: float = TOLERANCE) -> list[Problem]:
    """A line of a paragraph (flow or footnotes), followed on its page by another line
    of the same block, that the next line's first word and a space would have fitted
    on: the engine broke it too early. Lines are measured without the space that
    justification added. Not checked: a line ending in a forced break (<br>, or text
    that keeps its newlines), blocks whose text does not wrap (white-space other than
    normal), centred, right-aligned or right-to-left text, the last line of a block on
    its page, and ragged-right text: there an early break only leaves a line a word
    short (seen in WeasyPrint 70.0 before a word in an <em>, not yet traced), where in
    justified text it stretches a line or strands one word."""
    from weasyprint.formatting_structure import boxes

    problems = []
    for number, page in enumerate(document.pages, start=1):
        root, areas, _ = _page_parts(page)
        for top in (root, *areas):
            for block in _walk(top):
                children: Sequence[Any] = getattr(block, "children", None) or ()
                if (len(children) < 2 or not isinstance(children[0], boxes.LineBox)
                        or block.style["white_space"] != "normal"
                        or block.style["direction"] != "ltr"
                        or block.style["text_align_all"] != "justify"):
                    continue
                right = block.content_box_x() + block.width
                for line, after in zip(children, children[1:], strict=False):
                    if not isinstance(after, boxes.LineBox):
                        continue
                    leaves = _leaves(line)
                    end = _natural_end(leaves)
                    space = _SPACE_EM * after.style["font_size"]
                    if end is None or right - end < space or _forced_break(line, leaves):
                        continue  # the common case, a full line: nothing measured
                    word, width = _first_word(after, right - end - space + tolerance)
                    if word and width <= right - end - space + tolerance:
                        problems.append(Problem(
                            "line-break", number, f"{_text(line, 40)} / {word}",
                            f"a line ends {right - end:.0f} px short of the line although "
                            f"the next line's first word, “{word}” ({width:.0f} px), fits "
                            "there"))
    return problems


def _leaves(line: Any) -> list[Any]:
    """The in-flow boxes of a line that hold its content, in order: text and atomic
    inline boxes (images, inline blocks)."""
    from weasyprint.formatting_structure import boxes

    found: list[Any] = []

    def visit(box: Any) -> None:
        for child in getattr(box, "children", None) or ():
            if not child.is_in_normal_flow():
                continue
            if isinstance(child, boxes.TextBox) or not isinstance(child, boxes.ParentBox):
                found.append(child)
            else:
                visit(child)

    visit(line)
    return found


def _forced_break(line: Any, leaves: list[Any]) -> bool:
    """A line ending in a <br>, or in text that keeps its newlines (white-space: pre...)."""
    return bool(any(getattr(box, "element_tag", "") == "br" for box in _walk(line))
                or (leaves and leaves[-1].style["white_space"] in ("pre", "pre-line",
                                                                    "pre-wrap")))


def _natural_end(leaves: list[Any]) -> float | None:
    """Where a line's content (its leaves) ends, without the spacing justification
    added."""
    from weasyprint.formatting_structure import boxes

    if not leaves:
        return None
    end = max(box.position_x + box.margin_width() for box in leaves)
    added = sum((getattr(box, "justification_spacing", 0) or 0)
                * (box.text.count(" ") + box.text.count("\u00a0"))
                for box in leaves if isinstance(box, boxes.TextBox))
    return float(end - added)


_NARROWEST_EM = 0.15  # no character is narrower (",", "i" and "l" are about 0.25 em)


def _first_word(line: Any, room: float) -> tuple[str, float]:
    """The first word of a line (up to its first space where text may wrap; an image or
    inline block is part of it) and its width, measured with the text's own font; when
    the word is sure to be wider than room, a width over room, unmeasured."""
    from weasyprint.formatting_structure import boxes

    leaves = _leaves(line)
    start = leaves[0].position_x
    word, end = "", start
    for box in leaves:
        if not isinstance(box, boxes.TextBox):
            word, end = word + "\ufffc", box.position_x + box.margin_width()
            continue
        wraps = box.style["white_space"] in ("normal", "pre-line", "pre-wrap")
        at = box.text.find(" ") if wraps else -1
        if at < 0:
            word, end = word + box.text, box.position_x + box.margin_width()
            continue
        if at:
            word += box.text[:at]
            least = box.position_x - start + at * _NARROWEST_EM * box.style["font_size"]
            end = (box.position_x + _text_width(box.text[:at], box.style) if least <= room
                   else start + least)
        break
    return word.replace("\ufffc", "").strip() or word, float(end - start)


def _text_width(text: str, style: Any) -> float:
    from weasyprint.text.line_break import Layout, line_size

    layout = Layout(style)
    layout.set_text(text)
    line, _ = layout.get_first_line()
    width = line_size(line, style)[0]
    layout.deactivate()
    return float(width)


def _page_of_anchors(document: Any) -> dict[str, int]:
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for name in page.anchors:
            pages.setdefault(name, number)
    return pages


def _contents(document: Any) -> list[Problem]:
    """Links in a <nav> (the contents) that print a page number: the number must be the
    page of the link's target, and that page must hold a bookmark of the entry's words."""
    anchors = _page_of_anchors(document)
    bookmarks = {(" ".join(label.split()), number)
                 for number, page in enumerate(document.pages, start=1)
                 for _, label, _, _ in page.bookmarks}
    problems = []
    for number, page in enumerate(document.pages, start=1):
        root, _, _ = _page_parts(page)
        for link in _links_in_nav(root):
            target = link.element.get("href", "")[1:]
            words = _text(link, 200)
            printed = re.search(r"(\d+)\s*$", words)
            if printed is None or target not in anchors:
                continue
            entry = re.sub(r"[\s.\u2026]*\d+\s*$", "", words)
            if int(printed.group(1)) != anchors[target]:
                problems.append(Problem(
                    "contents-page", number, entry,
                    f"the contents give page {printed.group(1)} for “{entry}”, which is "
                    f"on page {anchors[target]}"))
            elif (entry, anchors[target]) not in bookmarks:
                problems.append(Problem(
                    "bookmark", number, entry,
                    f"the contents entry “{entry}” has no bookmark of the same words on "
                    f"page {anchors[target]}"))
    return problems


def _links_in_nav(root: Any) -> Iterator[Any]:
    """The boxes of internal links inside a <nav> element."""

    def visit(box: Any, above: list[Any]) -> Iterator[Any]:
        element = getattr(box, "element", None)
        if (getattr(box, "element_tag", "") == "a" and element is not None
                and element.get("href", "").startswith("#")
                and any(getattr(b, "element_tag", "") == "nav" for b in above)):
            yield box
            return
        for child in getattr(box, "children", None) or ():
            yield from visit(child, [*above, box])

    yield from visit(root, [])


def _paragraphs(document: Any, expected: tuple[str, ...]) -> list[Problem]:
    """Every numbered paragraph of the claim map printed on some page, in a block (the
    element of the nearest block box around the number: an anonymous box has its
    parent's) that holds a citation on one of the pages it spans: a footnote call, an
    in-text citation (.cite) or an endnote number (.endref)."""
    from weasyprint.formatting_structure import boxes

    if not expected:
        return []
    wanted = set(expected)
    found: dict[str, list[tuple[int, Any]]] = {}  # number -> (page, element of its block)
    for page_number, page in enumerate(document.pages, start=1):
        root, _, _ = _page_parts(page)
        for line, above in _flow_lines(root):
            for box in _walk(line):
                text = (getattr(box, "text", "") or "").strip()
                if text in wanted:
                    block = next((b for b in reversed(above)
                                  if isinstance(b, boxes.BlockBox)), root)
                    found.setdefault(text, []).append((page_number, block.element))
    elements = {id(e) for places in found.values() for _, e in places}
    citing = {id(box.element) for page in document.pages for box in _walk(page._page_box)
              if id(getattr(box, "element", None)) in elements and _cites(box)}
    problems = []
    for paragraph in expected:
        places = found.get(paragraph, [])
        if any(id(element) in citing for _, element in places):
            continue  # printed where it is cited (an annex may print it too)
        problems.append(Problem(
            "paragraph", places[0][0] if places else 0, paragraph,
            f"paragraph {paragraph} of the claim map is "
            + ("printed without a citation" if places else "printed on no page")))
    return problems


def _cites(block: Any) -> bool:
    for box in _walk(block):
        if getattr(box, "footnote", None) is not None:
            return True
        element = getattr(box, "element", None)
        classes = (element.get("class", "") if element is not None else "").split()
        if {"cite", "endref", "footnote"} & set(classes):  # "footnote": not floated
            return True
    return False


@dataclass(frozen=True)
class Layout:
    """What check_layout found: the problems, and a line for `-v` saying what it checked."""

    problems: tuple[Problem, ...]
    summary: str


def check_layout(document: Any, rules: LayoutRules = NO_RULES,
                 tolerance: float = TOLERANCE) -> Layout:
    """Every check of the module docstring on a laid-out document."""
    notes = footnotes(document)
    over_budget = 0 < rules.pages < len(document.pages)  # shortening changes the last page
    problems = (notes.problems + overflows(document, tolerance)
                + ([] if over_budget else _last_page(document, rules.min_last_page_lines))
                + _headings_last(document) + premature_breaks(document, tolerance)
                + _contents(document)
                + _paragraphs(document, rules.paragraphs))
    contents = sum(1 for page in document.pages
                   for _ in _links_in_nav(_page_parts(page)[0]))
    pages = len(document.pages)
    summary = (f"{count(pages, 'page')}, {count(len(notes.calls), 'footnote call')} and "
               f"{count(len(notes.bodies), 'body', 'bodies')}, "
               f"{count(contents, 'contents entry', 'contents entries')}, "
               f"{count(len(rules.paragraphs), 'numbered paragraph')} checked; "
               f"{count(len(problems), 'problem')}")
    return Layout(tuple(problems), summary)


def describe(problem: Problem) -> str:
    """A problem as the build reports it: page, what is wrong, the words, the remedy."""
    where = f"page {problem.page}: " if problem.page else ""
    return f"{where}{problem.message} (at “{problem.text}”); {REMEDIES[problem.kind]}"


SHOWN = 5  # problems a failed target lists; the count says how many more


def failed_layout(problems: tuple[Problem, ...]) -> str:
    """The message of a target whose pages failed: how many checks, the first few."""
    listed = "; ".join(describe(p) for p in problems[:SHOWN])
    more = len(problems) - SHOWN
    return (f"the laid-out pages fail {count(len(problems), 'check')}: {listed}"
            + (f"; and {more} more of the same kinds" if more > 0 else ""))
