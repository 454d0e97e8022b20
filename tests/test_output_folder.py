"""The output folder (Trust, round 2): builds refuse links that lead out of the project,
read back what they wrote as untrusted input, and commit their outputs all-or-nothing,
whatever rename fails and wherever a SIGKILL stops them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import FIXTURES
from policybrief.fastpath import STATE
from policybrief.output import JOURNAL

EPOCH = "1700000000"  # the build is then byte-reproducible
SOURCE = Path("sources") / "river-2024.yaml"
DECOY = ".x.abcdefgh.tmp"  # named as a temporary of ours: the stale sweep's prey


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _files(build: Path) -> dict[str, bytes]:
    """Every file under build/ but the hidden ones (the fingerprint state, temporaries,
    the journal), by relative path."""
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in sorted(build.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _change(project: Path) -> None:
    """An edit of the source: every output of the build changes."""
    source = project / SOURCE
    source.write_text(source.read_text().replace("two-year", "two-year long"))


def _consistent(build: Path) -> list[str]:
    """What is wrong with build/: SHA256SUMS failing `sha256sum -c`, a manifest that does
    not match the files, temporaries or a journal left behind."""
    problems = []
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=build,
                           capture_output=True, text=True, check=False)
    if check.returncode:
        problems.append(f"sha256sum -c: {check.stdout}{check.stderr}".strip())
    manifest = json.loads((build / "manifest.json").read_text())
    records = [*manifest["artifacts"].values(), *manifest["claims"].values()]
    for record in records:
        path = build / record.get("pdf", record.get("path"))
        found = subprocess.run(["sha256sum", path], capture_output=True, text=True).stdout
        if not found.startswith(record["sha256"]):
            problems.append(f"manifest.json: wrong sha256 for {path.name}")
    problems += [f"left behind: {p.name}" for p in build.rglob(".*.tmp")]
    return problems


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, bytes]]]:
    """The minimal project built (the old outputs, in project/build), and the files the
    build after _change writes (the new outputs)."""
    root = tmp_path_factory.mktemp("outdir")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        from click.testing import CliRunner

        from policybrief.cli import cli

        old = root / "old"
        shutil.copytree(FIXTURES / "minimal", old, ignore=shutil.ignore_patterns("build"))
        assert CliRunner().invoke(cli, ["build", "--project", str(old)]).exit_code == 0
        new = Path(shutil.copytree(old, root / "new"))
        _change(new)
        assert CliRunner().invoke(cli, ["build", "--project", str(new)]).exit_code == 0
        yield old, _files(new / "build")


@pytest.fixture
def built(states: tuple[Path, dict[str, bytes]], tmp_path: Path) -> Path:
    """A fresh copy of the built project."""
    return Path(shutil.copytree(states[0], tmp_path / "minimal", symlinks=True))


# --- payload 1: build/ or build/<brief>/ a link out of the project ---------------------


def _outside(tmp_path: Path) -> Path:
    outside = (tmp_path / "outside").resolve()
    outside.mkdir()
    (outside / DECOY).write_text("not policybrief's")
    return outside


def _refused(path: Path, target: Path, where: str = "the project") -> str:
    return (f"Error: {path}: a symbolic link to {target}, outside {where}; outputs are "
            f"written only inside {where}: remove the link (if it is committed: git rm) "
            "and run again\n")


@pytest.mark.parametrize("link", ["build", "build/river-talks", "build via a link inside"])
def test_a_link_out_of_the_project_is_refused(
    run: Callable[..., Result], project: Path, tmp_path: Path, link: str
) -> None:
    """A committed `build` link, a build/<brief> link, or a link inside the project
    (allowed itself) holding one out: exit 5, nothing written or removed out there."""
    outside = _outside(tmp_path)
    if link == "build via a link inside":
        (project / "elsewhere").mkdir()
        (project / "build").symlink_to("elsewhere")
        (project / "elsewhere" / "river-talks").symlink_to(outside)
        refused = project / "build" / "river-talks"
    else:
        (project / link).parent.mkdir(parents=True, exist_ok=True)
        (project / link).symlink_to(outside)
        refused = project / link
    result = run("build", "--project", project)
    assert result.exit_code == 5, result.output
    assert result.stderr == _refused(refused, outside)
    assert [p.name for p in outside.iterdir()] == [DECOY]
    assert (outside / DECOY).read_text() == "not policybrief's"


def test_a_link_inside_the_project_is_followed(run: Callable[..., Result],
                                               project: Path) -> None:
    (project / "out").mkdir()
    (project / "build").symlink_to("out")
    result = run("build", "--project", project)
    assert result.exit_code == 0, result.output
    assert (project / "out" / "river-talks" / "analyst.pdf").is_file()


def test_a_build_moved_out_behind_a_link_is_not_answered_from_there(
    run: Callable[..., Result], built: Path, tmp_path: Path
) -> None:
    """The nothing-to-do answer (the fingerprint in the state file) is not taken from a
    build folder out of the project: the build refuses it as it would write."""
    outside = _outside(tmp_path) / "build"
    (built / "build").rename(outside)
    (built / "build").symlink_to(outside)
    before = _files(outside)
    result = run("build", "--project", built)
    assert result.exit_code == 5, result.output
    assert result.stderr == _refused(built / "build", outside)
    assert _files(outside) == before and (outside.parent / DECOY).is_file()


def test_merge_into_a_link_out_is_refused(
    run: Callable[..., Result], built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`brief manifest merge --into build` (as the release job runs it, in a checkout
    with a committed link) and the default, the project's build/."""
    shard = tmp_path / "shard"
    (built / "build").rename(shard)
    outside = _outside(tmp_path)
    (built / "build").symlink_to(outside)
    monkeypatch.chdir(built)
    result = run("manifest", "merge", shard, "--into", "build")
    assert result.exit_code == 5, result.output
    assert result.stderr == _refused(built / "build", outside, "the current folder")
    result = run("manifest", "merge", shard, "--project", built)
    assert result.exit_code == 5, result.output
    assert result.stderr == _refused(built / "build", outside)
    (built / "build").unlink()
    (built / "build").mkdir()
    (built / "build" / "river-talks").symlink_to(outside)
    result = run("manifest", "merge", shard, "--into", "build")
    assert result.exit_code == 5, result.output
    assert result.stderr == _refused(built / "build" / "river-talks", outside,
                                     "the current folder")
    assert [p.name for p in outside.iterdir()] == [DECOY]


