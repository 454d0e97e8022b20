"""The closed vocabularies that the file formats and the settings share, each defined
once: the language-tag pattern, the note priorities and the source perspectives. Plain
constants, light to import (config.py reads them with no pydantic loaded)."""

from __future__ import annotations

from typing import Literal, get_args

LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$"  # a language tag: en, kk, ru, zh-Hant
Priority = Literal["key", "supporting", "detail"]
PRIORITIES: tuple[str, ...] = get_args(Priority)
PRIORITY_RANK: dict[str, int] = {p: rank for rank, p in enumerate(PRIORITIES)}
Perspective = Literal["independent", "official", "state-media", "think-tank", "academic", "opinion"]
PERSPECTIVES: tuple[str, ...] = get_args(Perspective)
