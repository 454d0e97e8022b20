"""Evidence: CSL citations, quote checks, coverage, timeline, place names, claims."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import pdf_text, write

ARCHIVE_TEXT = (
    "Negotiators met again in Almaty.\n\nOfficials said the plan gives “a fair share\n"
    "for every   field” in the basin.\n"
)


@pytest.fixture
def archived(project: Path) -> Path:
    """The minimal project, whose archive holds its source's text (archive/river-2024.txt)."""
    assert (project / "archive" / "river-2024.txt").read_text() == ARCHIVE_TEXT
    return project


def _warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def _set_quote(project: Path, quote: str) -> None:
    """Replace the water-share note's quote (YAML, after `quote: `)."""
    source = project / "sources" / "river-2024.yaml"
    text, n = re.subn(r"(?<=\n    quote: ).*?(?=\n    priority: supporting\n)", lambda _: quote,
                      source.read_text(), flags=re.DOTALL)
    assert n == 1
    source.write_text(text)


def test_quote_found_despite_line_breaks_and_quote_marks(
    run: Callable[..., Result], archived: Path
) -> None:
    # The archive has curly quotes (“a fair share\nfor every   field”); the quote has
    # straight ones, a line break where the archive has none and none where it has one.
    quote = '|-\n      the plan gives "a fair share for {}\n      field" in the basin.'
    _set_quote(archived, quote.format("every"))
    result = run("check", "--strict", "--project", archived)
    assert result.exit_code == 0, result.output
    assert _warnings(result) == []
    assert result.stdout == "ok: 1 source, 3 notes, 1 brief\n"
    # The same setup reports a quote the archive does not have (straight quotes, line break).
    _set_quote(archived, quote.format("each"))
    absent = run("check", "--project", archived)
    assert absent.exit_code == 0
    assert _warnings(absent) == [
        "warning: sources/river-2024.yaml:33: notes[2].quote: quote not found in river-2024.txt; "
        "nearest passage: 'the plan gives \"a fair share for every field\" in the basin' (one "
        "word differs: the source has 'every' for 'each'); copy the words exactly from the "
        "source, or paraphrase in `text` instead"
    ]


def test_altered_quote_is_caught(run: Callable[..., Result], archived: Path) -> None:
    source = archived / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("a fair share for every field",
                                                 "a fair share for each field"))
    result = run("check", "--project", archived)
    assert result.exit_code == 0  # a warning ...
    assert _warnings(result) == [
        "warning: sources/river-2024.yaml:33: notes[2].quote: quote not found in river-2024.txt; "
        "nearest passage: 'a fair share for every field' (one word differs: the source has "
        "'every' for 'each'); copy the words exactly from the source, or paraphrase in `text` "
        "instead"
    ]
    strict = run("check", "--strict", "--project", archived)
    assert strict.exit_code == 1  # ... and an error under --strict
    assert strict.stderr.splitlines()[-1] == (
        "Error: 1 warning (--strict) in the input; fix them and run again"
    )


def _archive_text(project: Path, text: str) -> None:
    (project / "archive" / "river-2024.txt").write_text(text)


def _strict_problem(run: Callable[..., Result], project: Path) -> str:
    """The one problem of `brief check --strict` (which must fail on it)."""
    result = run("check", "--strict", "--project", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "Error: 1 warning (--strict) in the input; fix them and run again")
    [problem] = [line for line in result.stderr.splitlines()[:-1] if line.strip()]
    return problem


@pytest.mark.parametrize("negation", ["not", "wouldn't", "never"])
def test_quote_cut_after_a_negation_fails_strict(
    run: Callable[..., Result], archived: Path, negation: str
) -> None:
    _archive_text(archived, f"Officials said the plan would {negation} give “a fair share\n"
                            "for every field” in the basin.\n")
    _set_quote(archived, 'give "a fair share for every field"')
    assert _strict_problem(run, archived) == (
        f"warning: sources/river-2024.yaml:33: notes[2].quote: quote in river-2024.txt starts "
        f"just after {negation!r}, so its words may say the opposite of the source: 'Officials "
        f"said the plan would {negation} give \"a fair share for every field\" in the basin.'; "
        "quote whole words, and the negation with them, or paraphrase in `text`"
    )
    _set_quote(archived, f'{negation} give "a fair share for every field"')  # with it: passes
    assert run("check", "--strict", "--project", archived).exit_code == 0


