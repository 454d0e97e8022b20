"""The pipeline: load -> validate -> curate -> render -> write. Reads everything first."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cite import format_citations
from .config import Config
from .curate import CuratedBrief, curate
from .errors import BudgetError, InputError, Problem, RenderError
from .evidence import check_evidence, claims
from .load import Project, load_project
from .output import previous_outputs, sha256, write_outputs
from .render import Attachment, Rendered, render_html, render_pdf
from .templating import make_environment
from .validate import validate_project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One output: a brief rendered for one audience."""

    brief_id: str
    audience: str
    rendered: Rendered
    claims: dict[str, Any]  # the claim map (claims.json) of this target


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
        raise click.UsageError(f"unknown brief {unknown[0]!r}; briefs in this project: {known}")
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
        files.append(Attachment(
            f"{source.id}.yaml", path.read_bytes(), f"Source notes: {source.title}"
        ))
    return tuple(files)


def build(
    config: Config, brief_ids: tuple[str, ...] = (), audiences: tuple[str, ...] = (),
    archival_all: bool = False,
) -> list[Target]:
    """Build the selected briefs (all by default) for each of their (selected) audiences."""
    project, _ = check_project(config)
    unknown = [a for a in audiences if a not in config.audiences]
    if unknown:
        raise click.UsageError(
            f"unknown audience {unknown[0]!r}; audiences: {', '.join(config.audiences)}"
        )
    env = make_environment(config)
    targets: list[Target] = []
    for brief_id in _select(project, brief_ids):
        brief = project.briefs[brief_id].model
        for name in brief.audiences:
            if audiences and name not in audiences:
                continue
            label = f"{brief_id}/{name}"
            curated = curate(project, brief, config.audiences[name])
            citations = format_citations(curated, config)
            if citations.warnings and config.strict:
                raise RenderError(f"{label}: " + "; ".join(citations.warnings) + " (--strict)")
            for warning in citations.warnings:
                log.warning("%s: %s", label, warning)
            by_id = {s.id: s for s in curated.references}
            curated = dataclasses.replace(  # the bibliography in the style's order
                curated, references=[by_id[i] for i in citations.order if i in by_id]
            )
            html = render_html(env, curated, citations, config)
            claim_map = claims(brief_id, curated, citations)
            archival = archival_all or config.audiences[name].archival
            rendered = render_pdf(
                html, config, label=label, archival=archival, as_of=brief.as_of,
                attachments=evidence_files(project, curated, claim_map) if archival else (),
            )
            for warning in rendered.warnings:
                log.warning("%s: WeasyPrint: %s", label, warning)
            check_budget(label, curated, rendered.pages, config.strict)
            targets.append(Target(brief_id, name, rendered, claim_map))
    # Everything rendered without error: only now touch build/.
    for brief_id in dict.fromkeys(t.brief_id for t in targets):
        write_brief(config, project, brief_id, [t for t in targets if t.brief_id == brief_id])
    return targets


def write_brief(config: Config, project: Project, brief_id: str, targets: list[Target]) -> Path:
    """Write a brief's PDFs, HTML and manifest.json under build/<brief-id>/."""
    brief = project.briefs[brief_id].model
    folder = config.build_dir / brief_id
    files: dict[str, bytes] = {}
    # A build narrowed with -a keeps the other audiences' entries (if still listed).
    outputs = {k: v for k, v in previous_outputs(folder).items() if k in brief.audiences}
    for target in targets:
        pdf_name, html_name = f"{target.audience}.pdf", f"{target.audience}.html"
        files[pdf_name] = target.rendered.pdf
        files[html_name] = target.rendered.html.encode("utf-8")
        outputs[target.audience] = {
            "pdf": pdf_name,
            "html": html_name,
            "pages": target.rendered.pages,
            "sha256": sha256(target.rendered.pdf),
            "template": config.audiences[target.audience].template,
        }
    # The claim map of the fullest target: the first with footnotes (the analyst's).
    full = next((t for t in targets if config.audiences[t.audience].citations == "footnotes"),
                targets[0])
    files["claims.json"] = (
        json.dumps(full.claims, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    ).encode("utf-8")
    manifest = {
        "brief": brief_id,
        "title": brief.title,
        "as_of": brief.as_of.isoformat(),
        "status": brief.status,
        "generator": f"policybrief {__version__}",
        "outputs": dict(sorted(outputs.items())),
    }
    write_outputs(folder, files, manifest)
    return folder
