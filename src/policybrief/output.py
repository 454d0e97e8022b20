"""The only module that writes under build/: the commit of a set of outputs (all old or
all new, whatever fails), the build lock, the refusal of links out of the project, the
manifest (its format, and which target each brief's claims.json comes from), and the
reading back of what the build wrote, which is treated as untrusted input."""

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
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .boundary import open_written, read_written
from .errors import ConfigError, OutputError, display_path

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CLAIMS = "claims.json"  # build/<brief-id>/claims.json, recorded under "claims"
# The commit in progress, in the folder that holds its files (build/); see write_files.
JOURNAL = ".policybrief-commit.tmp"
# The largest manifest, state file or journal read back: about 30000 targets' entries.
MAX_JSON = 16 * 2**20
# models.SLUG, the form of brief ids and audience names; not imported from models, which
# imports pydantic. A test keeps the two equal.
SLUG = r"^[a-z0-9][a-z0-9-]*$"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
ARCHIVAL = ".pdfa"  # the archival (PDF/A-3) variant: build/<brief-id>/<audience>.pdfa.pdf
# Temporary files are ".<name>.<8 random characters>.tmp" beside their target.
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_ALPHABET = string.ascii_letters + string.digits + "_"


def _failed(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}")


def _free_name(path: Path) -> Path:
    """A temporary name beside path (not claimed: see _write_temp for that)."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return path.parent / f".{path.name}.{suffix}.tmp"


def _write_temp(path: Path, data: bytes, temps: list[tuple[str, Path]]) -> None:
    """Write data to a synced temporary file beside path, listed in `temps` before it
    exists: an interruption at any moment leaves no temporary that nobody knows of."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failed(path.parent, exc) from exc
    for _ in range(100):
        tmp = str(_free_name(path))
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


