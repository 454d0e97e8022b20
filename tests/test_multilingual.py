"""Every field people write, in the brief's language: note events and locators, source
assessments, section titles and audience labels in the config, the confidence scale, and
a project's own label catalogs over the packaged ones."""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from babel import Locale
from click.testing import Result

from conftest import write
from policybrief.i18n import LABELS
from test_languages import RANGES, TEXTS, _add_language_brief

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
clearance:
  - {name: Әлиева Д., role: бөлім басшысы, date: 2024-04-01, decision: cleared}
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


# The fixture project wholly in Russian or Kazakh (test_languages' brief, with every part
# an audience prints, and its source, archive included, translated), so that any English
# in its PDFs is the tool's own.
EXTRA = {  # the brief's parts test_languages.RU_BRIEF lacks, for all three audiences
    "ru": dict(line="Переговоры продолжаются.", question="Когда следующий раунд?",
               answer="Летом.", avoid="Не называть сроки.", signpost="Срыв графика."),
    "kk": dict(line="Келіссөздер жалғасуда.", question="Келесі раунд қашан?",
               answer="Жазда.", avoid="Мерзімдерді атамау.", signpost="Кестенің бұзылуы."),
}
EXTRA_BRIEF = """lines_to_take:
  - text: {line}
    notes: [river-2024/talks-resume]
questions:
  - question: {question}
    answer: {answer}
    notes: [river-2024/talks-resume]
do_not_say: [{avoid}]
outlook_signposts: [{signpost}]
"""
SOURCE = {  # the English of sources/river-2024.yaml and the archive -> the language's
    "ru": {
        '"River treaty talks resume in Almaty"': '"Переговоры по договору о реке возобновились"',
        "Sagyntay\n    given: Aru": "Сагынтай\n    given: Ару\n  - family: Омаров\n"
                                      "    given: Берик",
        "Steppe Herald": "Степной вестник",
        "language: en\n": "language: ru\n",
        "relies on unnamed officials.": "relies on unnamed officials.\n  ru: Независимая "
                                        "региональная газета, близкая к сторонам переговоров.",
        'locator: "para. 1"': "locator: {en: para. 1, ru: абз. 1}\n    confidence: likely",
        'event: "Treaty talks resume in Almaty"':
            "event: {en: Treaty talks resume in Almaty, ru: Переговоры возобновились в Алматы}",
        ">-\n      The draft would split summer flow 60/40, according to officials quoted by "
        "the paper.": "\n      ru: Проект делит летний сток в пропорции 60/40, по словам "
                      "чиновников.",
        'locator: "para. 5"': "locator: абз. 5",
        "a fair share for every field": "справедливую долю для каждого поля",
        "speaker: unnamed officials": "speaker: неназванные чиновники",
        "Negotiators met again in Almaty.": "Переговорщики вновь встретились в Алматы.",
        "Officials said the plan gives “a fair share\nfor every   field” in the basin.":
            "Чиновники заявили, что план даёт «справедливую долю\nдля каждого поля» в бассейне.",
    },
    "kk": {
        '"River treaty talks resume in Almaty"': '"Өзен шарты бойынша келіссөздер жалғасты"',
        "Sagyntay\n    given: Aru": "Сағынтай\n    given: Ару\n  - family: Омар\n"
                                      "    given: Берік",
        "Steppe Herald": "Дала хабаршысы",
        "language: en\n": "language: kk\n",
        "relies on unnamed officials.": "relies on unnamed officials.\n  kk: Тәуелсіз өңірлік "
                                        "басылым, келіссөз тараптарына жақын.",
        'locator: "para. 1"': "locator: {en: para. 1, kk: 1-абзац}\n    confidence: likely",
        'event: "Treaty talks resume in Almaty"':
            "event: {en: Treaty talks resume in Almaty, kk: Алматыда келіссөздер басталды}",
        ">-\n      The draft would split summer flow 60/40, according to officials quoted by "
        "the paper.": "\n      kk: Жоба жазғы ағынды 60/40 қатынасында бөледі, дейді шенеуніктер.",
        'locator: "para. 5"': "locator: 5-абзац",
        "a fair share for every field": "әр алқапқа әділ үлес",
        "speaker: unnamed officials": "speaker: аты аталмаған шенеуніктер",
        "Negotiators met again in Almaty.": "Келіссөзшілер Алматыда қайта кездесті.",
        "Officials said the plan gives “a fair share\nfor every   field” in the basin.":
            "Шенеуніктердің айтуынша, жоспар бассейндегі «әр алқапқа\nәділ үлес» береді.",
    },
}
URL = "https://example.org/river"  # printed as it is, the one Latin text allowed
CITED_TERMS = {"ru": " и ", "kk": " және "}  # two authors, in the locale's words
CITATION_TERMS = ("and", "accessed", "retrieved", "et al", "pp.", "In")


