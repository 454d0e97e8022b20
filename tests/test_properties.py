"""Property tests (Trust issue): whatever the source, brief or note Markdown, the CLI
answers with a documented exit code and a message naming the file, never a traceback,
and never leaves a partial file in build/.

Documents are mutations of tests/fixtures/minimal: values of random types put at random
places, keys dropped or added, odd dates, unicode with control characters, then YAML
syntax damage and bad bytes. `CI=true` loads a derandomized profile (same examples on
every run); locally each run explores new ones, and `PB_EXAMPLES=20` runs twenty times
as many.
"""

from __future__ import annotations

import copy
import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from ruamel.yaml import YAML

from conftest import FIXTURES, TALKING_POINTS
from policybrief.cli import cli
from policybrief.config import load_config
from policybrief.markdown import make_markdown
from policybrief.output import read_manifest, sha256
from policybrief.templating import make_environment

# No example database: it would be written to .hypothesis/ in the working folder, and a
# failing example is printed (with a @reproduce_failure blob) anyway.
settings.register_profile("default", database=None, print_blob=True)
settings.register_profile("ci", database=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in {"1", "true"} else "default")
# PB_EXAMPLES=20 runs twenty times as many examples of each property (a local soak).
SCALE = int(os.environ.get("PB_EXAMPLES", "1"))

DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 5}
SOURCE = "sources/river-2024.yaml"
BRIEF = "briefs/river-talks.yaml"


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    return yaml


def _load(relpath: str, extra: str = "") -> Any:
    return _yaml().load((FIXTURES / "minimal" / relpath).read_text(encoding="utf-8") + extra)


def _dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


# The brief with every audience, so that the talking points' fields are mutated too.
BASE = {SOURCE: _load(SOURCE), BRIEF: _load(BRIEF, TALKING_POINTS)}

# --- values -----------------------------------------------------------------------------

ODD_DATES = [
    "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "0000-01-01",
    "0001-01-01", "9999-12-31", "10000-01-01", "-0044-03-15", "2024", "2024-03", "2024-3-1",
    "24-03-14", "March 2024", "14.03.2024", "2024-03-14T25:00", "2024-03-14 12:00:00+14:00",
    "2024-03-14T12:00:00Z", "2024-W10", "2024-03-14/2024-03-20", "2024-03-14 ", " 2024-03-14",
    "1969-12-31", "1900-02-29", "2000-02-29", "", " ",
]
# Words the schema knows, so that mutated documents are often nearly valid.
PLAUSIBLE = [
    "river-2024", "river-2024/talks-resume", "river-2024/water-share", "river-2024/nope",
    "talks-resume", "kazakh-names", "context", "options", "analyst", "executive",
    "talking-points", "key", "supporting", "background", "independent", "official", "en",
    "en-GB", "ru", "kk", "xx-YY", "final", "draft", "article-newspaper", "report", "para. 1",
    "Steppe Herald", "UPPER-case", "with space", "../../etc/passwd", "/etc/passwd",
    "http://127.0.0.1:9/x", "{{ brief.title }}", "{% raw %}", "<script>alert(1)</script>",
]


