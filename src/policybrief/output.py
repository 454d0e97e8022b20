"""The only module that writes under build/: atomic writes, the build lock, the manifest
(its format, and which target each brief's claims.json comes from)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import string
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import OutputError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CLAIMS = "claims.json"  # build/<brief-id>/claims.json, recorded under "claims"
_CLAIMS_KEYS = ("path", "target", "citations", "sha256")
# Temporary files are ".<name>.<8 random characters>.tmp" beside their target.
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_ALPHABET = string.ascii_letters + string.digits + "_"


def _failed(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}")


def _write_temp(path: Path, data: bytes, temps: list[tuple[str, Path]]) -> None:
    """Write data to a synced temporary file beside path, listed in `temps` before it
    exists: an interruption at any moment leaves no temporary that nobody knows of."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failed(path.parent, exc) from exc
    for _ in range(100):
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        tmp = str(path.parent / f".{path.name}.{suffix}.tmp")
        temps.append((tmp, path))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            break
        except FileExistsError:
            temps.pop()  # someone else's file: not ours to remove
        except OSError as exc:
            temps.pop()
            raise _failed(path.parent, exc) from exc
    else:
        raise OutputError(f"{path.parent}: cannot write: no free temporary name")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # whatever the umask
    except OSError as exc:
        raise _failed(path, exc) from exc


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they arrive just after) while files are renamed, or
    while a temporary folder is made and recorded, or removed."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_files(files: dict[Path, bytes]) -> None:
    """Write files so that each is either its old version or its complete new one.

    Every file is first written and synced to a temporary file beside its target; a full
    disk, an error or an interruption then removes the temporaries and changes nothing.
    Only when all are on disk are they renamed into place, in the given order (so a
    manifest given last never lists a file that is not there), with SIGINT and SIGTERM
    held until the renames are done.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            _write_temp(path, data, temps)
        with signals_held():
            while temps:
                tmp, path = temps[0]
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _failed(path, exc) from exc
                temps.pop(0)
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write one file atomically (see write_files)."""
    write_files({path: data})


def sha256(data: bytes) -> str:
    """Hex digest used in manifests."""
    return hashlib.sha256(data).hexdigest()


def read_manifest(build_dir: Path) -> dict[str, Any]:
    """The last build's manifest (empty if none or unreadable)."""
    try:
        data = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def manifest_files(
    build_dir: Path, generator: str, tools: str, artifacts: dict[str, Any],
    claims: dict[str, Any],
) -> dict[Path, bytes]:
    """build/manifest.json and build/SHA256SUMS (the format `sha256sum -c` reads), from
    the artifact entries (keyed by '<brief-id>/<audience>') and each brief's claims.json
    record. A build and a merge both write through this, so they write the same."""
    ordered = dict(sorted(artifacts.items()))
    manifest = {"generator": generator, "tools": tools, "artifacts": ordered,
                "claims": dict(sorted(claims.items()))}
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    sums = "".join(f"{a['sha256']}  {a['pdf']}\n" for a in ordered.values())
    return {
        build_dir / MANIFEST: text.encode("utf-8"),
        build_dir / SUMS: sums.encode("utf-8"),
    }


def claims_record(brief_id: str, target: str, citations: str, data: bytes) -> dict[str, Any]:
    """The manifest's record of a brief's claims.json: the target ('<brief-id>/<audience>')
    whose claim map it holds, that target's citation mode, and the file's hash."""
    return {"path": f"{brief_id}/{CLAIMS}", "target": target, "citations": citations,
            "sha256": sha256(data)}


def preferred_claims(records: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """Of several targets of one brief (claims records), the one whose claim map the
    brief's claims.json holds: the first, by label, that cites in footnotes (the analyst's,
    the fullest map), else the first. On a tie, the first record given. The one rule for
    full, incremental and sharded builds and for merges: the preferred of each part's
    preferred is the preferred of all, so shards merge into what one build writes."""
    return min(records, key=lambda r: (r["citations"] != "footnotes", r["target"]),
               default=None)


def intact_claims(build_dir: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's claims records (brief id -> record) that are well formed and whose
    claims.json is on disk with the recorded hash; an older manifest has none."""
    records = manifest.get("claims")
    intact: dict[str, dict[str, Any]] = {}
    for brief_id, record in (records.items() if isinstance(records, dict) else ()):
        if not (isinstance(record, dict)
                and all(isinstance(record.get(k), str) for k in _CLAIMS_KEYS)
                and record["path"] == f"{brief_id}/{CLAIMS}"
                and record["target"].startswith(f"{brief_id}/")):
            continue
        try:
            data = (build_dir / record["path"]).read_bytes()
        except OSError:
            continue
        if sha256(data) == record["sha256"]:
            intact[brief_id] = record
    return intact


@contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """One build of a project at a time: an exclusive lock on the project folder itself
    (no lock file to leave behind). A second build waits, then finds the work done."""
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another build of this project to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock (forked workers have exited by then)


def remove_stale_temporaries(build_dir: Path) -> None:
    """Temporary files of a build that was killed (SIGKILL, power loss); call under the lock."""
    if build_dir.is_dir():
        for path in build_dir.rglob(".*.tmp"):
            if _TEMP.match(path.name) and path.is_file():
                log.debug("removing %s, left by an interrupted build", path)
                path.unlink(missing_ok=True)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(folders: Iterable[Path], needed: int) -> None:
    """Fail before rendering if an output folder cannot be written or the disk is full:
    a file in the way, no permission, or less free space than `needed` bytes."""
    checked: set[Path] = set()
    for folder in folders:
        place = _existing(folder)
        if place in checked:
            continue
        checked.add(place)
        if not place.is_dir():
            raise _failed(place, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
        try:
            fd, probe = tempfile.mkstemp(dir=place, prefix=".probe.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise _failed(place, exc) from exc
        free = shutil.disk_usage(place).free
        if free < needed:
            raise OutputError(
                f"{place}: cannot write: {free / 1e6:.1f} MB free, about {needed / 1e6:.1f} MB "
                "needed; free some space and build again (earlier outputs are unchanged)"
            )
