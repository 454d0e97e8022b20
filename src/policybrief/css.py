"""CSS values WeasyPrint cannot lay out in reasonable time or memory: the limits, and
check_css, which finds values over them in a stylesheet or a style attribute.

Used by the fetcher (fetch.py: stylesheets a document loads), the HTML check before
layout (htmlcheck.py: <style> elements and style attributes) and pdf.py (an audience's
stylesheet). Imports nothing heavy until a stylesheet may hold a value over a limit.
Also the Stylesheet value that render.py loads and pdf.py lays out with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Stylesheet:
    """An audience's stylesheet (Audience.stylesheet): its name and text."""

    name: str = ""
    text: str = ""


NO_STYLESHEET = Stylesheet()  # an audience with `stylesheet = ""`


# Found by trying: `width: 1e8px` on body runs for ~25 s and then fails, `font-size:
# 1e30px` divides by zero, `columns: 40` on body runs for minutes. Within these limits
# a brief still lays out (slowly, for many columns; workers.time_limit is the backstop).
MAX_CSS_LENGTH = 10_000  # lengths and percentages, any unit (10000px is 2.6 m)
MAX_CSS_NUMBER = 2**31  # plain numbers (`z-index: 2147483647` is a common idiom)
MAX_CSS_COLUMNS = 10  # columns / column-count
MAX_CSS_REPEAT = 1_000  # repeat(N, ...) in grid templates
_MATH = ("calc", "min", "max", "clamp")
# A value over a limit needs one of these (five digits, an exponent, a two-digit column
# count, a four-digit repeat, infinity): most stylesheets are then not parsed at all.
_MAYBE_HUGE = re.compile(
    r"\d{5}|\d[eE][+-]?\d|column[^;{}]*\d\d|repeat\(\s*\d{4}|infinity|\bnan\b",
    re.IGNORECASE,
)


def _numbers(tokens: Iterable[Any], in_math: bool = False) -> Iterator[tuple[Any, bool]]:
    for token in tokens:
        if token.type in ("number", "dimension", "percentage") or (
            in_math and token.type == "ident"
        ):
            yield token, in_math
        elif token.type == "function":
            yield from _numbers(token.arguments, in_math or token.lower_name in _MATH)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from _numbers(token.content, in_math)


def _declaration_problems(
    name: str, value: list[Any], serialize: Callable[[Iterable[Any]], str]
) -> Iterator[str]:
    def show() -> str:
        return f"`{name}: {serialize(value).strip()}`"

    for token, in_math in _numbers(value):
        if token.type == "ident" and token.lower_value in ("infinity", "-infinity", "nan"):
            yield f"{show()}: {serialize([token])} is not a finite value"
            return
        number = float(token.value)
        limit = MAX_CSS_NUMBER if token.type == "number" and not in_math else MAX_CSS_LENGTH
        if name in ("columns", "column-count") and token.type == "number":
            limit = MAX_CSS_COLUMNS
        if not math.isfinite(number) or abs(number) > limit:
            yield f"{show()}: {serialize([token])} is over the limit of {limit}"
            return
    for token in value:
        if token.type == "function" and token.lower_name == "repeat":
            counts = [t for t in token.arguments if t.type == "number"]
            if counts and counts[0].value > MAX_CSS_REPEAT:
                yield f"{show()}: repeat count over the limit of {MAX_CSS_REPEAT}"


@lru_cache(maxsize=64)  # the same stylesheets come back for every target
def check_css(text: str, declarations_only: bool = False) -> tuple[str, ...]:
    """Values in a stylesheet (or, declarations_only, a style attribute) that are over
    the limits above; each as "`property: value`: why"."""
    if not _MAYBE_HUGE.search(text):
        return ()
    import tinycss2  # type: ignore[import-untyped]

    problems: list[str] = []

    def walk(nodes: Iterable[Any]) -> None:
        for node in nodes:
            if node.type == "declaration":
                problems.extend(
                    _declaration_problems(node.lower_name, node.value, tinycss2.serialize)
                )
            elif node.type in ("qualified-rule", "at-rule") and node.content is not None:
                walk(tinycss2.parse_blocks_contents(
                    node.content, skip_comments=True, skip_whitespace=True
                ))

    if declarations_only:
        walk(tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True))
    else:
        walk(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    return tuple(problems)

