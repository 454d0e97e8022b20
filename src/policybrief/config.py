"""Find the project and read its [tool.policybrief] settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import boundary
from .brand import Brand, load_brand
from .errors import ConfigError, UsageError, closest
from .tomlfile import parse_toml
from .vocabulary import LANGUAGE, PRIORITIES, Texts, text_in

CONFIG_FILES = ("policybrief.toml", "pyproject.toml")
PAPER_SIZES = {"A4": "A4", "Letter": "letter"}
CITATION_MODES = ("footnotes", "endnotes", "sources")
# Every key of the settings table (README: the example shows each one).
SETTINGS = ("language", "paper", "citation_style", "archive", "stale_after_days", "timeout",
            "sections", "audiences", "markings")
LABELS = "labels"  # the folder of a project's label catalogs
REQUIRABLE = ("recommendations", "lines_to_take", "questions", "do_not_say", "outlook_signposts")
# The parts of a brief that cite notes; an audience prints (and cites) those in its `parts`.
FORMATS = ("pdf", "docx", "web")  # the editions a target can have: `formats`, --format
PARTS = ("key_messages", "sections", "recommendations", "lines_to_take", "questions")


@dataclass(frozen=True)
class Audience:
    """An audience profile: its template and the limits the build enforces."""

    name: str
    label: Texts  # what the document calls itself: "Executive note", or one per language
    template: str
    pages: int | None = None  # page budget; more pages fail the build
    words_per_section: int | None = None  # warn (fail under --strict) above this
    min_priority: str = "detail"  # lowest note priority shown: key | supporting | detail
    citations: str = "footnotes"  # footnotes | endnotes | sources
    requires: tuple[str, ...] = ()  # brief fields this audience cannot do without
    # The parts it prints, so the only ones it cites: its sources, endnotes and claim map
    # hold nothing from a part it leaves out (talking points: no internal key messages).
    parts: tuple[str, ...] = PARTS
    allow_untranslated: bool = False  # a note lacking the brief's language: warn, not fail
    archival: bool = False  # PDF/A-3 with the evidence embedded, instead of PDF/UA
    # The print styles, a file found like a template; parsed once per process and applied
    # as the user-level stylesheet: any rule in the template's own <style> wins over it.
    stylesheet: str = "brief.css"  # "" for none
    # A last page with fewer lines (footnotes included) fails the build: a page the
    # reader turns to for a line or two. 0 allows any.
    min_last_page_lines: int = 3
    # The editions written: always the PDF; the Word edition (word.py) with "docx", the
    # web edition (web.py) with "web".
    formats: tuple[str, ...] = ("pdf",)


DEFAULT_AUDIENCES: dict[str, Audience] = {
    a.name: a
    for a in (
        Audience("analyst", "Analyst brief", "analyst.html.j2"),
        Audience(
            "executive", "Executive note", "executive.html.j2", pages=2,
            words_per_section=110, min_priority="key", citations="endnotes",
        ),
        Audience(
            "talking-points", "Talking points", "talking-points.html.j2", pages=4,
            min_priority="key", citations="sources", requires=("lines_to_take", "questions"),
            parts=("lines_to_take", "questions"),
        ),
    )
}


@dataclass(frozen=True)
class Markings:
    """The project's protective marking scheme: levels lowest first, the handling
    caveats a brief may carry, and the level of whatever is not marked."""

    levels: tuple[str, ...]
    caveats: tuple[str, ...] = ()
    default: str = ""
    # A level's or caveat's name in other languages ({"OFFICIAL": {"ru": "ОФИЦИАЛЬНО"}}).
    names: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)

    def rank(self, level: str) -> int:
        """How high a level is: 0 for the lowest."""
        return self.levels.index(level)

    def name(self, term: str, language: str) -> str:
        """A level or caveat as a brief in `language` prints it: its name in that
        language where `names` gives one, else as the scheme writes it."""
        return text_in(self.names.get(term, {}), language, None) or term


def _markings(table: Any, where: str) -> Markings | None:
    """The [markings] table, checked; None when the project declares no scheme."""
    if table is None:
        return None
    example = 'e.g. levels = ["OFFICIAL", "OFFICIAL-SENSITIVE"] and default = "OFFICIAL"'
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: markings: must be a table; {example}")
    unknown = sorted(set(table) - {"levels", "caveats", "default", "names"})
    if unknown:
        raise ConfigError(f"{where}: markings.{unknown[0]}: unknown setting; "
                          "known: caveats, default, levels, names")
    lists = {}
    for key in ("levels", "caveats"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(is_texts(v) and isinstance(v, str)
                                                  for v in value) or len(set(value)) < len(value):
            raise ConfigError(f"{where}: markings.{key}: {value!r} is not a list of "
                              f"different texts; {example}")
        lists[key] = tuple(value)
    if not lists["levels"]:
        raise ConfigError(f"{where}: markings.levels: give the levels, lowest first; {example}")
    default = table.get("default", lists["levels"][0])
    if default not in lists["levels"]:
        raise ConfigError(f"{where}: markings.default: {default!r} is not one of the levels: "
                          f"{', '.join(lists['levels'])}")
    return Markings(lists["levels"], lists["caveats"], default,
                    _marking_names(table.get("names", {}), lists["levels"] + lists["caveats"],
                                   where))


def _marking_names(table: Any, terms: tuple[str, ...], where: str) -> dict[str, dict[str, str]]:
    """[markings.names]: each level or caveat's name by language, checked."""
    example = 'e.g. names = {OFFICIAL = {ru = "ОФИЦИАЛЬНО"}}'
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: markings.names: must be a table; {example}")
    for term, names in table.items():
        if term not in terms:
            close = closest(term, terms)
            raise ConfigError(
                f"{where}: markings.names.{term}: not a level or caveat of the scheme"
                + (f"; did you mean {close!r}?" if close else f"; they are: {', '.join(terms)}")
            )
        if not isinstance(names, dict) or not is_texts(names):
            raise ConfigError(f"{where}: markings.names.{term}: give its name by language "
                              f"code; {example}")
    return table


