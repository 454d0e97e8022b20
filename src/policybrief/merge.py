"""`brief manifest merge`: the build folders of `brief build --shard K/N` into one build
folder, with one manifest.json and SHA256SUMS, the same as one full build writes.

It reads manifests and the files they list, never the project, and needs no WeasyPrint.
Every shard is checked before anything is written: its manifest, the versions it was
built with, that no target is in two shards, that every listed file is there and every
PDF and claims.json has its recorded hash. Then output.write_files writes the merged
folder, manifest last. Each brief's claims.json comes from the shard whose recorded
target output.preferred_claims picks, the rule a build follows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .errors import MergeError, OutputError, printable
from .fastpath import regular
from .output import (
    CLAIMS,
    MANIFEST,
    check_writable,
    manifest_files,
    preferred_claims,
    project_lock,
    sha256,
    write_files,
)

log = logging.getLogger(__name__)

# models.SLUG, the form of brief ids and audience names; not imported from models, which
# imports pydantic. A test keeps the two equal.
SLUG = r"^[a-z0-9][a-z0-9-]*$"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
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


def _name(value: Any) -> bool:
    return isinstance(value, str) and re.match(SLUG, value) is not None


def _entry_problem(label: str, entry: Any) -> str | None:
    """What is wrong with one artifact entry, if anything (paths are checked to be
    <brief-id>/<audience>.pdf and .html: a manifest cannot make the merge write
    elsewhere)."""
    if not isinstance(entry, dict):
        return "is not a table"
    brief, audience = entry.get("brief"), entry.get("audience")
    if not (_name(brief) and _name(audience) and label == f"{brief}/{audience}"):
        return "brief and audience do not make a valid '<brief-id>/<audience>' label"
    for key, suffix in (("pdf", ".pdf"), ("html", ".html")):
        if entry.get(key) != f"{label}{suffix}":
            return f"{key}: {entry.get(key)!r} is not {label + suffix!r}"
    if not (isinstance(entry.get("sha256"), str) and _HEX64.match(entry["sha256"])):
        return "sha256: not a SHA-256 hex digest"
    if type(entry.get("bytes")) is not int:
        return "bytes: not a whole number"
    return None


def _claims_problem(brief: str, record: Any, artifacts: dict[str, Any]) -> str | None:
    """What is wrong with one brief's claims.json record, if anything."""
    if not isinstance(record, dict):
        return "is not a table"
    if record.get("path") != f"{brief}/{CLAIMS}":
        return f"path: {record.get('path')!r} is not '{brief}/{CLAIMS}'"
    if record.get("target") not in artifacts or not str(record["target"]).startswith(
            f"{brief}/"):
        return f"target: {record.get('target')!r} is not one of this folder's targets of {brief}"
    if not isinstance(record.get("citations"), str):
        return "citations: not a citation mode"
    if not (isinstance(record.get("sha256"), str) and _HEX64.match(record["sha256"])):
        return "sha256: not a SHA-256 hex digest"
    return None


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
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
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
        problem = _entry_problem(label, entry)
        if problem:
            problems.append(f"{path}: artifacts.{label}: {problem}; {REBUILD}")
        else:
            shard.artifacts[label] = entry
    for brief, record in sorted(data["claims"].items()):
        problem = _claims_problem(brief, record, shard.artifacts)
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
        for record in shard.claims.values():
            _read(shard, record["path"], record["sha256"], problems)
    for problem in problems:
        log.error("%s", printable(problem))
    if problems:
        n = len(problems)
        raise MergeError(f"{n} problem{'s' * (n != 1)} in the folders to merge; "
                         "nothing was written")
    return shards


def merge_builds(folders: list[Path], into: Path) -> Merged:
    """Merge shard build folders into `into`: their artifacts, each brief's preferred
    claims.json, one manifest.json and SHA256SUMS (written last)."""
    shards = check_shards(folders)
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
    claims: dict[str, Any] = {}
    for brief in sorted({b for s in shards for b in s.claims}):
        offers = [(s.claims[brief], s) for s in shards if brief in s.claims]
        best = preferred_claims(record for record, _ in offers)
        record, shard = next(offer for offer in offers if offer[0] is best)
        claims[brief] = record
        files[into / record["path"]] = shard.files[record["path"]]
    first = shards[0]
    files.update(manifest_files(into, first.generator, first.tools, artifacts, claims))
    lock = project_lock(into.parent) if into.parent.is_dir() else contextlib.nullcontext()
    with lock:
        check_writable({p.parent for p in files}, 2 * sum(len(d) for d in files.values()))
        write_files(files)  # the manifest and SHA256SUMS last
    return Merged(into, sorted(pdfs))
