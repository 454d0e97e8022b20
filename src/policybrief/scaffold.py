"""`brief init`: a new project, copied from the packaged skeleton, that builds at once."""

from __future__ import annotations

from pathlib import Path

from .output import refuse_overwrite, write_atomic

SKELETON = Path(__file__).parent / "skeleton"
_RENAMES = {"gitignore": ".gitignore"}  # dot-files do not travel well as package data


def init_project(dest: Path) -> list[Path]:
    """Copy the skeleton into dest; refuse to overwrite anything. Returns the files made."""
    files = sorted(p for p in SKELETON.rglob("*") if p.is_file())
    targets = {
        src: dest / src.relative_to(SKELETON).with_name(_RENAMES.get(src.name, src.name))
        for src in files
    }
    refuse_overwrite(targets.values(), remedy="`brief init` only creates new projects "
                     "(choose an empty or new folder)")
    for src, target in targets.items():
        write_atomic(target, src.read_bytes())
    return list(targets.values())
