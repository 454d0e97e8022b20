"""brief watch: rebuilds what a change affects, shows errors and goes on."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import pdf_text

PDF = Path("build") / "river-talks" / "analyst.pdf"


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):  # no read-ahead: line by line
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], prefix: str, timeout: float = 60) -> list[str]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError(f"no line starting {prefix!r}; saw {seen}")


def test_watch_rebuilds_on_change_and_survives_errors(project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "policybrief", "watch", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = _lines(process)
        _wait_for(lines, "done in")  # the first build
        pdf = project / "build" / "river-talks" / "analyst.pdf"
        before, after = "met again in Almaty after a", "reconvened in Almaty after a"
        assert before in pdf_text(pdf) and after not in pdf_text(pdf)
        source = project / "sources" / "river-2024.yaml"
        text = source.read_text()
        assert "met again in Almaty" in text
        source.write_text(text.replace("met again in Almaty", "reconvened in Almaty"))
        seen = _wait_for(lines, "done in")
        assert "rebuilt river-talks/analyst (2 pages)" in seen
        assert after in pdf_text(pdf) and before not in pdf_text(pdf)  # the edit, in the PDF
        source.write_text(text.replace("priority: key", "priority: urgent"))  # an error
        seen = _wait_for(lines, "error:")
        assert "sources/river-2024.yaml:21: notes[0].priority: 'urgent' is not one of: key, " \
            "supporting, detail; write one of those" in seen
        assert seen[-1] == "error: 1 error in the input; nothing was built"
        source.write_text(text)  # fixed again: watching went on
        seen = _wait_for(lines, "done in")
        assert "rebuilt river-talks/analyst (2 pages)" in seen
        assert before in pdf_text(pdf) and after not in pdf_text(pdf)
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _watching(project: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "policybrief", "watch", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = _lines(process)
    _wait_for(lines, "done in")  # the first build
    return process, lines


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def test_watch_sees_sources_removed_and_made_again(project: Path) -> None:
    process, lines = _watching(project)
    try:
        sources = project / "sources"
        text = (sources / "river-2024.yaml").read_text()
        shutil.rmtree(sources)
        seen = _wait_for(lines, "error:", timeout=20)
        assert any("unknown source 'river-2024'" in line for line in seen)
        sources.mkdir()
        (sources / "river-2024.yaml").write_text(
            text.replace("met again in Almaty", "reconvened in Almaty"))
        seen = _wait_for(lines, "done in", timeout=20)
        assert "rebuilt river-talks/analyst (2 pages)" in seen
        assert "reconvened in Almaty after a" in pdf_text(project / PDF)
    finally:
        _stop(process)


def test_watch_sees_places_yaml_made_later(project: Path) -> None:
    process, lines = _watching(project)
    try:
        assert "Alma-Ata" not in pdf_text(project / PDF)
        (project / "places.yaml").write_text(
            "places:\n  - name: Almaty\n    former:\n"
            "      - {name: Alma-Ata, from: 2024-01-01, to: 2024-12-31}\n")
        seen = _wait_for(lines, "done in", timeout=20)
        assert "rebuilt river-talks/analyst (2 pages)" in seen
        assert "Treaty talks resume in Alma-Ata" in pdf_text(project / PDF)  # the chronology
    finally:
        _stop(process)


def test_watch_sees_templates_made_later(project: Path) -> None:
    process, lines = _watching(project)
    try:
        templates = project / "templates"
        templates.mkdir()
        (templates / "brand.toml").write_text('organisation = "Steppe Institute"\n')
        seen = _wait_for(lines, "done in", timeout=20)
        assert "rebuilt river-talks/analyst (2 pages)" in seen
        assert "STEPPE INSTITUTE" in pdf_text(project / PDF)
    finally:
        _stop(process)


TEMPORARY = ["sedAb12Cd", "river-2024.yaml~", "4913", "#river-2024.yaml#",
             "river-2024.yaml.swp", "river-2024.yaml.swx", ".river-2024.yaml.swp",
             ".#river-2024.yaml"]


def test_watch_ignores_editors_temporary_files(project: Path) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [executive]\n")  # a one-page target
    process, lines = _watching(project)
    try:
        sources = project / "sources"
        for name in TEMPORARY:  # as editors save: made, then removed
            (sources / name).write_text("partial\n")
        for name in TEMPORARY[::2]:
            (sources / name).unlink()
        time.sleep(1.5)  # past the watcher's debounce: a batch of its own, if seen
        subprocess.run(["sed", "-i", "s/met again in Almaty/reconvened in Almaty/",
                        str(sources / "river-2024.yaml")], check=True)  # sed's own sedXXXXXX
        seen = _wait_for(lines, "done in", timeout=20)
        assert [line for line in seen if line.startswith(("changed:", "nothing"))] == [
            "changed: river-2024.yaml"], seen
        assert "rebuilt river-talks/executive (1 page)" in seen
    finally:
        _stop(process)
