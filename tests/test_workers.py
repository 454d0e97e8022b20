"""Worker processes (-j 2) under faults: a worker killed mid-render fails its own target
only, SIGTERM ends the build at once, and a killed build leaves no worker holding the
project lock. The signals are real: the tests find the workers' pids in the build's
debug log ("<target>: rendering in worker <pid>") and kill them.

tests/test_faults.py kills whole builds, and (test_dead_worker_at_random_moments) single
workers, at random moments; `scripts/soak --signal worker` runs many more of the latter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import FIXTURES, group_alive, pdf_text
from policybrief.errors import EXIT_RENDER, EXIT_TERMINATED

ANALYST, EXECUTIVE = "river-talks/analyst", "river-talks/executive"
# An executive note whose layout takes seconds (6000 paragraphs): a target still
# rendering when the test signals.
SLOW = """\
{% extends "default:executive.html.j2" %}
{% block sections %}{% for i in range(60) %}{% for j in range(100) %}
<p>paragraph {{ i }}.{{ j }}</p>{% endfor %}{% endfor %}{% endblock %}
"""
WORKER = re.compile(r"^(\S+): rendering in worker (\d+)$", re.MULTILINE)
DEADLINE = 60.0  # seconds: far more than any of these builds takes


def make_project(root: Path, slow: bool = True) -> Path:
    """The minimal project with two targets, analyst and executive; the executive's
    layout slow (SLOW) unless not slow."""
    shutil.copytree(FIXTURES / "minimal", root, ignore=shutil.ignore_patterns("build"))
    brief = root / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [analyst, executive]\n")
    if slow:
        (root / "templates").mkdir()
        (root / "templates" / "executive.html.j2").write_text(SLOW)
    return root


@dataclass
class Build:
    """`brief -vv build -j2` running in a session (process group) of its own."""

    process: subprocess.Popen[bytes]
    stderr: Path
    tmpdir: Path

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def workers(self, count: int) -> dict[str, int]:
        """Target -> pid of the worker rendering it, once count workers have started."""
        deadline = time.monotonic() + DEADLINE
        while len(found := dict(WORKER.findall(self.log()))) < count:
            assert self.process.poll() is None, f"ended first:\n{self.log()}"
            assert time.monotonic() < deadline, f"no {count} workers:\n{self.log()}"
            time.sleep(0.02)
        return {label: int(pid) for label, pid in found.items()}

    def wait(self, seconds: float = DEADLINE) -> int:
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {seconds:g} s later:\n{self.log()}")


Start = Callable[..., Build]  # start(root, *args): a build of the project at root


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start builds of a project; kill whatever is left of them at the end."""
    started: list[Build] = []

    def run(root: Path, *args: str) -> Build:
        index = len(started)
        stderr, tmpdir = tmp_path / f"stderr-{index}", tmp_path / f"tmp-{index}"
        tmpdir.mkdir()
        with open(stderr, "wb") as err:  # a file, not a pipe: workers may hold it open
            process = subprocess.Popen(
                [sys.executable, "-m", "policybrief", "-vv", "build", "-j2", *args,
                 "--project", str(root)],
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                env=dict(os.environ, TMPDIR=str(tmpdir), CI="true"),
            )
        started.append(Build(process, stderr, tmpdir))
        return started[-1]

    yield run
    for build in started:
        try:
            os.killpg(build.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        build.process.wait()


def _gone(pgid: int, seconds: float) -> list[str]:
    """Wait up to seconds for group pgid to end; the processes still running."""
    deadline = time.monotonic() + seconds
    while (alive := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _temporaries(root: Path) -> list[str]:
    build = root / "build"
    return sorted(p.name for p in build.rglob(".*.tmp")) if build.is_dir() else []


def test_a_dead_worker_fails_its_target_only(start: Start, tmp_path: Path) -> None:
    """SIGKILL to the worker rendering the executive note (as the OOM killer sends it):
    the build ends with exit 4 naming the target and the signal, the analyst brief is
    written, whole, and listed in the manifest, the executive's is not; the next build
    takes the lock at once and builds the executive note."""
    root = make_project(tmp_path / "project")
    build = start(root)
    worker = build.workers(2)[EXECUTIVE]
    time.sleep(0.5)  # into its render, which takes seconds
    os.kill(worker, signal.SIGKILL)
    assert build.wait() == EXIT_RENDER, build.log()
    lines = build.log().splitlines()
    assert lines[-2:] == [
        f"failed {EXECUTIVE}: worker for {EXECUTIVE} died: signal 9 (SIGKILL); the system "
        "may have run out of memory (its OOM killer sends signal 9), or a library crashed; "
        "build again, with fewer jobs (-j 1) if memory is short",
        "Error: 1 of 2 targets failed; the other was written",
    ]
    assert "Traceback" not in build.log()
    out = root / "build" / "river-talks"
    assert len(PdfReader(out / "analyst.pdf", strict=True).pages) >= 1
    assert "River treaty talks" in pdf_text(out / "analyst.pdf")
    assert sorted(p.name for p in out.iterdir()) == ["analyst.html", "analyst.pdf",
                                                     "claims.json"]
    manifest = json.loads((root / "build" / "manifest.json").read_text())
    assert list(manifest["artifacts"]) == [ANALYST]
    assert manifest["artifacts"][ANALYST]["pdf"] == "river-talks/analyst.pdf"
    assert _temporaries(root) == []
    assert _gone(build.process.pid, 2.0) == []

    (root / "templates" / "executive.html.j2").unlink()  # quick, and within its budget
    again = start(root)
    assert again.wait() == 0, again.log()
    assert "waiting for another build" not in again.log()
    assert len(PdfReader(out / "executive.pdf", strict=True).pages) >= 1


def test_sigterm_ends_a_build_mid_render(start: Start, tmp_path: Path) -> None:
    """SIGTERM to the main process while both workers render (a CI runner cancelling):
    exit 143 within seconds, no worker left running, nothing half-written in build/ or
    left in TMPDIR, and the next build does not wait for the lock."""
    root = make_project(tmp_path / "project")
    build = start(root)
    build.workers(2)
    time.sleep(0.5)
    sent = time.monotonic()
    os.kill(build.process.pid, signal.SIGTERM)
    assert build.wait(5.0) == EXIT_TERMINATED, build.log()
    assert time.monotonic() - sent < 5.0
    assert build.log().splitlines()[-1] == "Terminated; earlier outputs are intact."
    assert "Traceback" not in build.log()
    assert _gone(build.process.pid, 1.0) == []
    assert not (root / "build" / "river-talks").exists()
    assert _temporaries(root) == []
    assert sorted(build.tmpdir.iterdir()) == []

    (root / "templates" / "executive.html.j2").unlink()
    again = start(root)
    assert again.wait() == 0, again.log()
    assert "waiting for another build" not in again.log()


def test_a_killed_build_leaves_no_worker_holding_the_lock(
    start: Start, tmp_path: Path
) -> None:
    """SIGKILL to the main process alone (the OOM killer picks the largest process, not
    a group): its workers, which inherited the project lock, end at once, even the one
    mid-way through a slow layout, so the next build is not kept waiting."""
    root = make_project(tmp_path / "project")
    build = start(root)
    workers = build.workers(2)
    os.kill(build.process.pid, signal.SIGKILL)
    build.wait()
    assert _gone(build.process.pid, 1.0) == [], f"workers {workers} still running"
    (root / "templates" / "executive.html.j2").unlink()  # 172 pages: over its budget
    again = start(root)
    assert again.wait() == 0, again.log()
    assert "waiting for another build" not in again.log()
