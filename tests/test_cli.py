"""The `brief` command: help, version, project discovery, exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from policybrief import __version__
from policybrief.cli import cli


def _command(path: tuple[str, ...]) -> click.Command:
    """The command at path (names under the brief group)."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and subcommand registered under group, the group's first."""
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_commands(cli))
GROUPS = [path for path in COMMANDS if isinstance(_command(path), click.Group)]


def _listed(help_text: str) -> dict[str, str]:
    """The "Commands:" block of a group's help: name -> short help."""
    block = help_text.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.fullmatch(r"  (\S+)(?:\s+(.*))?", line) for line in block.splitlines()]
    assert all(rows), block
    return {row[1]: row[2] or "" for row in rows if row}


@pytest.mark.parametrize("path", GROUPS, ids=lambda p: " ".join(("brief", *p)))
def test_help_lists_commands(run: Callable[..., Result], path: tuple[str, ...]) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0
    listed = _listed(result.output)
    group = _command(path)
    assert isinstance(group, click.Group)
    assert sorted(listed) == sorted(group.commands)  # every registered command, no other
    assert all(listed.values()), listed  # each with its short help


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("brief", *p)))
def test_every_command_has_help_with_example(
    run: Callable[..., Result], path: tuple[str, ...]
) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: {' '.join(('cli', *path))} ")  # CliRunner's name
    description = result.output.split("\n\n", 2)[1]  # the paragraph after Usage:
    assert description.startswith("  ") and (_command(path).help or "").strip(), result.output
    # Its Example: shows the command itself in use.
    assert re.search(rf"\n  Example: {re.escape(' '.join(('brief', *path)))}\b", result.output), (
        result.output
    )


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


def test_check_renders_templates_but_imports_no_pdf_modules(project: Path) -> None:
    """`brief check` renders each target's HTML as a build does (so it imports Jinja2 and
    Babel) but lays nothing out: it imports no WeasyPrint."""
    code = (
        "import sys; from policybrief.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'jinja2', 'babel', 'weasyprint', 'pydyf'}))"
    )
    done = subprocess.run([sys.executable, "-c", code, "check", "--project", str(project)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["ok: 1 sources, 3 notes, 1 briefs",
                                        "['babel', 'jinja2']"], done.stderr


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