# --- payload 2: files the build wrote, of the wrong shape -------------------------------


def _mutate(change: Callable[[Any], Any]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = json.loads(path.read_text())
        path.write_text(json.dumps(change(data) or data))
    return apply


def _entry(change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    """Change the manifest's artifact entries, or the state file's entries."""
    def apply(data: dict[str, Any]) -> None:
        for entry in (data["artifacts"] if "artifacts" in data else data).values():
            change(entry)
    return apply


def _replace(path: Path, what: str) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if what == "folder":
        (path / "inside").mkdir(parents=True)
    elif what == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif what == "FIFO":
        os.mkfifo(path)
    elif what == "huge":
        with open(path, "wb") as handle:
            handle.truncate(2**40)  # sparse: no disk used, but 1 TiB to read
    elif what == "nested too deep":
        path.write_text("[" * 200_000)
    elif what == "binary junk":
        path.write_bytes(b"\xff\xfe\x00\x9c" * 1000)
    else:
        path.write_text(what)


SPECIAL = ["folder", "link to /dev/zero", "FIFO"]
SHAPES: list[tuple[str, str, Callable[[Path], None] | str]] = [
    *[("manifest.json", s, s) for s in
      [*SPECIAL, "huge", "nested too deep", "binary junk", "not JSON {", "[1, 2]"]],
    ("manifest.json", "artifacts a list", _mutate(lambda d: d.update(artifacts=[]))),
    ("manifest.json", "bytes a string", _mutate(_entry(lambda e: e.update(bytes="many")))),
    ("manifest.json", "sha256 a number", _mutate(_entry(lambda e: e.update(sha256=5)))),
    ("manifest.json", "no pdf", _mutate(_entry(lambda e: e.pop("pdf")))),
    ("manifest.json", "pdf /dev/zero", _mutate(_entry(lambda e: e.update(pdf="/dev/zero")))),
    ("manifest.json", "claims out of build/", _mutate(lambda d: d.update(claims={"..": {
        "path": "../claims.json", "target": "../x", "citations": "footnotes",
        "sha256": "0" * 64}}))),
    *[(STATE, s, s) for s in [*SPECIAL, "huge", "nested too deep", "binary junk", "[]"]],
    (STATE, "targets a number", _mutate(_entry(lambda e: e.update(targets=5)))),
    (STATE, "warnings a number", _mutate(_entry(lambda e: e.update(warnings=7)))),
    (STATE, "targets not text", _mutate(_entry(lambda e: e.update(targets=[["x"]])))),
    (STATE, "no fingerprint", _mutate(_entry(lambda e: e.pop("fingerprint")))),
    *[("river-talks/claims.json", s, s) for s in SPECIAL],
    *[("river-talks/analyst.pdf", s, s) for s in SPECIAL],
    *[(JOURNAL, s, s) for s in [*SPECIAL, "not JSON {", "[]", '{"steps": [1]}']],
    (JOURNAL, "a step out of build/", json.dumps({"steps": [{
        "path": "../victim.txt", "temporary": ".victim.txt.abcdefgh.tmp",
        "backup": ".victim.txt.ABCDEFGH.tmp", "existed": False}]})),
    (JOURNAL, "another commit's", json.dumps({"steps": [{
        "path": "manifest.json", "temporary": ".manifest.json.abcdefgh.tmp",
        "backup": ".manifest.json.ABCDEFGH.tmp", "existed": False}]})),
]


@pytest.mark.parametrize(("name", "shape", "make"), SHAPES,
                         ids=[f"{n}: {s}" for n, s, _ in SHAPES])
def test_a_file_the_build_wrote_of_the_wrong_shape_is_rebuilt(
    run: Callable[..., Result], built: Path, name: str, shape: str,
    make: Callable[[Path], None] | str
) -> None:
    """The next build ignores it (never reading a device or FIFO), builds again what it
    no longer vouches for, and replaces it: exit 0, every output as a build writes it,
    and the build after that is answered from a sound state file."""
    build = built / "build"
    expected = _files(build)
    victim = built / "victim.txt"
    victim.write_text("keep me")
    path = build / name
    if name == STATE:  # a state entry for this copy's options (its archive folder)
        assert run("build", "--project", built).exit_code == 0
    if callable(make):
        make(path)
    else:
        _replace(path, make)
    result = run("build", "--project", built)
    assert result.exit_code == 0, result.output
    assert _files(build) == expected
    assert _consistent(build) == []
    assert not os.path.lexists(build / JOURNAL) and victim.read_text() == "keep me"
    state = json.loads((build / STATE).read_text())
    assert state and all(set(e) == {"fingerprint", "targets", "warnings", "read"}
                         for e in state.values())
    assert run("build", "--project", built).stdout == "unchanged build/river-talks/analyst.pdf\n"


def test_a_damaged_manifest_is_named(run: Callable[..., Result], built: Path) -> None:
    _mutate(_entry(lambda e: e.update(bytes="many")))(built / "build" / "manifest.json")
    result = run("build", "--project", built)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"warning: {built / 'build' / 'manifest.json'}: artifacts.river-talks/analyst: bytes: "
        "not a whole number; not as policybrief writes it, so what it lists is built again\n"
    )


# --- payload 3: the outputs change all at once, or not at all ---------------------------


def _fail_renames(monkeypatch: pytest.MonkeyPatch, build: Path, first: int,
                  last: int | None = None) -> list[str]:
    """Make renames into build/ fail with EIO from the first-th to the last-th (all after
    it, if None); returns the names renamed, in order."""
    calls: list[str] = []
    inside = str(build.resolve()) + os.sep

    def rename(real: Callable[..., None]) -> Callable[..., None]:
        def fake(src: Any, dst: Any, **kwargs: Any) -> None:
            if os.path.realpath(os.fspath(dst)).startswith(inside):
                calls.append(Path(os.fspath(dst)).name)
                if first <= len(calls) <= (last or len(calls)):
                    raise OSError(5, "Input/output error", os.fspath(src))
            real(src, dst, **kwargs)
        return fake

    monkeypatch.setattr(os, "replace", rename(os.replace))
    monkeypatch.setattr(os, "rename", rename(os.rename))
    return calls


def test_a_rename_failing_at_any_step_leaves_every_output_old_or_all_new(
    run: Callable[..., Result], states: tuple[Path, dict[str, bytes]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The k-th rename into build/ fails, for every k: while the outputs are committed,
    every one stays old (exit 5, naming the file); while the state file is, every output
    is new. Either way `sha256sum -c SHA256SUMS` passes and the manifest matches."""
    old, new = _files(states[0] / "build"), states[1]
    outputs_commit = 1 + 2 * len(old)  # the journal, then a backup and a rename per file
    k = 0
    while True:
        k += 1
        project = Path(shutil.copytree(states[0], tmp_path / f"k{k}"))
        _change(project)
        with monkeypatch.context() as patch:
            calls = _fail_renames(patch, project / "build", k, k)
            result = run("build", "--project", project)
        build = project / "build"
        assert _consistent(build) == [], f"rename {k} failed"
        if result.exit_code == 0:
            break
        assert result.exit_code == 5, result.output
        assert result.stderr.startswith("Error: "), result.stderr
        assert ": cannot write: Input/output error" in result.stderr
        if k <= outputs_commit:
            assert _files(build) == old, f"rename {k} ({calls[k - 1]}) failed"
            assert result.stderr.endswith("; earlier outputs are unchanged\n")
        else:
            assert _files(build) == new, f"rename {k} ({calls[k - 1]}) failed"
    assert k > outputs_commit + 1 and _files(build) == new


def test_a_commit_that_cannot_be_undone_is_undone_by_the_next_build(
    run: Callable[..., Result], built: Path, states: tuple[Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renames fail from the 5th on, the undoing too: the build says the next one puts
    the outputs back, and it does before building."""
    _change(built)
    with monkeypatch.context() as patch:
        _fail_renames(patch, built / "build", 5)
        result = run("build", "--project", built)
    assert result.exit_code == 5, result.output
    assert result.stderr.endswith("so some earlier outputs are still set aside: the next "
                                  "build puts them back\n"), result.stderr
    assert (built / "build" / JOURNAL).is_file()
    result = run("build", "--project", built)
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"warning: {built / 'build'}: putting back the outputs of an "
                             "interrupted build\n")
    assert _files(built / "build") == states[1]
    assert _consistent(built / "build") == []


KILLED = """
import os, signal, sys
build, k = os.path.realpath(sys.argv[1]) + os.sep, int(sys.argv[2])
calls, real = [], os.replace
def replace(src, dst, **kwargs):
    if os.path.realpath(os.fspath(dst)).startswith(build):
        calls.append(dst)
        if len(calls) == k:
            os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, **kwargs)
os.replace = replace
from policybrief.cli import cli
cli(["build", "-j1", "--project", sys.argv[3]])
"""


def test_sigkill_between_renames_is_undone_by_the_next_build(
    run: Callable[..., Result], states: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    """A build SIGKILLed before its k-th rename into build/ (the journal, a backup, a new
    file; the manifest and SHA256SUMS last) leaves the outputs mixed; the next build puts
    the old ones back: with the source edit reverted, it finds every target unchanged."""
    old = _files(states[0] / "build")
    mixed = []
    for k in (2, 4, 9, 11):
        project = Path(shutil.copytree(states[0], tmp_path / f"k{k}"))
        source = (project / SOURCE).read_bytes()
        _change(project)
        build = project / "build"
        done = subprocess.run(
            [sys.executable, "-c", KILLED, build, str(k), project], capture_output=True,
            env={**os.environ, "POLICYBRIEF_FORK": "0"}, timeout=300, check=False)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert (build / JOURNAL).is_file()
        if _files(build) != old:
            mixed.append(k)
        (project / SOURCE).write_bytes(source)
        result = run("build", "--project", project)
        assert result.exit_code == 0, result.output
        assert result.stdout == "unchanged build/river-talks/analyst.pdf\n", k
        assert _files(build) == old, k
        assert _consistent(build) == [], k
    assert mixed == [4, 9, 11]  # the kill left a mixed or partial set there
