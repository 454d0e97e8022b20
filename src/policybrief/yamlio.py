"""Read YAML files safely, keeping the line of every key and item for error messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Problem

MAX_BYTES = 2 * 1024 * 1024  # a source or brief file is text an analyst wrote, not a data dump


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps dates as text and refuses unknown tags.

    Dates stay strings so that the models, not the YAML library, judge them: an
    impossible date like 2017-02-30 becomes a field error with a line, not a crash.
    """

    def construct_undefined(self, node: Any) -> Any:
        raise ConstructorError(
            None, None, f"unknown tag {node.tag!r} is not allowed", node.start_mark
        )


def _as_text(constructor: RoundTripConstructor, node: Any) -> Any:
    return constructor.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
# The round-trip constructor keeps unknown tags by default; registered by function, so
# the override above must be registered too.
_Constructor.add_constructor(None, _Constructor.construct_undefined)


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its data, plus a way back from a field path to a line."""

    path: str
    data: Any

    def line(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest part of loc found in the file."""
        node, line = self.data, None
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0]
            else:
                break
            node = node[part]
        return None if line is None else line + 1


def _problem(display: str, exc: YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, MarkedYAMLError):
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if mark is not None:
            message += f" (column {mark.column + 1})"
    else:
        message = " ".join(str(exc).split())
    remedy = "fix the YAML syntax"
    if "duplicate key" in message:
        remedy = "remove or rename one of the two keys"
    elif "tag" in message:
        remedy = "remove the tag; only plain YAML data is read"
    elif "\\t" in message or "tab" in message:
        remedy = "indent with spaces, not tabs"
    return Problem(display, line, "", message, remedy)


def load_yaml(path: Path, display: str) -> Document | Problem:
    """Parse one YAML file, or describe why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Problem(display, None, "", f"cannot read file: {exc.strerror}", "check the path")
    if len(raw) > MAX_BYTES:
        return Problem(
            display, None, "", f"file is {len(raw)} bytes, over the {MAX_BYTES}-byte limit",
            "split it into smaller files",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Problem(display, line, "", "not valid UTF-8 text", "save the file as UTF-8")
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        return _problem(display, exc)
    if data is None:
        return Problem(display, None, "", "file is empty", "add content or delete the file")
    if not isinstance(data, CommentedMap):
        return Problem(
            display, 1, "", f"expected a mapping of fields, found a {type(data).__name__}",
            "start the file with `field: value` lines",
        )
    return Document(display, data)
