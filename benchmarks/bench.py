"""Benchmarks for the build engine: run side by side, report medians, write a table.

Usage: .venv/bin/python benchmarks/bench.py [--runs 5] [--briefs 20] [--memory-briefs 67]
       [--out docs/performance.md]

Not a test: timings depend on the machine. Each row compares policybrief with a baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRIEF = str(Path(sys.executable).parent / "brief")
# Bare WeasyPrint on the HTML policybrief wrote (which has its stylesheet inlined), with
# the bundled fonts' @font-face rules from a file: nothing of policybrief is imported.
BARE = """
import sys
from pathlib import Path
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()
html = Path(sys.argv[1]).read_text()
HTML(string=html, base_url=sys.argv[2]).write_pdf(
    stylesheets=[CSS(filename=sys.argv[3], font_config=fonts)], font_config=fonts,
    pdf_variant="pdf/ua-1")
"""


def write_section(out: Path, marker: str, heading: str, text: str) -> None:
    """Put text between the file's <!-- marker --> and <!-- /marker --> lines, keeping
    the notes around them (a new section under `heading` if the markers are not there).
    Every benchmark writes its table into docs/performance.md this way."""
    start, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->\n"
    old = out.read_text(encoding="utf-8") if out.is_file() else "# Performance\n"
    if start not in old:
        old += f"\n## {heading}\n\n{start}{end}"
    head, _, rest = old.partition(start)
    tail = rest.partition(end)[2] if end in rest else ""
    out.write_text(f"{head}{start}{text}{end}{tail}", encoding="utf-8")


def timed(command: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    return kids


def peak_memory_mib(command: list[str]) -> dict[str, float]:
    """Peak resident memory (RSS) of each process of a command's tree, sampled every
    0.1 s from /proc: the largest main process, worker and pandoc run, in MiB."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict[int, tuple[str, float]] = {}
    while process.poll() is None:
        kids, todo = _children(), [process.pid]
        while todo:
            pid = todo.pop()
            todo += kids.get(pid, [])
            try:
                name = Path(f"/proc/{pid}/comm").read_text().strip()
                rss = next(int(line.split()[1]) for line in
                           Path(f"/proc/{pid}/status").read_text().splitlines()
                           if line.startswith("VmRSS:")) / 1024
            except (OSError, StopIteration):
                continue
            peaks[pid] = (name, max(rss, peaks.get(pid, (name, 0.0))[1]))
        time.sleep(0.1)
    roles: dict[str, float] = {}
    for pid, (name, rss) in peaks.items():
        role = "main" if pid == process.pid else "pandoc" if name == "pandoc" else "worker"
        roles[role] = max(rss, roles.get(role, 0.0))
    return roles


def watch_latency(project: Path, edits: int) -> tuple[float, float]:
    """`brief watch`: median seconds from saving a source to the rebuilt PDF, and the
    median rebuild time the watcher reports (the same rebuild in a warm process)."""
    process = subprocess.Popen([BRIEF, "watch", "--project", str(project)],
                               stdout=subprocess.PIPE, text=True, bufsize=1)
    assert process.stdout is not None
    source = next((project / "sources").glob("*.yaml"))
    latencies, rebuilds = [], []
    try:
        for line in process.stdout:  # the first build
            if line.startswith(("done in", "nothing to rebuild")):
                break
        for i in range(edits):
            time.sleep(1)
            saved = time.perf_counter()
            source.write_text(source.read_text() + f"# edit {i}\n")
            for line in process.stdout:
                if line.startswith("done in"):
                    latencies.append(time.perf_counter() - saved)
                    rebuilds.append(float(line.split()[2]))
                    break
    finally:
        process.terminate()
        process.wait()
    return statistics.median(latencies), statistics.median(rebuilds)


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
    parser.add_argument("--memory-briefs", type=int, default=67)  # 201 targets
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
        from policybrief.fonts import font_css

        fonts_css = work / "fonts.css"
        fonts_css.write_text(font_css())
        bare = timed([sys.executable, "-c", BARE, str(html), (one / "templates").as_uri() + "/",
                      str(fonts_css)], args.runs)
        rows.append(("one target, cold start", f"{cold:.2f} s", f"bare WeasyPrint {bare:.2f} s",
                     f"x{cold / bare:.2f} (goal: at most x1.10)"))

        # 3. all audiences of one brief, against one target
        every = timed([BRIEF, "build", "--force", "-j", "1", "--project", str(one)], args.runs)
        rows.append(("3 audiences of one brief", f"{every:.2f} s", f"one target {cold:.2f} s",
                     f"x{every / cold:.2f}"))

        # 5. nothing to do: the fingerprint fast path, after a successful build
        subprocess.run([BRIEF, "build", "--project", str(one)], check=True, capture_output=True)
        noop = timed([BRIEF, "build", "--project", str(one)], args.runs)
        rows.append(("build with nothing to do", f"{noop:.2f} s",
                     f"`brief --help` {helptime:.2f} s", "goal: at most 0.15 s"))

        # 6. watch: edit to PDF, against the same rebuild in a warm process
        latency, warm = watch_latency(one, args.runs)
        rows.append(("`brief watch`, edit to PDF (3 audiences)", f"{latency:.2f} s",
                     f"warm rebuild {warm:.2f} s", f"x{latency / warm:.2f} (goal: at most x1.15)"))

        # 4. many targets, one worker against two
        many = make_project(work / "many", args.briefs)
        serial = timed([BRIEF, "build", "--force", "-j", "1", "--project", str(many)], 1)
        parallel = timed([BRIEF, "build", "--force", "-j", "2", "--project", str(many)], 1)
        targets = args.briefs * 3
        rows.append((f"{targets} targets, `-j 2`", f"{parallel:.1f} s", f"`-j 1` {serial:.1f} s",
                     f"x{serial / parallel:.2f} (goal: at least x1.8)"))

        # 7. peak memory over many targets, per process
        big = make_project(work / "big", args.memory_briefs)
        peaks = peak_memory_mib([BRIEF, "build", "--force", "-j", "2", "--project", str(big)])
        rows.append((f"peak memory, {args.memory_briefs * 3} targets, `-j 2`",
                     f"worker {peaks.get('worker', 0):.0f} MiB",
                     f"main {peaks.get('main', 0):.0f} MiB, "
                     f"pandoc {peaks.get('pandoc', 0):.0f} MiB",
                     "goal: at most 150 MiB per worker"))
        shutil.rmtree(work, ignore_errors=True)

    table = ["| measure | policybrief | baseline | ratio / goal |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    cores = os.cpu_count()
    measured = (
        f"Measured by `benchmarks/bench.py` (medians of {args.runs} runs; the many-target rows "
        f"run once) on a {cores}-core machine with the `brief init` example brief. Regenerate "
        "with `.venv/bin/python benchmarks/bench.py`.\n\n" + "\n".join(table) + "\n"
    )
    write_section(args.out, "bench", "Build engine", measured)
    print("\n".join(table))  # noqa: T201


if __name__ == "__main__":
    main()
