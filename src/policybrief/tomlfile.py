"""TOML text to a table: tomllib.loads, with the failures tomllib raises besides
TOMLDecodeError turned into ConfigErrors (the config file and brand.toml both use it)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """tomllib.loads, where what tomllib raises besides TOMLDecodeError is a message too:
    arrays or tables nested past Python's recursion limit, integers past its digit limit."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(
            f"{path}: invalid TOML: arrays or tables nested too deeply; flatten them"
        ) from None
    except tomllib.TOMLDecodeError:
        raise
    except ValueError:  # int() of a number with more digits than Python converts
        raise ConfigError(
            f"{path}: invalid TOML: a number over {sys.get_int_max_str_digits()} digits long; "
            "no setting takes one, fix the value"
        ) from None
