"""Fault injection (Trust issue): a multi-target build killed at random moments leaves
every output absent or complete and identical to an uninterrupted build's.

The build is byte-reproducible (SOURCE_DATE_EPOCH fixed), so "complete" is checked by
comparing bytes with a reference build (were it not reproducible, every trial that wrote
anything would fail: "differs from the reference"). Each trial starts `brief build --force
-j2` in a subprocess with its own process group and signals it at a random moment:

- phase "build": a delay drawn uniformly over the reference build's duration (stratified,
  so that a few trials still cover start-up, rendering and writing);
- phase "writes": the moment of the k-th change under build/ (a temporary file appears,
  or one replaces an output), k uniform from 1 to twice the number of outputs. The
  writes take milliseconds of a seconds-long build: uniform delays seldom hit them.

Trials alternate between an empty build/ and the state the previous trial left. SIGKILL
goes to the whole group: nothing can clean up, so temporary files may stay, but no output
may be partial. SIGINT and SIGTERM go to the main process, as a shell or a CI runner
sends them: it must leave no temporary files in build/, no processes behind it, and
exit 130 (SIGTERM: 143). A dead worker (SIGKILL to one process the main one forked, as
the OOM killer sends it) must cost at most the target it was rendering: exit 0 or 4
with "worker for X died: signal 9", the rest as after SIGINT.

Two more cases build a project that must be refused, signalled the same ways (phase
"build" only: they write nothing), and both check that nothing changed, in build/ or
outside it, byte for byte:

- network: the project's CSL style is dependent, its parent on an HTTP server of this
  process (127.0.0.1) that logs every request; the build skips the style check
  (cite._check_style), so pandoc itself tries the fetch. No request may ever reach the
  server; an unsignalled build fails every target with exit 3, "pandoc tried to fetch
  <url> and was refused";
- escape: `build` (from an empty build/) or build/river-talks (from a complete build's
  state) is a symbolic link to a folder outside the project that holds a decoy temporary
  file and decoy PDFs. An unsignalled build exits 5 with output.confine's message; no
  build writes to or removes from that folder.

scripts/soak runs the same trials many more times: `scripts/soak 500`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from conftest import FIXTURES, TALKING_POINTS, group_alive
from policybrief.errors import (
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
    EXIT_POLICY,
    EXIT_RENDER,
    EXIT_TERMINATED,
)
from policybrief.output import write_files
from test_citations_trust import Server, _dependent, _styles

EPOCH = "1700000000"  # a fixed SOURCE_DATE_EPOCH: the build is then byte-reproducible
BUILD = ("build", "--force")
SEED = int(os.environ.get("PB_FAULT_SEED", "20240401"))
TMP_NAME = re.compile(r"\..+\.tmp")  # output.write_atomic's `.<name>.XXXXXXXX.tmp`
# Build state, not an output: it must be whole (written atomically), but it holds a
# fingerprint of the installed package, so it may differ from the reference's.
STATE = ".policybrief-state.json"
TIMEOUT = 300.0  # seconds a build may take before the trial gives up on it
# The exit status each signal must give: the README's 130 for Ctrl-C, 128 + 15 for SIGTERM.
# 0 is accepted too when the build ended before the signal came. Death by the signal
# itself (a negative status) is accepted only when the signal came during interpreter
# start-up (before the CLI can handle it) or once every output was written (when the
# CLI has put the default handlers back, on the way out).
EXPECTED = {
    signal.SIGKILL: -signal.SIGKILL,
    signal.SIGINT: EXIT_INTERRUPTED,
    signal.SIGTERM: EXIT_TERMINATED,
}
LINGER = 2.0  # seconds the build's other processes may outlive its main process
# What stderr says of each target lost with its worker (workers._died); the only failure
# a dead-worker trial may report.
DIED = re.compile(r"failed (\S+): worker for \1 died: signal 9 \(SIGKILL\); .*")
# The kinds of project a trial builds: the four-target project ("outputs"), the same with a
# dependent style and the style check skipped ("network"), with a link out ("escape").
CASES = ("outputs", "network", "escape")
# The network case's builds: `python -m policybrief` with the style check skipped, so that
# a dependent style reaches pandoc and only pandoc's isolation (cite.run_offline) stands
# between it and the server. Workers are forked (workers.py), so they skip it too.
UNCHECKED = ("import runpy; from policybrief import cite; cite._check_style = lambda *a: None; "
             "runpy.run_module('policybrief', run_name='__main__', alter_sys=True)")
# The escape case's outside folder: what a build that followed the link would overwrite,
# or sweep as a killed build's temporary file.
DECOYS = {".x.abcdefgh.tmp": b"not policybrief's", "analyst.pdf": b"%PDF-1.7 a decoy",
          "river-talks/analyst.pdf": b"%PDF-1.7 a decoy too"}


def make_project(root: Path) -> Path:
    """The minimal project with four targets: river-talks for all three packaged
    audiences (analyst, executive, talking-points), and a copy of it for executive."""
    shutil.copytree(FIXTURES / "minimal", root, ignore=shutil.ignore_patterns("build"))
    brief = root / "briefs" / "river-talks.yaml"
    text = brief.read_text(encoding="utf-8")
    brief.write_text(text + TALKING_POINTS, encoding="utf-8")
    (root / "briefs" / "river-copy.yaml").write_text(
        text + "audiences: [executive]\n", encoding="utf-8"
    )
    return root


def _environ(tmpdir: Path, case: str = "outputs") -> dict[str, str]:
    # TMPDIR: a folder per build, so that temporary files left outside build/ are seen.
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, TMPDIR=str(tmpdir), CI="true",
               PYTHONFAULTHANDLER="1")  # stacks on stderr, should a build hang
    env.pop("PYTHONWARNINGS", None)
    if case == "network":  # a pandoc let out would reach the server directly, no proxy
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            env.pop(name, None)
            env.pop(name.upper(), None)
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def _command(root: Path, jobs: int = 2, case: str = "outputs") -> list[str]:
    """-j2: worker processes; -j1: the main process and its PDF process (prefork.py)."""
    python = [sys.executable, "-c", UNCHECKED] if case == "network" else [
        sys.executable, "-m", "policybrief"]
    return [*python, *BUILD, f"-j{jobs}", "--project", str(root)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Reference:
    """An uninterrupted build of the project at root: every file under build/ (relative
    path -> bytes), what it left in its TMPDIR, and its timings. For the network and
    escape cases, files are a complete build's (with a valid style, without the link: the
    state trials not fresh start from), and seconds are those of a refused build."""

    root: Path
    files: dict[str, bytes]
    tmp_left: list[str]
    seconds: float  # the whole build
    startup_seconds: float  # until `brief --version` answers: imports, no handlers yet
    case: str = "outputs"
    server: Server | None = None  # network: the server the dependent style names
    outside: Path | None = None  # escape: the folder the link leads to
    # network, escape: the refused builds timed (from an empty build/ and from a complete
    # build's), judged as trials
    unsignalled: list[Trial] = field(default_factory=list)

    def close(self) -> None:
        """Stop the network case's server."""
        if self.server is not None:
            self.server.httpd.shutdown()
            self.server.httpd.server_close()
            self.server.thread.join()


