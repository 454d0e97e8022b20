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

from conftest import write
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
    assert done.stdout.splitlines() == ["ok: 1 source, 3 notes, 1 brief",
                                        "['babel', 'jinja2']"], done.stderr


def test_check_reports_counts(run: Callable[..., Result], project: Path) -> None:
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 1 source, 3 notes, 1 brief\n"


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


def test_audience_the_brief_does_not_list_is_usage_error(
    run: Callable[..., Result], project: Path
) -> None:
    result = run("build", "-a", "talking-points", "--project", project)
    assert result.exit_code == 2, result.output
    assert ("nothing to build: no selected brief lists audience talking-points "
            "(river-talks lists analyst); pick an audience the brief lists, or add it to "
            "`audiences:` in briefs/river-talks.yaml") in result.stderr
    assert not (project / "build").exists()


def test_unknown_audience_suggests_the_closest(run: Callable[..., Result], project: Path) -> None:
    result = run("build", "-a", "executiv", "--project", project)
    assert result.exit_code == 2, result.output
    assert ("unknown audience 'executiv' (did you mean 'executive'?); "
            "audiences: analyst, executive, talking-points") in result.stderr


def test_empty_shard_is_a_note(run: Callable[..., Result], project: Path) -> None:
    for _ in range(2):  # the second run replays the first (fastpath), note and all
        result = run("build", "--shard", "2/2", "--project", project)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert result.stderr == (
            "warning: shard 2/2 has no targets: the selection has 1 target, and shard K of "
            "N takes every N-th from the K-th; nothing was built\n")
    assert not (project / "build" / "river-talks").exists()


def test_counts_of_one_are_singular(run: Callable[..., Result], project: Path) -> None:
    source = (project / "sources" / "river-2024.yaml").read_text()
    write(project / "sources" / "lake-2023.yaml", source)  # never cited: one warning
    (project / "archive" / "lake-2023.txt").write_bytes(
        (project / "archive" / "river-2024.txt").read_bytes())
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 2 sources, 6 notes, 1 brief, 1 warning\n"


def test_a_failed_target_is_named_once_and_the_others_said_as_they_are(
    run: Callable[..., Result], project: Path
) -> None:
    write(project / "templates" / "analyst.html.j2",  # fails for a brief subtitled "boom"
          '{% extends "default:analyst.html.j2" %}{% block style %}'
          '{{ 1 / 0 if brief.subtitle == "boom" else "" }}{% endblock %}\n')
    brief = (project / "briefs" / "river-talks.yaml").read_text()
    write(project / "briefs" / "river-copy.yaml", brief)
    assert run("build", "--project", project).exit_code == 0
    write(project / "briefs" / "river-copy.yaml", brief + "subtitle: boom\n")
    result = run("build", "--project", project)  # river-talks unchanged, river-copy fails
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed ")]
    assert len(failed) == 1 and failed[0].startswith("failed river-copy/analyst: template "), (
        result.stderr)
    assert failed[0].count("river-copy/analyst") == 1, failed[0]
    assert result.stderr.splitlines()[-1] == (
        "Error: 1 of 2 targets failed; the other was unchanged")


def test_global_options_after_the_command(run: Callable[..., Result], project: Path) -> None:
    result = run("build", "-v", "--project", project)  # -v: what was checked, per target
    assert result.exit_code == 0, result.output
    assert "river-talks/analyst: layout checked: 2 pages" in result.stderr
    quiet = run("build", "--force", "--project", project)
    assert quiet.exit_code == 0 and "layout checked" not in quiet.stderr
    debug = run("check", "--debug", "--project", project / "nowhere")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