def test_russian_quote_cut_after_ne(run: Callable[..., Result], archived: Path) -> None:
    source = archived / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("language: en", "language: ru"))
    _archive_text(archived, "Чиновники сказали, что план не даёт равной доли каждому полю.\n")
    _set_quote(archived, "даёт равной доли каждому полю")
    assert "quote in river-2024.txt starts just after 'не'" in _strict_problem(run, archived)


def test_quote_starting_mid_word_fails_strict(run: Callable[..., Result], archived: Path) -> None:
    _set_quote(archived, "air share for every field")  # "a fair share": cut inside "fair"
    assert _strict_problem(run, archived) == (
        "warning: sources/river-2024.yaml:33: notes[2].quote: quote in river-2024.txt starts "
        "mid-word: the source has 'fair share for every field'; quote whole words, and the "
        "negation with them, or paraphrase in `text`"
    )


def test_quote_found_only_inside_words_is_no_match(
    run: Callable[..., Result], archived: Path
) -> None:
    _archive_text(archived, ARCHIVE_TEXT + "\nThe ministers will delegate themselves.\n")
    _set_quote(archived, "ate the")  # in "delegate themselves", but not as words
    assert _strict_problem(run, archived) == (
        "warning: sources/river-2024.yaml:33: notes[2].quote: quote in river-2024.txt starts "
        "and ends mid-word: the source has 'delegate themselves'; quote whole words, and the "
        "negation with them, or paraphrase in `text`"
    )
    # Where the words stand as words later in the text, that is the match: it passes.
    _archive_text(archived, ARCHIVE_TEXT + "\nThe ministers will delegate themselves.\n"
                                           "Then they ate the bread.\n")
    assert run("check", "--strict", "--project", archived).exit_code == 0


@pytest.mark.parametrize(("quote", "differs"), [
    ("A Fair Share for every field", "case differs: the source has 'a fair share for every "
                                     "field'"),
    ("a fair portion for every field", "nearest passage: 'a fair share for every field' (one "
                                       "word differs: the source has 'share' for 'portion')"),
    ("a fair share for every single field", "nearest passage: 'a fair share for every field' "
                                            "(one word differs: the source has no 'single')"),
])
def test_near_miss_names_the_nearest_passage(
    run: Callable[..., Result], archived: Path, quote: str, differs: str
) -> None:
    _set_quote(archived, quote)
    assert _strict_problem(run, archived) == (
        f"warning: sources/river-2024.yaml:33: notes[2].quote: quote not found in "
        f"river-2024.txt; {differs}; copy the words exactly from the source, or paraphrase in "
        "`text` instead"
    )


def test_verbose_check_shows_the_source_sentence(
    run: Callable[..., Result], archived: Path
) -> None:
    result = run("-v", "check", "--strict", "--project", archived)
    assert result.exit_code == 0, result.output
    assert ("river-2024/water-share: quoted from river-2024.txt: Officials said the plan "
            "gives “a fair share for every field” in the basin.") in " ".join(
                result.stderr.split())


def test_missing_archive_is_reported_and_fatal_only_when_strict(
    run: Callable[..., Result], archived: Path
) -> None:
    config = archived / "policybrief.toml"
    config.write_text(config.read_text().replace('archive = "archive"', ""))
    result = run("check", "--project", archived)
    assert result.exit_code == 0
    assert _warnings(result) == [
        "warning: sources: 1 quotes not verified: no archive folder; pass --archive DIR or set "
        "`archive` in the project config"
    ]
    assert run("check", "--strict", "--project", archived).exit_code == 1
    strict = run("check", "--strict", "--archive", archived / "archive", "--project", archived)
    assert strict.exit_code == 0  # --archive gives the folder


def test_coverage_and_staleness_warnings(run: Callable[..., Result], project: Path) -> None:
    write(project / "sources" / "unused.yaml",
          "type: report\ntitle: Unused\nissued: 2010\nperspective: official\nassessment: x\n")
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "recommendations:\n", "recommendations:\n  - Fund the basin survey.\n"
    ).replace("as_of: 2024-04-01", "as_of: 2026-04-01"))
    result = run("check", "--project", project)
    assert _warnings(result) == [
        "warning: briefs/river-talks.yaml:3: as_of: the brief is dated 2026-04-01, after its "
        "last clearance (A. Reviewer, 2024-04-01): what the clearer saw may have changed; have "
        "it cleared again and add the entry to `clearance:` (`brief diff` shows what changed), "
        "or correct `as_of`",
        "warning: briefs/river-talks.yaml:3: as_of: the newest source cited dates from "
        "2024-03-14, 748 days before the as-of date; look for newer sources (warning after 365 "
        "days: `stale_after_days` in the project config)",
        "warning: briefs/river-talks.yaml:18: recommendations[0]: cites no notes; add `notes:` "
        "with the notes that ground it",
        "warning: sources/unused.yaml: source never cited by any brief; cite its notes in a "
        "brief, or remove the file",
    ]