def _pandoc_reaches(server: Server, folder: Path) -> list[str]:
    """What the server logs when pandoc, unconfined (--sandbox only, as before), formats a
    citation with the dependent style: the control that makes "no request" mean pandoc
    could not reach it (see tests/test_citations_trust.py)."""
    from policybrief import cite

    style = folder / "dependent.csl"
    style.write_text(_dependent(f"<link href='{server.url}' rel='independent-parent'/>"))
    refs = folder / "refs.json"
    refs.write_text('[{"id": "a", "type": "book", "title": "T"}]')
    subprocess.run([cite.pandoc_path(), "--sandbox", "--citeproc", f"--csl={style}",
                    f"--bibliography={refs}", "--to=html5"], input="[@a]", text=True,
                   env=_environ(folder, "network"), capture_output=True, timeout=TIMEOUT,
                   check=False)
    style.unlink()
    refs.unlink()
    requests, server.requests[:] = list(server.requests), []
    return requests


def build_reference(root: Path, case: str = "outputs") -> Reference:
    """Make the project at root and build it once, completely; check its PDFs parse.
    network: the project's style is a file, style.csl: the default style (a copy) for
    that build, the dependent one after it; the server is started and the control run.
    network and escape: then two refused builds, not signalled, from an empty build/
    and from a complete build's: the longer's seconds are the reference's, and they are
    judged as trials (Reference.unsignalled)."""
    make_project(root)
    server = outside = None
    if case == "network":
        config = root / "policybrief.toml"
        config.write_text('citation_style = "style.csl"\n' + config.read_text())
        (root / "style.csl").write_bytes(
            (_styles() / "chicago-notes-bibliography.csl").read_bytes())
        server = Server()
    if case == "escape":
        outside = root.parent / "outside"
    tmpdir = root.parent / "tmp-reference"
    tmpdir.mkdir()
    if server is not None:
        assert _pandoc_reaches(server, tmpdir) == ["/" + server.url.rsplit("/", 1)[1]], (
            "the control failed: an unconfined pandoc did not reach the server")
    started = time.monotonic()
    version = subprocess.run([*_command(root, case=case)[:3], "--version"],
                             env=_environ(tmpdir, case),
                             capture_output=True, timeout=TIMEOUT, check=True)
    startup = time.monotonic() - started
    assert version.stdout.startswith(b"policybrief")
    started = time.monotonic()
    done = subprocess.run(_command(root), env=_environ(tmpdir), capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    build = root / "build"
    files = {p.relative_to(build).as_posix(): p.read_bytes()
             for p in sorted(build.rglob("*")) if p.is_file()}
    pdfs = [name for name in files if name.endswith(".pdf")]
    assert len(pdfs) == 4, sorted(files)
    for name in pdfs:
        assert len(PdfReader(build / name, strict=True).pages) >= 1
    tmp_left = sorted(p.name for p in tmpdir.iterdir())
    shutil.rmtree(tmpdir)
    reference = Reference(root, files, tmp_left, seconds, startup, case, server, outside)
    if case == "outputs":
        return reference
    if server is not None:  # from now on, the style citeproc would complete from the server
        (root / "style.csl").write_text(
            _dependent(f"<link href='{server.url}' rel='independent-parent'/>"))
    unsignalled, seconds = [], 0.0
    for fresh in (True, False):
        started = time.monotonic()
        unsignalled.append(run_trial(reference, -1, signal.SIGINT, "build", TIMEOUT, fresh))
        seconds = max(seconds, time.monotonic() - started)
    return replace(reference, seconds=seconds, unsignalled=unsignalled)


def check_build(build: Path, reference: Reference, *, temporary_ok: bool,
                old: dict[str, int] | None = None, lost: bool = False) -> list[str]:
    """Everything wrong with build/ after a trial: partial or foreign files, temporary
    files left (unless temporary_ok; those in old, the state before, are not this build's),
    a manifest or SHA256SUMS naming missing or different files. lost: the build lost a
    target (a dead worker), so its manifest, SHA256SUMS and claims.json describe the
    others; they are checked against the files, not the reference."""
    problems: list[str] = []
    present: dict[str, bytes] = {}
    for path in sorted(build.rglob("*")) if build.is_dir() else []:
        if not path.is_file():
            continue
        name = path.relative_to(build).as_posix()
        if TMP_NAME.fullmatch(path.name):
            if not temporary_ok and (old or {}).get(str(path)) != path.stat().st_ino:
                problems.append(f"{name}: temporary file left behind")
            continue
        data = present[name] = path.read_bytes()
        expected = reference.files.get(name)
        if name == STATE:
            try:
                assert isinstance(json.loads(data), dict)
            except (ValueError, AssertionError):
                problems.append(f"{name}: not a JSON object: {data[:80]!r}")
        elif expected is None:
            problems.append(f"{name}: not an output of the reference build")
        elif lost and Path(name).name in ("manifest.json", "SHA256SUMS", "claims.json"):
            continue
        elif data != expected:
            problems.append(
                f"{name}: differs from the reference ({len(data)} bytes, not {len(expected)})"
            )
    if "manifest.json" in present:
        try:
            artifacts = list(json.loads(present["manifest.json"])["artifacts"].values())
        except (ValueError, KeyError, AttributeError) as exc:
            problems.append(f"manifest.json: unreadable ({exc!r})")
            artifacts = []
        for entry in artifacts:
            for key in ("pdf", "html"):
                if entry[key] not in present:
                    problems.append(f"manifest.json lists missing {entry[key]}")
            pdf = present.get(entry["pdf"])
            if pdf is not None and _sha256(pdf) != entry["sha256"]:
                problems.append(f"manifest.json: wrong sha256 for {entry['pdf']}")
    if "SHA256SUMS" in present:
        for line in present["SHA256SUMS"].decode().splitlines():
            digest, _, name = line.partition("  ")
            if name not in present or _sha256(present[name]) != digest:
                problems.append(f"SHA256SUMS: {name} missing or different")
    return problems


@dataclass
class Trial:
    """One build, signalled at a moment of a phase; what it left, and what is wrong."""

    index: int
    signal: signal.Signals
    phase: str  # "build": delay counted from the start; "writes": from the first write
    delay: float
    fresh: bool  # started from an empty build/ (else from the previous trial's state)
    returncode: int | None = None
    signalled: bool = False  # False: the build ended before its moment came
    done_at_signal: bool = False  # every output was written when the signal was sent
    written: int = 0  # files of build/ replaced or created by this build
    outputs: int = 0  # files a complete build writes
    stderr: str = ""
    worker: bool = False  # SIGKILL to one process the build forked, not the build
    victim: int | None = None  # that process's pid
    tmp_left: list[str] = field(default_factory=list)  # left in the build's TMPDIR
    case: str = "outputs"  # the project built: one of CASES
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # oddities that are not failures

    def __str__(self) -> str:
        start = "empty build/" if self.fresh else (
            "previous state" if self.case == "outputs" else "a complete build's state")
        moment = f"{self.signal.name} " + ("to a worker " if self.worker else "") + (
            f"{self.delay:.3f} s from the start" if self.phase == "build"
            else f"at change {_change_number(self.delay, self.outputs)} of ~{2 * self.outputs}"
            " in build/")
        if not self.signalled:
            moment += " (came after the build ended)"
        case = "" if self.case == "outputs" else f" ({self.case})"
        text = (f"trial {self.index}{case}: {moment}, from {start}: exit {self.returncode}, "
                f"{self.written} of {self.outputs} files written")
        text += "".join(f"\n    {p}" for p in self.problems + self.notes)
        if self.problems and self.stderr.strip():
            text += "\n    stderr: " + self.stderr.strip().replace("\n", "\n    | ")
        return text


def _snapshot(build: Path) -> dict[str, int]:
    """Name -> inode of every file under build/: os.replace gives a file a new inode."""
    out: dict[str, int] = {}
    stack = [build]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    out[entry.path] = entry.inode()
            except OSError:
                continue
    return out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _replaced(build: Path, before: dict[str, int]) -> int:
    """How many outputs under build/ are new or replaced since before."""
    return sum(1 for name, inode in _snapshot(build).items()
               if before.get(name) != inode and not TMP_NAME.fullmatch(Path(name).name))


def _wait_for_moment(proc: subprocess.Popen[bytes], build: Path, phase: str, delay: float,
                     outputs: int) -> bool:
    """Wait until the trial's moment; False if the build ended first."""
    if phase == "writes":
        before, seen = _snapshot(build), set[tuple[str, int]]()
        while len(seen) < _change_number(delay, outputs):
            if proc.poll() is not None:
                return False
            seen.update(item for item in _snapshot(build).items() if item not in before.items())
            time.sleep(0.0005)
        return True
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        return True
    return False


def _change_number(fraction: float, outputs: int) -> int:
    """The k-th change in build/ that a "writes" moment is: each output's temporary file
    appears, then replaces it, so a build makes about 2 * outputs changes."""
    return 1 + int(fraction * 2 * outputs)


def _forks(pid: int) -> list[int]:
    """The running processes that pid forked (they keep its command line), not the
    programs it runs (pandoc); Linux only."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = (text := stat.read_text())[text.rfind(")") + 2:].split()
            if int(fields[1]) == pid and fields[0] not in "ZX" and (
                (stat.parent / "cmdline").read_bytes()
                == Path(f"/proc/{pid}/cmdline").read_bytes()
            ):
                found.append(int(stat.parent.name))
        except OSError:
            continue
    return sorted(found)


def run_trial(reference: Reference, index: int, sig: signal.Signals, phase: str,
              delay: float, fresh: bool, jobs: int = 2, worker: bool = False) -> Trial:
    """Build reference.root, send sig at the trial's moment, and check what is left.
    worker: SIGKILL, at that moment, to one of the processes the main one forked
    (workers, or the PDF process), chosen by the delay; not signalled if there is none."""
    root, build = reference.root, reference.root / "build"
    trial = Trial(index, sig, phase, delay, fresh, outputs=len(reference.files),
                  worker=worker, case=reference.case)
    killed = sig == signal.SIGKILL and not worker  # the whole build: nothing cleans up
    _prepare(reference, fresh)
    before = _snapshot(build)
    trees = _trees(reference)
    tmpdir = root.parent / f"tmp-{index}"
    tmpdir.mkdir()
    stderr_path = root.parent / f"stderr-{index}"
    with open(stderr_path, "wb") as stderr:  # a file, not a pipe: workers may hold it open
        proc = subprocess.Popen(_command(root, jobs, reference.case),
                                env=_environ(tmpdir, reference.case),
                                stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True)
    try:
        trial.signalled = _wait_for_moment(proc, build, phase, delay, trial.outputs)
        if trial.signalled:
            # Not reaped yet, so the pid and the group are still this build's.
            if worker:
                victims = _forks(proc.pid)
                trial.signalled = bool(victims)
                if not victims:
                    trial.notes.append("no process forked by the build at that moment")
                else:
                    trial.victim = random.Random(delay).choice(victims)
                    os.kill(trial.victim, signal.SIGKILL)
            elif sig == signal.SIGKILL:
                os.killpg(proc.pid, sig)
            else:
                os.kill(proc.pid, sig)
            trial.done_at_signal = _replaced(build, before) >= trial.outputs
        try:
            proc.wait(timeout=3 * reference.seconds + 30)
        except subprocess.TimeoutExpired:
            # Hung: SIGABRT makes faulthandler write every process's stacks to stderr.
            trial.problems.append(f"still running {3 * reference.seconds + 30:.0f} s later")
            os.killpg(proc.pid, signal.SIGABRT)
            time.sleep(1)
        if not killed and proc.poll() is not None:
            deadline = time.monotonic() + LINGER
            while (alive := group_alive(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive:
                trial.problems.append(
                    f"processes outlived the main one by {LINGER} s: {', '.join(alive)}"
                )
    finally:
        _kill_group(proc.pid)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    trial.returncode = proc.returncode
    trial.stderr = stderr_path.read_text(errors="replace")
    stderr_path.unlink()
    trial.tmp_left = sorted(p.name for p in tmpdir.iterdir())
    shutil.rmtree(tmpdir)
    trial.written = _replaced(build, before)
    early = phase == "build" and delay < 1.25 * reference.startup_seconds
    # Ctrl-C while CPython itself starts `-m policybrief` (before any of our code): it
    # prints "Could not import runpy module" and exits 1 (soak, seed 8, trial 40).
    in_runpy = early and sig == signal.SIGINT and trial.returncode == 1 and (
        trial.stderr.startswith("Could not import runpy module"))
    if reference.case == "outputs":
        # A build that ended well clears the temporaries of killed ones, too.
        trial.problems += check_build(
            build, reference, old=before,
            temporary_ok=killed and trial.returncode != 0,
            lost=worker and trial.returncode == EXIT_RENDER)
    complete = trial.done_at_signal
    if reference.case != "outputs":
        complete = _judge_refused(trial, reference, trees, killed, early, in_runpy)
    elif trial.returncode == 0:
        have = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()}
        missing = sorted(set(reference.files) - have)
        if missing:
            trial.problems.append(f"exit 0, but missing: {', '.join(missing)}")
        if trial.signalled and not complete and sig != signal.SIGKILL:
            trial.problems.append(f"{sig.name} was lost: the build went on to the end")
    elif worker:
        lost = [line for line in trial.stderr.splitlines() if line.startswith("failed ")]
        if trial.returncode != EXIT_RENDER:
            trial.problems.append(f"exit {trial.returncode}, not 0 or {EXIT_RENDER}")
        elif len(lost) != 1 or not DIED.fullmatch(lost[0]):
            trial.problems.append(f"not one target lost with its worker: {lost}")
    elif trial.returncode != EXPECTED[sig] and not in_runpy and not (
        trial.returncode == -sig and (early or complete)
    ):
        trial.problems.append(f"exit {trial.returncode}, not {EXPECTED[sig]}")
    if not killed and "Traceback" in trial.stderr:
        if complete and _late_interrupt(trial.stderr):
            trial.notes.append("a traceback of the signal at interpreter exit: "
                               + trial.stderr.strip().replace("\n", " | "))
        elif not (early and trial.returncode == -sig) and not in_runpy:  # in an import
            trial.problems.append("a traceback on stderr")
    return trial


def _remove(path: Path) -> None:
    """Remove a file, a link (not what it leads to) or a folder, if there is one."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _prepare(reference: Reference, fresh: bool) -> None:
    """build/ as a trial starts. outputs: empty if fresh, else as the last trial left it.
    network: empty if fresh, else a complete build's (its builds change nothing). escape:
    the outside folder holds the decoys, and fresh: `build` is a link to it; else build/ is
    a complete build's, with build/river-talks the link."""
    build = reference.root / "build"
    if fresh or reference.case != "outputs":
        _remove(build)
    if reference.case != "outputs" and not fresh:
        for name, data in reference.files.items():
            (build / name).parent.mkdir(parents=True, exist_ok=True)
            (build / name).write_bytes(data)
    if reference.outside is not None:
        _remove(reference.outside)
        for name, data in DECOYS.items():
            (reference.outside / name).parent.mkdir(parents=True, exist_ok=True)
            (reference.outside / name).write_bytes(data)
        link = build if fresh else build / "river-talks"
        _remove(link)
        link.symlink_to(reference.outside, target_is_directory=True)


def _tree(path: Path) -> dict[str, tuple[int, bytes] | str | None]:
    """Everything at and under path, links not followed: relative name -> (inode, bytes)
    of a file, "-> target" of a link, None for a folder."""
    out: dict[str, tuple[int, bytes] | str | None] = {}
    stack = [path] if path.is_symlink() or path.exists() else []
    while stack:
        item = stack.pop()
        name = item.relative_to(path.parent).as_posix()
        if item.is_symlink():
            out[name] = "-> " + os.readlink(item)
        elif item.is_dir():
            out[name] = None
            stack += item.iterdir()
        else:
            out[name] = (item.stat().st_ino, item.read_bytes())
    return out


def _trees(reference: Reference) -> dict[Path, dict[str, tuple[int, bytes] | str | None]]:
    """For the network and escape cases, what no build may change: build/ and the outside
    folder, as _tree gives them."""
    if reference.case == "outputs":
        return {}
    folders = [reference.root / "build", *([reference.outside] if reference.outside else [])]
    return {folder: _tree(folder) for folder in folders}


def refusal(reference: Reference, fresh: bool) -> list[str]:
    """What an unsignalled build of the network or escape case says on stderr, line by line
    (the network case's failures sorted)."""
    build = reference.root / "build"
    if reference.server is not None:
        targets = sorted(name.removesuffix(".pdf") for name in reference.files
                         if name.endswith(".pdf"))
        return [*(f"failed {target}: citations: pandoc tried to fetch {reference.server.url} "
                  "and was refused: a build never uses the network" for target in targets),
                f"Error: all {len(targets)} targets failed; nothing was written"]
    assert reference.outside is not None
    link = build if fresh else build / "river-talks"
    return [f"Error: {link}: a symbolic link to {reference.outside.resolve()}, outside the "
            "project; outputs are written only inside the project: remove the link (if it is "
            "committed: git rm) and run again"]


def _judge_refused(trial: Trial, reference: Reference,
                   before: dict[Path, dict[str, tuple[int, bytes] | str | None]],
                   killed: bool, early: bool, in_runpy: bool) -> bool:
    """A network or escape trial's problems: anything changed in build/ or the outside
    folder, a request the server saw, temporary files left (unless killed), and an exit
    that is neither the refusal (with its message) nor the signal's. True if the refusal
    was said in full (a signal then came as the build ended)."""
    for folder, tree in before.items():
        after = _tree(folder)
        changed = sorted(name for name in tree.keys() | after.keys()
                         if tree.get(name, ...) != after.get(name, ...))
        if changed:
            trial.problems.append(f"{folder}: changed: {', '.join(changed)}")
    if reference.server is not None and reference.server.requests:
        trial.problems.append("the server was asked for " + ", ".join(reference.server.requests))
        reference.server.requests.clear()
    if not killed and trial.tmp_left:
        trial.problems.append(f"left in TMPDIR: {', '.join(trial.tmp_left)}")
    # Where the kernel allows no network namespace, the build says so first (cite.py).
    said = sorted(line for line in trial.stderr.splitlines()
                  if not line.startswith("warning: pandoc runs without a network namespace"))
    expected = refusal(reference, trial.fresh)
    complete = said == sorted(expected)
    natural = EXIT_POLICY if reference.server is not None else EXIT_OUTPUT
    handled = said == [("Terminated" if trial.signal == signal.SIGTERM else "Interrupted")
                       + "; earlier outputs are intact."]
    if trial.returncode == natural:
        if not complete:
            trial.problems.append("stderr is not the refusal: " + " | ".join(expected))
    elif trial.returncode == -trial.signal and handled:
        # Seen 0.1-0.25 s into `-m policybrief` (about 1 SIGINT in 5 there): the CLI
        # handles the signal, stops its PDF process, then kills itself with the signal
        # (strace: kill(self, SIGINT)), as CPython does for an unhandled KeyboardInterrupt.
        # Not what this case tests; noted, so that a soak counts it.
        trial.notes.append(f"exit {trial.returncode} after {said[0]!r}, not "
                           f"{EXPECTED[trial.signal]}")
    elif trial.returncode != EXPECTED[trial.signal] and not in_runpy and not (
        trial.returncode == -trial.signal and (early or complete)
    ):
        trial.problems.append(
            f"exit {trial.returncode}, not {natural} or {EXPECTED[trial.signal]}")
    return complete


def _late_interrupt(stderr: str) -> bool:
    """Only "Exception ignored in ...: KeyboardInterrupt/Terminated" blocks: Python
    reporting a signal that came while it was shutting down, after the work was done."""
    blocks = [b for b in re.split(r"(?m)^(?=Exception ignored in)", stderr) if b.strip()]
    return all(b.startswith("Exception ignored in")
               and re.search(r"(KeyboardInterrupt|Terminated)\S*\s*$", b) for b in blocks)


def delays(count: int, seconds: float, rng: random.Random) -> list[float]:
    """count delays spread over [0, seconds): one uniform draw in each of count equal
    strata, shuffled."""
    out = [(i + rng.random()) * seconds / count for i in range(count)]
    rng.shuffle(out)
    return out


def span(reference: Reference, phase: str) -> float:
    """What a phase's random moments are spread over: the seconds of a build, or (for
    "writes") the fraction of its files written."""
    return reference.seconds if phase == "build" else 1.0


def run_trials(reference: Reference, sig: signal.Signals, count: int, seed: int,
               phase: str = "build", first: int = 0,
               report: Callable[[Trial], None] | None = None, jobs: int = 2,
               worker: bool = False) -> Iterator[Trial]:
    """count trials with sig at seeded random moments of a phase ("build" or "writes"),
    alternating between an empty build/ and the previous trial's state (the network and
    escape cases: a complete build's)."""
    rng = random.Random(f"{seed}-{sig.name}-{phase}-{jobs}" + "-worker" * worker
                        + (f"-{reference.case}" if reference.case != "outputs" else ""))
    for offset, delay in enumerate(delays(count, span(reference, phase), rng)):
        index = first + offset
        trial = run_trial(reference, index, sig, phase, delay, fresh=index % 2 == 0,
                          jobs=jobs, worker=worker)
        if report:
            report(trial)
        yield trial


def failures(trials: list[Trial]) -> str:
    """A report of the failed trials, empty if none failed."""
    failed = [t for t in trials if t.problems]
    if not failed:
        return ""
    return f"{len(failed)} of {len(trials)} trials failed:\n" + "\n".join(map(str, failed))


# --- the suite --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The four-target project, built once, completely."""
    return build_reference(tmp_path_factory.mktemp("faults") / "project")


def _assert_trials(trials: list[Trial]) -> None:
    report = failures(trials)
    assert not report, report
    assert any(t.signalled for t in trials), "no trial was signalled; the build got faster?"


def test_build_leaves_no_temporary_files(reference: Reference) -> None:
    """A complete -j2 build leaves nothing in its TMPDIR (WeasyPrint's weasyprint-* font
    folders once stayed: pool workers exit without collecting FontConfiguration)."""
    assert reference.tmp_left == []


def test_sigkill_at_random_moments(reference: Reference) -> None:
    """20 builds SIGKILLed (whole process group) at moments spread over a build, and 2
    during the writes: every output is absent or complete, and the manifest and
    SHA256SUMS list only complete files."""
    trials = list(run_trials(reference, signal.SIGKILL, 20, SEED))
    trials += run_trials(reference, signal.SIGKILL, 2, SEED, "writes", first=20)
    _assert_trials(trials)


def test_sigint_at_random_moments(reference: Reference) -> None:
    """Ctrl-C (SIGINT to the main process), twice during a build and once during the
    writes: as SIGKILL, and no temporary files in build/, no workers left, exit 130."""
    trials = list(run_trials(reference, signal.SIGINT, 2, SEED))
    trials += run_trials(reference, signal.SIGINT, 1, SEED, "writes", first=2)
    _assert_trials(trials)


def test_sigterm_at_random_moments(reference: Reference) -> None:
    """SIGTERM to the main process (a CI runner's cancel): as SIGINT, but exit 143."""
    trials = list(run_trials(reference, signal.SIGTERM, 2, SEED))
    trials += run_trials(reference, signal.SIGTERM, 1, SEED, "writes", first=2)
    _assert_trials(trials)


def test_dead_worker_at_random_moments(reference: Reference) -> None:
    """A worker (or the PDF process) SIGKILLed at 6 moments spread over a -j2 build, as
    the OOM killer would: the build ends, 0 or 4 with the one target lost named, every
    output absent or complete, no temporaries, no processes left. Killed mid-render in
    tests/test_workers.py; many more with `scripts/soak --signal worker`."""
    trials = list(run_trials(reference, signal.SIGKILL, 6, SEED, worker=True))
    _assert_trials(trials)
    assert any(t.returncode == EXIT_RENDER for t in trials), "no target was lost"


def test_one_process_and_its_pdf_process_at_random_moments(reference: Reference) -> None:
    """-j1, where the PDF process (prefork.py) makes the PDFs: SIGKILL to the group, and
    SIGINT and SIGTERM to the main process, hold as with workers, and after SIGINT and
    SIGTERM nothing is left in TMPDIR."""
    trials = list(run_trials(reference, signal.SIGKILL, 4, SEED, jobs=1))
    trials += run_trials(reference, signal.SIGINT, 2, SEED, first=4, jobs=1)
    trials += run_trials(reference, signal.SIGTERM, 2, SEED, first=6, jobs=1)
    _assert_trials(trials)
    assert [t.tmp_left for t in trials if t.signal != signal.SIGKILL] == [[]] * 4


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The four-target project with a dependent style, its parent on a local server."""
    reference = build_reference(tmp_path_factory.mktemp("network") / "project", "network")
    yield reference
    reference.close()


@pytest.fixture(scope="module")
def escape(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The four-target project with build/ or build/river-talks a link out of it."""
    return build_reference(tmp_path_factory.mktemp("escape") / "project", "escape")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM],
                         ids=lambda s: s.name)
