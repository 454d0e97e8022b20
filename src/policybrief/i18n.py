"""Dates, names and labels in a brief's language: Babel (CLDR) formatting and the label
catalogs in labels/*.toml."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from pyphen import language_fallback

from .models import Name, PartialDate, Source

LABELS = Path(__file__).parent / "labels"


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language, sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def format_when(value: PartialDate | dt.date, language: str = "en") -> str:
    """A date at the precision it is known: '2012', 'May 2015', '23 January 2017'."""
    locale = _locale(language)
    date = value if isinstance(value, PartialDate) else PartialDate.parse(value)
    if date.month is None:
        return str(date.year)
    if date.day is None:
        return format_skeleton("yMMMM", date.start, locale=locale)
    return format_date(date.start, "long", locale=locale)


def format_span(start: PartialDate, end: PartialDate | None, language: str = "en") -> str:
    """A date or a date range ('23–24 January 2017')."""
    if end is None or end == start:
        return format_when(start, language)
    if start.day is None or end.day is None:
        return f"{format_when(start, language)} – {format_when(end, language)}"
    return _interval(start.start, end.start, _locale(language))


_QUOTED = re.compile(r"('[^']*')")  # literal text in a CLDR pattern
_ABBREVIATED_MONTH = re.compile(r"(?<![ML])([ML])\1\1(?![ML])")  # MMM or LLL, not MMMM


def _widen(pattern: str) -> str:
    """A CLDR pattern with abbreviated months made full ('MMM' -> 'MMMM'), literals kept."""
    return "".join(
        part if part.startswith("'") else _ABBREVIATED_MONTH.sub(r"\1\1\1\1", part)
        for part in _QUOTED.split(pattern)
    )


def _interval(start: dt.date, end: dt.date, locale: Locale) -> str:
    """Two days as a range with the months in full: '23–24 January 2017'.

    CLDR has interval patterns for yMMMd, not yMMMMd. Its skeleton-matching rule says a
    matched pattern's fields take the requested width, so 'Mar' becomes 'March'; Babel's
    format_interval skips that step and prints the abbreviation (#12, #16).
    """
    formats = locale.interval_formats["yMMMd"]  # every locale has it, from CLDR's root
    field = "y" if start.year != end.year else "M" if start.month != end.month else "d"
    return "".join(
        format_date(day, _widen(piece), locale=locale)
        for piece, day in zip(formats[field], (start, end), strict=True)
    )


def justified(language: str) -> bool:
    """Whether body text in the language is justified: only where it can be hyphenated.

    WeasyPrint hyphenates (`hyphens: auto`) with the Pyphen dictionary it finds for the
    document's `lang` by this same lookup; a language with none (such as `kk`) justified gets
    wide gaps between words, so its text is set ragged-right (`base.html.j2` marks the
    page `class="ragged"`, `brief.css` aligns its paragraphs to the start).
    """
    return language_fallback(language) is not None


def format_names(names: Sequence[Name], language: str = "en") -> str:
    """'A', 'A and B', 'A, B and C' (the conjunction in the brief's language)."""
    return str(format_list([n.display for n in names], locale=_locale(language)))


def format_creator(source: Source, language: str = "en") -> str | None:
    """Who to name in a short citation: the authors' family names ('Sagyntay and Omar',
    «Сагынтай и Омаров»), else the outlet. None for an unsigned document from an unknown
    outlet: cite it by title."""
    if source.author:
        names = [n.family or n.display for n in source.author]
        return str(format_list(names, locale=_locale(language)))
    return source.outlet


def format_attribution(source: Source, language: str = "en") -> str:
    """Who published it, and when, for a pull quote: "Gryaznov, TASS Opinions (2025)"."""
    who = format_creator(source, language) or source.short_title
    if source.author and source.container_title:
        who = f"{who}, {source.container_title}"
    return f"{who} ({source.issued.year})" if source.issued else who


def load_labels(language: str, project: Mapping[str, dict[str, Any]] | None = None,
                ) -> dict[str, Any]:
    """The labels for a language ("ru", "kk-KZ" takes "kk"), key by key: the packaged
    English catalog, the project's English one (`project`: its labels/<language>.toml,
    config.Config.labels), the packaged catalog of the language, the project's. A
    language without a catalog gets English labels; a table ([perspectives]) is merged
    key by key too."""
    def read(name: str) -> dict[str, Any]:
        path = LABELS / f"{name}.toml"
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    own = project or {}
    base = language.split("-")[0].lower()
    labels: dict[str, Any] = {}
    for catalog in (read("en"), own.get("en", {}), read(base) if base != "en" else {},
                    own.get(base, {}) if base != "en" else {}):
        for key, value in catalog.items():
            labels[key] = {**labels.get(key, {}), **value} if isinstance(value, dict) else value
    return labels