def test_event_after_as_of_is_an_error(run: Callable[..., Result], project: Path) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("as_of: 2024-04-01", "as_of: 2024-03-12"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "briefs/river-talks.yaml:10: key_messages[0].notes[0]: river-2024/talks-resume: event "
        "dated 2024-03-13, after the brief's as-of date 2024-03-12; check the note's date or "
        "the brief's `as_of`"
    )


PLACES = """places:
  - name: Astana
    former:
      - name: Nur-Sultan
        from: 2019-03-23
        to: 2022-09-17
"""
RENAMED_NOTE = """  - id: summit-2020
    section: context
    text: Ministers met in Astana to prepare the treaty.
    locator: "para. 7"
    date: 2020-06-01
    event: "Treaty preparatory meeting in Astana"
    priority: key
"""


def test_timeline_uses_the_name_in_force_and_check_warns(
    run: Callable[..., Result], project: Path
) -> None:
    write(project / "places.yaml", PLACES)
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text() + RENAMED_NOTE)
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "notes: [river-2024/water-share]", "notes: [river-2024/water-share, river-2024/summit-2020]"
    ))
    result = run("build", "--project", project)
    assert result.exit_code == 0, result.output
    assert _warnings(result) == [
        "warning: sources/river-2024.yaml:38: notes[3].text: calls the place 'Astana', but on "
        "2020-06-01 it was 'Nur-Sultan'; write 'Nur-Sultan' or say it was renamed (rules in "
        "places.yaml)"
    ]
    html = (project / "build" / "river-talks" / "analyst.html").read_text()
    svg = re.search(r"<svg[^>]*class=\"timeline-svg\".*?</svg>", html, re.DOTALL)
    assert svg is not None
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))
    assert labels == ["1 June 2020", "Treaty preparatory meeting in Nur-Sultan",
                      "12\u2009–\u200913 March 2024", "Treaty talks resume in Almaty"]
    assert "<desc id=\"timeline-desc\">1 June 2020: Treaty preparatory meeting in Nur-Sultan; " \
        "12\u2009–\u200913 March 2024: Treaty talks resume in Almaty</desc>" in html
    text = pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert "Treaty preparatory meeting in Nur-Sultan" in text


