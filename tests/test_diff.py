"""`brief diff` (diff.py): two versions of a project, from git revisions of a temporary
repository or from folders, compared by their curated content; the redline read back."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, copy_repository_project, pdf_text
from policybrief.cli import cli
from policybrief.diff import word_diff

BRIEF = Path("briefs/river-talks.yaml")
SOURCE = Path("sources/river-2024.yaml")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-C", str(repo),
         *args], check=True, capture_output=True, text=True,
    ).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def diff(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["diff", *map(str, args)])


def changes(result: Result, brief: str) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    briefs = {b["id"]: b for b in json.loads(result.stdout)["briefs"]}
    return briefs[brief]["changes"]


def summary(change: dict[str, object]) -> tuple[object, ...]:
    return change["kind"], change["part"], change["number"], change["field"]


def three_edits(project: Path) -> None:
    """The minimal project with a key message edited, a quote changed and the note
    kazakh-names removed (from its source and from the one section that cites it)."""
    edit(project / BRIEF, "Talks have resumed after a two-year pause.",
         "Talks resumed in March after a pause of two years.")
    edit(project / SOURCE, '"a fair share for every field"', '"a fair share for each field"')
    source = (project / SOURCE).read_text(encoding="utf-8")
    start, end = source.index("  - id: kazakh-names\n"), source.index("  - id: water-share\n")
    (project / SOURCE).write_text(source[:start] + source[end:], encoding="utf-8")
    edit(project / BRIEF, "notes: [river-2024/talks-resume, river-2024/kazakh-names]",
         "notes: [river-2024/talks-resume]")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The minimal project in a git repository of its own, in a subfolder (as a project
    inside a larger repository), with two commits: v1, then the three edits."""
    top = tmp_path / "repo"
    project = top / "briefs-project"
    shutil.copytree(FIXTURES / "minimal", project, ignore=shutil.ignore_patterns("build"))
    (top / "README").write_text("not the project\n", encoding="utf-8")
    git(top, "init", "-q")
    commit(top, "v1")
    git(top, "tag", "v1")
    three_edits(project)
    commit(top, "three edits")
    return project


EXPECTED = [
    ("changed", "key_message", "1", ""),
    ("removed", "note", "river-2024/kazakh-names", ""),
    ("changed", "note", "river-2024/water-share", "quote"),
]


def test_revisions_give_exactly_the_three_edits(repo: Path) -> None:
    status = git(repo, "status", "--porcelain")
    result = diff("v1", "HEAD", "--json", "--project", repo)
    found = changes(result, "river-talks")
    assert [summary(c) for c in found] == EXPECTED
    message, removed, quote = found
    assert message["old"] == "Talks have resumed after a two-year pause."
    assert message["new"] == "Talks resumed in March after a pause of two years."
    assert removed["cited_in"] == [{"part": "section", "number": "1"}]
    assert "Қазақ Елі" in str(removed["old"]) and removed["new"] is None
    assert (quote["old"], quote["new"]) == ("a fair share for every field",
                                            "a fair share for each field")
    # Read with git itself: the working tree and the index are as they were.
    assert git(repo, "status", "--porcelain") == status
    assert sorted(p.name for p in repo.iterdir()) == ["archive", "briefs", "policybrief.toml",
                                                       "sources"]


def test_new_defaults_to_the_working_folder(repo: Path) -> None:
    assert changes(diff("HEAD", "--json", "--project", repo), "river-talks") == []
    edit(repo / BRIEF, "Support the technical working group.",
         "Support the joint technical working group.")
    found = changes(diff("HEAD", "--json", "--project", repo), "river-talks")
    assert [summary(c) for c in found] == [("changed", "recommendation", "1", "")]
    # A brief id after OLD is a brief id, not NEW; `.` names the working folder.
    named = diff("v1", "river-talks", "--json", "--project", repo)
    assert len(changes(named, "river-talks")) == 4
    assert json.loads(named.stdout)["new"] == "working folder"
    assert diff("v1", ".", "river-talks", "--json", "--project", repo).stdout == named.stdout


