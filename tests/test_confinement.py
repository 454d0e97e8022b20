"""Confinement (the Trust issue): note Markdown, templates and rendering reach nothing
outside the project and cannot exhaust memory. Each case carries its exact payload and,
where it builds, runs under the `audit` hook (conftest.py), which fails the test if any
file outside the project, package, fonts or Python was opened, or the network used."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader

from conftest import FIXTURES, STYLED_TEMPLATE, Audit, note_text, write
from policybrief import markdown, sandbox
from policybrief.css import check_css
from policybrief.fetch import make_fetcher
from policybrief.pdf import MAX_IMAGE_PIXELS

SOURCE = "sources/river-2024.yaml"
TEXT_LINE = 15  # the line of notes[0].text (talks-resume) in the fixture's source
def _set_note_text(project: Path, text: str) -> None:
    """Replace the whole text of the first note (as a JSON string, which YAML reads)."""
    source = project / SOURCE
    old = source.read_text()
    start = old.index("    text: >-\n") + len("    text: ")
    end = old.index("    locator:", start)
    source.write_text(old[:start] + json.dumps(text) + "\n" + old[end:])


def _html(project: Path) -> str:
    return (project / "build" / "river-talks" / "analyst.html").read_text()


def _link_targets(pdf: Path) -> list[str]:
    """The URI of every link annotation in the PDF (internal links have none)."""
    uris = []
    for page in PdfReader(pdf).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


def _png(width: int, height: int) -> bytes:
    """A black-and-white PNG of width x height pixels: a few KB, whatever its size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data)
        )

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then 1 bit a pixel
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(
        b"IEND", b""
    )


# --- The proof itself -------------------------------------------------------------------


@dataclass
class Measured:
    """A build run in a process of its own, with that process's peak memory."""

    exit_code: int
    stdout: str
    stderr: str
    peak: int  # KiB: the largest resident set of the build's process


# `brief ARGS...` that writes, as it exits, its own peak resident set (KiB) to argv[1].
# Its own: not the test process's lifetime peak (RUSAGE_SELF there), which earlier tests
# may have raised, nor its children's (RUSAGE_CHILDREN, or wait4): pandoc's alone is
# larger than the whole Python build's, and would hide what the build itself uses.
MEASURED = """\
import atexit, resource, sys
from pathlib import Path
peak = Path(sys.argv[1])
atexit.register(lambda: peak.write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
sys.argv[:2] = ["brief"]
from policybrief.cli import cli
cli()
"""


def _measured_build(project: Path, *args: str) -> Measured:
    """`brief build ARGS --project PROJECT` in a fresh interpreter, everything in that one
    process (POLICYBRIEF_FORK=0: no separate PDF process), with its peak memory."""
    peak = project.parent / "build.peak"
    peak.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, str(peak), "build", *args, "--project", str(project)],
        capture_output=True, text=True, env={**os.environ, "POLICYBRIEF_FORK": "0"},
    )
    assert peak.is_file(), done.stderr  # not written: killed (by the kernel, out of memory?)
    return Measured(done.returncode, done.stdout, done.stderr, int(peak.read_text()))


