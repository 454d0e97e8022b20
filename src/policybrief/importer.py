"""`brief sources import`: CSL-JSON (as Zotero exports it) to source YAML skeletons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

from .config import Config
from .errors import BriefError, display_path
from .models import CslType
from .output import write_atomic
from .schema import KINDS

_TEXT_FIELDS = ("title", "title-short", "container-title", "publisher", "URL", "language")
_PERSPECTIVES = "independent | official | state-media | think-tank | academic | opinion"


def slug(text: str) -> str:
    """A source id from a citation key: lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "source"


def _date(value: Any) -> str | None:
    """CSL-JSON date (date-parts, raw or literal) as YYYY[-MM[-DD]], if it has one."""
    if not isinstance(value, dict):
        return None
    parts = (value.get("date-parts") or [[None]])[0]
    if parts and isinstance(parts[0], int | str) and str(parts[0]).isdigit():
        numbers = [int(p) for p in parts[:3] if str(p).isdigit()]
        return "-".join(f"{n:04d}" if i == 0 else f"{n:02d}" for i, n in enumerate(numbers))
    raw = str(value.get("raw") or value.get("literal") or "")
    match = re.match(r"^\d{4}(-\d{2}(-\d{2})?)?", raw)
    return match.group(0) if match else None


def _yaml(value: Any) -> str:
    """A YAML scalar: JSON strings are valid double-quoted YAML."""
    return json.dumps(value, ensure_ascii=False)


def skeleton(item: dict[str, Any]) -> str:
    """The YAML text of one source skeleton for a CSL-JSON item."""
    kind = item.get("type") if item.get("type") in get_args(CslType) else "document"
    lines = [
        KINDS["source"].modeline,  # editors validate the file as it is filled in
        f"# Imported from CSL-JSON (citation key {item.get('id')!s}). Fill in `perspective`",
        "# and `assessment`, then add notes: `brief check` reports what is missing.",
        f"type: {kind}",
    ]
    for key in _TEXT_FIELDS:
        if isinstance(item.get(key), str) and item[key].strip():
            lines.append(f"{key}: {_yaml(item[key].strip())}")
    names = [n for n in item.get("author", []) if isinstance(n, dict)]
    if names:
        lines.append("author:")
        for name in names:
            fields = {k: name[k] for k in ("family", "given", "literal") if name.get(k)}
            if fields:
                lines.append("  - " + ", ".join(f"{k}: {_yaml(v)}" for k, v in fields.items())
                             .replace(", ", "\n    ", len(fields) - 1))
    for key in ("issued", "accessed"):
        date = _date(item.get(key))
        if date:
            lines.append(f"{key}: {date}")
    lines += [
        f"# perspective: {_PERSPECTIVES}",
        "# assessment: >-",
        "#   Who published it, with what stance, and what it is reliable for.",
        "notes: []",
    ]
    return "\n".join(lines) + "\n"


def import_csl(config: Config, path: Path, force: bool = False) -> list[Path]:
    """Write sources/<id>.yaml for each item of a CSL-JSON file; returns the files."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BriefError(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BriefError(
            f"{path}:{exc.lineno}: not valid JSON: {exc.msg}; export CSL JSON from Zotero"
        ) from exc
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise BriefError(f"{path}: expected a CSL-JSON list of items, each with an `id`")
    targets = {config.sources_dir / f"{slug(str(i['id']))}.yaml": i for i in items}
    if len(targets) < len(items):
        raise BriefError(f"{path}: two items share an id once made into file names")
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise BriefError(
            f"{display_path(existing[0], config.root)} already exists; "
            "use --force to replace it, or remove that item from the export"
        )
    for target, item in targets.items():
        write_atomic(target, skeleton(item).encode("utf-8"))
    return list(targets)