def test_network_at_random_moments(network: Reference, sig: signal.Signals) -> None:
    """The dependent style, the style check skipped, so pandoc itself tries to fetch the
    parent (each of the four targets): builds signalled at 4 moments spread over such a
    build, from an empty build/ and from a complete build's. The server never sees a
    request (an unconfined pandoc does: the control in build_reference); build/ is left as
    it was, byte for byte, with no temporary file; the exit is the refusal's (3, every
    target "pandoc tried to fetch ... and was refused") or the signal's."""
    _assert_trials([*network.unsignalled, *run_trials(network, sig, 4, SEED)])


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM],
                         ids=lambda s: s.name)
def test_escape_at_random_moments(escape: Reference, sig: signal.Signals) -> None:
    """`build` (from an empty build/) or build/river-talks (from a complete build's) a
    link to a folder outside the project holding a decoy temporary file and decoy PDFs:
    builds signalled at 4 moments spread over a refused build. Nothing in that folder or
    in build/ is written, replaced or removed; the exit is 5 with output.confine's message
    naming the link, or the signal's."""
    _assert_trials([*escape.unsignalled, *run_trials(escape, sig, 4, SEED)])


def test_interrupt_as_temporary_is_made_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or SIGTERM, which the CLI turns into an interrupt) the moment a temporary
    file has been created: it is removed all the same. scripts/soak found this window
    (a `.manifest.json.*.tmp` left after SIGTERM) when temporaries came from mkstemp()
    and were listed only once it returned."""
    real_open = os.open

    def open_then_interrupt(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        if str(path).endswith(".tmp"):
            os.close(fd)
            raise KeyboardInterrupt  # as a signal handler may, between two bytecodes
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_files({tmp_path / "analyst.pdf": b"%PDF-1.7 ...", tmp_path / "x.html": b""})
    assert sorted(p.name for p in tmp_path.iterdir()) == []
