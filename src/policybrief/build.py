"""The pipeline of `brief build`: check the project (check.py), plan the targets and
their input digests, render those not current (in the job engine, workers.py), then
write them with the manifest (manifest.py). Everything is read and checked before
anything is written. `brief check` is the same pipeline without layout or writes
(check_targets): a target is prepared by one function, prepare_target, for both."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from . import boundary, prefork
from .check import check_marking, check_pages, check_project, check_words
from .cite import FormattedCitations, format_citations, style_path
from .claims import claim_map
from .config import Config
from .css import Stylesheet
from .curate import CuratedBrief, curate
from .errors import Problem, RenderError, UsageError, closest, count
from .evidence import quote_sentences
from .fastpath import PACKAGE, Fingerprint, environment, file_hash, folders
from .i18n import load_labels
from .inputs import audience_files, target_files
from .jobs import Failure, Job, Target
from .load import Project
from .manifest import claims_due, is_current, tool_versions, write_targets
from .output import (
    check_writable,
    confine,
    project_lock,
    read_manifest,
    remove_stale_temporaries,
)
from .pdf import Attachment
from .pdf import session as render_session
from .render import load_stylesheet, marking_label, render_html
from .templating import make_environment
from .verify import LayoutRules
from .weasy import import_weasyprint
from .web import ASSETS, render_web, web_environment
from .word import render_docx
from .workers import run_jobs

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    """What a build did: targets built, left unchanged, and failed."""

    built: list[Target]
    unchanged: list[Job]
    failed: list[Failure]


def _select(project: Project, brief_ids: tuple[str, ...]) -> list[str]:
    unknown = [b for b in brief_ids if b not in project.briefs]
    if unknown:
        known = ", ".join(sorted(project.briefs)) or "none"
        raise UsageError(f"unknown brief {unknown[0]!r}{_close(unknown[0], project.briefs)}; "
                         f"briefs in this project: {known}")
    return list(brief_ids) or sorted(project.briefs)


def _close(word: str, options: Iterable[str]) -> str:
    """ "(did you mean 'x'?)" for the option closest to a misspelt name, or nothing."""
    close = closest(word, options)
    return f" (did you mean {close!r}?)" if close else ""


def _none_selected(project: Project, brief_ids: list[str], audiences: tuple[str, ...]) -> str:
    """Why no brief of the selection lists any of the audiences asked for."""
    wanted = ", ".join(audiences)
    lists = "; ".join(
        f"{b} lists {', '.join(project.briefs[b].model.audiences)}" for b in brief_ids
    ) or "the project has no briefs"
    where = project.briefs[brief_ids[0]].doc.path if len(brief_ids) == 1 else "a brief's file"
    return (f"nothing to build: no selected brief lists audience {wanted} ({lists}); "
            f"pick an audience the brief lists, or add it to `audiences:` in {where}")


def read_files(config: Config, project: Project, brief_id: str) -> dict[Path, str]:
    """The files a target of the brief reads (inputs.target_files), with their hashes."""
    inside = folders(config)
    return {path: file_hash(path, inside) for path in target_files(config, project, brief_id)}


def input_digest(config: Config, audience: str, archival: bool, read: dict[Path, str],
                 docx: bool = False, web: bool = False) -> str:
    """SHA-256 over everything the target reads (`read`: read_files) and every setting
    and tool that shapes it: if it is unchanged, so is the PDF."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("tools", tool_versions().encode())
    add("environment", json.dumps(environment(config), sort_keys=True).encode())
    add("profile", repr(config.audiences[audience]).encode())
    # --strict too: a target that only warned must be checked again under --strict.
    add("options", f"{archival} {config.strict} {config.paper}".encode())
    if docx:  # the Word edition is part of the target (word.py)
        add("docx", b"docx")
    if web:  # and the web edition (web.py)
        add("web", b"web")
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
            f"unknown audience {unknown[0]!r}{_close(unknown[0], config.audiences)}; "
            f"audiences: {', '.join(config.audiences)}"
        )
    jobs = []
    selected = _select(project, brief_ids)
    env = make_environment(config)
    for brief_id in selected:
        every = read_files(config, project, brief_id)
        for name in project.briefs[brief_id].model.audiences:
            if audiences and name not in audiences:
                continue
            archival = archival_all or config.audiences[name].archival
            template = config.audiences[name].template
            read = audience_files(config, env, template, every)
            docx, web = config.writes_docx(name), config.writes_web(name)
            if web:  # the templates of its web page too (web-base.html.j2 for base)
                read = {**read, **audience_files(config, web_environment(env), template, every)}
            jobs.append(Job(brief_id, name, archival,
                            input_digest(config, name, archival, read, docx, web),
                            tuple(read.items()), docx, web))
    if audiences and not jobs:  # a selection that can never match
        raise UsageError(_none_selected(project, selected, audiences))
    k, n = shard
    return [job for i, job in enumerate(sorted(jobs, key=lambda j: j.label)) if i % n == k - 1]


