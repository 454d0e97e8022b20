"""Argued paragraphs: a section's own prose citing notes inline ([@source/note]), each
citation a footnote; a paragraph citing nothing must be marked as the authors' judgement.
Speakers of quotes, and one footnote never citing the same place twice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
from click.testing import Result

from conftest import pdf_text

ARGUED = """sections:
  - key: context
    lead: The talks restarted quietly [@river-2024/kazakh-names].
    summary: The talks restarted after two years [@river-2024/talks-resume].
    paragraphs:
      - text: >-
          The negotiators are back at the table after two years [@river-2024/talks-resume],
          and the paper reports that officials want "a fair share for every field"
          [@river-2024/water-share; @river-2024/kazakh-names].
        pull_quote: river-2024/water-share
      - text: A deal this year is unlikely.
        judgement: true
        confidence: unlikely
  - key: options
    notes: [river-2024/water-share]
"""


def _argue(project: Path, sections: str = ARGUED) -> Path:
    brief = project / "briefs" / "river-talks.yaml"
    text = brief.read_text()
    head, _, tail = text.partition("sections:\n")
    rest = tail[tail.index("recommendations:"):]
    brief.write_text(head + sections + rest)
    return brief


def _footnotes(html: str) -> list[str]:
    return [" ".join(e.text_content().split())
            for e in lxml.html.fromstring(html).find_class("footnote")]


def test_argued_paragraphs_cite_notes_inline(run: Callable[..., Result], project: Path) -> None:
    _argue(project)
    result = run("build", "--strict", "--force", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    out = project / "build" / "river-talks"
    html = (out / "analyst.html").read_text()
    # each inline citation is one footnote, its call after the punctuation that follows
    assert 'two <span class="nobr">years,<span class="footnote">' in html
    assert "[@" not in html and "\ue000" not in html
    notes = _footnotes(html)
    # key message, lead, paragraph 1.1 (two calls), then options 2.1, recommendation
    assert len(notes) == 6, notes
    assert "para. 5" in notes[3] and "para. 3" in notes[3]
    text = pdf_text(out / "analyst.pdf")
    assert "The negotiators are back at the table" in text
    assert "Our judgement: A deal this year is unlikely." in text
    assert "— unnamed officials, quoted in Sagyntay, Steppe Herald (2024)" in text
    claims = {c["ref"]: c for c in json.loads((out / "claims.json").read_text())["claims"]}
    assert claims["river-2024/water-share"]["paragraphs"] == ["1.1", "2.1"]
    assert claims["river-2024/kazakh-names"]["paragraphs"] == ["1.1"]  # the lead has none


def test_executive_cites_what_its_summary_cites(
    run: Callable[..., Result], project: Path
) -> None:
    brief = _argue(project)
    brief.write_text(brief.read_text() + "audiences: [analyst, executive]\n")
    result = run("build", "--force", "-a", "executive", "--project", project)
    assert result.exit_code == 0, result.output
    out = project / "build" / "river-talks"
    html = (out / "executive.html").read_text()
    assert re.search(r'two <span class="nobr">years\.<sup class="endref">', html), html
    cited = {c["ref"] for c in json.loads((out / "claims.json").read_text())["claims"]}
    # the paragraphs (not printed here) are not cited; the summary, key message and
    # the key-priority notes of the section that has no summary are
    assert "river-2024/kazakh-names" not in cited


def test_a_paragraph_citing_nothing_must_be_a_judgement(
    run: Callable[..., Result], project: Path
) -> None:
    _argue(project, ARGUED.replace("        judgement: true\n", ""))
    result = run("check", "--project", project)
    assert result.exit_code != 0
    assert ("briefs/river-talks.yaml:21: sections[0].paragraphs[1]: the paragraph cites no "
            "note and is not marked as our judgement; cite the notes") in result.output


def test_bad_inline_citations_are_named(run: Callable[..., Result], project: Path) -> None:
    sections = ARGUED.replace("[@river-2024/talks-resume],", "[@river-2024/talks-resum],")
    sections = sections.replace("restarted quietly [@river-2024/kazakh-names]",
                                "restarted quietly [@river-2024 kazakh-names]")
    sections = sections.replace("pull_quote: river-2024/water-share",
                                "pull_quote: river-2024/kazakh-names")
    brief = _argue(project, sections)
    brief.write_text(brief.read_text().replace(
        "Talks have resumed after a two-year pause.", "Talks resumed [@river-2024/water-share]."))
    result = run("check", "--project", project)
    assert result.exit_code != 0
    out = " ".join(result.output.split())
    assert ("sections[0].paragraphs[0]: source 'river-2024' has no note 'talks-resum'; "
            "did you mean 'talks-resume'?") in out
    assert "sections[0].lead: '[@river-2024 kazakh-names]' is not an inline citation" in out
    assert "key_messages[0]: inline citations [@…] are for a section's paragraphs" in out
    assert ("sections[0].paragraphs[0].pull_quote: note 'river-2024/kazakh-names' has no "
            "`quote` to pull out") in out


def test_a_quote_in_a_news_source_needs_its_speaker(
    run: Callable[..., Result], project: Path
) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("    speaker: unnamed officials\n", ""))
    result = run("check", "--strict", "--project", project)
    assert result.exit_code != 0
    assert ("sources/river-2024.yaml:33: notes[2].quote: note 'water-share' has a quote but "
            "no speaker") in " ".join(result.output.split())
    assert run("check", "--project", project).exit_code == 0  # a warning, not an error


def test_one_footnote_cites_a_place_once(run: Callable[..., Result], project: Path) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace('locator: "para. 3"', 'locator: "para. 1"'))
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "notes: [river-2024/talks-resume]\nsections",
        "notes: [river-2024/talks-resume, river-2024/kazakh-names]\nsections", 1))
    result = run("build", "--force", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    first = _footnotes((project / "build" / "river-talks" / "analyst.html").read_text())[0]
    assert first.count("para. 1") == 1, first


def test_words_quoted_in_a_paragraph_come_from_a_source_it_cites(
    run: Callable[..., Result], project: Path
) -> None:
    """The archived text of a cited source must hold words the brief's own prose puts in
    quotation marks (on word boundaries, marks and line breaks folded)."""
    _argue(project)
    assert run("check", "--strict", "--project", project).exit_code == 0  # “…” is found
    _argue(project, ARGUED.replace('"a fair share for every field"', '"a fair share for each"'))
    result = run("check", "--strict", "--project", project)
    assert result.exit_code != 0
    assert ("sections[0].paragraphs[0]: the quoted words “a fair share for each” are in none "
            "of the sources it cites (river-2024)") in " ".join(result.output.split())