def test_two_folders(repo: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURES / "minimal", old)
    result = diff(old, repo, "--json", "--project", repo)
    assert [summary(c) for c in changes(result, "river-talks")] == EXPECTED
    assert json.loads(result.stdout)["old"] == str(old)


def test_terminal_summary_marks_the_words(repo: Path) -> None:
    result = diff("v1", "HEAD", "--project", repo)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "river-talks: 3 changes"
    # Semantic clean-up: edits this dense read as one replacement, not a word salad.
    assert lines[2] == ("  key message 1 changed: Talks [-have resumed after a two-year pause-]"
                        "{+resumed in March after a pause of two years+}.")
    assert lines[3].startswith("  note river-2024/kazakh-names removed (cited in section 1): [-")
    assert lines[4] == ("  note river-2024/water-share quote changed (cited in section 2, "
                        "recommendation 1): a fair share for [-every-]{+each+} field")


def test_exit_code_says_whether_anything_changed(repo: Path) -> None:
    assert diff("v1", "HEAD", "--exit-code", "--project", repo).exit_code == 1
    same = diff("HEAD", "HEAD", "--exit-code", "--project", repo)
    assert same.exit_code == 0, same.output
    assert "river-talks: unchanged" in same.stdout


def test_an_inserted_passage_is_one_addition(repo: Path) -> None:
    """Passages are aligned on their text: a key message put first is one addition, not
    a change to every message after it."""
    edit(repo / BRIEF, "key_messages:\n", "key_messages:\n  - text: A new first message.\n"
         "    notes: [river-2024/water-share]\n")
    found = changes(diff("HEAD", "--json", "--project", repo), "river-talks")
    assert [summary(c) for c in found] == [("added", "key_message", "1", "")]
    assert found[0]["new_notes"] == ["river-2024/water-share"]


def test_a_rewritten_passage_is_a_removal_and_an_addition(repo: Path) -> None:
    """A passage sharing few words with the one it replaced is not shown as an edit of
    it; one sharing most is."""
    edit(repo / BRIEF, "Support the technical working group.",
         "Fund the monitoring mission from next year's budget.")
    edit(repo / BRIEF, "Talks resumed in March after a pause of two years.",
         "Talks resumed in March after a pause of nearly two years.")
    found = changes(diff("HEAD", "--json", "--project", repo), "river-talks")
    assert [summary(c) for c in found] == [
        ("changed", "key_message", "1", ""),
        ("removed", "recommendation", "1", ""), ("added", "recommendation", "1", ""),
    ]


def test_citations_and_sources(repo: Path) -> None:
    """A passage citing other notes, all cited in both versions, is a change; a newly
    cited source is one change, with the notes it brings and where they are cited."""
    edit(repo / BRIEF, "    notes: [river-2024/water-share]\nrecommendations",
         "    notes: [river-2024/talks-resume]\nrecommendations")
    (repo / "sources" / "lake-2024.yaml").write_text(
        (repo / SOURCE).read_text(encoding="utf-8").replace("River treaty talks resume",
                                                            "Lake talks"), encoding="utf-8")
    edit(repo / BRIEF, "  - text: Support the technical working group.\n"
         "    notes: [river-2024/water-share]",
         "  - text: Support the technical working group.\n"
         "    notes: [river-2024/water-share, lake-2024/talks-resume]")
    found = changes(diff("HEAD", "--json", "--project", repo), "river-talks")
    # The recommendation's new citation is told once, as the source it brings in.
    assert [summary(c) for c in found] == [
        ("changed", "section", "2", "notes"),
        ("added", "source", "lake-2024", ""),
    ]
    section, source = found
    assert (section["old_notes"], section["new_notes"]) == (["river-2024/water-share"],
                                                            ["river-2024/talks-resume"])
    assert source["new_notes"] == ["lake-2024/talks-resume"]
    assert source["cited_in"] == [{"part": "recommendation", "number": "1"}]