def shard_note(shard: tuple[int, int], selected: int) -> str:
    """What an empty shard says (a note, not an error: with more shards than targets,
    some shards are empty by arithmetic)."""
    k, n = shard
    return (f"shard {k}/{n} has no targets: the selection has {count(selected, 'target')}, "
            "and shard K of N takes every N-th from the K-th; nothing was built")


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


@dataclass(frozen=True)
class Prepared:
    """A target as far as it goes before layout: curated, cited, its HTML rendered."""

    curated: CuratedBrief
    html: str
    stylesheet: Stylesheet
    claimed: dict[str, Any]  # the claim map (claims.json)
    citations: FormattedCitations | None = None  # as the style formats them
    sentences: dict[str, str] = dataclasses.field(default_factory=dict)  # around quotes


def prepare_target(config: Config, project: Project, env: Any, job: Job) -> Prepared:
    """Curate, check the word budget, cite, and render the HTML (in the sandbox) of one
    target: all a build does but layout. `brief check` runs this for every target
    (check_targets) and render_target lays out what it returns, so the two cannot
    disagree on any error before layout."""
    curated = curate(project, project.briefs[job.brief_id].model, config.audiences[job.audience])
    check_words(job.label, curated, config.strict)
    check_marking(job.label, curated, project.briefs[job.brief_id], config.markings)
    citations = format_citations(curated, config)
    if citations.warnings and config.strict:
        raise RenderError(f"{job.label}: " + "; ".join(citations.warnings) + " (--strict)")
    for warning in citations.warnings:
        log.warning("%s: %s", job.label, warning)
    by_id = {s.id: s for s in curated.references}
    curated = dataclasses.replace(  # the bibliography in the style's order
        curated, references=[by_id[i] for i in citations.order if i in by_id]
    )
    sentences = quote_sentences(config.archive,
                                [(c.ref, c.source, c.note) for c in curated.cited])
    html = render_html(env, curated, citations, config, sentences)
    return Prepared(curated, html, load_stylesheet(env, curated.audience.stylesheet),
                    claim_map(job.brief_id, curated, citations, sentences), citations, sentences)


def render_target(config: Config, project: Project, env: Any, job: Job) -> Target:
    """Prepare (prepare_target), lay out and check one target (no writes)."""
    started = time.perf_counter()
    warming = None if prefork.active() else _import_weasyprint_meanwhile()
    try:
        prepared = prepare_target(config, project, env, job)
    finally:
        if warming is not None:
            warming.join()
    curated, claimed = prepared.curated, prepared.claimed
    rendered = prefork.render_pdf(
        prepared.html, config, label=job.label, archival=job.archival,
        as_of=curated.brief.as_of, stylesheet=prepared.stylesheet,
        attachments=evidence_files(project, curated, claimed) if job.archival else (),
        layout=LayoutRules(
            min_last_page_lines=curated.audience.min_last_page_lines,
            pages=curated.audience.pages or 0,
            # The numbered paragraphs of a claim map that can be the brief's claims.json
            # (output.preferred_claims: a target citing in footnotes) must be printed.
            paragraphs=tuple(sorted({n for c in claimed["claims"] for n in c["paragraphs"]}))
            if curated.audience.citations == "footnotes" else (),
        ),
    )
    for warning in rendered.warnings:
        log.warning("%s: WeasyPrint: %s", job.label, warning)
    log.info("%s: layout checked: %s", job.label, rendered.checked)
    check_pages(job.label, curated, rendered.pages)
    docx = None
    if job.docx and prepared.citations is not None:  # the Word edition, from the same brief
        docx = render_docx(curated, prepared.citations, config, marking_label(
            curated.marking, curated.brief.language,
            load_labels(curated.brief.language, config.labels)))
    web = _web_page(config, project, env, job, prepared, rendered.pages)
    return Target(job.brief_id, job.audience, rendered, claimed,
                  time.perf_counter() - started, job.archival, docx, web)


