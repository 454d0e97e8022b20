"""Read every source and brief file into typed models, collecting all problems."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .config import Config
from .errors import Problem, closest, display_path
from .models import (
    PHONE,
    SLUG,
    Brief,
    CitedText,
    FormerName,
    Name,
    Note,
    Paragraph,
    Place,
    Places,
    Question,
    Section,
    Source,
)
from .yamlio import Document, load_yaml

M = TypeVar("M", bound=BaseModel)
PLACES_FILE = "places.yaml"

_FIELD_NAMES = sorted(
    {
        f.alias or name
        for model in (Brief, CitedText, FormerName, Name, Note, Paragraph, Place, Question,
                      Section, Source)
        for name, f in model.model_fields.items()
    }
    - {"id"}
)


@dataclass(frozen=True)
class Entry(Generic[M]):
    """A validated model and the document it came from (for line numbers)."""

    model: M
    doc: Document

    @cached_property
    def notes_by_id(self) -> dict[str, Note]:
        """A source's notes by id, the first of a duplicated id (a brief has none): a
        reference is looked up once, not by reading every note of its source."""
        notes: list[Note] = getattr(self.model, "notes", [])
        return {note.id: note for note in reversed(notes)}


@dataclass
class Project:
    """All sources and briefs of a project, keyed by id (the file name)."""

    config: Config
    sources: dict[str, Entry[Source]] = field(default_factory=dict)
    briefs: dict[str, Entry[Brief]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # source ids whose files failed to load
    broken_briefs: set[str] = field(default_factory=set)
    places: list[Place] = field(default_factory=list)  # from places.yaml, if any

    def note(self, ref: str) -> tuple[Note, Source] | None:
        """The note a reference 'source-id/note-id' names, with its source (None if the
        source or the note is unknown)."""
        source_id, _, note_id = ref.partition("/")
        entry = self.sources.get(source_id)
        found = entry.notes_by_id.get(note_id) if entry else None
        return None if entry is None or found is None else (found, entry.model)


def format_loc(loc: tuple[str | int, ...]) -> str:
    """('notes', 3, 'date') -> 'notes[3].date'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type holds (list[Note] -> [Note], Name | None -> [Name])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names a file of `model` may have in the mapping at loc (() for the
    top level, ('notes', 0) for a note): a file's own fields, not another kind's. The
    top level has no `id` (the file name gives it)."""
    models = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        models = [inner for m in models for name, f in m.model_fields.items()
                  if part in (name, f.alias) for inner in _models_in(f.annotation)]
    names = {f.alias or name for m in models for name, f in m.model_fields.items()}
    return sorted(names - ({"id"} if not loc else set()))


def _slug(text: str) -> str:
    """Text as an id (lowercase letters, digits, hyphens): a suggestion in the user's terms."""
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def _remedy(error: ErrorDetails, model: type[BaseModel]) -> str:
    kind, name = error["type"], str(error["loc"][-1]) if error["loc"] else ""
    if kind == "missing":
        return f"add `{name}:`"
    if kind == "extra_forbidden":
        close = closest(name, _fields_at(model, tuple(error["loc"][:-1])))
        return f"did you mean `{close}`?" if close else "remove it or check its spelling"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if "/" in pattern:
            value = error.get("input")
            parts = [_slug(p) for p in str(value).split("/")] if isinstance(value, str) else []
            example = f", e.g. {'/'.join(parts)!r}" if len(parts) == 2 and all(parts) else ""
            return ("write a note reference as source-id/note-id (the source's file name "
                    f"without .yaml, a slash, the note's id){example}")
        if pattern == SLUG:
            return "use lowercase letters, digits and hyphens"
        if "http" in pattern:
            return "give a full http:// or https:// address"
        if "@" in pattern:
            return "give an e-mail address, e.g. name@example.org"
        if pattern == PHONE:
            return "give a phone number in digits, e.g. +44 20 7946 0000"
        return "see `brief --help` for the expected form"
    if kind == "too_short":
        return "add at least one entry"
    if kind == "literal_error":
        choices = _choices(error)
        close = closest(str(error["input"]), choices)
        return f"did you mean {close!r}?" if close else "write one of those"
    if kind in _NOT_A_MAPPING and isinstance(error["input"], bool | int | float):
        return "put the value in quotes if it is text"
    if kind == "string_type":
        if error["input"] is None:
            return f"write the value after `{name}:`, or remove the line"
        return f'put the value in quotes, e.g. {name}: "..."'
    return ""


def _choices(error: ErrorDetails) -> list[str]:
    """The values a choice field (a Literal) takes, from pydantic's "'a', 'b' or 'c'"."""
    return re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))