def _keys(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from _keys(item)


# Keys: the schema's own (extra ones are errors), plus odd ones of odd types.
keys = st.one_of(
    st.sampled_from(sorted({k for doc in BASE.values() for k in _keys(doc)} | {"x-extra"})),
    st.text(max_size=12),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
)
texts = st.one_of(
    st.text(max_size=40),  # every code point but surrogates: control characters included
    st.text(st.characters(codec="ascii"), max_size=20),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Co"]), max_size=8),
    st.sampled_from(PLAUSIBLE),
    st.sampled_from(ODD_DATES),
)
scalars = st.one_of(
    texts, texts, st.none(), st.booleans(), st.integers(),
    st.integers(-(2**70), 2**70), st.floats(), st.dates(), st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _paths(item, (*prefix, i))


@st.composite
def _mutate(draw: st.DrawFn, data: Any) -> Any:
    """One structural change at a random place: replace, drop, add, duplicate."""
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(list(_paths(data))))
    if not path:
        return draw(st.one_of(values, st.just(data)))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    op = draw(st.sampled_from(["replace", "replace", "drop", "add", "dup", "wrap", "stringify"]))
    if op == "replace":
        parent[last] = draw(values)
    elif op == "drop":
        del parent[last]
    elif op == "add" and isinstance(parent, dict):
        parent[draw(keys)] = draw(values)
    elif op == "add":
        parent.insert(draw(st.integers(0, len(parent))), draw(values))
    elif op == "dup" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif op == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = str(parent[last])
    return data


# Text-level damage: YAML syntax, tabs, tags, anchors, odd bytes.
SNIPPETS = [
    ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "\t", "\n", "  ", "    ", "&a ", "*a",
    "*undefined ", "!!python/object/apply:os.system ['true'] ", "!!binary ", "!custom ",
    "!!timestamp ", "%YAML 1.1\n", "---\n", "...\n", "? ", "|", "|-\n", ">", "'", '"', "#",
    "@", "`", "%", "<<: *a\n", "\x00", "\x07", "\x1b[2J", "\ufeff", "\x85", "\u2028", "\ud7ff",
    "\U0001f600", "\\", "\r", "\r\n", "key: value\n", "title: dup\n", "notes: [\n",
]


@st.composite
def _damage(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "dupline", "truncate"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=5)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif op == "dupline":
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
        else:
            text = text[:at]
    return text


@st.composite
def _encode(draw: st.DrawFn, text: str) -> bytes:
    how = draw(st.sampled_from(["utf-8"] * 8 + ["utf-8-sig", "utf-16", "latin-1", "bad-byte"]))
    if how == "latin-1":
        return text.encode("latin-1", errors="replace")
    if how == "bad-byte":
        raw = text.encode("utf-8")
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])) + (
            raw[at:]
        )
    return text.encode(how)


@dataclass(frozen=True)
class Case:
    """A file (project-relative path) with the bytes to put there."""

    relpath: str
    data: bytes


