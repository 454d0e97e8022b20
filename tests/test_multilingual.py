"""Every field people write, in the brief's language: note events and locators, source
assessments, section titles and audience labels in the config, the confidence scale, and
a project's own label catalogs over the packaged ones."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import write

KK_BRIEF = """title: "Өзен келісімі бойынша келіссөздер"
as_of: 2024-04-01
authors: [Талдау тобы]
language: kk
status: final
audiences: [analyst]
key_messages:
  - text: Келіссөздер екі жылдық үзілістен кейін қайта басталды.
    notes: [river-2024/talks-resume]
sections:
  - key: context
    lead: Тараптар келіссөз үстеліне қайта оралды.
    notes: [river-2024/talks-resume]
"""
NOTE = """  - id: talks-resume
    section: context
    text:
      en: Negotiators from the two riparian states met again in Almaty after a pause.
      kk: Екі мемлекеттің келіссөзшілері Алматыда қайта кездесті.
    locator: {en: "para. 1", kk: "1-абзац, кіріспе"}
    date: 2024-03-12
    end_date: 2024-03-13
    event:
      en: Treaty talks resume in Almaty
      kk: Алматыда шарт келіссөздері қайта басталды
    confidence: likely
    priority: key
"""
ASSESSMENT = """assessment:
  en: Independent regional daily; close to the negotiating parties.
  kk: Тәуелсіз өңірлік басылым; келіссөз тараптарына жақын.
"""
CONFIG = """
[audiences.analyst]
label = {en = "Field report", kk = "Далалық баяндама"}
"""
# A project catalog: one packaged label overridden, one of the project's own words,
# which its template prints.
EN_LABELS = 'handling = "For official use only"\n'
KK_LABELS = 'key_messages = "Басты ойлар"\nhandling = "Қызмет бабында пайдалану үшін"\n'
TEMPLATE = ('{% extends "default:analyst.html.j2" %}\n'
            '{% block content %}<p>{{ labels.handling }}</p>{{ super() }}{% endblock %}\n')


def _kazakh_project(project: Path) -> None:
    """The minimal project with a Kazakh brief whose note, source and config fields are
    given per language, a Kazakh label catalog and a template using its own label."""
    source = project / "sources" / "river-2024.yaml"
    text = source.read_text()
    start = text.index("  - id: talks-resume")
    end = text.index("  - id: kazakh-names")
    text = text[:start] + NOTE + text[end:]
    start = text.index("assessment: >-")
    end = text.index("notes:")
    source.write_text(text[:start] + ASSESSMENT + text[end:])
    config = project / "policybrief.toml"
    config.write_text(config.read_text().replace(
        'context = "Context"', 'context = {en = "Context", kk = "Ахуал"}') + CONFIG)
    write(project / "briefs" / "river-kk.yaml", KK_BRIEF)
    write(project / "labels" / "en.toml", EN_LABELS)
    write(project / "labels" / "kk.toml", KK_LABELS)
    write(project / "templates" / "analyst.html.j2", TEMPLATE)


def _pdftotext(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(out.split())


def test_kazakh_brief_shows_every_field_in_kazakh(
    run: Callable[..., Result], project: Path
) -> None:
    _kazakh_project(project)
    result = run("build", "-j1", "--strict", "--project", project)
    assert result.exit_code == 0, result.output
    text = _pdftotext(project / "build" / "river-kk" / "analyst.pdf")
    folded = text.casefold()
    for shown in (
        "Алматыда шарт келіссөздері қайта басталды",  # the event, in the chronology
        "1-абзац, кіріспе",  # the locator, in the evidence annex
        "Тәуелсіз өңірлік басылым",  # the source's assessment, in the annex
        "Ахуал",  # the section title from the config
        "Далалық баяндама",  # the audience label, in the masthead
        "ықтимал",  # the confidence badge ("likely")
        "Басты ойлар",  # the project's override of a packaged label
        "Қызмет бабында пайдалану үшін",  # the project's own label
    ):
        assert shown.casefold() in folded, shown
    for english in ("Treaty talks resume", "para. 1", "Independent regional daily", "Context",
                    "Field report", "likely", "Key messages", "official use"):
        # (case kept: the source's English title is "River Treaty Talks Resume ...")
        assert english not in text and english.upper() not in text, english
    # The English brief of the same project takes the English texts.
    english_text = _pdftotext(project / "build" / "river-talks" / "analyst.pdf").casefold()
    for shown in ("Treaty talks resume in Almaty", "para. 1", "Field report", "likely",
                  "Key messages", "For official use only"):
        assert shown.casefold() in english_text, shown


@pytest.mark.parametrize("field", ["event", "locator"])
def test_note_lacking_the_brief_language_in_a_field_fails(
    run: Callable[..., Result], project: Path, field: str
) -> None:
    _kazakh_project(project)
    source = project / "sources" / "river-2024.yaml"
    lines = {"event": "      kk: Алматыда шарт келіссөздері қайта басталды\n",
             "locator": '    locator: {en: "para. 1", kk: "1-абзац, кіріспе"}\n'}
    text = source.read_text()
    assert lines[field] in text
    replacement = "" if field == "event" else '    locator: {en: "para. 1"}\n'
    source.write_text(text.replace(lines[field], replacement))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"briefs/river-kk.yaml:13: sections[0].notes[0]: note 'river-2024/talks-resume' "
        f"has no {field} in 'kk'; give it `{field}: {{en: ..., kk: ...}}`, or "
        "allow_untranslated in the audience's profile"
    )


def test_config_and_source_texts_lacking_the_brief_language_fail(
    run: Callable[..., Result], project: Path
) -> None:
    _kazakh_project(project)
    config = project / "policybrief.toml"
    config.write_text(config.read_text().replace(', kk = "Ахуал"', "").replace(
        ', kk = "Далалық баяндама"', ""))
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace(
        "  kk: Тәуелсіз өңірлік басылым; келіссөз тараптарына жақын.\n", ""))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert (
        "briefs/river-kk.yaml:13: sections[0].notes[0]: source 'river-2024' has no "
        "assessment in 'kk'; give it `assessment: {en: ..., kk: ...}`, or "
        "allow_untranslated in the audience's profile") in errors
    assert (
        "policybrief.toml: sections.context: the title of section 'context' has no 'kk' "
        "text (used by briefs/river-kk.yaml, sections[0]); give it context = "
        '{en = "...", kk = "..."}, or a `title:` in the brief, or allow_untranslated in '
        "the audience's profile") in errors
    assert (
        "policybrief.toml: audiences.analyst.label: the label of audience 'analyst' has no "
        "'kk' text (used by briefs/river-kk.yaml); give it label = "
        '{en = "...", kk = "..."}, or allow_untranslated in the audience\'s profile'
    ) in errors


@pytest.mark.parametrize(("catalog", "error"), [
    ('key_messages = "Басты ойлар"\nhandling = \n',
     "labels/kk.toml:2: invalid TOML: Invalid value; fix the syntax"),
    ('key_messages = "Басты ойлар"\n\n[perspectives]\nofficial = 3\n',
     "labels/kk.toml:4: perspectives.official: 3 is not a text; write a label as text, "
     'official = "..."'),
    ('handling = ["a"]\n',
     "labels/kk.toml:1: handling: ['a'] is not a text; write a label as text, "
     'handling = "..."'),
])
def test_bad_project_label_catalog_is_a_clear_error(
    run: Callable[..., Result], project: Path, catalog: str, error: str
) -> None:
    write(project / "labels" / "kk.toml", catalog)
    result = run("check", "--project", project)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.stderr.strip() == f"Error: {project / error}"
