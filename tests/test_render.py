"""Real renders through WeasyPrint, read back from the PDF."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader

import policybrief
from conftest import pdf_fonts, pdf_text, write


def test_pdf_reads_back(built: Path) -> None:
    reader = PdfReader(built)
    text = pdf_text(built)
    assert built.read_bytes().startswith(b"%PDF-")
    assert len(reader.pages) == 2
    # Title block, as-of date, status, key messages, contents, headings.
    assert "River treaty talks: where they stand" in text
    assert "As of 1 April 2024" in text and "FINAL" in text
    assert "KEY MESSAGES Talks have resumed after a two-year pause." in text
    contents = re.sub(r" ?\.{3,} ?", "…", text)  # leader dots
    assert "CONTENTS 1 Context…1 2 Options…1 3 Recommendations…1 Annex A · Chronology…2" in contents
    assert "Negotiators from the two riparian states met again in Almaty after a two-year" in text
    # Page-bottom footnotes (CSL Chicago notes, en-GB): full first, short after.
    first = "1. Aru Sagyntay, ‘River Treaty Talks Resume in Almaty’, Steppe Herald, 14 March 2024"
    assert first + ", para. 1." in text
    assert "4. Sagyntay, ‘River Treaty Talks Resume in Almaty’, para. 5." in text
    entry = "Sagyntay, Aru. ‘River Treaty Talks Resume in Almaty’. Steppe Herald, 14 March 2024."
    assert entry in text  # the bibliography entry
    assert "12 – 13 March 2024 Treaty talks resume in Almaty Sagyntay, ‘River Treaty Talks " \
        "Resume in Almaty’, para. 1." in text
    assert "Page 1 of 2" in text and "Page 2 of 2" in text


def test_every_footnote_body_is_printed(built: Path) -> None:
    """Each footnote call has its footnote text on the page (guards the WeasyPrint
    footnote-area bug worked around in brief.css)."""
    text = pdf_text(built)
    bodies = [
        "1. Aru Sagyntay, ‘River Treaty Talks Resume in Almaty’, Steppe Herald, 14 March 2024, "
        "para. 1.",
        "2. Sagyntay, ‘River Treaty Talks Resume in Almaty’, para. 1.",
        "3. Sagyntay, ‘River Treaty Talks Resume in Almaty’, para. 3.",
        "4. Sagyntay, ‘River Treaty Talks Resume in Almaty’, para. 5.",
    ]
    assert [b in text for b in bodies] == [True] * 4


def test_running_header_only_after_first_page(built: Path) -> None:
    first, second = (" ".join((p.extract_text() or "").split()) for p in PdfReader(built).pages)
    assert "River treaty talks Analyst brief" not in first
    assert "River treaty talks Analyst brief" in second


def test_metadata(built: Path) -> None:
    reader = PdfReader(built)
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "River treaty talks: where they stand"
    assert meta.author == "Test Unit"
    assert meta["/Keywords"] == "water, treaty"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/CreationDate" not in meta  # no wall-clock time unless SOURCE_DATE_EPOCH is set
    assert [o.title for o in reader.outline[:1]] == ["River treaty talks: where they stand"]


def test_fonts_embedded_and_cover_kazakh(built: Path) -> None:
    fonts = pdf_fonts(built)
    assert {"PT-Serif", "PT-Sans", "PT-Sans-Bold"} <= fonts
    assert all(f.startswith("PT-") for f in fonts), fonts  # no fallback to system fonts
    for page in PdfReader(built).pages:
        for ref in page["/Resources"]["/Font"].values():
            descendant = ref.get_object()["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded, not referenced
    assert "Ә Ғ Қ Ң Ө Ұ Ү Һ І" in pdf_text(built)
    assert "Ақтөбе, Өскемен and Үштөбе" in pdf_text(built)


def test_manifest_and_sums(built: Path) -> None:
    build_dir = built.parent.parent
    manifest = json.loads((build_dir / "manifest.json").read_text())
    entry = manifest["artifacts"]["river-talks/analyst"]
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    assert entry["pages"] == 2 and entry["sha256"] == digest
    assert entry["bytes"] == built.stat().st_size and len(entry["inputs"]) == 64
    assert entry["pdf"] == "river-talks/analyst.pdf" and "weasyprint=" in manifest["tools"]
    assert (build_dir / "SHA256SUMS").read_text() == f"{digest}  river-talks/analyst.pdf\n"
    html = (built.parent / "analyst.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and 'lang="en-GB"' in html


def test_two_builds_are_byte_identical(
    run: Callable[..., Result], project: Path, built: Path
) -> None:
    assert run("build", "--project", project).exit_code == 0
    again = project / "build" / "river-talks" / "analyst.pdf"
    assert again.read_bytes() == built.read_bytes()


def test_source_date_epoch_sets_pdf_dates(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run("build", "--project", project).exit_code == 0
    meta = PdfReader(project / "build" / "river-talks" / "analyst.pdf").metadata
    assert meta is not None and meta["/CreationDate"] == "D:20231114221320Z"


def test_project_template_overrides_and_extends_default(
    run: Callable[..., Result], project: Path
) -> None:
    write(
        project / "templates" / "analyst.html.j2",
        '{% extends "default:analyst.html.j2" %}\n'
        "{% block edition %}Committee note{% endblock %}\n",
    )
    result = run("-vv", "build", "--project", project)
    assert result.exit_code == 0, result.output
    assert f"template analyst.html.j2 from {project / 'templates' / 'analyst.html.j2'}" in (
        result.stderr
    )
    text = pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert "COMMITTEE NOTE" in text and "River treaty talks Committee note" in text


def test_footnote_call_is_kept_with_its_last_word(built: Path) -> None:
    html = (built.parent / "analyst.html").read_text()
    assert '<strong>two-year</strong> <span class="nobr">pause.<span class="footnote">' in html


def test_template_runtime_error_is_a_clean_error(run: Callable[..., Result], project: Path) -> None:
    template = write(project / "templates" / "analyst.html.j2", "{{ brief.authors | sum }}\n")
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: template {template}:1: TypeError: unsupported operand type(s) for +: 'int' "
        "and 'str'; fix the template\n"
    )


# Run in a fresh interpreter (argv[1] the case): counts the look-ups of each finder, the
# programs run and the libraries refused while policybrief.weasy imports WeasyPrint.
# "no-ldconfig": the quick finder cannot be made; "unlisted": GObject cannot be loaded
# while the quick finder is in place (as for a library the ldconfig cache does not list),
# so that import fails.
LOOKUPS = """\
import ctypes.util, json, sys
import cffi
import policybrief.weasy as w