@pytest.fixture(scope="module")
def ordinary_peak(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The peak (KiB) of an ordinary build of the minimal project, measured the same way."""
    project = tmp_path_factory.mktemp("ordinary") / "minimal"
    shutil.copytree(FIXTURES / "minimal", project, ignore=shutil.ignore_patterns("build"))
    built = _measured_build(project, "-j1", "-a", "analyst")
    assert built.exit_code == 0, built.stderr
    return built.peak


def test_full_build_stays_inside(run: Callable[..., Result], project: Path, audit: Audit) -> None:
    with audit:
        result = run("build", "-j1", "--project", project, "--archival", "--force")
    assert result.exit_code == 0, result.output


def test_audit_sees_what_it_must(project: Path, audit: Audit, tmp_path: Path) -> None:
    """The hook records (does not raise) an outside open, a symlink out, a connection
    and a process; a test fails at teardown if any is left."""
    import socket
    import subprocess

    secret = write(tmp_path / "secret.txt", "secret")
    os.symlink(secret, project / "link.txt")
    with audit:
        secret.read_text()
        (project / "link.txt").read_text()
        (project / "inside.txt").write_text("fine")
        with socket.socket() as sock, pytest.raises(OSError):
            sock.settimeout(0.5)
            sock.connect(("127.0.0.1", 9))
        subprocess.run(["true"], check=True)
    seen = [v.split(":")[0] for v in audit.violations]
    assert seen == ["open", "open", "socket.connect", "subprocess.Popen"], audit.violations
    assert audit.violations[0] == audit.violations[1] == f"open: {secret.resolve()}"
    audit.violations.clear()


# --- Note Markdown ----------------------------------------------------------------------


def test_note_raw_html_is_text(run: Callable[..., Result], project: Path, audit: Audit) -> None:
    note_text(project, 'pause <script>alert(1)</script><img src=x onerror="alert(1)">.')
    with audit:
        result = run("build", "--strict", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    html = _html(project)
    assert "pause &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=" in html
    assert "<script" not in html and "<img src=x" not in html


UNSAFE_LINKS = (
    "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](vbscript:msgbox(1)) "
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) "
    "[e](data:image/png;base64,iVBORw0KGgo=) <javascript:alert(1)> "
    "[f](java&#115;cript:alert(1)) [g](&#x6A;avascript:alert(1)) [h](file:///etc/passwd) "
    "[i](../../etc/passwd) [ok](https://example.org/ok)"
)


def test_unsafe_links_are_not_clickable(
    run: Callable[..., Result], project: Path, audit: Audit
) -> None:
    note_text(project, f"pause {UNSAFE_LINKS}.")
    with audit:
        result = run("build", "--strict", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    html = _html(project)
    hrefs = re.findall(r'<a [^>]*href="([^"]*)"', html)
    assert [h for h in hrefs if not h.startswith("#")] == ["https://example.org/ok"]
    for text in ("[a](javascript:alert(1))", "[c](vbscript:msgbox(1))", "[d](data:text/html",
                 "&lt;javascript:alert(1)&gt;", "[f](javascript:alert(1))"):
        assert text in html  # markdown-it leaves these as text
    for word in ("e", "i"):  # links markdown-it makes, but we do not: only their text
        assert f">{word}</a>" not in html and f" {word} " in html
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    assert _link_targets(pdf) == ["https://example.org/ok"]


def _error_line(result: Result) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith(SOURCE))


@pytest.mark.parametrize(
    ("markdown", "problem"),
    [
        ("![map](/etc/passwd)", "image '/etc/passwd' is outside the project (/etc/passwd)"),
        ("![map](../../../../../../../../etc/passwd)",
         "image '../../../../../../../../etc/passwd' is outside the project (/etc/passwd)"),
        ("![map](%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd)",
         "image '%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd' is outside "
         "the project (/etc/passwd)"),
        ("![map](file:///etc/passwd)",
         "image 'file:///etc/passwd' is outside the project (/etc/passwd)"),
        ("![map](file:templates/x.png)",
         "image 'file:templates/x.png' is not a file in the project"),
        ("![map](http://127.0.0.1:9/map.png)",
         "image 'http://127.0.0.1:9/map.png' is not a file in the project"),
        ("![map](//127.0.0.1:9/map.png)",
         "image '//127.0.0.1:9/map.png' is not a file in the project"),
        ("![map](javascript:alert(1))", "image 'javascript:alert(1)' is not a file in the project"),
        ("![map](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
         "image 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' is inline data, not "
         "PNG/JPEG/GIF/WebP"),
        ("![map][r]\n\n[r]: /etc/passwd", "image '/etc/passwd' is outside the project "
         "(/etc/passwd)"),
    ],
)
def test_note_image_outside_is_an_error_naming_the_note(
    run: Callable[..., Result], project: Path, audit: Audit, markdown: str, problem: str
) -> None:
    _set_note_text(project, f"After a pause {markdown}")
    with audit:
        result = run("build", "--project", project)
    assert result.exit_code == 1
    assert _error_line(result) == (
        f"{SOURCE}:{TEXT_LINE}: notes[0].text: note 'talks-resume': {problem}; use an image "
        "file inside the project (paths are relative to templates/) or inline "
        "PNG/JPEG/GIF/WebP data"
    )
    assert result.stderr.endswith("Error: 1 error in the input; nothing was built\n")
    assert not (project / "build").exists()


def test_note_image_symlinked_out(
    run: Callable[..., Result], project: Path, audit: Audit, tmp_path: Path
) -> None:
    secret = write(tmp_path / "secret.png", "not an image")
    (project / "figures").mkdir()
    os.symlink(secret, project / "figures" / "map.png")
    note_text(project, "pause ![map](../figures/map.png)")
    with audit:
        result = run("build", "--project", project)
    assert result.exit_code == 1
    assert f"image '../figures/map.png' is outside the project ({secret.resolve()})" in (
        result.stderr
    )


def test_note_images_inside_are_fine(
    run: Callable[..., Result], project: Path, audit: Audit
) -> None:
    (project / "figures").mkdir()
    (project / "figures" / "map.png").write_bytes(_png(40, 20))
    inline = "data:image/png;base64," + base64.b64encode(_png(2, 2)).decode()
    note_text(project, f"pause ![a map](../figures/map.png) ![a dot]({inline})")
    with audit:
        result = run("build", "--strict", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    assert '<img src="../figures/map.png" alt="a map"' in _html(project)


def test_missing_note_image_is_a_warning(run: Callable[..., Result], project: Path) -> None:
    note_text(project, "pause ![map](nowhere.png)")
    missing = project.resolve() / "templates" / "nowhere.png"
    expected = (
        f"{SOURCE}:{TEXT_LINE}: notes[0].text: note 'talks-resume': image 'nowhere.png' not "
        f"found ({missing}); add the file (image paths are relative to templates/) or fix "
        "the path"
    )
    strict = run("build", "--strict", "--project", project)
    assert strict.exit_code == 1 and f"warning: {expected}" in strict.stderr.splitlines()


@pytest.mark.parametrize(
    "markdown",
    [
        "> " * 20 + "deep",
        "- " * 25 + "deep",
        "1. " * 25 + "deep",
        "[" * 25 + "deep" + "]" * 25,
        "> " * 10 + "- " * 10 + "deep",
    ],
)
def test_markdown_nested_too_deep_is_reported(
    run: Callable[..., Result], project: Path, markdown: str
) -> None:
    """markdown-it silently stops at maxNesting (20): the rest of the note would vanish."""
    _set_note_text(project, f"After a pause:\n\n{markdown}")
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert _error_line(result) == (
        f"{SOURCE}:{TEXT_LINE}: notes[0].text: note 'talks-resume': Markdown nested more "
        "than 20 levels deep (block quotes, lists or brackets inside one another); "
        "markdown-it would drop what is deeper; nest block quotes, lists and brackets less "
        "deeply"
    )


def test_markdown_nesting_in_a_brief_names_the_field(
    run: Callable[..., Result], project: Path
) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "lead: The talks restarted quietly.", f'lead: "{"> " * 21}quietly"'
    ))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert "briefs/river-talks.yaml:13: sections[0].lead: Markdown nested more than 20" in (
        result.stderr
    )


def test_markdown_just_under_the_limit_renders(environment_md: Callable[[str], str]) -> None:
    assert environment_md("> " * 19 + "deep").count("<blockquote>") == 19


@pytest.fixture
def environment_md() -> Callable[[str], str]:
    """The `markdown` filter as templates call it."""
    md = markdown.make_markdown()
    return md.render


# --- Templates: the sandbox -------------------------------------------------------------

SANDBOXED = "templates run in Jinja2's sandbox, without access to Python internals"
BOUNDED = "templates run with bounded sizes; make less output or smaller values"
RELATIVE = "name templates relative to templates/, without '..'"


def _template_error(template: Path, problem: str, line: int, remedy: str) -> str:
    """The whole stderr of a build the analyst template stopped at `line`."""
    return (f"Error: template 'analyst.html.j2': {problem} at {template}:{line}; "
            f"{remedy}\n")


def _assert_template_refused(
    run: Callable[..., Result], project: Path, audit: Audit, text: str, line: int,
    problem: str, remedy: str,
) -> None:
    """With `text` as the analyst template, a build (under the audit) exits 3 with
    nothing but the refusal, naming the template's file and line and the remedy."""
    template = write(project / "templates" / "analyst.html.j2", text)
    with audit:
        result = run("build", "--project", project)
    assert result.exit_code == 3
    assert result.stderr == _template_error(template, problem, line, remedy)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ ''|attr('__class__') }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ '{0.__class__}'.format(brief) }}",
         "access to attribute '__class__' of 'Brief' object is unsafe"),
        ("{{ '{b.__class__}'.format_map({'b': brief}) }}",
         "access to attribute '__class__' of 'Brief' object is unsafe"),
        ("{{ cycler.__init__.__globals__ }}",
         "access to attribute '__init__' of 'type' object is unsafe"),
        ("{{ brief.model_config.update({'x': 1}) }}",
         "access to attribute 'update' of 'dict' object is unsafe"),
    ],
)
def test_sandbox_escapes_are_refused(
    run: Callable[..., Result], project: Path, audit: Audit, payload: str, problem: str
) -> None:
    _assert_template_refused(run, project, audit, f"<p>\n{payload}</p>\n", 2, problem,
                             SANDBOXED)


