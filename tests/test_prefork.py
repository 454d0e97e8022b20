"""The PDF process (prefork.py): forked at start-up, renders the targets of the main
process, and is only ever a faster road to the same PDFs."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from policybrief import prefork
from policybrief.config import load_config
from policybrief.errors import TemplatingError

HTML = """<!DOCTYPE html><html lang="en"><head><title>T</title></head>
<body><h1>Title</h1><p>One paragraph.</p>{extra}</body></html>"""


def _build(project: Path, *args: str, fork: str = "1") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policybrief", "-vv", "build", "--force", *args,
         "--project", str(project)],
        capture_output=True, text=True, env={**os.environ, "POLICYBRIEF_FORK": fork},
    )


def _digests(project: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((project / "build").rglob("*.pdf"))}


def test_one_target_is_rendered_in_the_pdf_process(project: Path) -> None:
    """-j1: the PDF is made by the PDF process, byte for byte the PDF that the main
    process makes with POLICYBRIEF_FORK=0; no process is left."""
    (project / "templates").mkdir()
    forked = _build(project, "-j1")
    assert forked.returncode == 0, forked.stderr
    assert "river-talks/analyst: PDF made in the PDF process" in forked.stderr
    made = _digests(project)
    here = _build(project, "-j1", fork="0")
    assert here.returncode == 0, here.stderr
    assert "in the PDF process" not in here.stderr
    assert _digests(project) == made


@pytest.fixture
def pdf_process() -> Iterator[None]:
    prefork.start()
    assert prefork.active()
    yield
    prefork.stop()


@pytest.mark.usefixtures("pdf_process")
def test_errors_come_back_as_they_were_raised(project: Path) -> None:
    """An error in the PDF process (here: an image without alternative text) is raised
    in the main process with its own type, message and exit code; the process goes on."""
    config = load_config(project)
    with pytest.raises(TemplatingError, match="has no alternative text") as raised:
        prefork.render_pdf(HTML.format(extra='<img src="x.png">'), config, label="t/a")
    assert raised.value.exit_code == TemplatingError.exit_code
    assert prefork.active()
    assert prefork.render_pdf(HTML.format(extra=""), config, label="t/a").pages == 1


@pytest.mark.usefixtures("pdf_process")
def test_a_lost_pdf_process_is_replaced_by_this_one(project: Path) -> None:
    """Killed (out of memory, say), the PDF process is not waited for: the target renders
    in the main process, as do the targets after it."""
    assert prefork._CURRENT is not None
    os.kill(prefork._CURRENT.pid, signal.SIGKILL)
    rendered = prefork.render_pdf(HTML.format(extra=""), load_config(project), label="t/a")
    assert rendered.pages == 1
    assert rendered.pdf.startswith(b"%PDF-")
    assert not prefork.active()


def test_no_pdf_process_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBRIEF_FORK", "0")
    prefork.start()
    assert not prefork.active()