@st.composite
def documents(draw: st.DrawFn) -> Case:
    """A mutated source or brief document, or a stray one beside them."""
    relpath = draw(st.sampled_from([SOURCE, BRIEF, SOURCE, BRIEF, "sources/extra.yaml",
                                    "briefs/extra.yaml", "sources/Bad Name.yaml"]))
    data = BASE.get(relpath, draw(st.sampled_from(list(BASE.values()))))
    for _ in range(draw(st.integers(0, 3))):
        data = draw(_mutate(data))
    text = _dump(data)
    if draw(st.integers(0, 2)) == 0:
        text = draw(_damage(text))
    return Case(relpath, draw(_encode(text)))


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for one fresh project per example (session-scoped: Hypothesis reuses it)."""
    return tmp_path_factory.mktemp("examples")


def _fresh(scratch: Path) -> Path:
    root = Path(tempfile.mkdtemp(dir=scratch)) / "project"
    shutil.copytree(FIXTURES / "minimal", root, ignore=shutil.ignore_patterns("build"))
    return root


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _assert_no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {type(result.exception).__name__}: {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code in DOCUMENTED_EXITS | {130} or result.exit_code == 0


# `path[:line]: ...`, or `warning: path...`, or the closing `Error: ...`.
_LINE = re.compile(r"^(?:warning: )?(?P<path>(?:sources|briefs|archive)/[^:]+|[^/:]+\.toml)"
                   r"(?::\d+)?: ")


def _controls(text: str) -> list[str]:
    """Characters that move a terminal's cursor or start an escape sequence: all C0 and
    C1 controls but newline, and the Unicode line and paragraph separators."""
    return [c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Zl", "Zp"}]


def _assert_names_files(root: Path, stderr: str) -> None:
    """Every message names an existing file of the project, on a line of its own, with
    no control characters from the input."""
    assert not _controls(stderr), f"control characters in the messages: {stderr!r}"
    lines = stderr.split("\n")[:-1] if stderr.endswith("\n") else stderr.split("\n")
    assert lines and lines[-1].startswith("Error: "), stderr
    named: list[str] = []
    for line in lines[:-1]:
        match = _LINE.match(line)
        assert match, f"a message line that names no file: {line!r}\n{stderr}"
        named.append(match["path"])
    assert named, f"no file named:\n{stderr}"
    for path in named:
        assert (root / path).is_file(), f"names a file that does not exist: {path}\n{stderr}"


# --- (1) documents through `brief check` ------------------------------------------------


@settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=documents())
def test_check_any_document(scratch: Path, case: Case) -> None:
    """`brief check` on a mutated document: a documented exit code, no traceback, and
    every message line names an existing file of the project."""
    root = _fresh(scratch)
    try:
        target = root / case.relpath
        target.write_bytes(case.data)
        result = _run("check", "--project", root)
        _assert_no_traceback(result)
        assert result.exit_code in {0, 1}, result.output
        if result.exit_code == 1:
            _assert_names_files(root, result.stderr)
        else:
            assert result.stdout.startswith("ok: "), result.output
    finally:
        shutil.rmtree(root.parent)


def test_check_names_the_damaged_file(scratch: Path) -> None:
    """A sanity anchor for the property above: a known damage, the exact message."""
    root = _fresh(scratch)
    (root / SOURCE).write_text("title: [unclosed\n", encoding="utf-8")
    result = _run("check", "--project", root)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"{SOURCE}:2: ")


@pytest.mark.parametrize("key", [
    "x\\nbriefs/river-talks.yaml:3: title: forged line",  # a second, made-up message line
    "x\\e[2J\\e[31mred",  # clears the terminal, then writes in red
    "all fine\\rsources/river-2024.yaml: ok",  # overwrites its own line
    "a\\u2028b",  # a line separator
])
def test_unknown_key_is_escaped(scratch: Path, key: str) -> None:
    """A key from the file appears escaped, as values do (`'e\\nn'`): one line per
    problem, and no control characters from the input on the terminal (a newline in a
    key once forged a message line; ESC and CR reached the terminal)."""
    root = _fresh(scratch)
    with (root / SOURCE).open("a", encoding="utf-8") as source:
        source.write(f'"{key}": 1\n')  # a YAML double-quoted key: escapes are decoded
    result = _run("check", "--project", root)
    assert result.exit_code == 1
    assert len(result.stderr.split("\n")) == 3, result.stderr  # a problem, Error:, ""
    assert not _controls(result.stderr), result.stderr


# --- (2) note Markdown ------------------------------------------------------------------

MD_SNIPPETS = [
    "*", "**", "_", "__", "`", "```\n", "~~~\n", "    ", "\n", "\n\n", "# ", "> ", "- ", "1. ",
    "1) ", "---\n", "***", "[", "]", "(", ")", "![", "<", ">", "&", "&amp;", "&#0;", "&#x110000;",
    "&#xD800;", "&nbsp;", "\\", "|", "| a | b |\n|---|---|\n", "[^1]", "[ref]: /x\n", "[ref]",
    "| a | b | c |\n|:--|:-:|--:|\n",
    "<script>alert(1)</script>", "</style>", "<!--", "-->", "<b>", "<img src=x onerror=y>",
    "[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))", "[a](vbscript:x)", "<javascript:x>",
    "![m](/etc/passwd)", "![m](file:///etc/passwd)", "![m](http://127.0.0.1:9/m.png)",
    "![m](data:image/png;base64,iVBORw0KGgo=)", "![m](data:text/html,<b>x</b>)",
    "![m](../../../../etc/passwd)", "<http://127.0.0.1:9/>", "[a](<b c>)", '[a](/x "t")',
    "{{ brief.title }}", "{% if 1 %}", "\x00", "\x1b[31m", "\ufeff", "\u202e", "\u2028",
    "Қазақ Елі", "\U0001f600", "\t", "\r\n",
]
markdown_text = st.lists(
    st.sampled_from(MD_SNIPPETS) | st.text(max_size=6) | st.sampled_from(["word ", " ", "a"]),
    max_size=40,
).map("".join)

INLINE_TAGS = {"em", "strong", "a", "img", "code", "br"}
BLOCK_TAGS = {"p", "blockquote", "ul", "ol", "li", "pre", "hr", *(f"h{i}" for i in range(1, 7)),
              "table", "thead", "tbody", "tr", "th", "td"}  # GFM tables
# The attributes GFM tables add, with the only values they take.
TABLE_ATTRIBUTES = {("scope", "col"), *(("style", f"text-align:{side}")
                                        for side in ("left", "center", "right"))}
_BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|file):", re.IGNORECASE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _assert_safe_html(html: str, allowed: set[str]) -> None:
    for tag, attrs in _tags(html):
        assert tag in allowed, f"<{tag}> in the output: {html!r}"
        for name, value in attrs:
            assert name in {"href", "src", "alt", "title", "class"} or (
                tag in {"th", "td"} and (name, value) in TABLE_ATTRIBUTES), (name, html)
            if name in {"href", "src"}:
                assert not _BAD_SCHEME.match(value or ""), (value, html)


@pytest.fixture(scope="module")
def environment() -> Any:
    """The real Jinja environment (with the `markdown` filters) of the minimal project."""
    return make_environment(load_config(FIXTURES / "minimal"))


@settings(max_examples=600 * SCALE, deadline=None)
@given(text=markdown_text)
def test_markdown_filter_any_text(environment: Any, text: str) -> None:
    """Notes' Markdown renders without error, raw HTML never comes through, only
    CommonMark's own tags appear, and no link or image has a script or file scheme."""
    md = make_markdown()
    block, inline = md.render(text), md.renderInline(text)
    _assert_safe_html(block, INLINE_TAGS | BLOCK_TAGS)
    _assert_safe_html(inline, INLINE_TAGS)
    template = environment.from_string("{{ t | markdown }}|{{ t | markdown_inline }}")
    assert template.render(t=text) == f"{block}|{inline}"


