"""Benchmark of the web edition and `brief preview` on the repository's project.

Usage: .venv/bin/python benchmarks/preview.py [--edits 5]

Not a test: timings depend on the machine. Measures, on a copy of the project:
- a forced build of every target with and without the web editions (their cost);
- the size of build/_web/ and of each page;
- with `brief preview --port 0` running and the analyst page open in headless Chromium,
  the time from saving an edited note to the page showing it, reloaded by the server's
  event (median, min, max over --edits saves).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRIEF = str(Path(sys.executable).parent / "brief")
sys.path.insert(0, str(REPO / "tests"))


def timed_build(project: Path, *formats: str) -> float:
    started = time.perf_counter()
    subprocess.run([BRIEF, "build", "--force", "--project", str(project),
                    *(f"--format={f}" for f in formats)], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, copy_repository_project
    from test_web import Preview

    with tempfile.TemporaryDirectory() as tmp:
        project = copy_repository_project(Path(tmp) / "repo")
        timed_build(project, "pdf")  # warm the caches
        pdf = statistics.median(timed_build(project, "pdf") for _ in range(3))
        web = statistics.median(timed_build(project, "pdf", "web") for _ in range(3))
        build = project / "build"
        assets = sum(p.stat().st_size for p in (build / "_web").rglob("*") if p.is_file())
        pages = {p.relative_to(build).as_posix(): p.stat().st_size
                 for p in sorted(build.glob("*/*/index.html"))}
        print(f"forced build, PDFs only: {pdf:.2f} s; PDFs and web editions: {web:.2f} s")  # noqa: T201
        print(f"build/_web/: {assets / 1e6:.2f} MB; pages: "  # noqa: T201
              + ", ".join(f"{k} {v / 1e3:.0f} KB" for k, v in pages.items()))

        preview = Preview(project)
        try:
            while preview.status()["version"] < 1:
                time.sleep(0.2)
            source = project / "sources" / "analysis-mediator-2017.yaml"
            original = source.read_text(encoding="utf-8")
            seconds = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                page = browser.new_page()
                page.goto(preview.url + "astana-talks/analyst/index.html")
                for i in range(args.edits):
                    marker = f"Edit number {i}."
                    started = time.perf_counter()
                    source.write_text(re.sub(r"(\n    text: )", rf"\1{marker} ", original,
                                             count=1), encoding="utf-8")
                    page.wait_for_function(
                        f"() => document.body.textContent.includes({marker!r})",
                        timeout=120_000)
                    seconds.append(time.perf_counter() - started)
                browser.close()
            source.write_text(original, encoding="utf-8")
        finally:
            preview.stop()
        print(f"preview, edit saved to page shown: median {statistics.median(seconds):.1f} s, "  # noqa: T201
              f"min {min(seconds):.1f} s, max {max(seconds):.1f} s ({len(seconds)} edits)")
        rebuilt = [line for line in preview.lines if line.startswith("rebuilt")]
        print(f"targets rebuilt per edit: {len(rebuilt) // (args.edits + 1)}")  # noqa: T201


if __name__ == "__main__":
    main()
