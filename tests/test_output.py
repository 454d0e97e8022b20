"""Output under faults: a stuck target, a full or unwritable disk, two builds at once,
temporaries of a killed build."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import TALKING_POINTS, note_text, pdf_text, write
from policybrief import output


def _outputs(project: Path) -> dict[str, bytes]:
    build = project / "build"
    return {p.relative_to(build).as_posix(): p.read_bytes() for p in sorted(build.rglob("*"))
            if p.is_file()}


# A layout that takes minutes: ninety thousand paragraphs in the executive note.
STUCK = """\
{% extends "default:executive.html.j2" %}
{% block sections %}{% for i in range(300) %}{% for j in range(300) %}
<p>paragraph {{ i }}.{{ j }}</p>{% endfor %}{% endfor %}{% endblock %}
"""


def test_a_stuck_target_times_out_and_the_others_are_written(
    run: Callable[..., Result], project: Path
) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text().replace('paper = "A4"', 'paper = "A4"\ntimeout = 6'))
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [analyst, executive]\n")
    write(project / "templates" / "executive.html.j2", STUCK)
    result = run("build", "-j1", "--project", project)
    assert result.exit_code == 4, result.stderr
    assert result.stderr.splitlines()[-2:] == [
        "failed river-talks/executive: not finished after 6 s, given "
        "up; a template loop or a layout that does not converge? Simplify the template or "
        "CSS, or raise `timeout` (seconds per target) in the project config",
        "Error: 1 of 2 targets failed; the other was written",
    ]
    assert "River treaty talks" in pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert not (project / "build" / "river-talks" / "executive.pdf").exists()


@pytest.mark.parametrize("value", ["0", "-1", '"soon"', "100000"])
def test_timeout_setting_is_checked(run: Callable[..., Result], project: Path,
                                    value: str) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text().replace('paper = "A4"', f"timeout = {value}"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "policybrief.toml: timeout: must be seconds per target, e.g. timeout = 120"
    )


def test_full_disk_fails_before_rendering(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("build", "--project", project).exit_code == 0
    before = _outputs(project)
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("two-year", "two-year long"))
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: real(path)._replace(free=20_000))

    def no_render(*args: Any) -> None:
        raise AssertionError("rendered although the disk is full")

    monkeypatch.setattr("policybrief.build._render_all", no_render)
    result = run("build", "--project", project)
    assert result.exit_code == 5
    assert result.stderr.startswith(f"Error: {project / 'build' / 'river-talks'}: cannot write: "
                                    "0.0 MB free, about ")
    assert result.stderr.rstrip().endswith(
        "MB needed; free some space and build again (earlier outputs are unchanged)"
    )
    assert _outputs(project) == before


def test_disk_full_while_writing_keeps_every_earlier_output(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    assert run("build", "--project", project).exit_code == 0
    before = _outputs(project)
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("two-year", "two-year long"))
    synced = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the fifth file finds the disk full
        synced.append(fd)
        if len(synced) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = run("build", "--project", project)
    assert result.exit_code == 5
    assert "cannot write: No space left on device" in result.stderr
    assert _outputs(project) == before  # no new file renamed in, no temporary left


def test_unwritable_output_folder_fails_before_rendering(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without permission to write (simulated: tests may run as root, who may write
    anywhere), the build stops before rendering."""
    real = output.tempfile.mkstemp

    def refuse(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if kwargs.get("prefix") == ".probe.":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real(*args, **kwargs)

    monkeypatch.setattr(output.tempfile, "mkstemp", refuse)
    result = run("build", "--project", project)
    assert result.exit_code == 5
    assert result.stderr == f"Error: {project}: cannot write: Permission denied\n"
    assert not (project / "build").exists()


def test_failed_build_keeps_earlier_output(run: Callable[..., Result], project: Path) -> None:
    assert run("build", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    before = pdf.read_bytes()
    write(project / "templates" / "analyst.html.j2", "{{ nope }}")
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert pdf.read_bytes() == before
    assert sorted(p.name for p in pdf.parent.iterdir()) == [
        "analyst.html", "analyst.pdf", "claims.json"
    ]


def test_interrupted_write_leaves_no_partial_file(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("build", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    before = pdf.read_bytes()
    note_text(project, "after a pause.")

    def crash(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    result = run("build", "--project", project)
    assert result.exit_code == 130
    assert pdf.read_bytes() == before
    assert not [p for p in pdf.parent.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_build_dir(run: Callable[..., Result], project: Path) -> None:
    write(project / "build" / "river-talks", "a file where a folder should be")
    result = run("build", "--project", project)
    assert result.exit_code == 5
    assert result.stderr.startswith(f"Error: {project / 'build' / 'river-talks'}: cannot write")


def test_a_killed_builds_temporaries_are_cleared(run: Callable[..., Result],
                                                 project: Path) -> None:
    left = write(project / "build" / "river-talks" / ".analyst.pdf.k3j_x9z1.tmp", "partial")
    mine = write(project / "build" / "river-talks" / ".notes.tmp", "not ours")
    assert run("build", "--project", project).exit_code == 0
    assert not left.exists() and mine.exists()


def test_two_builds_at_once_take_turns(project: Path) -> None:
    """The second build waits for the first, then finds its work done; every output is
    whole and the manifest agrees with the files."""
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    command = [sys.executable, "-m", "policybrief", "build", "-j1", "--project", str(project)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    time.sleep(0.3)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    # Whichever took the lock first built; the other waited, then had nothing to do.
    (built, out_b, err_b), (waited, out_w, err_w) = sorted(
        [("built " in out1, out1, err1), ("built " in out2, out2, err2)], reverse=True
    )
    assert built and not waited
    assert out_b.count("built ") == 3 and out_w.count("unchanged ") == 3
    assert err_w.startswith("warning: waiting for another build of this project to finish")
    sums = (project / "build" / "SHA256SUMS").read_text()
    check = subprocess.run(["sha256sum", "-c", "--quiet", "-"], input=sums, text=True,
                           cwd=project / "build", capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("jobs", ["-j2", "-j1"])
@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGTERM, 143, "Terminated; earlier outputs are intact."),
    (signal.SIGINT, 130, "Interrupted; earlier outputs are intact."),
])
def test_sigterm_and_sigint_keep_earlier_outputs(
    run: Callable[..., Result], project: Path, signum: int, code: int, said: str, jobs: str
) -> None:
    """Stopped while rendering (well before any write), the build removes nothing and
    leaves nothing, in build/ or in TMPDIR (the font files and pandoc input of the
    workers, -j2, or of the PDF process, -j1); the exit code says which signal stopped
    it, and no process of the build is left."""
    assert run("build", "--project", project).exit_code == 0
    before = _outputs(project)
    write(project / "templates" / "executive.html.j2", STUCK)  # minutes of layout
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [analyst, executive]\n")
    scratch = project.parent / "tmp"
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "policybrief", "build", "--force", jobs, "--project",
         str(project)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(scratch)}, start_new_session=True,
    )
    deadline = time.monotonic() + 60  # stopped once a process has its font files
    while not any(scratch.rglob("weasyprint-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.splitlines()[-1] == said
    assert "Traceback" not in stderr
    assert _outputs(project) == before
    assert list(scratch.iterdir()) == []
    with pytest.raises(ProcessLookupError):  # the group: no worker or PDF process left
        os.killpg(process.pid, 0)