# A target takes seconds; minutes mean a layout that will not finish (or a template loop).
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know about the project, with absolute paths."""

    root: Path
    config_file: Path
    sections: dict[str, Texts]  # key -> title, or titles by language
    paper: str = "A4"
    audiences: dict[str, Audience] = field(default_factory=lambda: dict(DEFAULT_AUDIENCES))
    brand: Brand = field(default_factory=Brand)
    citation_style: str = "chicago-notes-bibliography"  # a CSL style name or a .csl file
    language: str = "en"  # the language of notes written as plain text
    archive: Path | None = None  # archived source texts, for checking quotes
    stale_after_days: int = 365  # warn when a brief's newest source is older than this
    timeout: float = DEFAULT_TIMEOUT  # seconds one target may take before it is given up
    strict: bool = False
    # SOURCE_DATE_EPOCH, the PDFs' dates in seconds since 1970 (None: unset or empty)
    source_date_epoch: int | None = None
    # The project's label catalogs, labels/<language>.toml, by language (load_labels)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    markings: Markings | None = None  # the protective marking scheme; None: markings off
    # --format: the editions of every target of this build, over the audiences' `formats`
    formats: tuple[str, ...] | None = None

    def writes_docx(self, audience: str) -> bool:
        """Whether a target for the audience has a Word edition: --format, else the
        audience's `formats`."""
        return "docx" in (self.formats or self.audiences[audience].formats)

    def writes_web(self, audience: str) -> bool:
        """Whether a target of the audience has a web edition (web.py): --format, else
        the audience's `formats`."""
        return "web" in (self.formats or self.audiences[audience].formats)

    @property
    def sources_dir(self) -> Path:
        """Folder of source YAML files."""
        return self.root / "sources"

    @property
    def briefs_dir(self) -> Path:
        """Folder of brief specs."""
        return self.root / "briefs"

    @property
    def templates_dir(self) -> Path:
        """The project's templates, searched before the package defaults."""
        return self.root / "templates"

    @property
    def base_url(self) -> str:
        """The renderer's base URL: templates/, resolved, as a file: URL ending in "/".
        Relative names in a document and its stylesheets (and so in Markdown images)
        start here; whatever predicts what the renderer reads must use this too."""
        return self.templates_dir.resolve().as_uri() + "/"

    @property
    def labels_dir(self) -> Path:
        """The project's label catalogs, labels/<language>.toml, over the packaged ones."""
        return self.root / LABELS

    @property
    def build_dir(self) -> Path:
        """Where outputs go; only output.py writes here."""
        return self.root / "build"


