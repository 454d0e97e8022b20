"""The Jinja2 environment: project templates over package defaults, filters, sandbox."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval, format_skeleton
from babel.lists import format_list
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from .config import Config
from .errors import ConfigError
from .models import Name, PartialDate
from .output import write_atomic

log = logging.getLogger(__name__)

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
LABELS = Path(__file__).parent / "labels"
_TEMPLATE_FILES = (".j2", ".css")


@dataclass(frozen=True)
class TemplateInfo:
    """A template name and the file that supplies it."""

    name: str
    path: Path
    overrides_default: bool  # a project file hiding a package default of the same name


def _names(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.is_file() and p.suffix in _TEMPLATE_FILES}


def list_templates(config: Config) -> list[TemplateInfo]:
    """Every template the build can use, with the folder that wins for each name."""
    project, package = _names(config.templates_dir), _names(PACKAGE_TEMPLATES)
    return [
        TemplateInfo(
            name,
            (config.templates_dir if name in project else PACKAGE_TEMPLATES) / name,
            name in project and name in package,
        )
        for name in sorted(project | package)
    ]


def eject_template(config: Config, name: str, force: bool = False) -> Path:
    """Copy a package default into the project's templates/ for editing."""
    defaults = sorted(_names(PACKAGE_TEMPLATES))
    if name not in defaults:
        raise ConfigError(f"no packaged template {name!r}; templates: {', '.join(defaults)}")
    target = config.templates_dir / name
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; use --force to replace it")
    write_atomic(target, (PACKAGE_TEMPLATES / name).read_bytes())
    return target


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
    return str(format_interval(start.start, end.start, "yMMMMd", locale=_locale(language)))


def format_names(names: Sequence[Name], language: str = "en") -> str:
    """'A', 'A and B', 'A, B and C' (the conjunction in the brief's language)."""
    return str(format_list([n.display for n in names], locale=_locale(language)))


def load_labels(language: str) -> dict[str, Any]:
    """The label catalog for a language ("ru", "kk-KZ" takes "kk"), over the English one;
    a language without a catalog gets English labels."""
    def read(name: str) -> dict[str, Any]:
        path = LABELS / f"{name}.toml"
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    labels = read("en")
    for key, value in read(language.split("-")[0].lower()).items():
        labels[key] = {**labels.get(key, {}), **value} if isinstance(value, dict) else value
    return labels


def css_counters(template: str) -> Markup:
    """'Page {page} of {pages}' as CSS content: "Page " counter(page) " of " counter(pages)."""
    parts = re.split(r"\{(page|pages)\}", template)
    out = [css_string(p) if i % 2 == 0 else f"counter({p})" for i, p in enumerate(parts) if p]
    return Markup(" ".join(out))


def css_string(value: str) -> Markup:
    """A quoted CSS string with every non-alphanumeric character escaped.

    Safe inside a <style> element: no quote, backslash or `</style>` can survive.
    """
    out = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(value))
    return Markup(f'"{out}"')


def attach(html: str, call: str) -> Markup:
    """Join a footnote to the last word of rendered text, so no line starts with a call.

    Only a plain last word (no markup in it) is wrapped; otherwise the call just follows.
    """
    head, space, tail = str(html).rstrip().rpartition(" ")
    if not tail or "<" in tail or ">" in tail:
        return Markup(f"{html}{call}")
    return Markup(f'{head}{space}<span class="nobr">{tail}{call}</span>')


def make_markdown() -> MarkdownIt:
    """CommonMark with raw HTML off: HTML in notes is shown as text, never interpreted."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def make_environment(config: Config) -> SandboxedEnvironment:
    """Jinja environment: project templates/, then package defaults, then `default:` prefix."""
    package = PackageLoader("policybrief", "templates")
    loader = ChoiceLoader(
        [
            FileSystemLoader(config.templates_dir),
            package,
            PrefixLoader({"default": package}, delimiter=":"),
        ]
    )
    env = SandboxedEnvironment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    md = make_markdown()
    env.filters["markdown"] = lambda text: Markup(md.render(text))
    env.filters["markdown_inline"] = lambda text: Markup(md.renderInline(text))
    env.filters["when"] = format_when
    env.filters["span"] = format_span
    env.filters["names"] = format_names
    env.filters["css_string"] = css_string
    env.filters["css_counters"] = css_counters
    env.filters["attach"] = attach
    from .timeline import timeline_svg  # timeline imports this module's format_span

    env.filters["timeline_svg"] = timeline_svg
    return env