def _sync_folder(folder: Path) -> None:
    """Make the renames in a folder durable (a power loss cannot undo them)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file, or a folder (a backup of a folder found where an output goes)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Step:
    """One file of a commit: its temporary renamed to path, after the old file (if
    `existed`) was renamed to backup. The journal records each step before any runs."""

    path: Path
    temporary: Path
    backup: Path
    existed: bool

    def run(self) -> None:
        if self.existed:
            os.replace(self.path, self.backup)
        os.replace(self.temporary, self.path)

    def undo(self) -> None:
        """Put the old file back, whether the step ran, ran halfway or not at all (the
        temporary is there until it is renamed, the backup from when it is made)."""
        if self.existed:
            if os.path.lexists(self.backup):
                if self.backup.is_dir() and not self.backup.is_symlink():
                    self.path.unlink(missing_ok=True)  # a file is not renamed over a folder
                os.replace(self.backup, self.path)
        elif not os.path.lexists(self.temporary):
            self.path.unlink(missing_ok=True)  # renamed in: it was not there before
        self.temporary.unlink(missing_ok=True)

    def record(self, folder: Path) -> dict[str, Any]:
        return {"path": self.path.relative_to(folder).as_posix(),
                "temporary": self.temporary.name, "backup": self.backup.name,
                "existed": self.existed}


def write_files(files: dict[Path, bytes]) -> None:
    """Replace a set of outputs so that, whatever fails, the set on disk is all old or
    all new (so SHA256SUMS and the manifest always match the files).

    Every file is first written and synced to a temporary file beside its target; a full
    disk, an error or an interruption then removes the temporaries and changes nothing.
    Then the journal (JOURNAL, in the folder that holds the files) records each step, and
    the steps run in the given order (so a manifest given last never lists a file that is
    not there), with SIGINT and SIGTERM held: each old file (or whatever is at its name:
    a folder, a link) is renamed to a backup beside it, then the temporary to its name.
    If a rename fails, the steps done are undone from the backups; if the build is killed
    (SIGKILL, power loss), the next build undoes them from the journal
    (remove_stale_temporaries). Once every rename is on disk, the journal goes, then the
    backups. The caller holds the project lock and has undone any earlier commit.
    """
    if not files:
        return
    folder = Path(os.path.commonpath([p.parent for p in files]))
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            _write_temp(path, data, temps)
        steps = [_Step(path, Path(tmp), _free_name(path), os.path.lexists(path))
                 for tmp, path in temps]
        journal = json.dumps({"steps": [s.record(folder) for s in steps]}).encode()
        with signals_held():
            _write_temp(folder / JOURNAL, journal, temps)
            try:
                os.replace(temps[-1][0], folder / JOURNAL)
                _sync_folder(folder)
            except OSError as exc:
                raise OutputError(f"{_failed(folder / JOURNAL, exc).message}; earlier "
                                  "outputs are unchanged") from exc
            done: list[_Step] = []
            try:
                for step in steps:
                    done.append(step)
                    where = step.path
                    step.run()
                for where in dict.fromkeys(p.parent for p in files):
                    _sync_folder(where)
            except OSError as exc:
                failure = _failed(where, exc)
                _undo(folder, done, failure)
                raise OutputError(f"{failure.message}; earlier outputs are unchanged") from exc
            (folder / JOURNAL).unlink()
            with suppress(OSError):
                _sync_folder(folder)
            for step in steps:
                if step.existed:
                    with suppress(OSError):
                        _remove(step.backup)
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)


def _undo(folder: Path, steps: list[_Step], failure: OutputError) -> None:
    """Undo the steps of a commit, last first, then remove its journal. If that fails
    too, the journal stays for the next build to finish the undoing."""
    try:
        for step in reversed(steps):
            step.undo()
        (folder / JOURNAL).unlink()
    except OSError as exc:
        raise OutputError(
            f"{failure.message}; then {exc.filename}: {exc.strerror or exc}, so some "
            "earlier outputs are still set aside: the next build puts them back"
        ) from exc


def _journal_steps(folder: Path, data: Any) -> list[_Step]:
    """The steps a journal records, checked: each a file under folder, reached through
    real folders inside it, with temporary and backup names beside it. ValueError if
    the journal is not one this module writes (it is never followed then)."""
    records = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(records, list) or not records:
        raise ValueError("no list of steps")
    steps = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("path"), str):
            raise ValueError("a step is not a table with a path")
        relpath = PurePosixPath(record["path"])
        if relpath.is_absolute() or not relpath.parts or ".." in relpath.parts:
            raise ValueError(f"{record['path']!r} is not a path inside the folder")
        path = folder.joinpath(*relpath.parts)
        temporary, backup = record.get("temporary"), record.get("backup")
        if not (isinstance(temporary, str) and isinstance(backup, str) and temporary != backup
                and all(_TEMP.match(n) and "/" not in n and n.startswith(f".{path.name}.")
                        for n in (temporary, backup))):
            raise ValueError(f"{record['path']}: temporary or backup is not a name beside it")
        if not isinstance(record.get("existed"), bool):
            raise ValueError(f"{record['path']}: existed is not true or false")
        confine(folder, [path.parent], f"{folder}")
        steps.append(_Step(path, path.parent / temporary, path.parent / backup,
                           record["existed"]))
    return steps


def _finish_interrupted_commit(folder: Path) -> None:
    """Undo a commit that a killed build (SIGKILL, power loss) left in folder, from its
    journal: the outputs are then all as they were before it."""
    if not os.path.lexists(folder / JOURNAL):
        return
    try:
        steps = _journal_steps(folder, read_json(folder / JOURNAL))
    except (ValueError, OutputError) as exc:
        log.warning("%s: not a journal policybrief wrote (%s); ignored and removed",
                    folder / JOURNAL, exc)
        _remove(folder / JOURNAL)
        return
    log.warning("%s: putting back the outputs of an interrupted build", folder)
    with signals_held():
        _undo(folder, steps, OutputError(f"{folder}: an interrupted build's outputs"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write one file atomically: a synced temporary beside it, renamed over it (files
    outside build/; outputs go through write_files)."""
    temps: list[tuple[str, Path]] = []
    try:
        _write_temp(path, data, temps)
        with signals_held():
            try:
                os.replace(temps[0][0], path)
            except OSError as exc:
                raise _failed(path, exc) from exc
            temps.clear()
    finally:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)


def sha256(data: bytes) -> str:
    """Hex digest used in manifests."""
    return hashlib.sha256(data).hexdigest()


def intact(path: Path, digest: str, size: int | None = None) -> bool:
    """Whether a file the build wrote is there with this SHA-256 (and size, if known)."""
    with open_written(path) as handle:
        if handle is None or size is not None and os.fstat(handle.fileno()).st_size != size:
            return False
        found = hashlib.sha256()
        while chunk := handle.read(1 << 20):
            found.update(chunk)
        return found.hexdigest() == digest


# The editions a target can have beside its PDF, each a table {path, sha256, bytes} in
# its manifest entry: the Word document (word.py) and the web page (web.py), by the
# ending of their path after the artifact key.
EDITIONS = {"docx": ".docx", "web": "/index.html"}