def test_misspelt_variable_names_file_and_line(
    run: Callable[..., Result], project: Path
) -> None:
    template = write(
        project / "templates" / "analyst.html.j2",
        '{% extends "default:analyst.html.j2" %}\n{% block edition %}\n'
        "{{ brief.title }} {{ brief.titel }}{% endblock %}\n",
    )
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert result.stderr == _template_error(
        template, "`brief.titel`: a Brief has no field 'titel'", 3,
        "did you mean 'title'? (template variables are listed in docs/templates.md)",
    )
    assert not (project / "build").exists()


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("{% include '../policybrief.toml' %}",
         "template name '../policybrief.toml' points outside templates/"),
        ("{% include '/etc/passwd' %}", "template name '/etc/passwd' points outside templates/"),
        ("{% extends 'x/../../policybrief.toml' %}",
         "template name 'x/../../policybrief.toml' points outside templates/"),
        ("{% import '../policybrief.toml' as m %}",
         "template name '../policybrief.toml' points outside templates/"),
    ],
)
def test_template_paths_out_are_refused(
    run: Callable[..., Result], project: Path, audit: Audit, payload: str, problem: str
) -> None:
    _assert_template_refused(run, project, audit, f"{payload}\n", 1, problem, RELATIVE)


def test_template_symlinks_out_are_refused(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    """Jinja's FileSystemLoader follows symlinks; ours refuses them before reading.
    (Not audited: see test_symlink_in_templates_is_not_read.)"""
    secret = write(tmp_path / "outside" / "secret.html.j2", "{{ brief.title }} secret\n")
    (project / "templates").mkdir(exist_ok=True)  # the fixture has none
    os.symlink(secret, project / "templates" / "analyst.html.j2")
    result = run("build", "--project", project)
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: template 'analyst.html.j2': template 'analyst.html.j2' is a link to "
        f"{secret.resolve()}, outside templates/; copy the file into templates/ instead\n"
    )
    (project / "templates" / "analyst.html.j2").unlink()
    os.symlink(secret.parent, project / "templates" / "shared")
    template = write(project / "templates" / "analyst.html.j2",
                     "{% include 'shared/secret.html.j2' %}\n")
    result = run("build", "--project", project)
    assert result.exit_code == 3
    assert result.stderr == _template_error(
        template, f"template 'shared/secret.html.j2' is a link to {secret.resolve()}, "
        "outside templates/", 1, "copy the file into templates/ instead",
    )


