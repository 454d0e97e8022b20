"""`brief sources import`: CSL-JSON (as Zotero exports it) to source YAML skeletons.

The export is untrusted data. It is parsed with limits (size, nesting, numbers Python
can hold), checked against the CSL-JSON schema (schemas/csl-data.json, the Citation Style
Language project's own), and the skeletons are written through the YAML library, so that
no text in the export can become a field, a line or a comment of its own.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, get_args

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as _text  # escapes as needed

from . import boundary
from .config import Config
from .errors import BriefError, InputError, Problem, display_path, printable
from .models import CSL_NOT_SOURCE_DATA, CSL_VARIABLES, OWN_MEANING, CslType, PartialDate
from .output import refuse_overwrite, write_files
from .schema import KINDS
from .vocabulary import LANGUAGE, PERSPECTIVES

log = logging.getLogger(__name__)

# CSL-JSON nests five levels (the list, an item, a date, its date-parts, one part);
# deeper is not bibliographic data. Checked before the schema, whose messages quote values.
MAX_DEPTH = 32
MAX_SHOWN = 20  # problems listed before "and N more"
# CSL-JSON's names (the CSL-JSON schema's, Zotero's) for variables CSL 1.0.2 names otherwise.
_RENAMED = {"event": "event-title", "part": "part-number", "printing": "printing-number",
            "supplement": "supplement-number", "shortTitle": "title-short",
            "journalAbbreviation": "container-title-short"}
_KIND_ORDER = ("standard", "name", "number", "date")  # the order of a skeleton's fields
_NAME_PARTS = ("family", "given", "literal")
_PERSPECTIVES = " | ".join(PERSPECTIVES)
_SURROGATE = re.compile("[\ud800-\udfff]")
_REMEDY = "correct it in the reference manager and export again, or leave the item out"


def slug(text: str) -> str:
    """A source id from a citation key: lowercase letters, digits and hyphens ('' if the
    key has none)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].rstrip("-")


def _shown(value: Any, limit: int = 60) -> str:
    """A value as quoted in a message or comment: one line, no lone surrogate, short."""
    text = repr(value).encode("utf-8", "backslashreplace").decode("utf-8")
    text = printable(text)
    return text if len(text) <= limit else f"{text[:limit - 4]}...{text[-1]}"


class _NotData(ValueError):
    """A JSON token Python reads but no CSL-JSON holds (NaN, 1e999, 5000 digits)."""


def _constant(name: str) -> Any:
    raise _NotData(f"{name} is not a number in JSON")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotData(f"the number {text[:20]} is too large to be a number")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # over Python's limit on digits converted (4300)
        raise _NotData(f"a number {len(text)} digits long is not a CSL value") from None


def _parse(path: Path, display: str) -> Any:
    """The JSON value of the export, or a BriefError saying why there is none."""
    try:
        raw = boundary.read(path, None, "CSL-JSON export")
    except boundary.Refused as exc:
        raise BriefError(f"{display}: {exc.problem}; {exc.remedy}") from exc
    except OSError as exc:
        raise BriefError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_constant, parse_float=_float,
                          parse_int=_int)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BriefError(f"{display}:{line}: not UTF-8 text; export CSL JSON from Zotero") from exc
    except json.JSONDecodeError as exc:
        raise BriefError(
            f"{display}:{exc.lineno}: not valid JSON: {exc.msg}; export CSL JSON from Zotero"
        ) from exc
    except _NotData as exc:
        raise BriefError(f"{display}: not valid JSON: {exc}; export CSL JSON from Zotero") from exc
    except RecursionError:
        raise BriefError(
            f"{display}: lists or objects nested more than {MAX_DEPTH} levels deep; "
            "this is not CSL JSON"
        ) from None


def _label(items: Sequence[Any], path: Sequence[str | int]) -> str:
    """Where in the list of items a path points: "item 3 (id 'x'): author[0].family"."""
    if not path:
        return ""
    index, rest = int(path[0]), path[1:]
    item, label = items[index], f"item {index + 1}"
    if isinstance(item, dict) and type(item.get("id")) in (str, int, float):
        label += f" (id {_shown(item['id'])})"
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    return f"{label}: {field}" if field else label


def _walk(items: list[Any]) -> Iterator[tuple[list[str | int], str]]:
    """(path, problem) for nesting past MAX_DEPTH and for texts that are not Unicode
    (a lone surrogate, from an escape like \\ud800, cannot be written as UTF-8)."""
    stack: list[tuple[Any, list[str | int]]] = [(items, [])]
    while stack:  # not recursive: the depth is what is being checked
        value, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            yield path, f"nested more than {MAX_DEPTH} levels deep"
            continue
        children: list[tuple[Any, list[str | int]]] = []
        if isinstance(value, dict):
            for key, child in value.items():  # a key is checked as part of its object
                children += [(key, path), (child, [*path, key])]
        elif isinstance(value, list):
            children = [(child, [*path, i]) for i, child in enumerate(value)]
        stack.extend(reversed(children))  # popped in the file's order
        if isinstance(value, str) and _SURROGATE.search(value):
            yield path, f"{_shown(value)} holds half of a UTF-16 pair (a lone surrogate), " \
                "which is not a character"