def test_document_fields_and_markings(repo: Path) -> None:
    edit(repo / BRIEF, "status: final", "status: draft\nversion: '1.1'")
    edit(repo / SOURCE, "perspective: independent", "perspective: opinion")
    found = changes(diff("HEAD", "--json", "--project", repo), "river-talks")
    assert [summary(c) for c in found] == [
        ("added", "brief", "", "version"), ("changed", "brief", "", "status"),
        ("changed", "source", "river-2024", "perspective"),
    ]
    assert (found[1]["old"], found[1]["new"]) == ("final", "draft")


def test_bad_versions_are_clear_errors(repo: Path, tmp_path: Path) -> None:
    unknown = diff("v9", "--project", repo)
    assert unknown.exit_code == 2
    assert "OLD 'v9' is neither a folder nor a git revision" in unknown.output
    assert "Traceback" not in unknown.output
    # A revision without the project in it (the first commit of another repository's
    # history): named, with the folder looked in.
    git(repo.parent, "checkout", "-q", "--orphan", "empty")
    git(repo.parent, "rm", "-rq", "--cached", ".")
    (repo.parent / "other").write_text("x\n", encoding="utf-8")
    git(repo.parent, "add", "other")
    git(repo.parent, "commit", "-q", "-m", "no project")
    missing = diff("empty", "v1", "--project", repo)
    assert missing.exit_code == 1
    assert "revision empty: no policybrief project in briefs-project/" in missing.output
    # Either version invalid: which one, and the problem with its file and line.
    broken = tmp_path / "broken"
    shutil.copytree(repo, broken)
    edit(broken / BRIEF, "as_of: 2024-04-01", "as_of: someday")
    invalid = diff(broken, ".", "--project", repo)
    assert invalid.exit_code == 1
    assert "cannot compare OLD" in invalid.output
    assert "briefs/river-talks.yaml:3: as_of:" in invalid.output
    assert diff("v1", "v1", "no-such-brief", "--project", repo).exit_code == 2


def test_the_redline_needs_one_brief(repo: Path, tmp_path: Path) -> None:
    second = repo / "briefs" / "second.yaml"
    second.write_text((repo / BRIEF).read_text(encoding="utf-8"), encoding="utf-8")
    result = diff("v1", ".", "--pdf", tmp_path / "r.pdf", "--project", repo)
    assert result.exit_code == 2
    assert "--pdf writes the redline of one brief" in result.output
    assert not (tmp_path / "r.pdf").exists()


def test_word_diff() -> None:
    assert word_diff("a fair share for every field", "a fair share for each field") == [
        (0, "a fair share for "), (-1, "every"), (1, "each"), (0, " field")]
    assert word_diff("", "new") == [(1, "new")]
    # Many distinct words: each is one character for diff-match-patch, past the
    # 6,400 characters of the private use area.
    old = " ".join(f"w{i}" for i in range(7000))
    runs = word_diff(old, old.replace("w6999", "last"))
    assert runs[-2:] == [(-1, "w6999"), (1, "last")]
    assert "".join(t for op, t in runs if op >= 0) == old.replace("w6999", "last")


# The case: the Astana project, in git, with three edits.

