"""The same inputs give the same PDF bytes on any machine: with or without the system's
HarfBuzz-subset library, with or without SOURCE_DATE_EPOCH, archival or not (#12).

Each build here is a real render in a fresh process (`--force`), never an "unchanged".
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import TALKING_POINTS, write

# Run the CLI with WeasyPrint unable to load libharfbuzz-subset, as on a machine (or a
# slim image, or macOS without it) that does not have it: WeasyPrint then falls back to
# subsetting fonts with fontTools. Forked processes (the PDF process, workers) inherit it.
HIDE_HARFBUZZ_SUBSET = textwrap.dedent("""
    import sys, cffi
    _dlopen = cffi.FFI.dlopen
    def dlopen(self, name, *args, **kwargs):
        if name and "harfbuzz-subset" in str(name):
            print("hidden:", name, file=sys.stderr, flush=True)
            raise OSError(f"{name}: hidden by the test")
        return _dlopen(self, name, *args, **kwargs)
    cffi.FFI.dlopen = dlopen
    from policybrief.cli import cli
    cli(sys.argv[1:], prog_name="brief")
""")


def _build(project: Path, *options: str, hide_harfbuzz: bool = False,
           epoch: str | None = None) -> tuple[dict[str, str], str]:
    """A forced build in a new process; the sha256 of each PDF, and what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    code = HIDE_HARFBUZZ_SUBSET if hide_harfbuzz else "from policybrief.cli import cli; cli()"
    done = subprocess.run(
        [sys.executable, "-c", code, "build", "--force", "--strict", "-j", "1",
         "--project", str(project), *options],
        env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    pdfs = sorted((project / "build").glob("*/*.pdf"))
    assert len(pdfs) == 3
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pdfs}, done.stderr


@pytest.fixture
def three(project: Path) -> Path:
    """The minimal project with all three packaged audiences (fonts: serif and sans)."""
    brief = project / "briefs" / "river-talks.yaml"
    write(brief, brief.read_text(encoding="utf-8") + TALKING_POINTS)
    return project


def _next_second() -> None:
    """Wait for the clock's next whole second: a timestamp taken now differs from one
    taken before (fontTools stamps whole seconds)."""
    time.sleep(1 - time.time() % 1 + 0.01)


@pytest.mark.parametrize("archival", [False, True], ids=["pdf-ua", "archival"])
def test_same_bytes_with_or_without_harfbuzz_subset_and_at_any_time(
    three: Path, archival: bool
) -> None:
    options = ("--archival",) if archival else ()
    with_harfbuzz, said = _build(three, *options)
    assert "hidden:" not in said
    _next_second()
    without, said = _build(three, *options, hide_harfbuzz=True)
    assert "hidden: libharfbuzz-subset" in said  # WeasyPrint really went without it
    _next_second()
    later, _ = _build(three, *options, hide_harfbuzz=True)
    assert without == later  # no wall-clock time in the fonts (fontTools would stamp it)
    assert with_harfbuzz == without  # and the subsetting does not depend on the machine


def test_source_date_epoch_changes_only_the_dates(three: Path) -> None:
    """SOURCE_DATE_EPOCH sets the PDF's dates and nothing else: two values, two files
    that differ; the same value twice, the same bytes, also without HarfBuzz-subset."""
    first, _ = _build(three, epoch="1700000000")
    _next_second()
    again, _ = _build(three, epoch="1700000000", hide_harfbuzz=True)
    other, _ = _build(three, epoch="1800000000", hide_harfbuzz=True)
    assert first == again
    assert all(other[name] != first[name] for name in first)


def test_weasyprint_alone_stamps_the_clock_without_harfbuzz_subset(tmp_path: Path) -> None:
    """The upstream behaviour the build works around (a minimal reproduction): WeasyPrint
    70 subsetting with fontTools writes the time into each font, so the same HTML gives
    other bytes a second later. If this starts to fail, WeasyPrint (or fontTools) fixed
    it, and pdf._subset_font can go."""
    from policybrief.fonts import font_css

    css = tmp_path / "fonts.css"
    css.write_text(font_css() + " body { font-family: 'PT Serif'; }", encoding="utf-8")
    render = HIDE_HARFBUZZ_SUBSET.replace(
        "from policybrief.cli import cli\ncli(sys.argv[1:], prog_name=\"brief\")\n",
        "import weasyprint\n"
        "pdf = weasyprint.HTML(string='<p>Astana, 2017</p>').write_pdf(\n"
        "    stylesheets=[weasyprint.CSS(filename=sys.argv[1])])\n"
        "sys.stdout.buffer.write(pdf)\n",
    )
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    outputs = []
    for _ in range(2):
        _next_second()
        done = subprocess.run([sys.executable, "-c", render, str(css)], env=env,
                              capture_output=True, check=False)
        assert done.returncode == 0, done.stderr
        assert b"hidden: libharfbuzz-subset" in done.stderr
        outputs.append(done.stdout)
    assert outputs[0].startswith(b"%PDF") and outputs[0] != outputs[1]
