"""`brief manifest merge`: the build folders of `brief build --shard K/N` into one build
folder, with one manifest.json and SHA256SUMS, the same as one full build writes.

It reads manifests and the files they list, never the project's briefs or sources, and
needs no WeasyPrint; web editions merged get build/_web/ and index.html from the
project's brand and templates (web.web_files, as a build writes them).
Every shard is checked before anything is written: its manifest, the versions it was
built with, that no target is in two shards, that every listed file is there and every
PDF and claims.json has its recorded hash. Then output.write_files writes the merged
folder, manifest last. Each brief's claims.json comes from the shard whose recorded
target output.preferred_claims picks, the rule a build follows.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .boundary import regular
from .config import Config
from .errors import MergeError, OutputError, printable
from .output import (
    EDITIONS,
    MANIFEST,
    artifact_problem,
    check_writable,
    claims_problem,
    confine,
    manifest_files,
    preferred_claims,
    project_lock,
    read_json,
    remove_stale_temporaries,
    sha256,
    write_files,
)

log = logging.getLogger(__name__)

REBUILD = "rebuild this shard (or download it again)"


@dataclass
class Shard:
    """One build folder to merge: its manifest's contents, and the files it lists."""

    folder: Path
    generator: str = ""
    tools: str = ""
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # path in the folder -> bytes

    @property
    def manifest(self) -> Path:
        """The folder's manifest.json, as messages name it."""
        return self.folder / MANIFEST


@dataclass(frozen=True)
class Merged:
    """What a merge wrote: each PDF (relative to the merged folder), and where from."""

    into: Path
    pdfs: list[tuple[str, Path]]


def _read_manifest(folder: Path, problems: list[str]) -> Shard | None:
    """A shard's manifest, checked for form; None (and a problem) if it cannot be used."""
    shard = Shard(folder)
    path = shard.manifest
    if not folder.is_dir():
        problems.append(f"{folder}: not a folder; name the build folders to merge")
        return None
    if not regular(path):
        problems.append(f"{folder}: no {MANIFEST}, so not a build folder; name the folders "
                        "that `brief build` wrote (one per --shard K/N)")
        return None
    try:
        data = read_json(path)
    except ValueError as exc:
        problems.append(f"{path}: not a readable manifest ({exc}); {REBUILD}")
        return None
    if not isinstance(data, dict) or not isinstance(data.get("artifacts"), dict):
        problems.append(f"{path}: not a policybrief manifest (no artifacts); {REBUILD}")
        return None
    if not isinstance(data.get("generator"), str) or not isinstance(data.get("tools"), str):
        problems.append(f"{path}: no generator or tools versions; {REBUILD}")
        return None
    if not isinstance(data.get("claims"), dict):
        problems.append(
            f"{path}: no record of which target each claims.json came from (written by an "
            f"older policybrief); rebuild this shard with policybrief {__version__}"
        )
        return None
    shard.generator, shard.tools = data["generator"], data["tools"]
    for label, entry in sorted(data["artifacts"].items()):
        problem = artifact_problem(label, entry)
        if problem:
            problems.append(f"{path}: artifacts.{label}: {problem}; {REBUILD}")
        else:
            shard.artifacts[label] = entry
    for brief, record in sorted(data["claims"].items()):
        problem = claims_problem(brief, record) or (
            None if record["target"] in shard.artifacts else
            f"target: {record['target']!r} is not one of this folder's targets of {brief}")
        if problem:
            problems.append(f"{path}: claims.{brief}: {problem}; {REBUILD}")
        else:
            shard.claims[brief] = record
    for brief in sorted({e["brief"] for e in shard.artifacts.values()} - set(data["claims"])):
        problems.append(f"{path}: claims: no claims.json recorded for brief {brief!r}; "
                        f"{REBUILD}")
    return shard


def _read(shard: Shard, relpath: str, sha: str | None, problems: list[str]) -> None:
    """Read one listed file into shard.files, checking its hash when one is recorded."""
    path = shard.folder / relpath
    inside = path.resolve().is_relative_to(shard.folder.resolve())
    try:
        data = path.read_bytes() if inside and regular(path) else None
    except OSError:
        data = None
    if data is None:
        problems.append(f"{path}: listed in {shard.manifest} but missing; {REBUILD}")
    elif sha is not None and sha256(data) != sha:
        problems.append(
            f"{path}: sha256 {sha256(data)[:12]}..., but {shard.manifest} records "
            f"{sha[:12]}...: damaged or changed since it was built; {REBUILD}"
        )
    else:
        shard.files[relpath] = data


def _tools_difference(mine: str, theirs: str) -> str:
    """'weasyprint=66.0 here, 65.1 there' for each library whose versions differ."""
    a = dict(p.partition("=")[::2] for p in mine.split())
    b = dict(p.partition("=")[::2] for p in theirs.split())
    diffs = [f"{n}={a.get(n, 'none')} here, {b.get(n, 'none')} there"
             for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]
    return ", ".join(diffs) or f"{mine!r} here, {theirs!r} there"


