"""The organisation's look, templates/brand.toml: name, logo, colours and fonts, read and
checked into a Brand."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import boundary
from .errors import ConfigError
from .tomlfile import parse_toml

BRAND_FILE = "brand.toml"  # in the project's templates/
TEMPLATES = "templates/"  # the folder of templates, brand, logo and fonts, in messages
# The default palette; templates/brand.toml overrides any of them.
DEFAULT_COLOURS = {
    "brand": "#1d3557",  # headings, rules, the key-messages bar
    "accent": "#b5651d",  # numbers and small highlights
    "tint": "#eef2f7",  # the key-messages box
    "ink": "#1b1b1b",  # body text
    "muted": "#5b6470",  # running heads, captions
    "rule": "#c9d1dc",  # hairlines
}
BRAND_COLOURS = tuple(DEFAULT_COLOURS)
DEFAULT_FONTS = {"serif": "PT Serif", "sans": "PT Sans"}  # bundled (fontpkg-pt-*)
_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|(rgb|hsl)a?\([0-9.,% ]+\))$")
FONT_FORMATS = (".ttf", ".otf", ".woff", ".woff2")


@dataclass(frozen=True)
class FontFace:
    """A font file in the project's templates/ folder, under a family name."""

    family: str
    file: str  # relative to templates/
    weight: int = 400
    style: str = "normal"


@dataclass(frozen=True)
class Brand:
    """An organisation's look: name, logo, colours and fonts (templates/brand.toml)."""

    organisation: str | None = None
    logo: str | None = None  # an SVG, relative to templates/
    colours: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    serif: str = DEFAULT_FONTS["serif"]
    sans: str = DEFAULT_FONTS["sans"]
    faces: tuple[FontFace, ...] = ()


def _template_file(templates_dir: Path, file: str, what: str,
                   fail: Callable[[str, str], ConfigError], key: str = "") -> None:
    """Refuse a brand's logo or font that the renderer would not load."""
    try:
        boundary.resolve(templates_dir / file, templates_dir, what, name=TEMPLATES)
    except boundary.Refused as exc:
        raise fail(key or what, f"{file!r} {exc.problem}; {exc.remedy}") from exc
    except OSError:
        raise fail(key or what, f"{file!r} not found in {templates_dir}; add it or fix the "
                   "name") from None


def load_brand(templates_dir: Path) -> Brand:
    """Read and check templates/brand.toml; no file means the package's default look."""
    path = templates_dir / BRAND_FILE
    if not os.path.lexists(path):
        return Brand()
    try:
        data = parse_toml(
            boundary.read(path, templates_dir, "brand file", name=TEMPLATES).decode("utf-8"),
            path,
        )
    except boundary.Refused as exc:
        raise ConfigError(f"{path}: {exc.problem}; {exc.remedy}") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}; fix the TOML syntax") from exc

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {problem}")

    unknown = sorted(set(data) - {"organisation", "logo", "colours", "fonts"})
    if unknown:
        raise fail(unknown[0], "unknown setting; known: organisation, logo, colours, fonts")
    for key in ("organisation", "logo"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            raise fail(key, "must be a non-empty text")
    logo = data.get("logo")
    if logo is not None:
        if not logo.endswith(".svg"):
            raise fail("logo", f"{logo!r} must be an .svg file inside templates/")
        _template_file(templates_dir, logo, "logo", fail)
    colours = data.get("colours", {})
    if not isinstance(colours, dict):
        raise fail("colours", "must be a table, e.g. [colours] brand = \"#1d3557\"")
    for key, value in colours.items():
        if key not in BRAND_COLOURS:
            raise fail(f"colours.{key}", f"unknown colour; known: {', '.join(BRAND_COLOURS)}")
        if not (isinstance(value, str) and _COLOUR.match(value)):
            raise fail(f"colours.{key}", f"{value!r} is not a colour; write #rrggbb or rgb(r,g,b)")
    fonts = data.get("fonts", {})
    if not isinstance(fonts, dict):
        raise fail("fonts", "must be a table, e.g. [fonts] serif = \"PT Serif\"")
    faces = []
    if not isinstance(fonts.get("faces", []), list):
        raise fail("fonts.faces", "must be a list of tables, e.g. [[fonts.faces]] "
                   'family = "Brand Sans" and file = "brand-sans.woff2"')
    for i, face in enumerate(fonts.get("faces", [])):
        where = f"fonts.faces[{i}]"
        if not isinstance(face, dict) or not all(
            isinstance(face.get(key), str) and face[key].strip() for key in ("family", "file")
        ):
            raise fail(where, "needs `family` and `file`, each a text")
        if not str(face["file"]).endswith(FONT_FORMATS):
            raise fail(f"{where}.file", "must be a .ttf, .otf, .woff or .woff2 inside templates/")
        _template_file(templates_dir, str(face["file"]), "font", fail, f"{where}.file")
        weight, style = face.get("weight", 400), face.get("style", "normal")
        if type(weight) is not int or not 100 <= weight <= 900 or style not in ("normal", "italic"):
            raise fail(where, "weight must be 100-900 and style normal or italic")
        faces.append(FontFace(str(face["family"]), str(face["file"]), weight, style))
    unknown = sorted(set(fonts) - {"serif", "sans", "faces"})
    if unknown:
        raise fail(f"fonts.{unknown[0]}", "unknown setting; known: serif, sans, faces")
    for key in ("serif", "sans"):
        if key in fonts and not (isinstance(fonts[key], str) and fonts[key].strip()):
            raise fail(f"fonts.{key}", "must be a font family name")
    return Brand(
        organisation=data.get("organisation"), logo=logo,
        colours={**DEFAULT_COLOURS, **colours},
        serif=fonts.get("serif", DEFAULT_FONTS["serif"]),
        sans=fonts.get("sans", DEFAULT_FONTS["sans"]), faces=tuple(faces),
    )
