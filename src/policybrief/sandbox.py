"""The bounded sandbox: Jinja2's immutable sandbox with size limits on output, values,
arguments and integers, so a template cannot exhaust memory (CPU time is not bounded)."""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import Concat
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import _PassArg

MAX_OUTPUT = 20_000_000  # characters a template may produce (about 20 MB of HTML)
MAX_VALUE = 4_000_000  # characters (or items) in any one string or list a template makes
MAX_ARGUMENT = 100_000  # an integer passed to a filter or method (widths, counts)
MAX_INT_BITS = 4096  # integers a template computes (about 1200 digits)
_NO_ARGUMENT_CAP = {"format", "default", "d", "sum", "round"}  # their numbers are data


class TemplateLimitError(SecurityError):
    """A template went over one of the sandbox's size limits (output bombs)."""


def _size(value: Any, depth: int = 4) -> int:
    """Characters or items in a value, counting what lists hold (four levels deep).
    Only the built-in containers: this runs for every filter and call, and an ABC check
    (Sized) costs ten times as much; other objects come from the context, not templates."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        total = len(value)
        if depth:
            for item in value:
                total += _size(item, depth - 1)
                if total > MAX_VALUE:
                    break
        return total
    if isinstance(value, dict | set | frozenset):
        return len(value)
    return 0  # includes Undefined, whose len() raises (`default` needs it to pass)


def _over(what: str, size: int) -> TemplateLimitError:
    return TemplateLimitError(
        f"{what} would make {size} characters or items, over the sandbox limit of "
        f"{MAX_VALUE} (MAX_VALUE)"
    )


def _checked(value: Any, what: str = "the result") -> Any:
    size = _size(value)
    if size > MAX_VALUE:
        raise _over(what, size)
    return value


def _bits(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0.0
    return float(value.bit_length())


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse before computing: a repeated sequence or a number too big to keep."""
    numbers = (int, float)
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(count, int) and not isinstance(seq, numbers):
                size = _size(seq) * max(count, 0)
                if size > MAX_VALUE:
                    raise _over(f"{type(seq).__name__} * {count}", size)
        if _bits(left) + _bits(right) > MAX_INT_BITS:
            raise TemplateLimitError(f"a product over {MAX_INT_BITS} bits (MAX_INT_BITS)")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right > 0 and right * math.log2(abs(left)) > MAX_INT_BITS:
            raise TemplateLimitError(
                f"{left} ** {right} is over {MAX_INT_BITS} bits (MAX_INT_BITS)"
            )
    elif operator == "+" and not isinstance(left, numbers):
        size = _size(left) + _size(right)
        if size > MAX_VALUE:
            raise _over("+", size)
    elif operator == "%" and isinstance(left, str):
        _check_percent_format(left)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(fmt: str) -> None:
    for width, precision in _PERCENT_SPEC.findall(fmt):
        for number in (width, precision):
            if number == "*":
                raise TemplateLimitError("'*' widths in % formats are not allowed")
            if number and int(number) > MAX_ARGUMENT:
                raise TemplateLimitError(
                    f"format width {number} is over {MAX_ARGUMENT} (MAX_ARGUMENT)"
                )


def _check_brace_format(fmt: str) -> None:
    for _, _, spec, _ in string.Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise TemplateLimitError("nested {} in format specifications are not allowed")
        for number in re.findall(r"\d+", spec):
            if int(number) > MAX_ARGUMENT:
                raise TemplateLimitError(
                    f"format width {number} is over {MAX_ARGUMENT} (MAX_ARGUMENT)"
                )


def _materialised(value: Any) -> Any:
    """An iterator as a list, counted as it is read (a generator has no size to check)."""
    if getattr(type(value), "__next__", None) is None:  # not an iterator (fast for all)
        return value
    items, total = [], 0
    for item in value:
        total += 1 + _size(item, 1)
        if total > MAX_VALUE:
            raise _over("an iterable", total)
        items.append(item)
    return items


