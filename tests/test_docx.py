"""The Word edition (word.py): every .docx read back with python-docx and as a zip."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn

from conftest import REPO, copy_repository_project, pdf_text, write
from policybrief.cli import cli

TARGETS = ("astana-talks/analyst", "astana-talks/executive", "astana-talks/talking-points",
           "astana-talks/committee", "astana-talks-ru/executive", "astana-talks-kk/executive")


@pytest.fixture(scope="module")
def astana(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two copies of the Astana project, each built once with `--format docx` (the
    second with --force): their build folders."""
    builds = []
    for name in ("one", "two"):
        copy = copy_repository_project(tmp_path_factory.mktemp(name) / "repo")
        result = CliRunner().invoke(cli, ["build", "--format", "docx", "--force", "-j", "2",
                                          "--project", str(copy)])
        assert result.exit_code == 0, result.output
        builds.append(copy / "build")
    return builds[0], builds[1]


def _footnotes(path: Path) -> list[str]:
    """The text of each real Word footnote (not the separators), in order."""
    xml = zipfile.ZipFile(path).read("word/footnotes.xml").decode()
    notes = re.findall(r'<w:footnote (?:(?!w:type=)[^>])*>(.*?)</w:footnote>', xml, re.DOTALL)
    return [" ".join(html.unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", n)))
                     .split()) for n in notes]