def test_symlink_in_templates_is_not_read(
    run: Callable[..., Result], project: Path, audit: Audit, tmp_path: Path
) -> None:
    """Files under templates/ are hashed to tell whether a target changed: a link out of
    the project is not read, and neither is a device or a FIFO (reading them would never
    end)."""
    secret = write(tmp_path / "secret.css", "p { color: red }")
    (project / "templates").mkdir(exist_ok=True)
    os.symlink(secret, project / "templates" / "extra.css")
    os.symlink("/dev/zero", project / "templates" / "zero.css")
    os.mkfifo(project / "templates" / "pipe.css")
    with audit:
        assert run("build", "-j1", "--project", project).exit_code == 0
        assert run("build", "-j1", "--project", project).stdout.startswith("unchanged")
    try:
        assert audit.violations == []
    finally:
        audit.violations.clear()


BOMBS = [
    ("{{ 'x' * 10**9 }}",
     "str * 1000000000 would make 1000000000 characters or items, over the sandbox limit "
     "of 4000000 (MAX_VALUE)"),
    ("{{ 10 ** 100000 }}", "10 ** 100000 is over 4096 bits (MAX_INT_BITS)"),
    ("{{ (10 ** 100000)|string }}", "10 ** 100000 is over 4096 bits (MAX_INT_BITS)"),
    ("{{ 'x'|center(10**9) }}", "center(): argument 1000000000 is over 100000 (MAX_ARGUMENT)"),
    ("{{ 'x'.ljust(10**9) }}", "ljust(): argument 1000000000 is over 100000 (MAX_ARGUMENT)"),
    ("{{ '{:>1000000000}'.format(1) }}", "format width 1000000000 is over 100000 (MAX_ARGUMENT)"),
    ("{{ '%1000000000d' % 1 }}", "format width 1000000000 is over 100000 (MAX_ARGUMENT)"),
    ("{{ '%*d' % (10**9, 1) }}", "'*' widths in % formats are not allowed"),
    ("{{ '%1000000000d'|format(1) }}", "format width 1000000000 is over 100000 (MAX_ARGUMENT)"),
    ("{{ [1]|batch(10**9, 0)|list }}", "batch(): argument 1000000000 is over 100000 "
     "(MAX_ARGUMENT)"),
    ("{{ brief|tojson(indent=10**9) }}", "tojson(): argument 1000000000 is over 100000 "
     "(MAX_ARGUMENT)"),
    ("{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
     "replace() would make 100010000 characters or items, over the sandbox limit of 4000000 "
     "(MAX_VALUE)"),
    ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
     "{% endfor %}{{ ns.s }}",
     "~ would make 4194304 characters or items, over the sandbox limit of 4000000 "
     "(MAX_VALUE)"),
    ("{% set ns = namespace(s=['x']) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
     "{% endfor %}{{ ns.s }}",
     "+ would make 4194304 characters or items, over the sandbox limit of 4000000 "
     "(MAX_VALUE)"),
    ("{{ range(100000)|map('string')|map('center', 100000)|join }}",
     "an iterable would make 4000040 characters or items, over the sandbox limit of "
     "4000000 (MAX_VALUE)"),
]


