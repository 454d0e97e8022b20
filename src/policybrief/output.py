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


def previous_outputs(folder: Path) -> dict[str, Any]:
    """The `outputs` of the brief's last manifest (empty if none or unreadable)."""
    try:
        outputs = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return outputs if isinstance(outputs, dict) else {}


def write_outputs(folder: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Write a brief's outputs, then its manifest last (so it never lists a missing file)."""
    for name, data in files.items():
        write_atomic(folder / name, data)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(folder / "manifest.json", text.encode("utf-8"))
