"""The closed vocabularies that the file formats and the settings share, each defined
once: the language-tag pattern, the note priorities and the source perspectives. Plain
constants, light to import (config.py reads them with no pydantic loaded); the one
function, unknown_language, loads Babel's list of locales only when called."""

from __future__ import annotations

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