@st.composite
def note_markdown(draw: st.DrawFn) -> str:
    """A source file whose first note's text is random Markdown."""
    source = copy.deepcopy(BASE[SOURCE])
    source["notes"][0]["text"] = draw(markdown_text)
    return _dump(source)


def _assert_build_dir_sound(build: Path) -> None:
    if not build.exists():
        return
    leftovers = [p for p in build.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers
    manifest = read_manifest(build)
    listed = {entry["pdf"]: entry["sha256"] for entry in manifest.get("artifacts", {}).values()}
    for pdf in build.rglob("*.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), pdf
        assert len(PdfReader(pdf, strict=True).pages) >= 1
        relpath = pdf.relative_to(build).as_posix()
        assert listed.get(relpath) == sha256(data), f"{relpath} not in the manifest as built"
    for relpath in listed:
        assert (build / relpath).is_file(), f"manifest lists missing {relpath}"


@settings(max_examples=5 * SCALE, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(source=note_markdown())
def test_build_any_note_markdown(scratch: Path, source: str) -> None:
    """A full `brief build` of a note with random Markdown: a documented exit code, no
    traceback, and build/ holds complete PDFs (listed in the manifest) or none."""
    root = _fresh(scratch)
    try:
        (root / SOURCE).write_text(source, encoding="utf-8")
        result = _run("build", "--project", root, "-j1", "-a", "analyst")
        _assert_no_traceback(result)
        assert result.exit_code in {0, 1, 3, 4}, result.output
        if result.exit_code == 0:
            assert (root / "build" / "river-talks" / "analyst.pdf").is_file()
        _assert_build_dir_sound(root / "build")
    finally:
        shutil.rmtree(root.parent)


def test_build_leaves_sound_dir(scratch: Path) -> None:
    """The build-dir check itself, on a plain build (the anchor for the property)."""
    root = _fresh(scratch)
    result = _run("build", "--project", root, "-j1", "-a", "analyst")
    assert result.exit_code == 0, result.output
    _assert_build_dir_sound(root / "build")
