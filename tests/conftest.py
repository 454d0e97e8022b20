"""Shared fixtures: a copy of the minimal project, a CLI runner, PDF read-back helpers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from policybrief.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
# Appended to the minimal brief: all three packaged audiences, with what they need.
TALKING_POINTS = """
audiences: [analyst, executive, talking-points]
lines_to_take:
  - text: We welcome the resumption of talks.
    notes: [river-2024/talks-resume]
questions:
  - question: Will a deal be signed this year?
    answer: That is for the parties to decide.
    notes: [river-2024/water-share]
do_not_say:
  - Do not comment on the draft split.
"""
REPO = Path(__file__).parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of tests/fixtures/minimal (one source, one brief)."""
    dest = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", dest, ignore=shutil.ignore_patterns("build"))
    return dest


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke `brief ARGS...` in-process and return Click's result."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args])

    return invoke


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal project, built once for the read-back tests; returns the PDF path."""
    dest = tmp_path_factory.mktemp("built") / "minimal"
    shutil.copytree(FIXTURES / "minimal", dest, ignore=shutil.ignore_patterns("build"))
    result = CliRunner().invoke(cli, ["build", "--strict", "--project", str(dest)])
    assert result.exit_code == 0, result.output
    return dest / "build" / "river-talks" / "analyst.pdf"


def pdf_text(path: Path) -> str:
    """All text of a PDF, pages joined, whitespace folded."""
    reader = PdfReader(path)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_fonts(path: Path) -> set[str]:
    """BaseFont names of every font on every page, subset prefixes removed."""
    names = set()
    for page in PdfReader(path).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 file, making folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
