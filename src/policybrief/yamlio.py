"""Read YAML files safely, keeping the line of every key and item for error messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import boundary
from .errors import Problem

MAX_DEPTH = 32  # a brief nests four or five levels; deeper is a mistake or an attack
MAX_ALIAS_GROWTH = 10_000  # values that aliases (*name) may add by repeating anchored ones
_NEST_REMEDY = "flatten the structure; no field of a source or brief nests that deep"
_STR, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"
# Standard tags beyond plain mappings, lists and scalars: no field of ours takes them.
_REFUSED_TAGS = ("binary", "omap", "pairs", "set")
# Characters no analyst's text contains: C0 controls except tab/newline/return, DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Deep flow nesting ([[[[...) makes the YAML scanner look far ahead at every level: seconds
# before the depth check fires. The plain case is caught up front by this pattern.
_FLOW_NEST = re.compile(r"(?:[\[{]\s*){" + str(MAX_DEPTH + 1) + "}")


_KIND = {CommentedSeq: "a list", str: "a text", int: "a number", float: "a number",
         bool: "true/false"}


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


def _plain_text(constructor: RoundTripConstructor, node: Any) -> Any:
    """`!!str 12` is the text '12', as in any YAML reader (round-trip mode keeps the tag)."""
    return constructor.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
_Constructor.add_constructor(_STR, _plain_text)
for _tag in _REFUSED_TAGS:
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor.construct_undefined)
# The round-trip constructor keeps unknown tags by default; registered by function, so
# the override above must be registered too.
_Constructor.add_constructor(None, _Constructor.construct_undefined)


class _Composer(Composer):
    """Checks the node graph before anything is built from it.

    - Aliases repeat an anchored value without copying it; a few nested ones (a "billion
      laughs" file) would make the models walk billions of values. The growth they cause
      is counted over the graph (each node once) and refused past a bound.
    - Mapping keys must be text: `1:` or `null:` would otherwise reach the models as
      numbers or None.
    (Depth is bounded by the loader's max_depth while composing.)
    """

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            _check_graph(node)
        return node


def _check_graph(root: Node) -> None:
    expanded: dict[int, int] = {}  # node id -> values it stands for, with aliases repeated

    def size(node: Node) -> int:
        if id(node) in expanded:
            return expanded[id(node)]
        expanded[id(node)] = 1  # a cycle counts once; ruamel builds cyclic data safely
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                if not (isinstance(key, ScalarNode) and key.tag in (_STR, _MERGE)):
                    shown = key.value if isinstance(key, ScalarNode) else "a list or mapping"
                    raise ComposerError(
                        None, None, f"key {shown!r} is not text", key.start_mark
                    )
                total += size(key) + size(value)
        expanded[id(node)] = total
        return total

    growth = size(root) - len(expanded)
    if growth > MAX_ALIAS_GROWTH:
        raise ComposerError(
            None, None,
            f"aliases (*name) repeat anchored values {growth} times, over the limit of "
            f"{MAX_ALIAS_GROWTH}", root.start_mark,
        )


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
    elif "'\\t'" in message:
        remedy = "indent with spaces, not tabs"
    elif "another document" in message:
        message = message.replace("but found another document", "a second YAML document "
                                  "starts here")
        remedy = "keep one document per file: remove the `---` line or split the file"
    elif "maximum depth" in message:
        message = f"nested more than {MAX_DEPTH} levels deep"
        remedy = _NEST_REMEDY
    elif "is not text" in message:
        remedy = "put the key in quotes, or check the indentation"
    elif "aliases" in message:
        remedy = "write the values out instead of repeating them with *aliases"
    return Problem(display, line, "", message, remedy)


def load_yaml(path: Path, display: str, within: Path, what: str,
              name: str | None = None) -> Document | Problem:
    """Parse one YAML file, a `what` (a kind of boundary.LIMITS) that must be inside the
    folder `within` (called `name` in messages, by default its own name: "sources/"),
    or describe why it cannot be read."""
    try:
        raw = boundary.read(path, within, what, name=name or f"{within.name}/")
    except boundary.Refused as exc:
        return Problem(display, None, "", f"file {exc.problem}", exc.remedy)
    except OSError as exc:
        return Problem(display, None, "", f"cannot read file: {exc.strerror}", "check the path")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Problem(display, line, "", "not valid UTF-8 text", "save the file as UTF-8")
    control = _CONTROL.search(text)
    if control:
        before = text[: control.start()]
        line, column = before.count("\n") + 1, control.start() - before.rfind("\n")
        return Problem(
            display, line, "",
            f"control character U+{ord(control.group()):04X} at column {column}",
            "remove it (is this a binary or damaged file?)",
        )
    nested = _FLOW_NEST.search(text)
    if nested:
        line = text.count("\n", 0, nested.start()) + 1
        return Problem(display, line, "", f"nested more than {MAX_DEPTH} levels deep",
                       _NEST_REMEDY)
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.Composer = _Composer
    yaml.max_depth = MAX_DEPTH
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        return _problem(display, exc)
    if data is None:
        return Problem(display, None, "", "file is empty", "add content or delete the file")
    if not isinstance(data, CommentedMap):
        return Problem(
            display, 1, "",
            f"expected a mapping of fields, found {_KIND.get(type(data), 'a value')}",
            "start the file with `field: value` lines",
        )
    return Document(display, data)
