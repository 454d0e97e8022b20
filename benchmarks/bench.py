"""Benchmarks for the build engine: run side by side, report medians, write a table.

Usage: .venv/bin/python benchmarks/bench.py [--runs 5] [--briefs 20] [--out docs/performance.md]

Not a test: timings depend on the machine. Each row compares policybrief with a baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRIEF = str(Path(sys.executable).parent / "brief")
BARE = """
import sys
from pathlib import Path
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from policybrief.render import font_css
fonts = FontConfiguration()
html = Path(sys.argv[1]).read_text()
HTML(string=html, base_url=sys.argv[2]).write_pdf(
    stylesheets=[CSS(string=font_css(), font_config=fonts)], font_config=fonts,
    pdf_variant="pdf/ua-1")
"""


def timed(command: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mib(command: list[str], cwd: Path | None = None) -> float:
    """Peak resident memory of the largest process a command ran, in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def make_project(root: Path, briefs: int) -> Path:
    """A project of `briefs` briefs x 3 audiences, from `brief init`."""
    subprocess.run([BRIEF, "init", str(root)], check=True, capture_output=True)
    example = root / "briefs" / "example-brief.yaml"
    text = example.read_text()
    for i in range(briefs):
        (root / "briefs" / f"brief-{i:03d}.yaml").write_text(
            text.replace("an example brief", f"example brief {i}"))
    example.unlink()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--briefs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "performance.md")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = make_project(work / "one", 1)

        # 1. start-up
        python = timed([sys.executable, "-c", "pass"], args.runs)
        helptime = timed([BRIEF, "--help"], args.runs)
        rows.append(("`brief --help`", f"{helptime:.2f} s", f"`python -c pass` {python:.2f} s",
                     f"+{helptime - python:.2f} s (goal: at most 0.10 s)"))

        # 2. one target from a cold start, against bare WeasyPrint on the same HTML
        target = [BRIEF, "build", "--force", "-j", "1", "-a", "analyst", "--project", str(one)]
        cold = timed(target, args.runs)
        html = one / "build" / "brief-000" / "analyst.html"
        bare = timed([sys.executable, "-c", BARE, str(html), (one / "templates").as_uri() + "/"],
                     args.runs)
        rows.append(("one target, cold start", f"{cold:.2f} s", f"bare WeasyPrint {bare:.2f} s",
                     f"x{cold / bare:.2f} (goal: at most x1.10)"))

        # 3. all audiences of one brief, against one target
        every = timed([BRIEF, "build", "--force", "-j", "1", "--project", str(one)], args.runs)
        rows.append(("3 audiences of one brief", f"{every:.2f} s", f"one target {cold:.2f} s",
                     f"x{every / cold:.2f}"))

        # 5. nothing to do
        noop = timed([BRIEF, "build", "--project", str(one)], args.runs)
        rows.append(("build with nothing to do", f"{noop:.2f} s", "", "goal: at most 0.15 s"))

        # 4 and 7. many targets, one worker against two; peak memory per worker
        many = make_project(work / "many", args.briefs)
        serial = timed([BRIEF, "build", "--force", "-j", "1", "--project", str(many)], 1)
        parallel = timed([BRIEF, "build", "--force", "-j", "2", "--project", str(many)], 1)
        targets = args.briefs * 3
        rows.append((f"{targets} targets, `-j 2`", f"{parallel:.1f} s", f"`-j 1` {serial:.1f} s",
                     f"x{serial / parallel:.2f} (goal: at least x1.8)"))
        rss = peak_rss_mib([BRIEF, "build", "--force", "-j", "2", "--project", str(many)])
        rows.append((f"peak memory, {targets} targets", f"{rss:.0f} MiB", "per process",
                     "goal: at most 150 MiB per worker"))
        shutil.rmtree(work, ignore_errors=True)

    table = ["| measure | policybrief | baseline | ratio / goal |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    cores = os.cpu_count()
    args.out.write_text(
        "# Performance\n\n"
        f"Measured by `benchmarks/bench.py` (medians of {args.runs} runs; the many-target rows "
        f"run once) on a {cores}-core machine with the `brief init` example brief. Regenerate "
        "with `.venv/bin/python benchmarks/bench.py`.\n\n" + "\n".join(table) + "\n"
    )
    print("\n".join(table))


if __name__ == "__main__":
    main()