case = sys.argv[1]
calls = {"quick": [], "ordinary": [], "programs": [], "refused": []}
ordinary = ctypes.util.find_library

def counted_ordinary(name):
    calls["ordinary"].append(name)
    return ordinary(name)

ctypes.util.find_library = counted_ordinary
make = w._ldconfig_finder

def counted_make():
    find = make() if case != "no-ldconfig" else None
    if find is None:
        return None
    def quick(name):
        calls["quick"].append(name)
        return find(name)
    return quick

w._ldconfig_finder = counted_make
dlopen = cffi.FFI.dlopen

def unlisted_dlopen(ffi, name, flags=0):
    if "gobject" in str(name) and ctypes.util.find_library is not counted_ordinary:
        calls["refused"].append(str(name))
        raise OSError(f"{name}: not in the cache (simulated)")
    return dlopen(ffi, name, flags)

if case == "unlisted":
    cffi.FFI.dlopen = unlisted_dlopen
sys.addaudithook(lambda event, args: calls["programs"].append(str(list(args[1])[0]))
                 if event == "subprocess.Popen" else None)
module = w.import_weasyprint()
from weasyprint.text.ffi import pango
assert ctypes.util.find_library is counted_ordinary  # put back
assert module.__name__ == "weasyprint" and pango.pango_version() > 0
print(json.dumps(calls))
"""


def _import_weasyprint_counting(case: str) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", LOOKUPS, case], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    calls: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return calls


def test_weasyprint_import_with_quick_library_lookup() -> None:
    """WeasyPrint is imported with a one-read ldconfig look-up: the quick finder answers
    every look-up, ctypes' own find_library none, and ldconfig runs once (no gcc, no ld)."""
    calls = _import_weasyprint_counting("quick")
    assert "gobject-2.0" in calls["quick"], calls
    assert calls["ordinary"] == [], calls
    assert calls["programs"] == ["/sbin/ldconfig"], calls


@pytest.mark.parametrize("case", ["no-ldconfig", "unlisted"])
def test_weasyprint_import_falls_back_to_the_ordinary_lookup(case: str) -> None:
    """Without ldconfig, or when the import with the quick finder fails (a library the
    cache does not list), WeasyPrint is imported with ctypes' own find_library."""
    calls = _import_weasyprint_counting(case)
    if case == "unlisted":  # tried first, with the quick finder in place
        assert "libgobject-2.0.so.0" in calls["refused"], calls
    else:
        assert calls["quick"] == [], calls
    assert "gobject-2.0" in calls["ordinary"], calls