@pytest.mark.parametrize(("payload", "problem"), BOMBS)
def test_template_bombs_are_bounded(
    project: Path, ordinary_peak: int, payload: str, problem: str
) -> None:
    template = write(project / "templates" / "analyst.html.j2", f"<p>\n{payload}</p>\n")
    result = _measured_build(project)
    # A refused bomb makes nothing: its build stays within an ordinary build's memory
    # (measured: 75-85 MiB against 100 MiB), well below one value made and then refused.
    assert result.peak - ordinary_peak < 64 * 1024, (result.peak, ordinary_peak)  # KiB
    assert result.exit_code == 3
    assert result.stderr == _template_error(template, problem, 2, BOUNDED)


@pytest.mark.parametrize(
    "payload",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{% macro m() %}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}"
        "{% endfor %}{% endmacro %}{{ m() }}",
        "{% set s %}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}"
        "{% endfor %}{% endset %}{{ s }}",
    ],
)
def test_template_output_is_capped(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    """10**10 characters asked for; the cap stops it. The cap is lowered here from 20 MB
    to 1 MB only to keep the test fast (20 MB of one-character pieces take ~10 s)."""
    assert sandbox.MAX_OUTPUT == 20_000_000
    monkeypatch.setattr(sandbox, "MAX_OUTPUT", 1_000_000)
    write(project / "templates" / "analyst.html.j2", f"<p>\n{payload}</p>\n")
    result = run("build", "--project", project)
    assert result.exit_code == 3
    assert "template output is over 1000000 characters (MAX_OUTPUT)" in result.stderr


def test_ordinary_template_arithmetic_still_works(
    run: Callable[..., Result], project: Path
) -> None:
    write(project / "templates" / "analyst.html.j2",
          "<p>{{ 6 * 7 }} {{ 2 ** 10 }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ '%05.1f' % 3.14159 }} "
          "{{ '{:,}'.format(10**12) }} {{ (10**10)|string }} {{ 'x'|center(9) }}|"
          "{{ nope|default('d') }} {{ brief.title|wordwrap(10) }}</p>\n")
    # A template that prints no numbered paragraphs: cite as sources, so that the claim
    # map does not promise paragraphs (verify.py checks a footnoted one is printed).
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + '\n[audiences.analyst]\ncitations = "sources"\n')
    result = run("build", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    assert (
        "<p>42 1024 ababab [1, 2] 003.1 1,000,000,000,000 10000000000     x    |d River"
    ) in _html(project)


# --- Rendering: every route to a file or the network ------------------------------------


SVG_OUT = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="10" height="10"><title>f</title>'
    '<image href="file:///etc/passwd" width="5" height="5"/>'
    '<image xlink:href="../../../../../../../../etc/hostname" width="5" height="5"/></svg>'
)