def test_bad_places_file(run: Callable[..., Result], project: Path) -> None:
    write(project / "places.yaml", PLACES.replace("to: 2022-09-17", "to: 2018-01-01"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "places.yaml:4: places[0].former[0]: `to` 2018-01-01 is before `from` 2019-03-23"
    )


def test_annex_and_claims_json_match_the_rendered_citations(
    run: Callable[..., Result], project: Path
) -> None:
    assert run("build", "--project", project).exit_code == 0
    out = project / "build" / "river-talks"
    claims = json.loads((out / "claims.json").read_text())
    assert claims["audience"] == "analyst"
    assert [c["ref"] for c in claims["claims"]] == [
        "river-2024/talks-resume", "river-2024/kazakh-names", "river-2024/water-share"]
    assert claims["claims"][2]["paragraphs"] == ["2.1"]
    assert claims["claims"][2]["assessment"].startswith("Independent regional daily")
    # Read from the archive: its words and quote marks, its spaces and line breaks folded.
    sentence = "Officials said the plan gives “a fair share for every field” in the basin."
    assert claims["claims"][2]["source_sentence"] == sentence
    assert claims["claims"][0]["source_sentence"] is None  # a note without a quote
    text = pdf_text(out / "analyst.pdf")
    for claim in claims["claims"]:  # every printed citation is in the PDF
        assert claim["citation"] in text
    annex = text[text.index("Annex B · Evidence: claims by source"):]
    for claim in claims["claims"]:  # every cited note is in the annex, with its locator
        assert claim["locator"] + " " + claim["claim"][:30] in annex
    assert f"The source: {sentence}" in annex  # in italics, no quote marks of our own


def test_two_csl_styles(run: Callable[..., Result], project: Path) -> None:
    assert run("build", "--project", project).exit_code == 0
    notes = pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert "1. Aru Sagyntay, ‘River Treaty Talks Resume in Almaty’, Steppe Herald, 14 March " \
        "2024, para. 1." in notes
    config = project / "policybrief.toml"
    config.write_text('citation_style = "chicago-author-date"\n' + config.read_text())
    assert run("build", "--project", project).exit_code == 0
    author_date = pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert "after a two-year pause. (Sagyntay 2024, para. 1)" in author_date
    assert "Sagyntay, Aru. 2024. ‘River Treaty Talks Resume in Almaty’. Steppe Herald, March 14." \
        in author_date


def test_unknown_citation_style(run: Callable[..., Result], project: Path) -> None:
    config = project / "policybrief.toml"
    config.write_text('citation_style = "chicago-noets"\n' + config.read_text())
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert "citation_style: no CSL style 'chicago-noets'" in result.stderr


def test_sources_import(run: Callable[..., Result], project: Path, tmp_path: Path) -> None:
    export = write(tmp_path / "zotero.json", json.dumps([{
        "id": "Putz2015", "type": "article-newspaper", "title": "Kazakhstan to host Syria talks",
        "container-title": "The Diplomat", "author": [{"family": "Putz", "given": "Catherine"}],
        "issued": {"date-parts": [[2015, 5, 8]]},
    }]))
    result = run("sources", "import", export, "--project", project)
    assert result.stdout == "created sources/putz2015.yaml\n"
    made = (project / "sources" / "putz2015.yaml").read_text()
    assert 'title: "Kazakhstan to host Syria talks"' in made and "issued: 2015-05-08" in made
    check = run("check", "--project", project)
    assert "sources/putz2015.yaml: perspective: required field is missing" in check.stderr
    again = run("sources", "import", export, "--project", project)
    assert again.exit_code == 1 and "already exists; use --force" in again.stderr


def test_an_edited_archived_text_is_read_again(run: Callable[..., Result], archived: Path) -> None:
    """Two checks in one process (as `brief watch` runs them): the second sees the
    archived text as it is now, not as the first read it."""
    assert _warnings(run("check", "--project", archived)) == []
    text = archived / "archive" / "river-2024.txt"
    text.write_text(text.read_text().replace("fair share", "just share"))
    assert _warnings(run("check", "--project", archived)) == [
        "warning: sources/river-2024.yaml:33: notes[2].quote: quote not found in river-2024.txt; "
        "nearest passage: 'a just share for every field' (one word differs: the source has "
        "'just' for 'fair'); copy the words exactly from the source, or paraphrase in `text` "
        "instead"
    ]


def test_a_quote_within_the_quote_prints_in_single_marks(
    run: Callable[..., Result], archived: Path
) -> None:
    """The pull-quote is set in double marks, so a quote the quoted words themselves hold
    prints in single ones (“…‘…’…”), not doubled (“…“…”…”)."""
    _set_quote(archived, '"the plan gives “a fair share for every field”"')
    result = run("build", "--strict", "-a", "analyst", "--project", archived)
    assert result.exit_code == 0, result.output
    html = (archived / "build" / "river-talks" / "analyst.html").read_text()
    assert "<blockquote>“the plan gives ‘a fair share for every field’”" in html
    assert "the plan gives ‘a fair share for every field’" in pdf_text(
        archived / "build" / "river-talks" / "analyst.pdf")


@pytest.mark.parametrize(("archive", "sentence"), [
    # extraction broke the sentence at a blank line before a capitalised word
    ("They met. Officials said the plan gives “a fair share for every field” in the\n\n"
     "Basin Council's area.\n", "Officials said the plan gives “a fair share for every "
     "field” in the Basin Council's area."),
    # a heading (short, no sentence end) stays a paragraph of its own
    ("Water Talks\n\nOfficials said the plan gives “a fair share for every field”.\n",
     "Officials said the plan gives “a fair share for every field”."),
])
def test_the_source_sentence_survives_broken_lines(
    run: Callable[..., Result], archived: Path, archive: str, sentence: str
) -> None:
    (archived / "archive" / "river-2024.txt").write_text(archive)
    assert run("build", "--strict", "-a", "analyst", "--project", archived).exit_code == 0
    claims = json.loads((archived / "build" / "river-talks" / "claims.json").read_text())
    assert claims["claims"][2]["source_sentence"] == sentence
