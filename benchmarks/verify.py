"""What layout verification costs: verify.check_layout against WeasyPrint's layout and
PDF writing, on the Astana analyst brief and on a many-target build. Writes a table to
docs/performance.md.

Usage: .venv/bin/python benchmarks/verify.py [--runs 5] [--briefs 20] [--many-runs 3]
       [--out docs/performance.md] [--print-only]

In one process (POLICYBRIEF_FORK=0, so that every target renders here): a real
`brief build --force -j 1` of the Astana project runs with pdf.render_pdf wrapped to
keep its arguments. The analyst target's pdf.render_pdf is then called again `--runs`
times, with `HTML.render`, `Document.write_pdf` and `check_layout` timed where
render_pdf calls them: the same HTML, stylesheets, fonts and rules as the build, and
(checked) the same PDF bytes. For the many-target row, the `brief init` project of
bench.py (`--briefs` briefs x 3 audiences) is built `--many-runs` times the same way,
and the three times are summed over its targets. Not a test: timings depend on the
machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ["POLICYBRIEF_FORK"] = "0"  # every target renders in this process

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
TARGET = "astana-talks/analyst"
GOAL = 0.05  # of the time WeasyPrint takes to lay out and write the PDF


class Clock:
    """Seconds spent in each wrapped function since the last reset."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - start
        return timed


Calls = list[tuple[tuple[Any, ...], dict[str, Any]]]  # pdf.render_pdf's arguments


@contextmanager
def instrumented(clock: Clock, calls: Calls) -> Iterator[None]:
    """Time HTML.render, Document.write_pdf and pdf.check_layout; keep the arguments
    of every pdf.render_pdf call."""
    from weasyprint import HTML
    from weasyprint.document import Document

    from policybrief import pdf

    saved = HTML.render, Document.write_pdf, pdf.check_layout, pdf.render_pdf
    original_render = pdf.render_pdf

    def keep(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return original_render(*args, **kwargs)

    HTML.render = clock.wrap("layout", HTML.render)
    Document.write_pdf = clock.wrap("write", Document.write_pdf)
    pdf.check_layout = clock.wrap("check", pdf.check_layout)
    pdf.render_pdf = keep
    try:
        yield
    finally:
        HTML.render, Document.write_pdf, pdf.check_layout, pdf.render_pdf = saved


def build(project: Path) -> None:
    """`brief build --force -j 1` of a project, in this process."""
    from policybrief.cli import cli

    try:
        cli.main(["build", "--force", "-j", "1", "--project", str(project)],
                 prog_name="brief", standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code:
            raise


def astana(work: Path, runs: int) -> tuple[dict[str, float], int, str]:
    """Median seconds of layout, PDF writing and check_layout for the analyst target
    (each over `runs` calls of pdf.render_pdf); its pages; the PDF's digest, checked
    against the build's."""
    from policybrief import pdf

    project = work / "astana"
    shutil.copytree(REPO, project, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "tests", "benchmarks", "docs", "*.pyc"))
    clock, calls = Clock(), Calls()
    with instrumented(clock, calls):
        build(project)
    (args, kwargs), = [c for c in calls if c[1].get("label") == TARGET]
    built = hashlib.sha256((project / "build" / f"{TARGET}.pdf").read_bytes()).hexdigest()
    times: dict[str, list[float]] = {"layout": [], "write": [], "check": []}
    rendered = None
    for _ in range(runs):
        clock = Clock()
        with instrumented(clock, []):
            rendered = pdf.render_pdf(*args, **kwargs)
        for name in times:
            times[name].append(clock.spent[name])
    assert rendered is not None
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    if digest != built:
        raise SystemExit(f"the re-rendered {TARGET} differs from the build's PDF")
    return {k: statistics.median(v) for k, v in times.items()}, rendered.pages, digest


def many(work: Path, briefs: int, runs: int) -> tuple[dict[str, float], int]:
    """Seconds of layout, PDF writing and check_layout summed over every target of a
    `briefs` x 3 project (the median over `runs` builds), and how many targets."""
    from bench import make_project

    project = make_project(work / "many", briefs)
    sums: dict[str, list[float]] = {"layout": [], "write": [], "check": []}
    targets = 0
    for _ in range(runs):
        clock, calls = Clock(), Calls()
        with instrumented(clock, calls):
            build(project)
        for name in sums:
            sums[name].append(clock.spent[name])
        targets = len(calls)
    return {k: statistics.median(v) for k, v in sums.items()}, targets


def row(what: str, spent: dict[str, float]) -> tuple[str, str, str, str, str]:
    render = spent["layout"] + spent["write"]
    share = spent["check"] / render
    return (what, f"{spent['layout']:.3f} s + {spent['write']:.3f} s = {render:.3f} s",
            f"{spent['check']:.3f} s", f"{share:.1%}",
            "met" if share < GOAL else "not met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--briefs", type=int, default=20)  # 60 targets, as bench.py
    parser.add_argument("--many-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "performance.md")
    parser.add_argument("--print-only", action="store_true", help="do not write --out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one, pages, digest = astana(work, args.runs)
        spent, targets = many(work, args.briefs, args.many_runs)
    rows = [
        row(f"Astana analyst brief ({pages} pages; median of {args.runs})", one),
        row(f"{targets} targets of the `brief init` example, summed"
            + (f" (median of {args.many_runs} builds)" if args.many_runs > 1 else ""), spent),
    ]
    table = ["| document | WeasyPrint: layout + PDF | `check_layout` | share | goal: under 5% |",
             "|---|---|---|---|---|"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    print("\n".join(table))  # noqa: T201
    print(f"analyst PDF sha256 {digest[:8]}…, the build's")  # noqa: T201
    if args.print_only:
        return
    measured = (
        f"Measured by `benchmarks/verify.py` on a {os.cpu_count()}-core machine: the times "
        "are of the calls inside `pdf.render_pdf` during `brief build --force -j 1` "
        "(`POLICYBRIEF_FORK=0`), `HTML.render` (layout) and `write_pdf` against "
        "`verify.check_layout` on the same laid-out document. Regenerate with "
        "`.venv/bin/python benchmarks/verify.py`.\n\n" + "\n".join(table) + "\n"
    )
    from bench import write_section

    write_section(args.out, "verify", "Layout verification", measured)


if __name__ == "__main__":
    main()
