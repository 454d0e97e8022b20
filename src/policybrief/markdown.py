"""Markdown in notes and brief texts: the markdown-it parser the templates render with
(raw HTML off, GFM tables, only http(s)/mailto links, too deep nesting refused) and the check that
`brief check` runs on every text (images inside the project, nesting within the limit)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from . import boundary
from .config import Config

# Links a reader can follow from a PDF. Anything else (javascript:, vbscript:, data:,
# file:, relative paths that would point into the machine's file system) stays text.
_LINK_SCHEMES = ("http:", "https:", "mailto:")
# Inline images markdown-it itself lets through: raster data, no file, no network.
_DATA_IMAGE = re.compile(r"^data:image/(gif|png|jpeg|webp);", re.IGNORECASE)
_ABSOLUTE_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9.+-]+:")  # WeasyPrint's url_is_absolute


class MarkdownNestingError(ValueError):
    """Markdown nested deeper than markdown-it's maxNesting, which it would drop silently."""


def _guard_nesting(md: MarkdownIt) -> None:
    """Raise MarkdownNestingError where markdown-it would silently skip deep content.

    markdown-it stops parsing at maxNesting (20 in CommonMark mode): the rest of a block
    is dropped and deeper inline markup is left unparsed. The guards sit at the three
    places it checks the limit (see markdown_it/parser_block.py, parser_inline.py).
    """
    limit = md.options.maxNesting
    message = (
        f"Markdown nested more than {limit} levels deep (block quotes, lists or brackets "
        "inside one another); markdown-it would drop what is deeper"
    )
    block, inline, skip = md.block.tokenize, md.inline.tokenize, md.inline.skipToken

    def block_tokenize(state: StateBlock, start: int, end: int, *rest: Any) -> None:
        if state.level >= limit:
            line = state.skipEmptyLines(start)
            if line < end and state.sCount[line] >= state.blkIndent:
                raise MarkdownNestingError(message)
        block(state, start, end, *rest)

    def inline_tokenize(state: StateInline) -> None:
        if state.level >= limit and state.pos < state.posMax:
            raise MarkdownNestingError(message)
        inline(state)

    def skip_token(state: StateInline) -> None:
        if state.level >= limit:
            raise MarkdownNestingError(message)
        skip(state)

    # Instance attributes shadow the methods: rules call state.md.block.tokenize(...).
    setattr(md.block, "tokenize", block_tokenize)  # noqa: B010 (mypy: method assign)
    setattr(md.inline, "tokenize", inline_tokenize)  # noqa: B010
    setattr(md.inline, "skipToken", skip_token)  # noqa: B010


def _unclickable_links(state: StateCore) -> None:
    """Drop <a> around link text whose target is not http(s), mailto or #fragment."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        dropping = False
        for token in block.children:
            if token.type == "link_open":
                href = str(token.attrGet("href") or "")
                dropping = not (href.lower().startswith(_LINK_SCHEMES) or href.startswith("#"))
                if dropping:
                    continue
            elif token.type == "link_close" and dropping:
                dropping = False  # CommonMark links do not nest
                continue
            kept.append(token)
        block.children = kept


ENGLISH_QUOTES = "“”‘’"  # double open, double close, single open, single close


def _column_headers(state: StateCore) -> None:
    """Mark a table's header cells as column headers (<th scope="col">), which PDF/UA
    tagging needs: a GFM table's header cells are its first row, one per column."""
    for token in state.tokens:
        if token.type == "th_open":
            token.attrSet("scope", "col")