def _schema_problems(items: list[Any], display: str) -> list[Problem]:
    """Every way the items differ from the CSL-JSON schema, a leaf error each."""
    import jsonschema  # only this command needs it

    schema = json.loads(files("policybrief").joinpath("schemas/csl-data.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)

    def leaves(error: Any) -> Iterator[Any]:
        # The schema's anyOf keywords have one alternative each: its errors are the error.
        if error.context:
            for child in error.context:
                yield from leaves(child)
        else:
            yield error

    problems = []
    for error in validator.iter_errors(items):
        for leaf in leaves(error):
            message, remedy = leaf.message, _REMEDY
            if leaf.validator == "enum":  # the message would list them all, unquoted
                message = f"{leaf.instance!r} is not one of the values CSL-JSON allows"
                remedy = f"use one of: {', '.join(map(str, leaf.validator_value))}"
            message = message.replace(repr(leaf.instance), _shown(leaf.instance))
            problems.append(Problem(display, None, _label(items, list(leaf.absolute_path)), message,
                                    remedy))
    return problems


def _date(value: dict[str, Any]) -> PartialDate | None:
    """A CSL-JSON date (date-parts, else raw or literal) as a partial date, if it has one;
    ValueError if it says a date that cannot be (year 0, month 13)."""
    parts = value.get("date-parts")
    if parts:
        first = parts[0]
        numbers = []
        for part in first:
            if isinstance(part, str) and part.strip().isdigit():
                part = int(part)
            elif isinstance(part, float) and part.is_integer():
                part = int(part)
            if not isinstance(part, int):
                raise ValueError(f"date-parts {_shown(parts)}: {_shown(part)} is not a whole "
                                 "number")
            numbers.append(part)
        text = "-".join(f"{n:04d}" if i == 0 else f"{n:02d}" for i, n in enumerate(numbers))
        return PartialDate.parse(text)
    raw = str(value.get("raw") or value.get("literal") or "")
    match = re.match(r"^\d{4}(-\d{2}(-\d{2})?)?", raw)  # a literal "Spring 2015" has none
    return PartialDate.parse(match.group(0)) if match else None


def _kept(item: dict[str, Any], dates: dict[str, PartialDate | None]
          ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The CSL variables of an item a source file keeps, by name, with (field, why) for
    each field it does not keep. `dates` are the item's date variables as read by _date."""
    renamed = {_RENAMED.get(key, key): key for key in item if _RENAMED.get(key) not in item}
    kept: dict[str, Any] = {}
    dropped: list[tuple[str, str]] = [
        (key, f"also given as {_RENAMED[key]}") for key in item
        if _RENAMED.get(key) in item
    ]
    if item["type"] not in get_args(CslType):
        dropped.insert(0, ("type", f"{_shown(item['type'])} is not a type policybrief cites; "
                                   "written as document"))
    for key, original in renamed.items():
        value, kind = item[original], CSL_VARIABLES.get(key)
        if key in ("id", "type"):
            continue
        if key in OWN_MEANING or key in CSL_NOT_SOURCE_DATA:
            dropped.append((original, OWN_MEANING.get(key) or CSL_NOT_SOURCE_DATA[key]))
        elif kind is None:
            dropped.append((original, "not CSL 1.0.2 variables"))
        elif kind == "date":
            date = dates.get(key)
            if date is None:
                dropped.append((original, "no YYYY, YYYY-MM or YYYY-MM-DD date in it"))
            else:  # a full date as a YAML date, else text ('2015')
                kept[key] = date.start if date.day else str(date)
        elif kind == "name":
            names = CommentedSeq()
            for i, name in enumerate(value):
                where = f"{original}[{i}]"
                dropped += [(f"{where}.{part}", "a name has family, given or literal only")
                            for part in name if part not in _NAME_PARTS]
                fields = {k: _text(name[k].strip()) for k in _NAME_PARTS
                          if isinstance(name.get(k), str) and name[k].strip()}
                if "family" in fields or "literal" in fields:
                    names.append(CommentedMap(fields))
                else:
                    dropped.append((where, "a name needs a family name or a literal"))
            if names:
                kept[key] = names
        elif isinstance(value, float):  # a number variable; JSON's 3.0 is 3
            kept[key] = int(value) if value.is_integer() else _text(str(value))
        elif isinstance(value, int):
            kept[key] = value
        elif not value.strip():
            dropped.append((original, "empty"))
        elif key == "language" and not re.match(LANGUAGE, value.strip()):
            dropped.append((original, f"{_shown(value)} is not a language code like en or ru"))
        else:
            kept[key] = _text(value.strip())
    order = list(kept)  # kinds in _KIND_ORDER, each in the export's order
    return dict(sorted(kept.items(), key=lambda pair: (
        _KIND_ORDER.index(CSL_VARIABLES[pair[0]]), order.index(pair[0])))), dropped


def _dropped_note(dropped: list[tuple[str, str]]) -> str:
    """'a, b not kept: why; c not kept: why': the fields an item lost, by the reason."""
    reasons: dict[str, list[str]] = {}
    for field, why in dropped:
        reasons.setdefault(why, []).append(field)
    return "; ".join(f"{', '.join(fields)} not kept: {why}" for why, fields in reasons.items())


def skeleton(item: dict[str, Any], kept: dict[str, Any]) -> CommentedMap:
    """The YAML document of one source skeleton, for a CSL-JSON item the schema accepts
    and the variables of it that a source keeps (see _kept)."""
    kind = item["type"] if item["type"] in get_args(CslType) else "document"
    data = CommentedMap(type=kind)
    data.update(kept)
    data["notes"] = CommentedSeq()
    data.yaml_set_start_comment("\n".join([
        KINDS["source"].modeline.removeprefix("# "),  # editors validate the file as it fills
        f"Imported from CSL-JSON (citation key {_shown(item['id'])}). Fill in `perspective`",
        "and `assessment`, then add notes: `brief check` reports what is missing.",
    ]))
    data.yaml_set_comment_before_after_key("notes", before="\n".join([
        f"perspective: {_PERSPECTIVES}",
        "assessment: >-",
        "  Who published it, with what stance, and what it is reliable for.",
    ]))
    return data


def _dump(data: CommentedMap) -> bytes:
    yaml = YAML(typ="rt")
    yaml.width = 1_000_000  # one line per value, as an analyst would write it
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


def _fail(problems: list[Problem]) -> InputError:
    for problem in problems[:MAX_SHOWN]:
        log.error("%s", problem)
    if len(problems) > MAX_SHOWN:
        log.error("... and %d more", len(problems) - MAX_SHOWN)
    return InputError(problems, "nothing was imported")


def import_csl(config: Config, path: Path, force: bool = False) -> list[tuple[Path, str]]:
    """Write sources/<id>.yaml for each item of a CSL-JSON file, all or none; returns
    each file with a note on its id and on the fields not kept ("" when the item lost
    nothing but the capitals of its citation key)."""
    display = display_path(path, config.root)
    data = _parse(path, display)
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BriefError(f"{display}: expected a CSL-JSON list of items; export CSL JSON "
                         "from Zotero")
    problems = [Problem(display, None, _label(items, where), what, _REMEDY)
                for where, what in _walk(items)]
    if problems:
        raise _fail(problems)
    problems = _schema_problems(items, display)
    if problems:
        raise _fail(problems)

    documents: dict[str, tuple[int, CommentedMap]] = {}
    notes: dict[str, str] = {}
    for i, item in enumerate(items):
        key = str(item["id"])
        source_id = slug(key)
        if not source_id:
            problems.append(Problem(display, None, _label(items, [i, "id"]),
                                    "has no letter or digit (a-z, 0-9) to make a source id of",
                                    "give the item a citation key"))
            continue
        if source_id in documents:
            problems.append(Problem(
                display, None, _label(items, [i, "id"]),
                f"makes the source id {source_id!r}, as item {documents[source_id][0] + 1} "
                "does", "give one of them another citation key",
            ))
            continue
        dates = {}
        for field, kind in CSL_VARIABLES.items():
            if kind != "date" or field not in item:
                continue
            try:
                dates[field] = _date(item[field])
            except ValueError as exc:
                problems.append(Problem(display, None, _label(items, [i, field]), str(exc),
                                        _REMEDY))
        kept, dropped = _kept(item, dates)
        documents[source_id] = (i, skeleton(item, kept))
        said = [_dropped_note(dropped)] if dropped else []
        if source_id != key.lower():  # characters a source id cannot have: said, not hidden
            said.insert(0, f"source id made from citation key {_shown(key)}")
        if said:
            notes[source_id] = "; ".join(said)
    if problems:
        raise _fail(problems)

    targets = {config.sources_dir / f"{source_id}.yaml": source_id for source_id in documents}
    refuse_overwrite(targets, force, root=config.root,
                     remedy="use --force to replace it, or remove that item from the export")
    write_files({target: _dump(documents[source_id][1]) for target, source_id in targets.items()})
    return [(target, notes.get(source_id, "")) for target, source_id in targets.items()]
