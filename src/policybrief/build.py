"""The pipeline: load -> validate -> curate -> render -> write. Reads everything first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import click

from . import __version__
from .config import Config
from .curate import curate
from .errors import InputError, Problem
from .load import Project, load_project
from .output import sha256, write_outputs
from .render import Rendered, render_html, render_pdf
from .templating import make_environment
from .validate import validate_project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One output: a brief rendered for one audience."""

    brief_id: str
    audience: str
    rendered: Rendered


def check_project(
    config: Config, consequence: str = "nothing was built"
) -> tuple[Project, list[Problem]]:
    """Load and validate; log every problem; raise if any is an error (or any, if strict)."""
    project, problems = load_project(config)
    problems += validate_project(project)
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


def build(config: Config, brief_ids: tuple[str, ...] = ()) -> list[Target]:
    """Build the selected briefs (all by default) for each of their audiences."""
    project, _ = check_project(config)
    env = make_environment(config)
    targets: list[Target] = []
    for brief_id in _select(project, brief_ids):
        brief = project.briefs[brief_id].model
        curated = curate(project, brief)
        for audience in brief.audiences:
            label = f"{brief_id}/{audience}"
            html = render_html(env, curated, config.audiences[audience], config)
            rendered = render_pdf(html, config, label=label)
            for warning in rendered.warnings:
                log.warning("%s: WeasyPrint: %s", label, warning)
            targets.append(Target(brief_id, audience, rendered))
    # Everything rendered without error: only now touch build/.
    for brief_id in dict.fromkeys(t.brief_id for t in targets):
        write_brief(config, project, brief_id, [t for t in targets if t.brief_id == brief_id])
    return targets


def write_brief(config: Config, project: Project, brief_id: str, targets: list[Target]) -> Path:
    """Write a brief's PDFs, HTML and manifest.json under build/<brief-id>/."""
    brief = project.briefs[brief_id].model
    files: dict[str, bytes] = {}
    outputs = {}
    for target in targets:
        pdf_name, html_name = f"{target.audience}.pdf", f"{target.audience}.html"
        files[pdf_name] = target.rendered.pdf
        files[html_name] = target.rendered.html.encode("utf-8")
        outputs[target.audience] = {
            "pdf": pdf_name,
            "html": html_name,
            "pages": target.rendered.pages,
            "sha256": sha256(target.rendered.pdf),
            "template": config.audiences[target.audience],
        }
    manifest = {
        "brief": brief_id,
        "title": brief.title,
        "as_of": brief.as_of.isoformat(),
        "status": brief.status,
        "generator": f"policybrief {__version__}",
        "outputs": outputs,
    }
    folder = config.build_dir / brief_id
    write_outputs(folder, files, manifest)
    return folder
