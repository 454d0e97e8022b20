"""The build engine: incremental, forced, sharded, parallel and reproducible builds."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import TALKING_POINTS, write


def test_unchanged_targets_are_skipped_and_force_rebuilds(
    run: Callable[..., Result], project: Path
) -> None:
    assert run("build", "--project", project).exit_code == 0
    again = run("build", "--project", project)
    assert again.stdout == "unchanged build/river-talks/analyst.pdf\n"
    forced = run("build", "--force", "--project", project)
    assert forced.stdout == "built build/river-talks/analyst.pdf (2 pages)\n"


def test_a_changed_input_rebuilds_only_what_reads_it(
    run: Callable[..., Result], project: Path
) -> None:
    write(project / "sources" / "other-2020.yaml",
          "type: report\ntitle: Other\nperspective: official\nassessment: x\n")
    assert run("build", "--project", project).exit_code == 0
    other = project / "sources" / "other-2020.yaml"
    other.write_text(other.read_text() + "publisher: Someone\n")  # not cited by the brief
    assert run("build", "--project", project).stdout.startswith("unchanged")
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("two-year", "two-year long"))
    assert run("build", "--project", project).stdout.startswith("built")
    write(project / "templates" / "brand.toml", '[colours]\nbrand = "#112233"\n')
    assert run("build", "--project", project).stdout.startswith("built")


def test_nothing_to_do_does_not_import_weasyprint(project: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\nfrom policybrief.config import load_config\n"
        "from policybrief.build import build\n"
        f"r = build(load_config(Path({str(project)!r})))\n"
        "print(len(r.built), len(r.unchanged), 'weasyprint' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert first.stdout.split() == ["1", "0", "True"]
    assert second.stdout.split() == ["0", "1", "False"]


def test_shards_split_the_targets(run: Callable[..., Result], project: Path) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    one = run("build", "--shard", "1/2", "-j", "2", "--project", project)
    two = run("build", "--shard", "2/2", "--project", project)
    assert one.stdout.splitlines() == ["built build/river-talks/analyst.pdf (2 pages)",
                                       "built build/river-talks/talking-points.pdf (1 page)"]
    assert two.stdout.splitlines() == ["built build/river-talks/executive.pdf (1 page)"]
    sums = (project / "build" / "SHA256SUMS").read_text().splitlines()
    assert [line.split()[1] for line in sums] == [
        "river-talks/analyst.pdf", "river-talks/executive.pdf", "river-talks/talking-points.pdf"]
    bad = run("build", "--shard", "3/2", "--project", project)
    assert bad.exit_code == 2 and "3/2: K must be between 1 and N" in bad.stderr


def test_malformed_source_date_epoch_is_a_usage_error(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = run("build", "--archival", "--project", project)
    assert result.exit_code == 2
    assert "SOURCE_DATE_EPOCH='yesterday' is not a Unix timestamp" in result.stderr


@pytest.mark.parametrize("epoch", ["yesterday", "1.5", "-1", "1e9", "9" * 20])
def test_source_date_epoch_is_checked_when_the_config_is_read(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch, epoch: str
) -> None:
    """Not whole seconds from 1970 on: a usage error naming the variable, before any
    target is checked or rendered, whichever command reads the config."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    for command in ("build", "check"):
        result = run(command, "--project", project)
        assert result.exit_code == 2, result.output
        assert f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp" in result.stderr
    assert not (project / "build").exists()


def test_identical_across_processes_folders_and_environments(
    project: Path, tmp_path: Path, built: Path
) -> None:
    """TZ, LANG, umask, hash seed and working folder do not change a byte."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    env = {**os.environ, "TZ": "Asia/Almaty", "LANG": "ru_RU.UTF-8", "PYTHONHASHSEED": "123"}
    done = subprocess.run(
        ["sh", "-c", f"umask 077 && {sys.executable} -m policybrief build --project {project}"],
        cwd=other, env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    assert hashlib.sha256(pdf.read_bytes()).digest() == hashlib.sha256(built.read_bytes()).digest()


def test_verbose_build_prints_a_closing_table(run: Callable[..., Result], project: Path) -> None:
    result = run("-v", "build", "--project", project)
    assert result.exit_code == 0
    assert re.search(r"^  river-talks/analyst  built      \d+\.\d s$", result.stderr, re.MULTILINE)
    again = run("-v", "build", "--project", project)
    assert "  river-talks/analyst  unchanged  " in again.stderr


NO_OP = (
    "import sys\nfrom policybrief.cli import cli\n"
    "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "print(sorted(m for m in ('pydantic', 'ruamel.yaml', 'jinja2', 'weasyprint')"
    " if m in sys.modules))\n"
)


def _no_op_build(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NO_OP, "build", "--project", str(project),
                           *args], capture_output=True, text=True, check=True)


def test_nothing_to_do_is_known_without_loading_the_project(
    run: Callable[..., Result], project: Path
) -> None:
    """After a successful build, a build with the same options and unchanged inputs
    replays its outcome (warnings included) without reading YAML or importing the
    models, Jinja2 or WeasyPrint; any change to an input goes the full way."""
    (project / "archive" / "river-2024.txt").unlink()  # a warning to replay: unverified quote
    first = run("build", "--project", project)
    assert first.exit_code == 0 and first.stdout.startswith("built")
    fast = _no_op_build(project)
    assert fast.stdout == "unchanged build/river-talks/analyst.pdf\n[]\n"
    assert fast.stderr == first.stderr  # the same warnings, word for word
    assert "warning: " in fast.stderr
    # Each kind of input change, and a damaged output, leads back to the full build.
    source = project / "sources" / "river-2024.yaml"
    changes: list[Callable[[], object]] = [
        lambda: source.write_text(source.read_text() + "\n"),  # even a harmless change
        lambda: write(project / "templates" / "brand.toml", '[colours]\nbrand = "#112233"\n'),
        lambda: write(project / "archive" / "river-2024.txt", "archived text"),
        lambda: (project / "build" / "river-talks" / "analyst.pdf").write_bytes(b"%PDF-1.7"),
    ]
    for change in changes:
        change()
        slow = _no_op_build(project)
        assert "'pydantic'" in slow.stdout, change
        assert _no_op_build(project).stdout.endswith("[]\n")  # recorded again: fast
    # Other options are another entry; --force always builds.
    assert "'pydantic'" in _no_op_build(project, "--archival").stdout
    assert "built" in _no_op_build(project, "--force").stdout