def _message(error: ErrorDetails) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "literal_error":
        return f"{error['input']!r} is not one of: {', '.join(_choices(error))}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not in the expected form"
    if kind in _NOT_A_MAPPING:
        value = error["input"]
        if isinstance(value, bool | int | float):
            kind_of = "true/false" if isinstance(value, bool) else "a number"
            return (f"expected text or fields, but YAML reads the unquoted value as {kind_of} "
                    f"({value!r})")
        return "expected a mapping of fields (`field: value` lines)"
    if kind == "string_type":
        value = error["input"]
        if value is None:
            return "has no value"
        if isinstance(value, bool | int | float):
            # YAML reads unquoted 1.10, 01234, 0x1F or true as numbers and booleans.
            kind_of = "true/false" if isinstance(value, bool) else "a number"
            return f"expected text, but YAML reads the unquoted value as {kind_of} ({value!r})"
        if isinstance(value, list):
            return "expected text, found a list"
        return "expected text, found a mapping" if isinstance(value, dict) else "expected text"
    return re.sub(r"^(Value error|Assertion failed), ", "", msg)


_NOT_A_MAPPING = ("dict_type", "model_type", "model_attributes_type")


def _without_union_branches(data: Any, errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Errors as the analyst sees the file, for fields of two forms (`text: ...` or
    `text: {en: ..., ru: ...}`).

    Pydantic reports a failed union once per form, with the form's name in the location
    (notes[0].text.constrained-str). The names are dropped, and only the errors of the
    form the value has are kept: for a mapping, not "should be text"; otherwise, not
    "should be a mapping".
    """
    kept: list[ErrorDetails] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for error in errors:
        node: Any = data
        loc: list[str | int] = []
        union_at: tuple[str | int, ...] | None = None
        for part in error["loc"]:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            elif isinstance(part, str) and not (isinstance(node, dict)
                                                and part in _FIELD_NAMES):
                union_at = tuple(loc)  # a form's name, not a key of the file
                continue
            else:
                node = None
            loc.append(part)
        if union_at is not None and tuple(loc) == union_at:  # the form did not fit at all
            value_is_mapping = isinstance(node, dict)
            if error["type"] in _NOT_A_MAPPING and not value_is_mapping:
                continue
            if error["type"] == "string_type" and value_is_mapping:
                continue
        if (tuple(loc), error["type"]) in seen:
            continue
        seen.add((tuple(loc), error["type"]))
        kept.append({**error, "loc": tuple(loc)})
    return kept or errors


def validate_document(doc: Document, model: type[M], **extra: Any) -> M | list[Problem]:
    """Validate a parsed document against a model; problems carry the file's lines."""
    data = {**doc.data, **extra}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in _without_union_branches(data, exc.errors()):
            loc = tuple(error["loc"])
            problems.append(Problem(doc.path, doc.line(loc), format_loc(loc), _message(error),
                                    _remedy(error, model)))
        return problems


def _load_folder(
    folder: Path, model: type[M], what: str, root: Path, problems: list[Problem],
    broken: set[str],
) -> dict[str, Entry[M]]:
    entries: dict[str, Entry[M]] = {}
    if not folder.is_dir():
        return entries
    for path in sorted(folder.iterdir()):
        display = display_path(path, root)
        if path.name.startswith("."):
            continue  # hidden: an editor's lock or swap file (emacs's .#x.yaml), not a file of ours
        if path.suffix == ".yml":
            problems.append(
                Problem(display, None, "", "ignored: wrong extension", "rename it to .yaml")
            )
            continue
        if path.suffix != ".yaml" or path.is_dir():
            continue  # a device or pipe named .yaml is reported by load_yaml
        if not re.match(SLUG, path.stem):
            problems.append(
                Problem(
                    display, None, "", f"file name {path.stem!r} is not a valid id",
                    "name files with lowercase letters, digits and hyphens"
                    + (f", e.g. {_slug(path.stem)}.yaml" if _slug(path.stem) else ""),
                )
            )
            continue
        doc = load_yaml(path, display, folder, what)
        if isinstance(doc, Problem):
            problems.append(doc)
            broken.add(path.stem)
            continue
        if "id" in doc.data:
            broken.add(path.stem)
            problems.append(
                Problem(
                    display, doc.line(("id",)), "id", "the id comes from the file name",
                    "remove `id:` or rename the file",
                )
            )
            continue
        result = validate_document(doc, model, id=path.stem)
        if isinstance(result, list):
            problems.extend(result)
            broken.add(path.stem)
        else:
            entries[path.stem] = Entry(result, doc)
    return entries


def load_project(config: Config) -> tuple[Project, list[Problem]]:
    """Read and type-check every file; syntax and field problems, not cross-references."""
    problems: list[Problem] = []
    project = Project(config)
    if not config.briefs_dir.is_dir():
        problems.append(
            Problem(
                display_path(config.briefs_dir, config.root), None, "",
                "folder not found", "create briefs/ with one <brief-id>.yaml per brief",
            )
        )
    project.sources = _load_folder(
        config.sources_dir, Source, "source file", config.root, problems, project.broken
    )
    project.briefs = _load_folder(
        config.briefs_dir, Brief, "brief file", config.root, problems, project.broken_briefs
    )
    places_file = config.root / PLACES_FILE
    if os.path.lexists(places_file):  # a pipe or a link out is refused, not skipped
        doc = load_yaml(places_file, PLACES_FILE, config.root, "places file",
                        "the project folder")
        result = doc if isinstance(doc, Problem) else validate_document(doc, Places)
        if isinstance(result, Places):
            project.places = result.places
        else:
            problems.extend([result] if isinstance(result, Problem) else result)
    return project, problems
