"""How `brief check` scales: many notes, many places. Writes a table to docs/performance.md.

Usage: .venv/bin/python benchmarks/scale.py [--runs 3] [--sources 500] [--notes 10000]
       [--places 12000] [--out docs/performance.md] [--print-only]

Generated projects in a temporary folder: `--sources` sources holding `--notes` notes in
all (half of them in five sources), cited by briefs of 100 references each; then the same
project with `--places` renamed places in places.yaml and a place name in every note.
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import write_section  # benchmarks/ is on the path of a script run from it

REPO = Path(__file__).resolve().parent.parent
BRIEF = [sys.executable, "-m", "policybrief"]  # PYTHONPATH=<other src> measures other code
CONFIG = """paper = "A4"

[sections]
context = "Context"
options = "Options"
"""
REFS_PER_BRIEF = 100
BIG_SOURCES = 5  # hold half the notes between them (reports with many findings)


def _share(total: int, parts: int, i: int) -> int:
    """The i-th of `parts` near-equal shares of `total`."""
    return total // parts + (1 if i < total % parts else 0)


def make_project(root: Path, sources: int, notes: int, places: int = 0) -> Path:
    """A valid project: `sources` sources with `notes` notes in all (dated, some with an
    event; half of them in the first five sources), briefs citing every note once, and
    `places` renamed places (each note names one; every tenth note by a former name,
    which `brief check` warns about)."""
    (root / "sources").mkdir(parents=True)
    (root / "briefs").mkdir()
    (root / "policybrief.toml").write_text(CONFIG, encoding="utf-8")
    refs: list[str] = []
    for s in range(sources):
        lines = [
            "type: report", f'title: "Report {s}"', "issued: 2024-01-10",
            "perspective: official", "assessment: A generated source.", "notes:",
        ]
        count = _share(notes // 2, BIG_SOURCES, s) if s < BIG_SOURCES else _share(
            notes - notes // 2, sources - BIG_SOURCES, s - BIG_SOURCES)
        for n in range(count):
            place = "the capital"
            if places:  # every tenth note uses a former name: a warning
                place = f"{'Oldtown' if n % 10 == 0 else 'Town'}{(s * 31 + n) % places}"
            lines += [
                f"  - id: note-{n}", f"    section: {'context' if n % 2 else 'options'}",
                f"    text: >-\n      Officials in {place} reported finding number {n} of "
                f"report {s}, with **some** emphasis and [a link](https://example.org/{s}).",
                f'    locator: "p. {n + 1}"', "    date: 2023-06-01",
                "    priority: key" if n % 3 == 0 else "    priority: supporting",
            ]
            if n % 4 == 0:
                lines.append(f'    event: "Event {n} in {place}"')
            refs.append(f"report-{s:03d}/note-{n}")
        (root / "sources" / f"report-{s:03d}.yaml").write_text("\n".join(lines) + "\n",
                                                               encoding="utf-8")
    for b in range(0, len(refs), REFS_PER_BRIEF):
        chunk = refs[b:b + REFS_PER_BRIEF]
        half = len(chunk) // 2
        text = (
            f'title: "Brief {b // REFS_PER_BRIEF}"\nas_of: 2024-02-01\nauthors: [Unit]\n'
            "key_messages:\n  - text: A message.\n    notes: [" + chunk[0] + "]\n"
            "sections:\n"
            f"  - key: context\n    notes: [{', '.join(chunk[:half])}]\n"
            f"  - key: options\n    notes: [{', '.join(chunk[half:])}]\n"
        )
        (root / "briefs" / f"brief-{b // REFS_PER_BRIEF:03d}.yaml").write_text(
            text, encoding="utf-8")
    if places:
        lines = ["places:"]
        for p in range(places):
            lines += [f"  - name: Town{p}", "    former:", f"      - name: Oldtown{p}",
                      "        from: 1990-01-01", "        to: 2000-12-31"]
        (root / "places.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def check_seconds(project: Path, runs: int) -> float:
    """Median wall time of `brief check` on the project (which must pass)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([*BRIEF, "check", "--project", str(project)],
                              capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"brief check failed on {project}:\n{done.stderr[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--places", type=int, default=12_000)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "performance.md")
    parser.add_argument("--print-only", action="store_true", help="do not write --out")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        notes = make_project(Path(tmp) / "notes", args.sources, args.notes)
        rows.append((f"{args.notes} notes in {args.sources} sources",
                     check_seconds(notes, args.runs)))
        places = make_project(Path(tmp) / "places", args.sources, args.notes, args.places)
        rows.append((f"the same, with {args.places} places", check_seconds(places, args.runs)))
    table = ["| `brief check` on | seconds |", "|---|---|"]
    table += [f"| {name} | {seconds:.2f} s |" for name, seconds in rows]
    print("\n".join(table))  # noqa: T201
    if args.print_only:
        return
    measured = (
        f"Measured by `benchmarks/scale.py` (medians of {args.runs} runs). Regenerate with "
        "`.venv/bin/python benchmarks/scale.py`.\n\n" + "\n".join(table) + "\n"
    )
    write_section(args.out, "scale", "Validation at scale", measured)


if __name__ == "__main__":
    main()