@pytest.mark.parametrize(
    ("template", "refused"),
    [
        ('<html><head><link rel="attachment" href="file:///etc/passwd"></head>'
         "<body><p>x</p></body></html>", "file:///etc/passwd"),
        ('<p><a rel="attachment" href="file:///etc/hostname">x</a></p>', "file:///etc/hostname"),
        ('<style>@import url("file:///etc/passwd");</style><p>x</p>', "file:///etc/passwd"),
        ('<style>@import "http://127.0.0.1:9/x.css";</style><p>x</p>',
         "http://127.0.0.1:9/x.css"),
        ('<link rel="stylesheet" href="http://127.0.0.1:9/evil.css"><p>{{ brief.title }}</p>',
         "http://127.0.0.1:9/evil.css"),
        (STYLED_TEMPLATE.format(css="body { background: url('file:///etc/passwd'); }"),
         "file:///etc/passwd"),
        (STYLED_TEMPLATE.format(css="body { background: url('../../../../../../etc/passwd'); }"),
         "file:///etc/passwd"),
        ('<p style="background: url(file:///etc/passwd)">x</p>', "file:///etc/passwd"),
        ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>t</title>'
         '<image href="file:///etc/passwd" width="5" height="5"/></svg>', "file:///etc/passwd"),
        ('<img src="fig.svg" alt="a figure">', "file:///etc/hostname, file:///etc/passwd"),
        ('<img src="file:///dev/urandom" alt="noise">', "file:///dev/urandom"),
        ('<img src="file:fig.svg" alt="relative file URL">', "file:fig.svg"),
        ('<img src="https://example.org/x.png" alt="remote">', "https://example.org/x.png"),
        ('<style>@font-face { font-family: x; src: url("file:///etc/passwd"); } '
         "p { font-family: x; }</style><p>x</p>", "file:///etc/passwd"),
    ],
)
def test_render_routes_out_are_refused(
    run: Callable[..., Result], project: Path, audit: Audit, template: str, refused: str
) -> None:
    write(project / "templates" / "fig.svg", SVG_OUT)
    write(project / "templates" / "analyst.html.j2", template)
    with audit:
        result = run("build", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: river-talks/analyst: refused to load {refused}; notes and templates may "
        "only use files inside the project (no network, no other files)\n"
    )
    assert not (project / "build").exists()


