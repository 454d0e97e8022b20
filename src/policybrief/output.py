"""The only module that writes under build/: atomic writes and the build manifest."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import OutputError


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside path, then rename it into place.

    A reader (or a crash) never sees a half-written file: either the old output or
    the new one is at `path`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
        raise


def sha256(data: bytes) -> str:
    """Hex digest used in manifests."""
    return hashlib.sha256(data).hexdigest()


MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


def read_manifest(build_dir: Path) -> dict[str, Any]:
    """The last build's manifest (empty if none or unreadable)."""
    try:
        data = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_files(files: dict[Path, bytes]) -> None:
    """Write each file atomically."""
    for path, data in files.items():
        write_atomic(path, data)


def write_manifest(build_dir: Path, manifest: dict[str, Any], sums: list[tuple[str, str]]) -> None:
    """build/manifest.json and build/SHA256SUMS (the format `sha256sum -c` reads)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(build_dir / MANIFEST, text.encode("utf-8"))
    write_atomic(build_dir / SUMS, "".join(f"{h}  {p}\n" for h, p in sums).encode("utf-8"))