def check_shards(folders: list[Path]) -> list[Shard]:
    """Read and check every folder to merge; raise MergeError naming every problem."""
    problems: list[str] = []
    shards = [s for s in (_read_manifest(f, problems) for f in folders) if s is not None]
    first = shards[0] if shards else None
    owner: dict[str, Shard] = {}
    for shard in shards:
        if first is not None and shard is not first:
            if shard.generator != first.generator:
                problems.append(
                    f"{shard.manifest}: built by {shard.generator}, but {first.manifest} by "
                    f"{first.generator}; build every shard with the same policybrief"
                )
            elif shard.tools != first.tools:
                problems.append(
                    f"{shard.manifest}: tools differ from {first.manifest}: "
                    f"{_tools_difference(shard.tools, first.tools)}; build every shard "
                    "with the same library versions"
                )
        for label in shard.artifacts:
            if label in owner:  # even with the same bytes: see the README
                problems.append(
                    f"{shard.manifest}: target {label!r} is also in {owner[label].manifest}; "
                    "a target belongs to one shard: merge each shard's folder once, and "
                    "build shards into fresh folders"
                )
            else:
                owner[label] = shard
        for entry in shard.artifacts.values():
            _read(shard, entry["pdf"], entry["sha256"], problems)
            _read(shard, entry["html"], None, problems)
            for edition in EDITIONS.keys() & entry.keys():  # Word, web
                _read(shard, entry[edition]["path"], entry[edition]["sha256"], problems)
        for record in shard.claims.values():
            _read(shard, record["path"], record["sha256"], problems)
    for problem in problems:
        log.error("%s", printable(problem))
    if problems:
        n = len(problems)
        raise MergeError(f"{n} problem{'s' * (n != 1)} in the folders to merge; "
                         "nothing was written")
    return shards


def merge_builds(folders: list[Path], into: Path,
                 within: tuple[Path, str] | None = None, config: Config | None = None) -> Merged:
    """Merge shard build folders into `into`: their artifacts, each brief's preferred
    claims.json, one manifest.json and SHA256SUMS (written last). Nothing is written
    through a link out of `within` (a folder, and how messages name it; by default
    `into` itself), and a merge into `into` that was killed is first undone. Web
    editions merged get build/_web/ and build/index.html written as a build writes them,
    from the project's `config` (its brand and templates), which they then need."""
    base, where = within or (into, str(into))
    lock = project_lock(into.parent) if into.parent.is_dir() else contextlib.nullcontext()
    with lock:
        confine(base, [into], where)
        remove_stale_temporaries(into)
        return _merge(check_shards(folders), into, base, where, config)


def _merge(shards: list[Shard], into: Path, base: Path, where: str,
           config: Config | None) -> Merged:
    if (into / MANIFEST).exists() and into.resolve() not in {
            s.folder.resolve() for s in shards}:
        raise OutputError(
            f"{into / MANIFEST}: another build is already there; merge into a new folder "
            f"(--into DIR), or name {into} among the folders to merge"
        )
    files: dict[Path, bytes] = {}
    artifacts: dict[str, Any] = {}
    pdfs: list[tuple[str, Path]] = []
    for shard in shards:
        for label, entry in shard.artifacts.items():
            artifacts[label] = entry
            pdfs.append((entry["pdf"], shard.folder))
            for key in ("pdf", "html"):
                files[into / entry[key]] = shard.files[entry[key]]
            for edition in EDITIONS.keys() & entry.keys():  # Word, web
                files[into / entry[edition]["path"]] = shard.files[entry[edition]["path"]]
    claims: dict[str, Any] = {}
    for brief in sorted({b for s in shards for b in s.claims}):
        offers = [(s.claims[brief], s) for s in shards if brief in s.claims]
        best = preferred_claims(record for record, _ in offers)
        record, shard = next(offer for offer in offers if offer[0] is best)
        claims[brief] = record
        files[into / record["path"]] = shard.files[record["path"]]
    if any("web" in entry for entry in artifacts.values()):
        if config is None:
            raise MergeError("the folders hold web editions, whose build/_web/ and "
                             "index.html are made from the project's brand and templates: "
                             "run the merge inside the project, or pass --project DIR")
        from .templating import make_environment  # Jinja2, only for web editions
        from .web import web_files

        files.update(web_files(config, make_environment(config), artifacts, into))
    first = shards[0]
    files.update(manifest_files(into, first.generator, first.tools, artifacts, claims))
    confine(base, {p.parent for p in files}, where)
    check_writable({p.parent for p in files}, 2 * sum(len(d) for d in files.values()))
    write_files(files)  # the manifest and SHA256SUMS last
    return Merged(into, sorted(pdfs))