def test_render_symlink_out_is_refused(
    run: Callable[..., Result], project: Path, audit: Audit, tmp_path: Path
) -> None:
    secret = write(tmp_path / "secret.css", "p { color: red }")
    (project / "styles").mkdir()
    os.symlink(secret, project / "styles" / "extra.css")
    write(project / "templates" / "analyst.html.j2",
          '<link rel="stylesheet" href="../styles/extra.css"><p>x</p>')
    with audit:
        result = run("build", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 3
    link = (project.resolve() / "styles" / "extra.css").as_uri()
    assert result.stderr.startswith(f"Error: river-talks/analyst: refused to load {link};")


def test_fetcher_rules(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    write(inside / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    write(tmp_path / "secret.txt", "secret")
    os.symlink(tmp_path / "secret.txt", inside / "link.txt")
    refused: list[str] = []
    fetch = make_fetcher([inside.resolve()], refused)
    response = fetch((inside / "logo.svg").as_uri())
    assert response.read().startswith(b"<svg") and response.content_type == "image/svg+xml"
    assert fetch("data:text/plain,hello").read() == b"hello"
    for url in [
        (tmp_path / "secret.txt").as_uri(),
        (inside / "link.txt").as_uri(),  # a symlink out of the project
        (inside / ".." / "secret.txt").as_uri(),
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x",
    ]:
        with pytest.raises(ValueError, match="refused by policybrief"):
            fetch(url)
    assert len(refused) == 6


def test_fetcher_refuses_big_files_and_fifos(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    inside.mkdir()
    with open(inside / "big.png", "wb") as sparse:
        sparse.truncate(60 * 1024 * 1024)
    os.mkfifo(inside / "pipe.css")  # reading a FIFO would block forever
    refused: list[str] = []
    fetch = make_fetcher([inside.resolve()], refused)
    for name in ("big.png", "pipe.css"):
        with pytest.raises(ValueError, match="refused by policybrief"):
            fetch((inside / name).as_uri())
    assert refused == [
        f"{(inside / 'big.png').as_uri()} (62914560 bytes, over the image limit of 52428800 "
        "bytes)",
        f"{(inside / 'pipe.css').as_uri()} (a named pipe (FIFO), not a regular file)",
    ]


# --- Rendering: values WeasyPrint cannot lay out ----------------------------------------


HUGE_CSS = [
    ("body { font-size: 1e30px; }", "`font-size: 1e30px`: 1e30px is over the limit of 10000"),
    ("body { width: 1e300px; }", "`width: 1e300px`: 1e300px is over the limit of 10000"),
    ("body { columns: 100000; }", "`columns: 100000`: 100000 is over the limit of 10"),
    ("p { counter-increment: c 99999999999999; }",
     "`counter-increment: c 99999999999999`: 99999999999999 is over the limit of 2147483648"),
    ("body { display: grid; grid-template-columns: repeat(100000, 1px); }",
     "`grid-template-columns: repeat(100000, 1px)`: repeat count over the limit of 1000"),
    ("@media print { p { margin-left: -1e8px; } }",
     "`margin-left: -1e8px`: -1e8px is over the limit of 10000"),
    ("p { width: calc(infinity * 1px); }",
     "`width: calc(infinity * 1px)`: infinity is not a finite value"),
]


@pytest.mark.parametrize(("css", "problem"), HUGE_CSS)
@pytest.mark.parametrize("strict", [True, False])
def test_huge_css_values_fail_the_target(
    run: Callable[..., Result], project: Path, css: str, problem: str, strict: bool
) -> None:
    write(project / "templates" / "analyst.html.j2", STYLED_TEMPLATE.format(css=css))
    result = run("build", *(["--strict"] if strict else []), "-j1", "--project", project)
    assert result.exit_code == 4
    assert re.search(
        rf"Error: river-talks/analyst: CSS {re.escape(problem)} \(in <style> at line \d+ of "
        r"the HTML\); use a value within the limit", result.stderr
    ), result.stderr


@pytest.mark.parametrize(
    ("template", "where"),
    [
        ('<p style="width: 1e300px">x</p>', "(in a style attribute at line 1 of the HTML)"),
        ('<link rel="stylesheet" href="huge.css"><p>x</p>', "(in file://{huge})"),
        ('<style>@import url("huge.css");</style><p>x</p>', "(in file://{huge})"),
        ('<style>@import url("data:text/css,p{width:1e300px}");</style><p>x</p>',
         "(in a data: stylesheet)"),
    ],
)
def test_huge_css_values_anywhere(
    run: Callable[..., Result], project: Path, template: str, where: str
) -> None:
    huge = write(project / "templates" / "huge.css", "p { width: 1e300px }")
    write(project / "templates" / "analyst.html.j2", template)
    result = run("build", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == 4
    assert result.stderr == (
        "Error: river-talks/analyst: CSS `width: 1e300px`: 1e300px is over the limit of "
        f"10000 {where.format(huge=huge.resolve().as_uri()[7:])}; use a value within the "
        "limit\n"
    )


@pytest.mark.parametrize(
    ("css", "code", "said"),
    [
        ("p { width: 1e300px }", 4, "CSS `width: 1e300px`: 1e300px is over the limit of "
         "10000; use a value within the limit"),
        ('@import url("file:///etc/passwd");', 3, "refused to load file:///etc/passwd; notes "
         "and templates may only use files inside the project (no network, no other files)"),
    ],
)
def test_the_audience_stylesheet_is_checked_and_confined(
    run: Callable[..., Result], project: Path, audit: Audit, css: str, code: int, said: str
) -> None:
    """brief.css, parsed once per process outside the HTML, has the same limits and the
    same fetcher as the document's own styles."""
    write(project / "templates" / "brief.css", css)
    result = run("build", "-j1", "-a", "analyst", "--project", project)
    assert result.exit_code == code
    assert result.stderr == f"Error: river-talks/analyst: stylesheet brief.css: {said}\n"


def test_css_limits_leave_ordinary_styles_alone() -> None:
    assert check_css(
        "p { width: calc(100% - 20mm); z-index: 2147483647; columns: 2; font-size: 11pt; "
        "counter-increment: para 1; grid-template-columns: repeat(12, 1fr) }"
        "@page { size: A4; margin: 20mm; @top-left { content: 'x' } }"
    ) == ()


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ((30000, 30000), "Image size (900000000 pixels) exceeds limit of 50000000 pixels"),
        ((6000, 6000), "Image size (36000000 pixels) exceeds limit of 25000000 pixels"),
    ],
)
def test_decompression_bomb_fails_under_strict(
    run: Callable[..., Result], project: Path, audit: Audit, ordinary_peak: int,
    size: tuple[int, int], reason: str,
) -> None:
    assert MAX_IMAGE_PIXELS == 25_000_000
    bomb = project / "templates" / "bomb.png"
    bomb.parent.mkdir(exist_ok=True)
    bomb.write_bytes(_png(*size))
    assert bomb.stat().st_size < 120_000
    note_text(project, "pause ![a bomb](bomb.png)")
    # The memory of a build that meets the bomb, in a process of its own; then the
    # output, under the audit.
    measured = _measured_build(project, "-j1", "-a", "analyst")
    # Measured: 0-30 MiB over an ordinary build; 6000 x 6000 decoded is some 270 MiB more.
    assert measured.peak - ordinary_peak < 150 * 1024, (measured.peak, ordinary_peak)  # KiB
    assert measured.exit_code == 0, measured.stderr
    with audit:
        strict = run("build", "--strict", "-j1", "-a", "analyst", "--project", project)
        lenient = run("build", "-j1", "-a", "analyst", "--force", "--project", project)
    message = (
        f"Failed to load image at {bomb.resolve().as_uri()!r}: {reason}, could be "
        "decompression bomb DOS attack."
    )
    assert strict.exit_code == 4
    assert strict.stderr == (
        f"Error: river-talks/analyst: WeasyPrint warned (--strict): {message}\n"
    )
    assert lenient.exit_code == 0  # without --strict: built without the image, warned
    assert f"warning: river-talks/analyst: WeasyPrint: {message}" in lenient.stderr
    assert f"warning: river-talks/analyst: WeasyPrint: {message}" in measured.stderr
