"""`brief manifest merge`: shard build folders merge into what one full build writes,
and inconsistent shards are refused; each brief's claims.json follows one rule in full,
incremental, sharded and merged builds; the release job merges rather than rebuilds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from conftest import FIXTURES, REPO, TALKING_POINTS
from policybrief import merge, models, output
from policybrief.cli import cli

SUMMARY = "Error: {n} in the folders to merge; nothing was written\n"


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


# --- merging ---------------------------------------------------------------------------


def test_the_shards_merge_into_what_a_full_build_writes(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    """Same files byte for byte: PDFs, HTML, claims.json, manifest.json, SHA256SUMS,
    whatever order the folders are named in."""
    claims = "river-talks/claims.json"
    assert _files(builds.shard1)[claims] != _files(builds.shard2)[claims]  # the rule matters
    assert json.loads(_files(builds.full)[claims])["audience"] == "analyst"
    expected = _files(builds.full)
    assert sorted(expected) == [
        "SHA256SUMS", "manifest.json",
        "river-notes/claims.json", "river-notes/executive.html", "river-notes/executive.pdf",
        "river-talks/analyst.html", "river-talks/analyst.pdf", "river-talks/claims.json",
        "river-talks/executive.html", "river-talks/executive.pdf",
        "river-talks/talking-points.html", "river-talks/talking-points.pdf",
    ]
    orders = [(builds.shard1, builds.shard2, builds.empty), (builds.shard2, builds.shard1),
              (builds.empty, builds.shard2, builds.shard1)]
    for i, folders in enumerate(orders):
        into = tmp_path / f"merged-{i}"
        result = run("manifest", "merge", *folders, "--into", into)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            f"merged {into}/river-notes/executive.pdf from {builds.shard1}",
            f"merged {into}/river-talks/analyst.pdf from {builds.shard2}",
            f"merged {into}/river-talks/executive.pdf from {builds.shard1}",
            f"merged {into}/river-talks/talking-points.pdf from {builds.shard2}",
        ]
        assert _files(into) == expected, folders
    done = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=into,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_merge_goes_to_the_projects_build_folder_unless_told(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(builds.project / "policybrief.toml", project)
    result = run("manifest", "merge", builds.shard1, builds.shard2, "--project", project)
    assert result.exit_code == 0, result.output
    assert _files(project / "build") == _files(builds.full)
    # Into a folder that is one of those merged: its own files stay, the others come in.
    into = _copy(builds.shard2, tmp_path, "into")
    result = run("manifest", "merge", builds.shard1, into, "-o", into)
    assert result.exit_code == 0, result.output
    assert _files(into) == _files(builds.full)


def test_merge_imports_neither_weasyprint_nor_pydantic_nor_jinja2(
    builds: Builds, tmp_path: Path
) -> None:
    code = (
        "import sys\nfrom policybrief.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\nexcept SystemExit as exc:\n    print(exc.code)\n"
        "print(sorted(m for m in ('pydantic', 'ruamel.yaml', 'jinja2', 'weasyprint')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "manifest", "merge", str(builds.shard1),
         str(builds.shard2), "--into", str(tmp_path / "merged")],
        capture_output=True, text=True, check=True,
    )
    assert done.stdout.splitlines()[-2:] == ["0", "[]"], done.stdout + done.stderr


@pytest.mark.parametrize("command", [("manifest",), ("manifest", "merge")])
def test_help_ends_with_an_example(run: Callable[..., Result], command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    docstring = result.output.split("Options:")[0].strip()
    assert docstring.splitlines()[-1].strip().startswith("Example: brief manifest merge ")


def test_merge_names_its_folders_as_a_build_does(run: Callable[..., Result]) -> None:
    result = run("manifest", "merge")
    assert result.exit_code == 2 and "Missing argument 'FOLDERS...'" in result.stderr
    assert output.SLUG == models.SLUG  # the brief-id and audience names merge accepts


# --- refusals --------------------------------------------------------------------------


def _drop(path: Path) -> None:
    path.unlink()


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def _tools(data: dict[str, object]) -> None:
    data["tools"] = re.sub(r"weasyprint=\S+", "weasyprint=0.1", str(data["tools"]))


def _escape(data: dict[str, object]) -> None:
    artifacts = data["artifacts"]
    assert isinstance(artifacts, dict)
    artifacts["river-talks/executive"]["pdf"] = "../../outside.pdf"


def _no_claims_record(data: dict[str, object]) -> None:
    del data["claims"]


REFUSALS: dict[str, tuple[Callable[[Path, Path], object], list[str]]] = {
    "no manifest": (
        lambda one, two: _drop(two / "manifest.json"),
        ["{two}: no manifest.json, so not a build folder; name the folders that `brief build` "
         "wrote (one per --shard K/N)"],
    ),
    "another policybrief": (
        lambda one, two: _edit_manifest(two, lambda d: d.update(generator="policybrief 0.0.9")),
        ["{two}/manifest.json: built by policybrief 0.0.9, but {one}/manifest.json by "
         "policybrief {version}; build every shard with the same policybrief"],
    ),
    "other libraries": (
        lambda one, two: _edit_manifest(two, _tools),
        ["{two}/manifest.json: tools differ from {one}/manifest.json: weasyprint=0.1 here, "
         "{weasyprint} there; build every shard with the same library versions"],
    ),
    "a PDF missing": (
        lambda one, two: _drop(one / "river-talks" / "executive.pdf"),
        ["{one}/river-talks/executive.pdf: listed in {one}/manifest.json but missing; "
         "rebuild this shard (or download it again)"],
    ),
    "an HTML file missing": (
        lambda one, two: _drop(two / "river-talks" / "talking-points.html"),
        ["{two}/river-talks/talking-points.html: listed in {two}/manifest.json but missing; "
         "rebuild this shard (or download it again)"],
    ),
    "a claims.json missing": (
        lambda one, two: _drop(two / "river-talks" / "claims.json"),
        ["{two}/river-talks/claims.json: listed in {two}/manifest.json but missing; "
         "rebuild this shard (or download it again)"],
    ),
    "a damaged PDF": (
        lambda one, two: _damage(two / "river-talks" / "analyst.pdf"),
        ["{two}/river-talks/analyst.pdf: sha256 {actual}..., but {two}/manifest.json records "
         "{recorded}...: damaged or changed since it was built; rebuild this shard (or "
         "download it again)"],
    ),
    "a changed claims.json": (
        lambda one, two: (two / "river-talks" / "claims.json").write_text("{}\n"),
        ["{two}/river-talks/claims.json: sha256 {actual}..., but {two}/manifest.json records "
         "{recorded}...: damaged or changed since it was built; rebuild this shard (or "
         "download it again)"],
    ),
    "a path out of the folder": (
        lambda one, two: _edit_manifest(one, _escape),
        ["{one}/manifest.json: artifacts.river-talks/executive: pdf: '../../outside.pdf' is "
         "not 'river-talks/executive.pdf'; rebuild this shard (or download it again)",
         "{one}/manifest.json: claims.river-talks: target: 'river-talks/executive' is not "
         "one of this folder's targets of river-talks; rebuild this shard (or download it "
         "again)"],
    ),
    "an older manifest": (
        lambda one, two: _edit_manifest(two, _no_claims_record),
        ["{two}/manifest.json: no record of which target each claims.json came from "
         "(written by an older policybrief); rebuild this shard with policybrief {version}"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_inconsistent_shards_are_refused(
    run: Callable[..., Result], builds: Builds, tmp_path: Path, case: str
) -> None:
    one, two = _copy(builds.shard1, tmp_path, "one"), _copy(builds.shard2, tmp_path, "two")
    manifests = {f: _manifest(f) for f in (one, two)}
    breaks, expected = REFUSALS[case]
    breaks(one, two)
    into = tmp_path / "merged"
    result = run("manifest", "merge", one, two, "--into", into)
    assert result.exit_code == 1, result.output
    tools = str(manifests[one]["tools"])
    values = {"one": one, "two": two, "version": merge.__version__,
              "weasyprint": re.findall(r"weasyprint=(\S+)", tools)[0]}
    if "{actual}" in expected[0]:  # the file changed, its recorded and actual hashes
        relpath = re.findall(r"\{two\}/(\S+):", expected[0])[0]
        recorded = manifests[two]["claims"]["river-talks"] if relpath.endswith("claims.json") \
            else manifests[two]["artifacts"]["river-talks/analyst"]  # type: ignore[index]
        values["actual"] = merge.sha256((two / relpath).read_bytes())[:12]
        values["recorded"] = recorded["sha256"][:12]  # type: ignore[index]
    lines = [line.format(**values) for line in expected]
    n = len(lines)
    assert result.stderr == "\n".join(lines) + "\n" + SUMMARY.format(
        n=f"{n} problem{'s' * (n != 1)}")
    assert "Traceback" not in result.output
    assert not into.exists()


def test_a_target_in_two_folders_is_refused_even_with_the_same_bytes(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    """Shards of one build never share a target. A shared one means a folder named twice
    or one from another build (a matrix typo ["1/2", "1/2"] would otherwise ship half the
    briefs): refused, even when the copies are byte-identical."""
    into = tmp_path / "merged"
    twice = run("manifest", "merge", builds.shard1, builds.shard2, builds.shard1,
                "--into", into)
    assert twice.exit_code == 1
    lines = [f"{builds.shard1}/manifest.json: target {label!r} is also in "
             f"{builds.shard1}/manifest.json; a target belongs to one shard: merge each "
             "shard's folder once, and build shards into fresh folders"
             for label in ("river-notes/executive", "river-talks/executive")]
    assert twice.stderr == "\n".join(lines) + "\n" + SUMMARY.format(n="2 problems")
    full = run("manifest", "merge", builds.full, builds.shard2, "--into", into)
    assert full.exit_code == 1
    assert full.stderr.startswith(
        f"{builds.shard2}/manifest.json: target 'river-talks/analyst' is also in "
        f"{builds.full}/manifest.json; ")
    assert full.stderr.endswith(SUMMARY.format(n="2 problems"))
    assert not into.exists()


def test_another_build_in_the_way_is_refused(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    into = _copy(builds.empty, tmp_path, "into")
    before = _files(into)
    result = run("manifest", "merge", builds.shard1, builds.shard2, "--into", into)
    assert result.exit_code == 5
    assert result.stderr == (
        f"Error: {into}/manifest.json: another build is already there; merge into a new "
        f"folder (--into DIR), or name {into} among the folders to merge\n"
    )
    assert _files(into) == before


def test_a_failed_write_leaves_nothing_half_written(
    run: Callable[..., Result], builds: Builds, tmp_path: Path
) -> None:
    into = tmp_path / "merged"
    into.mkdir()
    (into / "river-talks").write_text("a file in the way")
    result = run("manifest", "merge", builds.shard1, builds.shard2, "--into", into)
    assert result.exit_code == 5, result.output
    assert result.stderr.startswith(f"Error: {into}/river-talks: cannot write: ")
    assert sorted(p.name for p in into.rglob("*")) == ["river-talks"]  # no manifest, no temps


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


# --- the release job -------------------------------------------------------------------


def _release_steps() -> list[dict[str, object]]:
    workflow = YAML(typ="safe").load((REPO / ".github" / "workflows" / "briefs.yml").read_text())
    steps: list[dict[str, object]] = workflow["jobs"]["release"]["steps"]
    return steps


def test_the_release_job_publishes_the_merged_shards(
    builds: Builds, tmp_path: Path
) -> None:
    """Run the release job's steps after the download, as GitHub would: the shards'
    folders where download-artifact puts them, a stand-in `gh` that records its
    arguments. Every asset is there and has its own name, and the build folder it
    publishes is the full build's."""
    steps = _release_steps()
    download = next(i for i, s in enumerate(steps)
                    if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    where = steps[download]["with"]
    assert isinstance(where, dict) and where["pattern"] == "briefs-*"
    work = tmp_path / "runner"
    for index, folder in enumerate((builds.shard1, builds.shard2, builds.empty)):
        shutil.copytree(folder, work / where["path"] / f"briefs-{index}")  # upload's name
    (work / ".venv").symlink_to(sys.prefix)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_ARGS"\n')
    (bin_dir / "gh").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "GH_ARGS": str(tmp_path / "gh-args")}
    for step in steps[download + 1:]:
        script = str(step["run"])
        variables = {k: str(v) for k, v in dict(step.get("env", {})).items()}  # type: ignore[call-overload]
        for name, value in (("github.ref_name", "v1.2"), ("github.token", "token")):
            script = script.replace("${{ " + name + " }}", value)
            variables = {k: v.replace("${{ " + name + " }}", value) for k, v in variables.items()}
        assert "${{" not in script + "".join(variables.values()), script
        done = subprocess.run(["bash", "-e", "-c", script], cwd=work, env={**env, **variables},
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert _files(work / "build") == _files(builds.full)
    args = (tmp_path / "gh-args").read_text().splitlines()
    assert args[:2] == ["release", "create"] and args[2] == "v1.2"
    assets = [a for a in args if (work / a).is_file()]
    names = [Path(a).name for a in assets]
    assert len(set(names)) == len(names), names  # release assets have no folders
    assert "build/manifest.json" in assets and "build/SHA256SUMS" in assets
    published = {(work / a).read_bytes() for a in assets}
    for pdf in (builds.full).rglob("*.pdf"):
        assert pdf.read_bytes() in published, pdf
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    tarball = next(a for a in assets if a.endswith(".tar.gz"))
    subprocess.run(["tar", "-xzf", str(work / tarball), "-C", str(unpacked)], check=True)
    assert _files(unpacked) == _files(builds.full)