def _translated_project(project: Path, language: str) -> None:
    (project / "briefs" / "river-talks.yaml").unlink()  # the English brief
    _add_language_brief(project, language)
    brief = project / "briefs" / f"river-{language}.yaml"
    text = brief.read_text().replace("[analyst, executive]", "[analyst, executive, "
                                     "talking-points]")
    old = f"{TEXTS[language]['lead']}\n    notes: [river-2024/talks-resume]"
    assert old in text
    brief.write_text(text.replace(old, old[:-1] + ", river-2024/water-share]")
                     + EXTRA_BRIEF.format(**EXTRA[language]))
    for path in (project / "sources" / "river-2024.yaml", project / "archive" / "river-2024.txt"):
        text = path.read_text()
        for english, translated in SOURCE[language].items():
            text = text.replace(english, translated)
        path.write_text(text)
    # The source's assessment, given per language, opens a mapping; the source is online.
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace(
        "assessment: >-\n  Independent", "assessment:\n  en: >-\n    Independent").replace(
        "issued: 2024-03-14\n", f"issued: 2024-03-14\nURL: {URL}\naccessed: 2024-03-20\n"))


def _english_words() -> set[str]:
    """The words of the English label catalog's texts (its `{page}` counters aside)."""
    def texts(value: object) -> list[str]:
        return ([t for v in value.values() for t in texts(v)] if isinstance(value, dict)
                else [value] if isinstance(value, str) else [])
    catalog = tomllib.loads((LABELS / "en.toml").read_text(encoding="utf-8"))
    catalog.pop("quotes")
    words = {w for text in texts(catalog) for w in re.findall(r"[A-Za-z]+",
                                                              re.sub(r"\{\w+\}", "", text))}
    assert {"Key", "messages", "Page", "of", "likely", "Chronology"} <= words
    return words


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_no_english_left(run: Callable[..., Result], project: Path, language: str) -> None:
    """A Russian or Kazakh brief of a project written in that language, with every part
    the audiences print (key messages, sections, a confidence, a pull quote, footnotes,
    the chronology with a date range, the bibliography, lines to take, questions): no
    word of the English label catalog, no English month or citation term in any of its
    PDFs, and no date range with an abbreviated month."""
    _translated_project(project, language)
    result = run("build", "--strict", f"river-{language}", "--project", project)
    assert result.exit_code == 0, result.output
    english = Locale.parse("en")
    months = {m for width in ("wide", "abbreviated") for m in english.months["format"][width]
              .values()} | {"Sept"}
    banned = {w.casefold() for w in _english_words() | months | set(CITATION_TERMS)}
    local = Locale.parse(language)
    short = {m for context in ("format", "stand-alone") for m in local.months[context][
        "abbreviated"].values()} - {m for context in ("format", "stand-alone")
                                    for m in local.months[context]["wide"].values()}
    texts = {}
    for audience in ("analyst", "executive", "talking-points"):
        text = texts[audience] = _pdftotext(project / "build" / f"river-{language}"
                                            / f"{audience}.pdf")
        found = {w for w in re.findall(r"[A-Za-z]+(?: al|\.)?", text) if w.casefold() in
                 banned or w.rstrip(".").casefold() in banned}
        assert not found, (audience, sorted(found))
        latin = set(re.findall(r"[A-Za-z]{2,}", text)) - set(re.findall(r"[a-z]+", URL))
        assert not latin, (audience, latin, text)  # nor any other (the URL may break)
        assert not [m for m in short if re.search(rf"(?<!\w){re.escape(m)}(?!\w)", text)], \
            (audience, short)
    analyst = texts["analyst"]
    for shown in (EXTRA[language]["signpost"], SOURCE[language]["a fair share for every field"],
                  RANGES[language], CITED_TERMS[language], URL):
        assert shown in analyst.replace("\u202f", " "), shown
    assert EXTRA[language]["question"] in texts["talking-points"]