def listed_intact(build_dir: Path, entry: dict[str, Any]) -> bool:
    """Whether the PDF (and the other editions, if any) of a manifest's artifact entry
    (as read_manifest keeps it) is still there, as the manifest records it."""
    return intact(build_dir / entry["pdf"], entry["sha256"], entry["bytes"]) and all(
        intact(build_dir / entry[e]["path"], entry[e]["sha256"], entry[e]["bytes"])
        for e in EDITIONS if e in entry)


def read_json(path: Path) -> Any:
    """A JSON file the build wrote (manifest, state, journal), parsed; None if there is
    none. ValueError says why what is there is not one: such files are untrusted input."""
    if not os.path.lexists(path):
        return None
    data = read_written(path, MAX_JSON)
    if data is None:
        raise ValueError(f"not a regular file of at most {MAX_JSON >> 20} MiB")
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {str(exc) or 'nested too deep'}") from exc


def _name(value: Any) -> bool:
    return isinstance(value, str) and re.match(SLUG, value) is not None


def artifact_key(brief_id: str, audience: str, archival: bool) -> str:
    """A target's name in the manifest, and the stem of its PDF and HTML under build/:
    '<brief-id>/<audience>', or '<brief-id>/<audience>.pdfa' for the archival variant,
    so that an archival and a normal build each keep their own files beside the other's."""
    return f"{brief_id}/{audience}{ARCHIVAL if archival else ''}"


def _target_name(value: Any) -> bool:
    """An audience as an artifact key ends: its name, with or without ARCHIVAL."""
    return isinstance(value, str) and _name(value.removesuffix(ARCHIVAL))


def artifact_problem(label: str, entry: Any) -> str | None:
    """What is wrong with one manifest artifact entry, if anything (paths are checked to
    be <brief-id>/<audience>.pdf and .html, or .pdfa.pdf and .pdfa.html for an archival
    entry: a manifest cannot make a build or a merge read or write elsewhere)."""
    if not isinstance(entry, dict):
        return "is not a table"
    brief, audience = entry.get("brief"), entry.get("audience")
    if not isinstance(entry.get("archival"), bool):
        return "archival: not true or false"
    if not (_name(brief) and _name(audience)
            and label == artifact_key(str(brief), str(audience), entry["archival"])):
        return "brief, audience and archival do not make a valid '<brief-id>/<audience>' label"
    for key, suffix in (("pdf", ".pdf"), ("html", ".html")):
        if entry.get(key) != f"{label}{suffix}":
            return f"{key}: {entry.get(key)!r} is not {label + suffix!r}"
    if not (isinstance(entry.get("sha256"), str) and _HEX64.match(entry["sha256"])):
        return "sha256: not a SHA-256 hex digest"
    if type(entry.get("bytes")) is not int or entry["bytes"] < 0:
        return "bytes: not a whole number"
    for edition, ending in EDITIONS.items():
        if edition not in entry:
            continue
        table = entry[edition]
        if not isinstance(table, dict) or table.get("path") != f"{label}{ending}":
            return f"{edition}: not a table with path {label + ending!r}"
        if not (isinstance(table.get("sha256"), str) and _HEX64.match(table["sha256"])):
            return f"{edition}.sha256: not a SHA-256 hex digest"
        if type(table.get("bytes")) is not int or table["bytes"] < 0:
            return f"{edition}.bytes: not a whole number"
    return None


def claims_problem(brief: str, record: Any) -> str | None:
    """What is wrong with one brief's claims.json record in a manifest, if anything."""
    if not isinstance(record, dict):
        return "is not a table"
    if not _name(brief) or record.get("path") != f"{brief}/{CLAIMS}":
        return f"path: {record.get('path')!r} is not '{brief}/{CLAIMS}'"
    target = record.get("target")
    if not (isinstance(target, str) and target.startswith(f"{brief}/")
            and _target_name(target.removeprefix(f"{brief}/"))):
        return f"target: {target!r} is not a target of {brief}"
    if not isinstance(record.get("citations"), str):
        return "citations: not a citation mode"
    if not (isinstance(record.get("sha256"), str) and _HEX64.match(record["sha256"])):
        return "sha256: not a SHA-256 hex digest"
    return None