@pytest.fixture(scope="module")
def astana(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("astana") / "repo"
    copy_repository_project(repo)
    git(repo, "init", "-q")
    commit(repo, "as cleared")
    brief, source = repo / "briefs/astana-talks.yaml", repo / "sources/analysis-mediator-2017.yaml"
    edit(brief, "the script: a venue all three guarantors accepted",
         "the script: a neutral venue the three guarantors accepted")
    edit(source, 'quote: "did not intervene directly in the running of the work, rather providing '
         'the diplomatic framework and logistics"',
         'quote: "did not intervene directly in the running of the work"')
    text = source.read_text(encoding="utf-8")
    start, end = text.index("  - id: aid-2015\n"), text.index("  - id: aid-2017\n")
    source.write_text(text[:start] + text[end:], encoding="utf-8")
    edit(brief, "@analysis-mediator-2017/aid-2012; @analysis-mediator-2017/aid-2015; ",
         "@analysis-mediator-2017/aid-2012; ")
    commit(repo, "three edits")
    return repo


def test_astana_three_changes(astana: Path) -> None:
    found = changes(diff("HEAD~1", "HEAD", "astana-talks", "--json", "--project", astana),
                    "astana-talks")
    assert [summary(c) for c in found] == [
        ("changed", "key_message", "1", ""),
        ("removed", "note", "analysis-mediator-2017/aid-2015", ""),
        ("changed", "note", "analysis-mediator-2017/host-not-a-party", "quote"),
    ]
    assert found[1]["cited_in"] == [{"part": "paragraph", "number": "2.3"}]
    # The translations cite the quoted note, not the other two: one change each.
    every = json.loads(diff("HEAD~1", "HEAD", "--json", "--project", astana).stdout)
    assert {b["id"]: [summary(c) for c in b["changes"]] for b in every["briefs"][1:]} == {
        brief: [("changed", "note", "analysis-mediator-2017/host-not-a-party", "quote")]
        for brief in ("astana-talks-kk", "astana-talks-ru")}


def _word_box(pdf: Path, word: str) -> tuple[float, float, float, float]:
    """(x0, top, x1, bottom) in points of the first `word` on page 1, as pdftotext finds it."""
    xhtml = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
                           check=True, capture_output=True, text=True).stdout
    for found in ET.fromstring(xhtml).iter("{http://www.w3.org/1999/xhtml}word"):
        if found.text == word:
            return tuple(float(found.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax"))
    raise AssertionError(f"{word!r} not on page 1 of {pdf}")


def _ruled(pdf: Path, word: str, rows: Callable[[float, float], tuple[float, float]]) -> bool:
    """Whether a line is drawn across `word` within the rows `rows(top, bottom)` (points):
    one pixel row inked along 90% of the word's width, as no glyphs alone ink it."""
    from PIL import Image

    scale = 4  # 288 dpi
    x0, top, x1, bottom = _word_box(pdf, word)
    png = pdf.with_suffix(".png")
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(72 * scale), "-png",
                    "-singlefile", str(pdf), str(png.with_suffix(""))], check=True)
    image = Image.open(png).convert("L")
    low, high = rows(top, bottom)
    left, right = int(x0 * scale) + 2, int(x1 * scale) - 2
    for y in range(int(low * scale), int(high * scale) + 1):
        inked = sum(image.getpixel((x, y)) < 160 for x in range(left, right))
        if inked >= 0.9 * (right - left):
            return True
    return False


def _through(top: float, bottom: float) -> tuple[float, float]:
    return top + (bottom - top) * 0.3, top + (bottom - top) * 0.75


def _under(top: float, bottom: float) -> tuple[float, float]:
    return bottom - (bottom - top) * 0.2, bottom + 2


def test_astana_redline_pdf(astana: Path, tmp_path: Path) -> None:
    pdf, html = tmp_path / "redline.pdf", tmp_path / "redline.html"
    result = diff("HEAD~1", "HEAD", "astana-talks", "--pdf", pdf, "--html", html,
                  "--project", astana)
    assert result.exit_code == 0, result.output
    assert f"wrote {pdf} (1 page)" in result.stdout
    text = pdf_text(pdf)
    for shown in ("What changed", "3 changes", "Key message 1 changed",
                  "Note analysis-mediator-2017/aid-2015", "removed", "Cited in Paragraph 2.3",
                  "$316,000 of medical supplies", "quote changed",
                  "rather providing the diplomatic framework and logistics",
                  "Cited in Section 2, Paragraph 2.2, Key message 1", "OFFICIAL-SENSITIVE"):
        assert shown in text, shown
    assert _ruled(pdf, "$316,000", _through)  # the removed note's text, struck through
    assert _ruled(pdf, "neutral", _under)  # the inserted word, underlined
    assert not _ruled(pdf, "venue", _through) and not _ruled(pdf, "venue", _under)  # kept
    page = html.read_text(encoding="utf-8")
    assert "<del>all</del>" in page and "<ins>neutral </ins>" in page
    assert '<html lang="en-GB"' in page or '<html lang="en"' in page