def _settings(path: Path) -> dict[str, Any] | None:
    """The policybrief table of a config file, or None if the file has none."""
    try:
        data = parse_toml(
            boundary.read(path, path.parent, "config file").decode("utf-8"), path
        )
    except boundary.Refused as exc:
        raise ConfigError(f"{path}: {exc.problem}; {exc.remedy}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax") from exc
    if path.name == "policybrief.toml":
        return data
    tool = data.get("tool", {})
    table = tool.get("policybrief") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.policybrief: must be a table, [tool.policybrief]")
    return table


def is_texts(value: Any) -> bool:
    """Whether a setting is a text people read: a non-empty text, or a table of them by
    language (label = {en = "Cable", kk = "Жеделхат"})."""
    if isinstance(value, dict):
        return bool(value) and all(
            isinstance(k, str) and re.match(LANGUAGE, k) and is_texts(v) and isinstance(v, str)
            for k, v in value.items()
        )
    return isinstance(value, str) and bool(value.strip())


def _one_of(value: Any, choices: Any) -> bool:
    """Whether a setting is one of its named choices: a text first, since a TOML list or
    table cannot be looked up among them."""
    return isinstance(value, str) and value in choices


def _audience(name: str, table: Any, known: dict[str, Audience], where: str) -> Audience:
    """One [audiences.NAME] table over its base profile (itself, `like`, or analyst)."""
    example = 'e.g. like = "executive" and template = "my-note.html.j2"'
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: audiences.{name}: must be a table; {example}")
    table = dict(table)
    like = table.pop("like", None)
    if like is not None and not isinstance(like, str):
        raise ConfigError(
            f"{where}: audiences.{name}.like: {like!r} is not an audience name (a text); "
            f"use one of: {', '.join(known)}"
        )
    if like is not None and like not in known:
        raise ConfigError(
            f"{where}: audiences.{name}.like: unknown audience {like!r}; "
            f"use one of: {', '.join(known)}"
        )
    base = known.get(like or name)
    if base is None and "template" not in table:
        raise ConfigError(
            f"{where}: audiences.{name}: a new audience needs `template` (or `like`); {example}"
        )
    base = base or known["analyst"]
    fields = {f.name for f in dataclasses.fields(Audience)} - {"name"}
    checks: dict[str, tuple[Any, str]] = {
        "label": (is_texts, 'a non-empty text, or texts by language: {en = "...", kk = "..."}'),
        "template": (lambda v: isinstance(v, str) and v.endswith(".j2"), "a name ending .j2"),
        "pages": (lambda v: type(v) is int and v > 0, "a whole number above 0"),
        "words_per_section": (lambda v: type(v) is int and v > 0, "a whole number above 0"),
        "min_priority": (lambda v: _one_of(v, PRIORITIES), f"one of: {', '.join(PRIORITIES)}"),
        "citations": (
            lambda v: _one_of(v, CITATION_MODES), f"one of: {', '.join(CITATION_MODES)}"
        ),
        "requires": (
            lambda v: isinstance(v, list) and all(_one_of(x, REQUIRABLE) for x in v),
            f"a list of: {', '.join(REQUIRABLE)}",
        ),
        "parts": (
            lambda v: isinstance(v, list) and all(_one_of(x, PARTS) for x in v),
            f"a list of: {', '.join(PARTS)}",
        ),
        "allow_untranslated": (lambda v: isinstance(v, bool), "true or false"),
        "archival": (lambda v: isinstance(v, bool), "true or false"),
        "min_last_page_lines": (lambda v: type(v) is int and v >= 0, "a whole number, 0 or more"),
        "formats": (
            lambda v: isinstance(v, list) and all(_one_of(x, FORMATS) for x in v)
            and "pdf" in v,
            f'a list of: {", ".join(FORMATS)}, with "pdf" (the PDF is always built: its '
            'laid-out pages are checked and the manifest lists it), e.g. ["pdf", "docx"]',
        ),
        "stylesheet": (
            lambda v: isinstance(v, str) and (v == "" or v.endswith(".css")),
            'a name ending .css, or "" for none',
        ),
    }
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(
                f"{where}: audiences.{name}.{key}: unknown setting; "
                f"known: like, {', '.join(sorted(fields))}"
            )
        check, expected = checks[key]
        if not check(value):
            raise ConfigError(f"{where}: audiences.{name}.{key}: {value!r} is not {expected}")
    for key in ("requires", "parts", "formats"):
        if key in table:
            table[key] = tuple(dict.fromkeys(table[key]))
    # An override keeps its label; a new audience is named after itself ("cable" -> "Cable").
    default_label = base.label if base.name == name else name.replace("-", " ").capitalize()
    label = table.pop("label", None) or default_label
    return dataclasses.replace(base, name=name, label=label, **table)


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH from the environment, checked: None when unset or empty; a value
    that is not a whole number of seconds from 1970 on is a usage error."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    try:
        seconds = int(epoch)
        if seconds < 0:
            raise ValueError(epoch)
        dt.datetime.fromtimestamp(seconds, tz=dt.UTC)  # within the dates Python can hold
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp; unset it or give seconds"
        ) from None
    return seconds


