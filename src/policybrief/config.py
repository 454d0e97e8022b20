"""Find the project and read its [tool.policybrief] settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_FILES = ("policybrief.toml", "pyproject.toml")
PAPER_SIZES = {"A4": "A4", "Letter": "letter"}
DEFAULT_AUDIENCES: dict[str, str] = {"analyst": "analyst.html.j2"}


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know about the project, with absolute paths."""

    root: Path
    config_file: Path
    sections: dict[str, str]
    paper: str = "A4"
    audiences: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_AUDIENCES))
    strict: bool = False

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
    def build_dir(self) -> Path:
        """Where outputs go; only output.py writes here."""
        return self.root / "build"


def _settings(path: Path) -> dict[str, Any] | None:
    """The policybrief table of a config file, or None if the file has none."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax") from exc
    if path.name == "policybrief.toml":
        return data
    table = data.get("tool", {}).get("policybrief")
    return table if isinstance(table, dict) else None


def find_project(start: Path) -> tuple[Path, dict[str, Any]]:
    """Walk up from start, like git, to the first folder with policybrief settings."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file():
                settings = _settings(candidate)
                if settings is not None:
                    return candidate, settings
    raise ConfigError(
        f"no policybrief project found in {start} or any folder above it; "
        "run inside a project (a folder whose pyproject.toml has [tool.policybrief], "
        "or with a policybrief.toml), or pass --project DIR"
    )


def load_config(project: Path | None = None, *, strict: bool | None = None) -> Config:
    """Locate the project (from the cwd unless given) and build its Config."""
    if project is not None and not project.is_dir():
        raise ConfigError(f"{project}: no such folder; pass --project an existing project folder")
    config_file, settings = find_project(project or Path.cwd())
    where = f"{config_file.name} [tool.policybrief]"
    if config_file.name == "policybrief.toml":
        where = config_file.name

    sections = settings.get("sections", {})
    if not isinstance(sections, dict) or not sections or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in sections.items()
    ):
        raise ConfigError(
            f"{config_file}: {where}: sections: must be a table of section keys to titles, "
            'e.g. [tool.policybrief.sections] background = "Background"'
        )
    paper = settings.get("paper", "A4")
    if paper not in PAPER_SIZES:
        raise ConfigError(
            f"{config_file}: {where}: paper: {paper!r} is not one of: {', '.join(PAPER_SIZES)}"
        )
    audiences = dict(DEFAULT_AUDIENCES)
    extra = settings.get("audiences", {})
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise ConfigError(
            f"{config_file}: {where}: audiences: must map audience names to template names, "
            'e.g. [tool.policybrief.audiences] cable = "cable.html.j2"'
        )
    audiences.update(extra)
    unknown = sorted(set(settings) - {"sections", "paper", "audiences"})
    if unknown:
        raise ConfigError(
            f"{config_file}: {where}: unknown setting {unknown[0]!r}; "
            "known settings: audiences, paper, sections"
        )
    return Config(
        root=config_file.parent,
        config_file=config_file,
        sections=dict(sections),
        paper=paper,
        audiences=audiences,
        strict=bool(strict),
    )