def _web_page(config: Config, project: Project, env: Any, job: Job, prepared: Prepared,
              pages: int) -> str | None:
    """The target's web page (web.py), if the job asks for one; `pages`: its PDF's."""
    if not job.web or prepared.citations is None:
        return None
    return render_web(env, prepared.curated, prepared.citations, config, prepared.sentences,
                      prepared.claimed, job.brief_id, job.key, pages, job.docx,
                      list(project.briefs[job.brief_id].model.audiences))


def _check_target(config: Config, project: Project, env: Any, job: Job) -> str:
    """Prepare a target for `brief check`, and its web page (without a PDF, so its page
    count is unknown): its label if it passed (none of it is kept, nor sent back from a
    worker), else the Failure (workers.run_jobs)."""
    _web_page(config, project, env, job, prepare_target(config, project, env, job), 0)
    return job.label


@dataclass
class CheckResult:
    """What `brief check` found: the project, its problems (warnings only: errors are
    raised), and each target's result before layout."""

    project: Project
    problems: list[Problem]
    passed: list[Job]
    failed: list[Failure]


def check_targets(config: Config, jobs: int = 1) -> CheckResult:
    """`brief check`: check the project as a build does, plan every target, and prepare
    each (prepare_target, under the build's time limit, in `jobs` worker processes)
    without laying it out."""
    project, problems = check_project(config, consequence="fix them and run again")
    todo = plan(config, project, (), ())
    results = run_jobs(partial(_check_target, config, project, make_environment(config)),
                       config.timeout, todo, jobs, None)
    return CheckResult(project, problems,
                       [j for j, r in zip(todo, results, strict=True)
                        if not isinstance(r, Failure)],
                       [r for r in results if isinstance(r, Failure)])


def _estimated_bytes(build_dir: Path, jobs: list[Job]) -> int:
    """Room the outputs need: twice their size on disk (old and new coexist until
    renamed), or 2 MB for a target never built."""
    def size(pdf: Path) -> int:
        try:
            found = pdf.lstat()
        except OSError:
            return 1_000_000
        return found.st_size if stat.S_ISREG(found.st_mode) else 1_000_000

    return sum(2 * size(build_dir / f"{j.key}.pdf") * (2 if j.docx else 1) for j in jobs)


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
    notes = [str(p) for p in warnings]
    if not todo and shard != (1, 1):
        selected = len(plan(config, project, brief_ids, audiences, archival_all))
        notes.append(shard_note(shard, selected))
        log.warning("%s", notes[-1])
    with project_lock(config.root):
        confine(config.root, {config.build_dir, config.build_dir / ASSETS,
                              *(config.build_dir / j.brief_id for j in todo),
                              *(config.build_dir / j.key for j in todo if j.web)})
        remove_stale_temporaries(config.build_dir)
        previous = read_manifest(config.build_dir, note=True)
        due = claims_due(config, project, previous, todo)
        unchanged = [] if force else [
            j for j in todo if is_current(config, previous, j) and j.key not in due
        ]
        pending = [j for j in todo if j not in unchanged]
        if pending:
            check_writable({config.build_dir / j.brief_id for j in pending},
                           _estimated_bytes(config.build_dir, pending))
        results = _render_all(config, project, pending, jobs, progress)
        built = [r for r in results if isinstance(r, Target)]
        failed = [r for r in results if isinstance(r, Failure)]
        jobs_by_label = {j.label: j for j in pending}  # one variant per target in a build
        write_targets(config, project, [(t, jobs_by_label[f"{t.brief_id}/{t.audience}"])
                                        for t in built], succeeded=not failed)
        if fingerprint is not None and not failed:
            fingerprint.record([j.key for j in todo], notes,
                               {path: sha for j in todo for path, sha in j.read})
    return BuildResult(built, unchanged, failed)


def _render_all(
    config: Config, project: Project, pending: list[Job], jobs: int,
    progress: Callable[[int, int], None] | None,
) -> list[Target | Failure]:
    """Render the pending targets in the job engine (workers.run_jobs), each with the
    project loaded and a template environment made once, before any worker is forked."""
    if not pending:
        return []
    render = partial(render_target, config, project, make_environment(config))
    with render_session():
        return run_jobs(render, config.timeout, pending, jobs, progress)
