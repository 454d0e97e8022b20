"""Is there nothing to build? Answered without loading the project.

A build that succeeds records a fingerprint of everything that can change its outcome:
every file of the project's config, sources, briefs, templates, places and archive; the
files its targets read from elsewhere in the project (images a note or template names:
inputs.target_files, recorded by the build, hashed again here); the policybrief
package's own files; the installed distributions and their versions; the build's
options. A later build with the same options that finds the same fingerprint, and every
artifact and claims.json in place with its recorded hash, has a known outcome: the same
warnings, every target unchanged. It reports that without reading YAML, importing the
models or WeasyPrint: in a small fraction of the time a full check takes.

The state file, build/.policybrief-state.json, is written with output.write_files and,
like the manifest, read back as untrusted input: what is not as written here is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from . import boundary
from .config import Config
from .errors import OutputError
from .output import (
    JOURNAL,
    confine,
    intact_claims,
    listed_intact,
    read_json,
    read_manifest,
    write_files,
)

log = logging.getLogger(__name__)

STATE = ".policybrief-state.json"  # in build/; not an artifact, not in the manifest
_KEEP = 16  # fingerprints kept: one per set of build options recently used
PACKAGE = Path(__file__).parent
PLACES = "places.yaml"  # load.PLACES_FILE (load.py imports pydantic: not here)


def input_files(folder: Path, inside: Path) -> list[Path]:
    """Regular files under folder that resolve inside `inside`, sorted (no __pycache__).

    A link out of the project, a device (a link to /dev/zero) or a FIFO is never read:
    the templates loader refuses them anyway, and reading one would never end.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.resolve().is_relative_to(inside) and boundary.regular(path):
                found.append(path)
    return found


def folders(config: Config) -> list[Path]:
    """The folders whose files a build may read: the project, the package, the archive."""
    return [config.root, PACKAGE, *([config.archive] if config.archive else [])]


def file_hash(path: Path, within: list[Path]) -> str:
    """SHA-256 of a file as boundary.hashed gives it (its bytes, or a mark for a file
    missing or refused: a link out of `within`, a device): what the input digest and the
    fingerprint know of a file."""
    return hashlib.sha256(boundary.hashed(path, within)).hexdigest()


def environment(config: Config) -> dict[str, str]:
    """What a build takes from its process rather than from files: SOURCE_DATE_EPOCH
    (the PDFs' dates, as the config read it) and the Python version."""
    epoch = config.source_date_epoch
    return {"epoch": "" if epoch is None else str(epoch), "python": sys.version}


def shared_inputs(config: Config) -> list[Path]:
    """The project's files that every target reads, whatever its brief: the config,
    places.yaml, everything in templates/ (templates, stylesheets, brand.toml with the
    logo and fonts it names, images), the label catalogs in labels/ and a CSL style
    file. A link in templates/ or labels/ counts if it resolves inside the project: the
    renderer may follow it there."""
    paths = [config.config_file, config.root / PLACES]
    paths += input_files(config.templates_dir, config.root.resolve())
    paths += input_files(config.labels_dir, config.root.resolve())
    if config.citation_style.endswith(".csl"):
        paths.append(config.root / config.citation_style)
    return paths


@cache
def _distributions() -> list[str]:
    """Installed distributions with their versions (from the .dist-info folder names)."""
    names: set[str] = set()
    for entry in sys.path:
        try:
            names.update(n for n in os.listdir(entry or ".") if n.endswith(".dist-info"))
        except OSError:
            continue
    return sorted(names)