WARNED = """\
{% extends "default:analyst.html.j2" %}
{% block style %}{{ super() }} p { colr: red }
@font-face { font-family: Gone; src: url(gone.woff2); } h1 { font-family: Gone; }{% endblock %}
{% block edition %}<img src="gone.png" alt="a map">{% endblock %}
"""


def test_weasyprint_warnings_fail_only_under_strict(
    run: Callable[..., Result], project: Path
) -> None:
    """Bad CSS, a font and an image that are not there: WeasyPrint only warns. The build
    passes them on as warnings, and --strict fails on them (exit 4). A missing file in
    the project is a mistake, not a policy breach (exit 3 is for files outside)."""
    write(project / "templates" / "analyst.html.j2", WARNED)
    strict = run("build", "--strict", "--project", project)
    assert strict.exit_code == 4
    missing = project.resolve() / "templates" / "gone.png"
    assert strict.stderr.splitlines()[-1] == (
        "Error: river-talks/analyst: WeasyPrint warned (--strict): Ignored `colr: red ` at "
        "19:6, unknown property.; Font-face 'Gone' cannot be loaded; Failed to load image "
        f"at '{missing.as_uri()}': FileNotFoundError: no such file: {missing}"
    )
    assert not (project / "build").exists()
    relaxed = run("build", "--project", project)
    assert relaxed.exit_code == 0
    assert relaxed.stderr.count("warning: river-talks/analyst: WeasyPrint: ") == 3


CONTENTS_WITHOUT_LEADERS = """\
{% extends "default:analyst.html.j2" %}
{% block style %}a::after { content: none }{% endblock %}
"""


def test_template_styles_win_over_the_stylesheet(
    run: Callable[..., Result], project: Path
) -> None:
    """brief.css is the user-level stylesheet: a rule in the template's style block wins
    over it even with a less specific selector (`a::after` over brief.css's
    `.contents a::after`, which draws the contents' leaders and page numbers). The HTML
    in build/ has the stylesheet inlined, before the template's styles."""
    (project / "templates").mkdir()
    assert run("build", "-a", "analyst", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    assert re.search(r"Context ?\.{20,} ?1", pdf_text(pdf))
    html = (project / "build" / "river-talks" / "analyst.html").read_text()
    assert html.index("/* brief.css */") < html.index(":root {")
    write(project / "templates" / "analyst.html.j2", CONTENTS_WITHOUT_LEADERS)
    assert run("build", "-a", "analyst", "--project", project).exit_code == 0
    text = pdf_text(pdf)
    assert "Context" in text
    assert not re.search(r"\.{20,}", text)


def test_stylesheet_warnings_come_with_every_target(
    run: Callable[..., Result], project: Path
) -> None:
    """The stylesheet is parsed once per process, but what WeasyPrint says of it is said
    for every target that uses it, so --strict fails each of them, also in one process."""
    (project / "templates").mkdir()
    css = (Path(policybrief.__file__).parent / "templates" / "brief.css").read_text()
    write(project / "templates" / "brief.css", css + "\n.cover { colr: red }\n")
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [analyst, executive]\n")
    relaxed = run("build", "-j", "1", "--project", project)
    assert relaxed.exit_code == 0, relaxed.stderr
    for target in ("river-talks/analyst", "river-talks/executive"):
        assert f"warning: {target}: WeasyPrint: Ignored `colr: red `" in relaxed.stderr
    strict = run("build", "-j", "1", "--force", "--strict", "--project", project)
    assert strict.exit_code == 4
    assert strict.stderr.count("WeasyPrint warned (--strict): Ignored `colr: red `") == 2


def test_an_audience_without_a_stylesheet(run: Callable[..., Result], project: Path) -> None:
    """`stylesheet = ""`: only the template's own styles (so the body is in WeasyPrint's
    default font, not the brand's PT Serif); an unknown name is an error that says how
    to fix it."""
    (project / "templates").mkdir()
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + '\n[audiences.analyst]\nstylesheet = ""\n')
    assert run("build", "-a", "analyst", "--project", project).exit_code == 0
    built = project / "build" / "river-talks"
    assert not any("PTSerif" in font for font in pdf_fonts(built / "analyst.pdf"))
    assert "/* brief.css */" not in (built / "analyst.html").read_text()
    config.write_text(config.read_text().replace('stylesheet = ""', 'stylesheet = "gone.css"'))
    missing = run("build", "-a", "analyst", "--project", project)
    assert missing.exit_code != 0
    assert missing.stderr.splitlines()[-1] == (
        "Error: stylesheet 'gone.css' not found in templates/ or the package; fix "
        "`stylesheet` in the audience's config, or set it to \"\" for none"
    )