def _argument(args: Sequence[Any], kwargs: dict[str, Any], index: int, name: str,
              default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_arguments(name: str, value: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """Refuse, before the call, arguments that would make a huge string or list: a filter
    or method name, the value it works on, and the rest of its arguments."""
    if name not in _NO_ARGUMENT_CAP:
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_ARGUMENT:
                raise TemplateLimitError(
                    f"{name}(): argument {arg} is over {MAX_ARGUMENT} (MAX_ARGUMENT)"
                )
    if not isinstance(value, str):
        return
    size = 0
    if name == "format":
        _check_percent_format(value)
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        size = len(value) + (value.count(old) if old else len(value) + 1) * len(new)
    elif name == "indent":  # (width, first, blank): width is a count or a string
        width = _argument(args, kwargs, 0, "width", 4)
        pad = len(width) if isinstance(width, str) else int(width)
        size = len(value) + (value.count("\n") + 1) * max(pad, 0)
    elif name == "wordwrap":  # (width, break_long_words, wrapstring, ...)
        wrapstring = _argument(args, kwargs, 2, "wrapstring", None) or "\n"
        size = len(value) * (1 + len(str(wrapstring)))
    elif name == "expandtabs":
        size = len(value) + value.count("\t") * int(_argument(args, kwargs, 0, "tabsize", 8))
    if size > MAX_VALUE:
        raise _over(f"{name}()", size)


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    first = int(_PassArg.from_obj(func) is not None)  # context/environment comes first

    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja still passes the context
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if len(args) <= first:
            return func(*args, **kwargs)
        value = _checked(_materialised(args[first]), f"{name}()'s input")
        rest = [_materialised(a) for a in args[first + 1:]]
        _check_arguments(name, value, rest, kwargs)
        return _checked(func(*args[:first], value, *rest, **kwargs), f"{name}()")

    return bounded


def _output_over() -> TemplateLimitError:
    return TemplateLimitError(
        f"template output is over {MAX_OUTPUT} characters (MAX_OUTPUT)"
    )


class _Buffer(list[str]):
    """A template's output buffer (macros, {% set %} blocks, filters over blocks), counted."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    # list.append is bound once: this runs for every piece of output (see bounded_join).
    def append(self, item: str, _append: Callable[[list[str], str], None] = list.append) -> None:
        self.size += len(item)
        if self.size > MAX_OUTPUT:
            raise _output_over()
        _append(self, item)

    def extend(self, items: Iterable[str]) -> None:
        for item in items:
            self.append(item)


def bounded_join(pieces: Iterable[str]) -> str:
    """Join template output, refusing more than MAX_OUTPUT characters in all."""
    out: list[str] = []
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_OUTPUT:
            raise _output_over()
        out.append(piece)
    return "".join(out)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with counted output buffers and `~` results checked."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


# Every method name jinja2.sandbox.modifies_known_mutable refuses on lists, dicts, sets
# and deques (its _mutable_spec).
_MUTATING = frozenset({
    "add", "append", "appendleft", "clear", "difference_update", "discard", "extend",
    "extendleft", "insert", "pop", "popitem", "popleft", "remove", "reverse", "rotate",
    "setdefault", "sort", "symmetric_difference_update", "update",
})


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (no Python internals, no mutating lists or dicts) with size
    limits: `*`, `**`, `+`, `%`, `~`, filters, method calls and all output are bounded,
    so a template cannot exhaust memory. CPU time is not bounded here."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator
    concat = staticmethod(bounded_join)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.globals["lipsum"]  # lipsum(n) builds n paragraphs; no template needs it
        for name, func in list(self.filters.items()):
            self.filters[name] = bounded_filter(name, func)

    @staticmethod
    def new_buffer() -> _Buffer:
        """An output buffer for compiled template code."""
        return _Buffer()

    @staticmethod
    def checked(value: Any) -> Any:
        """A value made by `~`, refused if too big."""
        return _checked(value, "~")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**`, `+` and `%`, refused before computing a result too big to keep."""
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right), operator)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Jinja's immutable sandbox, with its costly type checks only for method names
        that can mutate (this runs on every attribute a template reads)."""
        if attr in _MUTATING:
            return super().is_safe_attribute(obj, attr, value)
        return SandboxedEnvironment.is_safe_attribute(self, obj, attr, value)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A call from template code (methods, globals, macros), with bounded sizes."""
        name = getattr(__obj, "__name__", "")
        target = getattr(getattr(__obj, "__wrapped__", None), "__self__", None)
        if isinstance(target, str) and name in ("format", "format_map"):
            _check_brace_format(target)  # Jinja's sandboxed str.format; arguments are data
        else:
            args = tuple(_materialised(a) for a in args)
            _check_arguments(name, getattr(__obj, "__self__", None), args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs), f"{name}()")