def installed_versions(names: tuple[str, ...]) -> str:
    """'name=version ...' for the named distributions ('?' if not installed), read from
    the .dist-info folder names already listed for the fingerprint (importlib.metadata
    would parse each distribution's METADATA file again)."""
    def normal(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    found: dict[str, str] = {}
    for entry in _distributions():
        name, _, version = entry.removesuffix(".dist-info").rpartition("-")
        found.setdefault(normal(name), version)
    return " ".join(f"{name}={found.get(normal(name), '?')}" for name in names)


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint of a build's inputs, under the key of its options."""

    config: Config
    options: str
    digest: str
    hashed: frozenset[Path] = frozenset()  # the files in the digest

    @classmethod
    def of(cls, config: Config, brief_ids: tuple[str, ...], audiences: tuple[str, ...],
           archival: bool, shard: tuple[int, int]) -> Fingerprint:
        """Hash every input of a build with these options (milliseconds: no parsing)."""
        options = json.dumps({
            "briefs": sorted(brief_ids), "audiences": sorted(audiences), "archival": archival,
            "shard": list(shard), "strict": config.strict,
            "archive": str(config.archive or ""), "formats": list(config.formats or ()),
            **environment(config),
        }, sort_keys=True)
        digest = hashlib.sha256(options.encode())
        root = config.root.resolve()
        paths = shared_inputs(config)  # and all sources and briefs, which the check reads
        for folder in (config.sources_dir, config.briefs_dir):
            paths += input_files(folder, root)
        if config.archive:
            paths += input_files(config.archive, config.archive.resolve())
        paths += input_files(PACKAGE, PACKAGE.resolve())
        inside = folders(config)
        for path in paths:
            digest.update(f"{path}\0{file_hash(path, inside)}\n".encode())
        digest.update("\n".join(_distributions()).encode())
        return cls(config, options, digest.hexdigest(), frozenset(paths))

    def _state(self) -> dict[str, Any]:
        """The recorded outcomes (options -> entry) that are as `record` writes them."""
        try:
            data = read_json(self.config.build_dir / STATE)
        except ValueError as exc:
            log.debug("%s: %s; ignored", self.config.build_dir / STATE, exc)
            return {}
        return {options: entry for options, entry in data.items() if _sound(entry)} if (
            isinstance(data, dict)) else {}

    def replay(self) -> list[str] | None:
        """If nothing changed since a successful build with these options: log its
        warnings again and return its targets' labels (all unchanged). Else None (then
        the build itself reports a link out of the project or undoes a commit)."""
        build_dir = self.config.build_dir
        try:
            confine(self.config.root, [build_dir])
        except OutputError:
            return None
        entry = self._state().get(self.options)
        if entry is None or entry["fingerprint"] != self.digest or os.path.lexists(
                build_dir / JOURNAL):
            return None
        inside = folders(self.config)
        if any(file_hash(Path(path), inside) != sha for path, sha in entry["read"].items()):
            return None  # a file the targets read, outside the folders hashed above
        labels = entry["targets"]
        manifest = read_manifest(build_dir)
        claims = intact_claims(build_dir, manifest)
        briefs = {label.split("/", 1)[0] for label in labels}
        if any(brief not in claims for brief in briefs):
            return None  # a claims.json missing or changed (or an older manifest)
        try:
            confine(self.config.root, [build_dir / brief for brief in briefs])
        except OutputError:
            return None
        for label in labels:
            listed = manifest["artifacts"].get(label)
            if listed is None or not listed_intact(build_dir, listed):
                return None
        for warning in entry.get("warnings", []):
            log.warning("%s", warning)
        return list(labels)

    def record(self, labels: list[str], warnings: list[str], read: dict[Path, str]) -> None:
        """Remember a successful build's outcome under this fingerprint, with the files
        its targets `read` (their hashes as the targets' digests saw them) that the
        fingerprint does not hash already."""
        state = self._state()
        state.pop(self.options, None)
        state[self.options] = {
            "fingerprint": self.digest, "targets": sorted(labels), "warnings": warnings,
            "read": {str(p): sha for p, sha in sorted(read.items()) if p not in self.hashed},
        }
        kept = dict(list(state.items())[-_KEEP:])
        text = json.dumps(kept, indent=1, ensure_ascii=False) + "\n"
        write_files({self.config.build_dir / STATE: text.encode("utf-8")})


def _sound(entry: Any) -> bool:
    """Whether a state file's entry is as Fingerprint.record writes it."""
    return (isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
            and all(isinstance(entry.get(k), list)
                    and all(isinstance(v, str) for v in entry[k])
                    for k in ("targets", "warnings"))
            and isinstance(entry.get("read"), dict)
            and all(isinstance(v, str) for v in entry["read"].values()))