def make_markdown(quotes: str = ENGLISH_QUOTES) -> MarkdownIt:
    """CommonMark with raw HTML off: HTML in notes is shown as text, never interpreted.
    GFM tables are on, their header cells column headers. Only http(s) and mailto links
    are made; too deep nesting raises MarkdownNestingError. Straight quotes become the
    language's `quotes` (markdown-it's smartquotes, the one typographer rule enabled:
    "--" and "(c)" stay as written)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True,
                                   "quotes": quotes})
    md.enable(["smartquotes", "table"])
    md.core.ruler.after("inline", "policybrief_links", _unclickable_links)
    md.core.ruler.after("block", "policybrief_column_headers", _column_headers)
    _guard_nesting(md)
    return md


@functools.cache
def _plain(quotes: str) -> MarkdownIt:
    """markdown-it reading text as text (its "zero" preset: no markup, no escapes, no
    entities) with smartquotes: for text that is not Markdown, such as a quotation."""
    return MarkdownIt("zero", {"typographer": True, "quotes": quotes}).enable("smartquotes")


def typographic(text: str, quotes: str = ENGLISH_QUOTES) -> str:
    """Plain text (not Markdown) with its straight quotes made the language's: HTML,
    escaped."""
    return str(_plain(quotes).renderInline(" ".join(text.split())))


def quotation(text: str, quotes: str = ENGLISH_QUOTES) -> str:
    """A quotation in the language's outer marks, its own quotation marks (straight or
    typographic double ones) made the inner marks: HTML, escaped."""
    return typographic('"' + re.sub(r'["“”„«»]', "'", text) + '"', quotes)


@dataclass(frozen=True)
class MarkdownProblem:
    """What is wrong with one Markdown text: an image or the nesting."""

    kind: Literal["outside", "missing", "nesting"]  # "missing" is a warning, as in WeasyPrint
    message: str


def _image_problem(src: str, base: str, root: Path) -> MarkdownProblem | None:
    if _DATA_IMAGE.match(src):
        return None  # self-contained; MAX_IMAGE_PIXELS in pdf.py bounds its size
    shown = repr(src if len(src) <= 80 else src[:77] + "...")
    if src[:5].lower() == "data:":
        return MarkdownProblem("outside", f"image {shown} is inline data, not PNG/JPEG/GIF/WebP")
    # Resolved as WeasyPrint will (render_pdf's base URL), then as the fetcher does.
    url = src if _ABSOLUTE_URL.match(src) else urljoin(base, src)
    parts = urlsplit(url)
    path = Path(unquote(parts.path))
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not path.is_absolute():
        return MarkdownProblem("outside", f"image {shown} is not a file in the project")
    try:
        boundary.resolve(path, root, "image", name="the project")
    except boundary.Refused as exc:
        if exc.outside:
            return MarkdownProblem("outside",
                                   f"image {shown} is outside the project ({path.resolve()})")
        return MarkdownProblem("outside", f"image {shown} {exc.problem}")
    except OSError:
        return MarkdownProblem("missing", f"image {shown} not found ({path.resolve()})")
    return None


def _images(tokens: Iterable[Token]) -> Iterator[str]:
    for token in tokens:
        if token.type == "image":
            yield str(token.attrGet("src") or "")
        if token.children:
            yield from _images(token.children)


@functools.cache
def _checking_markdown() -> MarkdownIt:
    # Every link and image syntax becomes a token, so that refused images are reported
    # rather than left as text; output from this parser is never rendered.
    md = make_markdown()
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


# What can raise markdown-it's nesting level: a block quote (one level), a list item
# (two: the list and the item), a link or image label (one).
_LIST_MARKER = re.compile(r"(?:^|[\s>])(?:[-*+]|\d{1,9}[.)])(?=\s|$)", re.MULTILINE)


def _may_matter(text: str, limit: int) -> bool:
    """Can the text hold an image, or nest `limit` levels? (Most texts cannot: skip them.)"""
    if "![" in text:
        return True
    levels = text.count(">") + text.count("[")
    return levels >= limit or levels + 2 * len(_LIST_MARKER.findall(text)) >= limit


def markdown_checker(config: Config) -> Callable[[str], list[MarkdownProblem]]:
    """A check of Markdown texts as a template would render them: images must be files
    inside the project (relative paths start in templates/, the renderer's base URL) or
    inline PNG/JPEG/GIF/WebP data; nesting must stay within markdown-it's limit."""
    md = _checking_markdown()
    base = config.base_url
    root = config.root.resolve()

    def check(text: str) -> list[MarkdownProblem]:
        if not _may_matter(text, md.options.maxNesting):
            return []
        try:
            tokens = md.parse(text)
        except MarkdownNestingError as exc:
            return [MarkdownProblem("nesting", str(exc))]
        found = (_image_problem(src, base, root) for src in _images(tokens))
        return [p for p in found if p is not None]

    return check
