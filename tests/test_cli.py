"""The `brief` command: help, version, project discovery, exit codes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policybrief import __version__
from policybrief.cli import cli


def test_help_lists_commands(run: Callable[..., Result]) -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "build" in result.output and "check" in result.output


@pytest.mark.parametrize("command", ["build", "check"])
def test_every_command_has_help_with_example(run: Callable[..., Result], command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_version(run: Callable[..., Result]) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"policybrief, version {__version__}"


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "policybrief", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "Usage: brief" in done.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from policybrief.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('weasyprint', 'pydantic', 'jinja2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_check_reports_counts(run: Callable[..., Result], project: Path) -> None:
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 1 sources, 3 notes, 1 briefs\n"


def test_build_finds_project_by_walking_up(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "sources")
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "built build/river-talks/analyst.pdf (2 pages)\n"
    assert (project / "build" / "river-talks" / "analyst.pdf").read_bytes().startswith(b"%PDF")


def test_no_project_is_a_clear_error(tmp_path: Path, run: Callable[..., Result]) -> None:
    result = run("check", "--project", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: no policybrief project found in {tmp_path}")
    assert "Traceback" not in result.output


def test_unknown_brief_id_is_usage_error(run: Callable[..., Result], project: Path) -> None:
    result = run("build", "nope", "--project", project)
    assert result.exit_code == 2
    assert "unknown brief 'nope'; briefs in this project: river-talks" in result.stderr
    assert not (project / "build").exists()


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--debug", "check", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "Error: no policybrief project found" in result.stderr