class _Footnotes(HTMLParser):
    """The footnote bodies of the print HTML (span.footnote), as text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += tag == "span"
        elif tag == "span" and ("class", "footnote") in attrs:
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "span":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.found[-1] += data


def _html_footnotes(path: Path) -> list[str]:
    parser = _Footnotes()
    parser.feed(path.read_text(encoding="utf-8"))
    return [" ".join(t.split()) for t in parser.found]


def _headings(document: object) -> list[str]:
    return [p.text for p in document.paragraphs  # type: ignore[attr-defined]
            if p.style.name.startswith("Heading")]


def test_every_astana_target_has_a_word_edition(astana: tuple[Path, Path]) -> None:
    build, _ = astana
    manifest = json.loads((build / "manifest.json").read_text())
    sums = (build / "SHA256SUMS").read_text().splitlines()
    for label in TARGETS:
        path = build / f"{label}.docx"
        data = path.read_bytes()
        entry = manifest["artifacts"][label]["docx"]
        assert entry == {"path": f"{label}.docx", "sha256": hashlib.sha256(data).hexdigest(),
                         "bytes": len(data)}
        assert f"{entry['sha256']}  {label}.docx" in sums
        assert zipfile.ZipFile(path).namelist()[0] == "[Content_Types].xml"


def test_analyst_headings_in_order(astana: tuple[Path, Path]) -> None:
    document = Document(str(astana[0] / "astana-talks" / "analyst.docx"))
    assert _headings(document) == [
        "Key messages", "1. Background", "2. Kazakhstan's role", "3. Prior attempts",
        "4. Outlook", "Recommendations", "What would change this assessment", "Sources",
        "Document control", "Clearance",
    ]
    title = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert title == ["Venue, Not Broker: Kazakhstan, the Astana Format and the Limits of "
                     "Host Diplomacy"]
    numbered = [p.text.split(" ", 1)[0] for p in document.paragraphs
                if p.style.name == "Numbered Paragraph"]
    page = (astana[0] / "astana-talks" / "analyst.html").read_text(encoding="utf-8")
    printed = re.findall(r'class="para(?: judgement)?"', page)  # the PDF's numbered paragraphs
    assert numbered[:3] == ["1.1", "1.2", "1.3"] and len(numbered) == len(printed) == 18


def test_footnotes_are_the_pdfs(astana: tuple[Path, Path]) -> None:
    """The analyst edition's Word footnotes are the PDF's, one for one, same text."""
    folder = astana[0] / "astana-talks"
    word = _footnotes(folder / "analyst.docx")
    printed = _html_footnotes(folder / "analyst.html")
    assert len(word) == len(printed) == 68
    assert word == printed
    pdf = pdf_text(folder / "analyst.pdf").replace("- ", "")
    missing = [w for w in word if w[:25].replace("- ", "") not in pdf]
    assert not missing


def test_endnotes_and_sources_editions(astana: tuple[Path, Path]) -> None:
    """The executive note cites as its PDF does (one endnote per source, its number the
    call, a Notes list); the talking points print no calls, a list of sources."""
    folder = astana[0] / "astana-talks"
    executive = Document(str(folder / "executive.docx"))
    assert _footnotes(folder / "executive.docx") == []
    assert _headings(executive)[-3:] == ["Notes", "Document control", "Clearance"]
    claims = json.loads((folder / "claims.json").read_text())
    sources = {c["source"] for c in claims["claims"]}
    notes = [p for p in executive.paragraphs if p.style.name.startswith(("Compact", "List"))
             or p._p.pPr is not None and p._p.pPr.numPr is not None]
    assert len(notes) >= len(sources) - 1
    calls = {r.text for p in executive.paragraphs for r in p.runs if r.font.superscript}
    assert calls and all(re.fullmatch(r"\d+(,\d+)*", c) for c in calls)
    talking = Document(str(folder / "talking-points.docx"))
    assert _footnotes(folder / "talking-points.docx") == []
    assert "Lines to take" in _headings(talking) and "Likely questions" in _headings(talking)
    assert "Key messages" not in _headings(talking)  # the part it does not print


@pytest.mark.parametrize(("label", "marking", "language", "heading"), [
    ("astana-talks/analyst", "OFFICIAL-SENSITIVE", "en-GB", "Key messages"),
    ("astana-talks/talking-points", "OFFICIAL", "en-GB", "Lines to take"),
    ("astana-talks-ru/executive", "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ", "ru", "Основные выводы"),
    ("astana-talks-kk/executive", "ҚЫЗМЕТТІК ПАЙДАЛАНУ ҮШІН", "kk", None),
])
def test_marking_language_and_properties(astana: tuple[Path, Path], label: str, marking: str,
                                         language: str, heading: str | None) -> None:
    path = astana[0] / f"{label}.docx"
    document = Document(str(path))
    for section in document.sections:
        assert section.different_first_page_header_footer
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer):
            assert marking in part.paragraphs[0].text.splitlines()
    assert document.sections[0].header.paragraphs[0].text == marking
    defaults = document.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    assert lang.get(qn("w:val")) == language
    normal = document.styles["Normal"].element.rPr.find(qn("w:lang"))
    assert normal.get(qn("w:val")) == language
    props = document.core_properties
    brief = label.split("/")[0]
    as_of = re.search(r"^as_of: (\S+)", (REPO / "briefs" / f"{brief}.yaml").read_text(),
                      re.MULTILINE)
    assert as_of is not None
    when = dt.datetime.fromisoformat(as_of.group(1)).replace(tzinfo=dt.UTC)
    assert props.created == props.modified == when
    assert props.language == language and props.title and props.author and props.keywords
    if heading:
        assert heading in _headings(document)


def test_rebuilds_are_byte_identical(astana: tuple[Path, Path]) -> None:
    one, two = astana
    for label in TARGETS:
        assert (one / f"{label}.docx").read_bytes() == (two / f"{label}.docx").read_bytes()
    info = zipfile.ZipFile(one / "astana-talks" / "analyst.docx").infolist()
    assert {i.date_time for i in info} == {(1980, 1, 1, 0, 0, 0)}


def test_format_docx_only_when_asked(project: Path, run: object) -> None:
    """Without --format or `formats`, no .docx; `--format docx` adds it, incrementally:
    a second build is a no-op; a removed .docx is built again."""
    result = run("build", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert not list((project / "build").rglob("*.docx"))
    result = run("build", "--format", "docx", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    docx = project / "build" / "river-talks" / "analyst.docx"
    first = docx.read_bytes()
    assert [h for h in _headings(Document(str(docx)))][:3] == [
        "Key messages", "1. Context", "2. Options"]
    result = run("build", "-v", "--format", "docx", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0 and "built" not in result.output, result.output
    docx.unlink()
    result = run("build", "--format", "docx", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert docx.read_bytes() == first


def test_audience_formats_setting(project: Path, run: object) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + '\n[audiences.analyst]\nformats = ["pdf", "docx"]\n')
    result = run("build", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    assert (project / "build" / "river-talks" / "analyst.docx").is_file()


@pytest.mark.parametrize("value", ['["pdf", "odt"]', '["docx"]', '"docx"'])
def test_bad_formats_value(project: Path, run: object, value: str) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + f"\n[audiences.analyst]\nformats = {value}\n")
    result = run("build", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 1
    shown = {'["pdf", "odt"]': "['pdf', 'odt']", '["docx"]': "['docx']", '"docx"': "'docx'"}
    assert result.output == (
        f"Error: {config}: audiences.analyst.formats: {shown[value]} is not a list of: pdf, "
        'docx, web, with "pdf" (the PDF is always built: its laid-out pages are checked and the '
        'manifest lists it), e.g. ["pdf", "docx"]\n')
    assert not (project / "build").exists()


def test_project_reference_document(project: Path, run: object) -> None:
    """A project's templates/reference.docx gives the styles instead of brand.toml."""
    reference = Document()
    reference.styles["Normal"].font.name = "Reference Test Serif"
    write(project / "templates" / "README.md", "templates")
    reference.save(str(project / "templates" / "reference.docx"))
    result = run("build", "--format", "docx", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 0, result.output
    document = Document(str(project / "build" / "river-talks" / "analyst.docx"))
    assert document.styles["Normal"].font.name == "Reference Test Serif"


def test_reference_document_not_a_docx(project: Path, run: object) -> None:
    write(project / "templates" / "reference.docx", "not a zip")
    result = run("build", "--format", "docx", "--project", project)  # type: ignore[operator]
    assert result.exit_code == 1, result.output
    assert ("templates/reference.docx: not a Word document (.docx); save it from Word as "
            ".docx, or remove it to use the brand's") in result.output
    assert not (project / "build" / "river-talks" / "analyst.docx").exists()