def read_manifest(build_dir: Path, note: bool = False) -> dict[str, Any]:
    """The last build's manifest: its well-formed entries (empty if none). What is not
    as this module writes it (a damaged or foreign file) is left out, and so rebuilt;
    with `note`, a warning says so."""
    path = build_dir / MANIFEST
    problems: list[str] = []
    try:
        data = read_json(path)
    except ValueError as exc:
        data, problems = None, [str(exc)]
    if data is not None and not isinstance(data, dict):
        data, problems = None, ["not a JSON object"]
    data = data or {}
    manifest: dict[str, Any] = {k: data[k] for k in ("generator", "tools")
                                if isinstance(data.get(k), str)}
    for key, check in (("artifacts", artifact_problem), ("claims", claims_problem)):
        table = data.get(key, {})
        if not isinstance(table, dict):
            problems.append(f"{key}: not a table")
            table = {}
        manifest[key] = {}
        for name, entry in table.items():
            problem = check(name, entry)
            if problem:
                problems.append(f"{key}.{name}: {problem}")
            else:
                manifest[key][name] = entry
    if problems and note:
        log.warning("%s: %s; not as policybrief writes it, so what it lists is built again",
                    path, "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else ""))
    return manifest


def manifest_files(
    build_dir: Path, generator: str, tools: str, artifacts: dict[str, Any],
    claims: dict[str, Any],
) -> dict[Path, bytes]:
    """build/manifest.json and build/SHA256SUMS (the format `sha256sum -c` reads), from
    the artifact entries (keyed by artifact_key) and each brief's claims.json
    record. A build and a merge both write through this, so they write the same."""
    ordered = dict(sorted(artifacts.items()))
    manifest = {"generator": generator, "tools": tools, "artifacts": ordered,
                "claims": dict(sorted(claims.items()))}
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    sums = "".join(f"{a['sha256']}  {a['pdf']}\n" + "".join(
        f"{a[e]['sha256']}  {a[e]['path']}\n" for e in EDITIONS if e in a)
        for a in ordered.values())
    return {
        build_dir / MANIFEST: text.encode("utf-8"),
        build_dir / SUMS: sums.encode("utf-8"),
    }


def claims_record(brief_id: str, target: str, citations: str, data: bytes) -> dict[str, Any]:
    """The manifest's record of a brief's claims.json: the target (its artifact_key)
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
    """The manifest's claims records (brief id -> record) whose claims.json is on disk
    with the recorded hash (read_manifest has left out those not well formed)."""
    return {brief_id: record for brief_id, record in manifest.get("claims", {}).items()
            if intact(build_dir / record["path"], record["sha256"])}


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


def confine(base: Path, folders: Iterable[Path], where: str = "the project") -> None:
    """Refuse output folders that a symbolic link leads out of base (the project, or the
    folder merged into): each, and each folder on the way to it from base, must resolve
    inside base. A committed `build` link (the ignore rule `build/` matches only folders)
    would otherwise have builds write, and sweep temporaries, wherever it points."""
    start = Path(os.path.abspath(base))
    inside = start.resolve()
    for folder in sorted(set(folders)):
        path = start
        for part in Path(os.path.abspath(folder)).relative_to(start).parts:
            path = path / part
            if not path.is_symlink():
                continue  # a real folder, or none yet: made inside
            try:
                target = str(path.resolve(strict=False))
            except (OSError, RuntimeError):  # a loop of links
                target = os.readlink(path)
            if not Path(target).is_relative_to(inside):
                raise OutputError(
                    f"{path}: a symbolic link to {target}, outside {where}; outputs are "
                    f"written only inside {where}: remove the link (if it is committed: "
                    "git rm) and run again"
                )


def remove_stale_temporaries(build_dir: Path) -> None:
    """What a killed build (SIGKILL, power loss) left: first its interrupted commit is
    undone (write_files), then its temporary files are removed. Call under the lock,
    after confine; links in build/ are not followed."""
    if not build_dir.is_dir():
        return
    _finish_interrupted_commit(build_dir)
    for dirpath, dirnames, filenames in os.walk(build_dir):
        for name in [*filenames, *dirnames]:
            if _TEMP.match(name):
                log.debug("removing %s, left by an interrupted build", name)
                _remove(Path(dirpath) / name)
        dirnames[:] = [d for d in dirnames if not _TEMP.match(d)]


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


def refuse_overwrite(paths: Iterable[Path], force: bool = False, *,
                     remedy: str = "use --force to replace it", root: Path | None = None
                     ) -> None:
    """Refuse to replace files the user may have edited (a source, a template, a new
    project's files) unless `force`: ConfigError naming the first that exists (relative
    to root, if given) and the remedy."""
    existing = next((path for path in paths if path.exists()), None)
    if existing is not None and not force:
        shown = existing if root is None else display_path(existing, root)
        raise ConfigError(f"{shown} already exists; {remedy}")
