"""The closed vocabularies that the file formats and the settings share, each defined
once: the language-tag pattern, the note priorities and the source perspectives. Plain
constants, light to import (config.py reads them with no pydantic loaded); and the two
rules of languages: which text of a field written in several languages a language takes
(text_in, in_language), and whether a tag names a language (unknown_language, which
loads Babel's list of locales only when called)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$"  # a language tag: en, kk, ru, zh-Hant
Priority = Literal["key", "supporting", "detail"]
PRIORITIES: tuple[str, ...] = get_args(Priority)
PRIORITY_RANK: dict[str, int] = {p: rank for rank, p in enumerate(PRIORITIES)}
Perspective = Literal["independent", "official", "state-media", "think-tank", "academic", "opinion"]
PERSPECTIVES: tuple[str, ...] = get_args(Perspective)
# Sources that quote other people (news, interviews, opinion and blog posts): a quote from
# one needs its speaker. By CSL type, and by perspective.
QUOTING_TYPES = ("article-newspaper", "article-magazine", "interview", "post", "post-weblog")
QUOTING_PERSPECTIVES = ("opinion", "state-media")

# A field people write: one text, or one per language ({en: ..., kk: ...}).
Texts = str | Mapping[str, str]


def text_in(value: Texts, language: str, default: str | None) -> str | None:
    """The text of `value` in `language` ("en-GB" also takes "en", "kk" takes "kk-KZ"),
    or None if it has none. A plain text is in the `default` language, or (None) in
    every language: a note's `text` is in the project's language, while a locator or an
    event label written once is shown as written whatever the brief's language."""
    if isinstance(value, str):
        return value if default is None or text_in({default: value}, language, "") else None
    base = language.split("-")[0]
    for key in (language, base):
        if key in value:
            return value[key]
    return next((t for k, t in value.items() if k.split("-")[0] == base), None)


def in_language(value: Texts, language: str, default: str) -> str:
    """The text to print for a brief in `language`: its own, else the project's
    `default` language's, else the first given (validate.py reports the gap first)."""
    found = text_in(value, language, None) or text_in(value, default, None)
    return found or (value if isinstance(value, str) else next(iter(value.values())))


# Country codes often written for a language code (a country KZ, its language kk).
_COUNTRY_FOR_LANGUAGE = {
    "kz": "kk", "ua": "uk", "by": "be", "cz": "cs", "dk": "da", "gr": "el", "jp": "ja",
    "cn": "zh", "se": "sv", "ee": "et", "si": "sl", "rs": "sr", "al": "sq", "am": "hy",
    "ge": "ka", "tj": "tg", "kg": "ky", "ir": "fa", "il": "he", "kr": "ko", "vn": "vi",
}


def unknown_language(tag: str) -> str | None:
    """None for a language tag Babel (whose locale data dates and labels use) knows; else
    what is wrong with it, with the code probably meant ("unknown language 'kz' (KZ is a
    country code: did you mean 'kk'?)")."""
    import difflib

    from babel import localedata

    base = tag.split("-")[0].lower()
    if localedata.exists(tag.replace("-", "_")) or localedata.exists(base):
        return None
    meant = _COUNTRY_FOR_LANGUAGE.get(base)
    if meant is not None:
        return (f"unknown language {tag!r} ({base.upper()} is a country code: "
                f"did you mean {meant!r}?)")
    known = sorted({name.split("_")[0] for name in localedata.locale_identifiers()})
    close = difflib.get_close_matches(base, known, n=1)
    return f"unknown language {tag!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
