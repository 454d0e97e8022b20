"""Each brief's claims.json follows one rule in full, incremental and sharded builds."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, TALKING_POINTS
from policybrief.cli import cli


@dataclass(frozen=True)
class Builds:
    """One project built three ways: shard 1/2, shard 2/2, an empty shard 5/5 (each
    build/ moved aside), and in full (left in project/build)."""

    project: Path
    shard1: Path
    shard2: Path
    empty: Path
    full: Path


def _build(project: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["build", "--project", str(project), *args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Two briefs, four targets: shard 1/2 builds river-notes/executive and
    river-talks/executive, shard 2/2 river-talks/analyst and talking-points. So each
    shard writes a claims.json for river-talks, and only shard 2's is the analyst's."""
    root = tmp_path_factory.mktemp("merge")
    project = root / "minimal"
    shutil.copytree(FIXTURES / "minimal", project, ignore=shutil.ignore_patterns("build"))
    brief = project / "briefs" / "river-talks.yaml"
    original = brief.read_text()
    brief.write_text(original + TALKING_POINTS)
    (project / "briefs" / "river-notes.yaml").write_text(original + "audiences: [executive]\n")
    folders = []
    for shard, name in (("1/2", "shard-1"), ("2/2", "shard-2"), ("5/5", "empty")):
        _build(project, "--shard", shard)
        (project / "build").rename(root / name)
        folders.append(root / name)
    _build(project)
    return Builds(project, *folders, full=project / "build")


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of a build folder but the hidden ones (the fingerprint state)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _copy(folder: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(folder, tmp_path / name))


def _manifest(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "manifest.json").read_text())
    return data


def _edit_manifest(folder: Path, change: Callable[[dict[str, object]], object]) -> None:
    data = _manifest(folder)
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data, indent=2))


def _no_claims_record(data: dict[str, object]) -> None:
    del data["claims"]


# --- claims.json in incremental builds ---------------------------------------------------


def test_an_incremental_build_keeps_the_analysts_claims(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    """Rebuilding only the executive note (its PDF gone, or -a executive --force) leaves
    the analyst's claims.json; a claims.json gone, or a manifest from before the record,
    rebuilds the analyst target to bring it back."""
    project = Path(shutil.copytree(builds.project, tmp_path / "project"))
    claims = project / "build" / "river-talks" / "claims.json"
    analysts = claims.read_bytes()

    def record() -> object:
        return _manifest(project / "build")["claims"]["river-talks"]["target"]  # type: ignore[index]

    assert json.loads(analysts)["audience"] == "analyst" and record() == "river-talks/analyst"
    (project / "build" / "river-talks" / "executive.pdf").unlink()
    result = run("build", "river-talks", "--project", project)
    assert result.stdout.splitlines() == [
        "built build/river-talks/executive.pdf (1 page)",
        "unchanged build/river-talks/analyst.pdf",
        "unchanged build/river-talks/talking-points.pdf",
    ]
    assert claims.read_bytes() == analysts and record() == "river-talks/analyst"
    result = run("build", "-a", "executive", "--force", "--project", project)
    assert result.stdout.splitlines() == ["built build/river-notes/executive.pdf (1 page)",
                                          "built build/river-talks/executive.pdf (1 page)"]
    assert claims.read_bytes() == analysts and record() == "river-talks/analyst"
    assert _files(project / "build") == _files(builds.full)
    for damage in (claims.unlink,
                   lambda: _edit_manifest(project / "build", _no_claims_record)):
        damage()
        result = run("build", "river-talks", "--project", project)
        assert result.stdout.splitlines() == [
            "built build/river-talks/analyst.pdf (2 pages)",
            "unchanged build/river-talks/executive.pdf",
            "unchanged build/river-talks/talking-points.pdf",
        ], damage
        assert claims.read_bytes() == analysts and record() == "river-talks/analyst"