def find_project(start: Path) -> tuple[Path, dict[str, Any]]:
    """Walk up from start, like git, to the first folder with policybrief settings."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if os.path.lexists(candidate) and not candidate.is_dir():
                settings = _settings(candidate)
                if settings is not None:
                    return candidate, settings
    raise ConfigError(
        f"no policybrief project found in {start} or any folder above it; "
        "run inside a project (a folder whose pyproject.toml has [tool.policybrief], "
        "or with a policybrief.toml), or pass --project DIR"
    )


def load_config(
    project: Path | None = None, *, strict: bool | None = None, archive: Path | None = None,
    formats: tuple[str, ...] | None = None,
) -> Config:
    """Locate the project (from the cwd unless given) and build its Config."""
    if project is not None and not project.is_dir():
        raise ConfigError(f"{project}: no such folder; pass --project an existing project folder")
    config_file, settings = find_project(project or Path.cwd())
    own_file = config_file.name == "policybrief.toml"
    where = str(config_file) if own_file else f"{config_file} [tool.policybrief]"
    if own_file and "tool" in settings:
        raise ConfigError(
            f"{where}: [tool.policybrief...] tables belong in pyproject.toml; in "
            "policybrief.toml the settings stand alone: write [sections] for "
            "[tool.policybrief.sections], [audiences.NAME] for [tool.policybrief.audiences.NAME] "
            "and put top-level keys (language = ...) above the first table"
        )
    sections = settings.get("sections", {})
    if not isinstance(sections, dict) or not sections or not all(
        isinstance(k, str) and is_texts(v) for k, v in sections.items()
    ):
        table = "[sections]" if own_file else "[tool.policybrief.sections]"
        other = ("in pyproject.toml the table is [tool.policybrief.sections]" if own_file
                 else "in a policybrief.toml it is [sections]")
        raise ConfigError(
            f"{where}: sections: must be a table of section keys to titles, e.g. the lines "
            f'{table} and background = "Background", or titles by language: '
            f'background = {{en = "Background", kk = "..."}} ({other})'
        )
    paper = settings.get("paper", "A4")
    if not _one_of(paper, PAPER_SIZES):
        raise ConfigError(
            f"{where}: paper: {paper!r} is not one of: {', '.join(PAPER_SIZES)}"
        )
    audiences = dict(DEFAULT_AUDIENCES)
    tables = settings.get("audiences", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: audiences: must be a table of audiences")
    for name, table in tables.items():
        audiences[name] = _audience(name, table, audiences, where)
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {unknown[0]!r}; "
            f"known settings: {', '.join(sorted(SETTINGS))}"
        )
    stale = settings.get("stale_after_days", 365)
    if type(stale) is not int or stale < 0:
        raise ConfigError(f"{where}: stale_after_days: must be a whole number")
    timeout = settings.get("timeout", DEFAULT_TIMEOUT)
    if type(timeout) not in (int, float) or not 0 < timeout <= 86_400:
        raise ConfigError(
            f"{where}: timeout: must be seconds per target, e.g. timeout = 120"
        )
    archive_setting = settings.get("archive")
    if archive_setting is not None and not isinstance(archive_setting, str):
        raise ConfigError(f"{where}: archive: must be a folder path")
    language = settings.get("language", "en")
    if not isinstance(language, str) or not re.match(LANGUAGE, language):
        raise ConfigError(f"{where}: language: {language!r} is not a language tag")
    style = settings.get("citation_style", "chicago-notes-bibliography")
    if not isinstance(style, str) or not style.strip():
        raise ConfigError(f"{where}: citation_style: must be a CSL style name")
    root = config_file.parent
    return Config(
        root=root,
        config_file=config_file,
        sections=dict(sections),
        paper=paper,
        audiences=audiences,
        brand=load_brand(root / "templates"),
        citation_style=style,
        language=language,
        archive=archive or (root / archive_setting if archive_setting else None),
        stale_after_days=stale,
        timeout=float(timeout),
        strict=bool(strict),
        source_date_epoch=source_date_epoch(),
        labels=_label_catalogs(root),
        markings=_markings(settings.get("markings"), where),
        formats=tuple(dict.fromkeys(("pdf", *formats))) if formats else None,
    )


def _label_catalogs(root: Path) -> dict[str, dict[str, Any]]:
    """The project's label catalogs, labels/<language>.toml, each checked: TOML whose
    values are texts, or tables of texts (like [perspectives] in the packaged ones)."""
    folder = root / LABELS
    if not folder.is_dir():
        return {}
    catalogs = {}
    for path in sorted(folder.glob("*.toml")):
        if not re.match(LANGUAGE, path.stem):
            raise ConfigError(
                f"{path}: not a language code; name a label catalog after its language, "
                "e.g. labels/kk.toml"
            )
        try:
            text = boundary.read(path, root, "label catalog").decode("utf-8")
        except boundary.Refused as exc:
            raise ConfigError(f"{path}: {exc.problem}; {exc.remedy}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from exc
        try:
            table = parse_toml(text, path)
        except tomllib.TOMLDecodeError as exc:  # "... (at line 3, column 5)"
            line = re.search(r"\bline (\d+)", str(exc))
            where = f"{path}:{line.group(1)}" if line else str(path)
            problem = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
            raise ConfigError(f"{where}: invalid TOML: {problem}; fix the syntax") from exc
        for key, value in table.items():
            values = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, item in values:
                if not isinstance(item, str):
                    name = key if sub is None else f"{key}.{sub}"
                    raise ConfigError(
                        f"{path}:{_line_of(text, key, sub)}: {name}: {item!r} is not a text; "
                        f'write a label as text, {sub or key} = "..."'
                    )
        catalogs[path.stem] = table
    return catalogs


def _line_of(text: str, key: str, sub: str | None) -> int:
    """The line of `key = ` (or, in table `key`, of `sub = `) in a TOML file; 1 if not
    found (a dotted or inline form)."""
    table: str | None = None
    want_table, want_key = (None, key) if sub is None else (key, sub)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\s*[\"']?([^\]\"']+)[\"']?\s*\]", stripped)
        if header:
            table = header.group(1).strip()
            continue
        found = re.match(r"^[\"']?([^\"'=\s]+)[\"']?\s*=", stripped)
        if found and found.group(1) == want_key and table == want_table:
            return number
    return 1
