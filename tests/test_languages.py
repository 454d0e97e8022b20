"""Accessible (PDF/UA), archival (PDF/A-3) and multilingual briefs."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pyphen
import pytest
from click.testing import Result
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from conftest import note_text, pdf_text, write

RU_BRIEF = """title: "Переговоры по реке: где они находятся"
short_title: Переговоры по реке
as_of: 2024-04-01
authors: [Группа анализа]
language: {language}
status: final
audiences: [analyst, executive]
key_messages:
  - text: {message}
    notes: [river-2024/talks-resume]
sections:
  - key: context
    title: {title}
    lead: {lead}
    notes: [river-2024/talks-resume]
clearance:
  - {{name: Иванова А. А., role: начальник отдела, date: 2024-04-01, decision: cleared}}
recommendations:
  - text: {recommendation}
    notes: [river-2024/talks-resume]
"""
TEXTS = {
    "ru": dict(message="Переговоры возобновились после двухлетней паузы.", title="Контекст",
               lead="Стороны вернулись за стол переговоров.",
               recommendation="Поддержать техническую рабочую группу.",
               note="Переговорщики двух прибрежных государств вновь встретились в Алматы."),
    "kk": dict(message="Келіссөздер екі жылдық үзілістен кейін қайта басталды.",
               title="Мәнмәтін", lead="Тараптар келіссөз үстеліне қайта оралды.",
               recommendation="Техникалық жұмыс тобын қолдау.",
               note="Екі мемлекеттің келіссөзшілері Алматыда қайта кездесті; Шаһар "
                    "(Ә Ғ Қ Ң Ө Ұ Ү Һ І)."),
}


def _add_language_brief(project: Path, language: str, translate: bool = True) -> None:
    write(project / "briefs" / f"river-{language}.yaml",
          RU_BRIEF.format(language=language, **TEXTS[language]))
    if translate:
        source = project / "sources" / "river-2024.yaml"
        old = ("    text: >-\n      Negotiators from the two riparian states met again in Almaty "
               "after a **two-year** pause.\n")
        text = source.read_text()
        assert old in text
        source.write_text(text.replace(old, (
            "    text:\n      en: >-\n        Negotiators from the two riparian states met again"
            " in Almaty after a **two-year** pause.\n"
            f"      {language}: >-\n        {TEXTS[language]['note']}\n"
        )))


BUNDLED_FAMILIES = {"PT Serif", "PT Sans"}  # fontpkg-pt-serif, fontpkg-pt-sans
KAZAKH = set("ӘҒҚҢӨҰҮҺІәғқңөұүһі")  # the letters Kazakh adds to the Russian alphabet


def _embedded_fonts(pdf: Path) -> dict[str, TTFont]:
    """Every font the PDF embeds, by its PDF name (subset prefix removed), parsed from its
    /FontFile2 (TrueType) stream. Found by walking the whole file, not only the pages'
    resources; a font that is not embedded is a failure."""
    reader = PdfReader(pdf)
    fonts: dict[str, TTFont] = {}
    seen: set[int] = set()
    todo: list[object] = [reader.trailer]
    while todo:
        node = todo.pop()
        if hasattr(node, "idnum"):
            if node.idnum in seen:
                continue
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            if node.get("/Type") == "/FontDescriptor":
                name = str(node["/FontName"]).split("+", 1)[-1]
                assert "/FontFile2" in node, f"{name}: not embedded as TrueType"
                data = node["/FontFile2"].get_object().get_data()
                fonts[name] = TTFont(io.BytesIO(data))
            else:
                todo.extend(v for k, v in node.items() if k != "/Parent")
    return fonts


def test_pdf_ua_catalog_headings_and_figure_alt(built: Path) -> None:
    root = PdfReader(built).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert root["/Lang"] == "en-GB"
    tree = root["/StructTreeRoot"]
    headings: list[str] = []
    figures: list[str | None] = []

    def walk(node: object) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            kind = str(node.get("/S", ""))
            if re.fullmatch(r"/H\d", kind):
                headings.append(kind)
            if kind == "/Figure":
                figures.append(node.get("/Alt"))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(tree)
    assert headings[0] == "/H1" and headings.count("/H1") == 1
    levels = [int(h[2]) for h in headings]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))  # none skipped
    assert figures == ["Timeline of the events cited in this brief"]


NOTE_TABLE = (
    "Negotiators met again after a pause. The proposed split:\n\n"
    "| Season | Upstream | Downstream |\n|---|---:|---:|\n"
    "| Summer | 60% | 40% |\n| Winter | 45% | 55% |\n\n"
    "Both sides called the split **a basis** for talks."
)


def _structure(node: object, out: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The structure elements under `node`, depth first: (tag, its attributes)."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, dict):
        if "/S" in node:
            out.append((str(node["/S"]), node.get("/A")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            _structure(kid, out)
    return out


def test_markdown_table_in_a_note_is_a_tagged_table(
    run: Callable[..., Result], project: Path
) -> None:
    """A GFM table in a note's text is laid out as a table: its cells' text in reading
    order, the footnote call on the paragraph after it, and TH/TD in the structure tree,
    each data cell pointing at its column's header (PDF/UA)."""
    source = project / "sources" / "river-2024.yaml"
    old = source.read_text()
    start = old.index("    text: >-\n") + len("    text: ")
    end = old.index("    locator:", start)
    source.write_text(old[:start] + json.dumps(NOTE_TABLE) + "\n" + old[end:])
    result = run("build", "--strict", "--project", project)
    assert result.exit_code == 0, result.output
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    text = pdf_text(pdf)
    assert "|" not in text
    assert ("The proposed split: Season Upstream Downstream Summer 60% 40% Winter 45% 55% "
            "Both sides called the split a basis for talks.2") in text
    html = (project / "build" / "river-talks" / "analyst.html").read_text()
    # the note's, the chronology's and the clearance history's
    assert len(re.findall(r'<th [^>]*scope="col"', html)) == 3 + 3 + 5
    tags = _structure(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"], [])
    parts = {"/Table", "/THead", "/TBody", "/TR", "/TH", "/TD"}
    table = [(kind, a) for kind, a in tags if kind in parts]
    table = table[:table.index(("/Table", None), 1)]  # the note's, before the chronology
    assert [kind for kind, _ in table] == ["/Table", "/THead", "/TR", "/TH", "/TH", "/TH",
                                           "/TBody", *["/TR", "/TD", "/TD", "/TD"] * 2]
    cells = [attributes for kind, attributes in table if kind == "/TD"]
    assert len(cells) == 6 and all(len(a["/Headers"]) == 1 for a in cells)  # type: ignore[index]


def test_image_without_alternative_text_fails(run: Callable[..., Result], project: Path) -> None:
    write(project / "templates" / "logo.svg",
          '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    write(project / "templates" / "analyst.html.j2",
          '{% extends "default:analyst.html.j2" %}\n'
          '{% block edition %}<img src="logo.svg">{% endblock %}\n')
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: river-talks/analyst: image 'logo.svg' has no alternative text; give images alt "
        "text (in a note: ![what it shows](file.png)) and SVGs a <title>\n"
    )


def _attachment_dates(reader: PdfReader) -> dict[str, tuple[str, str]]:
    """Each embedded file's (CreationDate, ModDate), from its stream's /Params."""
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    dates = {}
    for name, spec in zip(names[::2], names[1::2], strict=True):
        params = spec.get_object()["/EF"]["/F"].get_object()["/Params"]
        dates[str(name)] = (str(params["/CreationDate"]), str(params["/ModDate"]))
    return dates


def test_archival_pdf_embeds_evidence_with_fixed_dates(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # the as-of date, not the epoch's
    assert run("build", "--archival", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdfa.pdf"  # the only audience
    assert not (project / "build" / "river-talks" / "analyst.pdf").exists()
    first = pdf.read_bytes()
    reader = PdfReader(pdf)
    assert sorted(reader.attachments) == ["claims.json", "river-2024.yaml"]
    assert b'"ref": "river-2024/water-share"' in reader.attachments["claims.json"][0]
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in metadata and 'pdfaid:conformance="A"' in metadata
    as_of = "D:20240401000000Z"  # the brief's as_of, 2024-04-01
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == as_of
    assert reader.metadata["/ModDate"] == as_of
    assert _attachment_dates(reader) == {
        "claims.json": (as_of, as_of), "river-2024.yaml": (as_of, as_of),
    }
    # A second, real render (not the no-op "unchanged"), a second later on the clock.
    time.sleep(1.1)
    again = run("build", "--archival", "--force", "--project", project)
    assert again.exit_code == 0 and again.stdout.startswith("built build/river-talks/"), (
        again.output
    )
    assert pdf.read_bytes() == first  # byte-identical: no wall-clock dates anywhere


def _pdfa(pdf: Path) -> bool:
    metadata = PdfReader(pdf).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    return 'pdfaid:part="3"' in metadata


def test_archival_and_normal_builds_keep_their_own_files(
    run: Callable[..., Result], project: Path
) -> None:
    """A normal and an archival build write beside each other (analyst.pdf and
    analyst.pdfa.pdf), the manifest and SHA256SUMS list both with their hashes, and
    neither build rebuilds, removes or overwrites the other's file."""
    folder = project / "build" / "river-talks"
    assert run("build", "--project", project).exit_code == 0
    archival = run("build", "--archival", "--project", project)
    assert archival.exit_code == 0
    assert archival.stdout == "built build/river-talks/analyst.pdfa.pdf (2 pages)\n"
    normal, pdfa = folder / "analyst.pdf", folder / "analyst.pdfa.pdf"
    assert not _pdfa(normal) and _pdfa(pdfa)
    assert (folder / "analyst.pdfa.html").is_file()
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    assert sorted(artifacts) == ["river-talks/analyst", "river-talks/analyst.pdfa"]
    for key, path in (("river-talks/analyst", normal), ("river-talks/analyst.pdfa", pdfa)):
        entry = artifacts[key]
        assert entry["pdf"] == path.relative_to(project / "build").as_posix()
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["archival"] == (path == pdfa)
    sums = (project / "build" / "SHA256SUMS").read_text()
    assert sums == "".join(f"{artifacts[k]['sha256']}  {artifacts[k]['pdf']}\n"
                           for k in sorted(artifacts))
    kept = pdfa.read_bytes(), pdfa.stat().st_mtime_ns
    # Both are current: neither build renders again.
    assert run("build", "--project", project).stdout == (
        "unchanged build/river-talks/analyst.pdf\n")
    assert run("build", "--archival", "--project", project).stdout == (
        "unchanged build/river-talks/analyst.pdfa.pdf\n")
    # A change rebuilds the normal one only; the archival file and its entry stay.
    note_text(project, "after a **three-year** pause.")
    again = run("build", "--project", project)
    assert again.stdout == "built build/river-talks/analyst.pdf (2 pages)\n", again.output
    assert (pdfa.read_bytes(), pdfa.stat().st_mtime_ns) == kept
    after = json.loads((project / "build" / "manifest.json").read_text())["artifacts"]
    assert after["river-talks/analyst.pdfa"] == artifacts["river-talks/analyst.pdfa"]
    assert after["river-talks/analyst"]["sha256"] != artifacts["river-talks/analyst"]["sha256"]
    assert f"{after['river-talks/analyst.pdfa']['sha256']}  river-talks/analyst.pdfa.pdf" in (
        project / "build" / "SHA256SUMS").read_text()


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("ru", ["ОСНОВНЫЕ ВЫВОДЫ", "По состоянию на 1 апреля 2024 г.", "Страница 1 из 2",
                "АНАЛИТИЧЕСКАЯ ЗАПИСКА", "Приложение Б · Доказательная база",
                "ОКОНЧАТЕЛЬНАЯ РЕДАКЦИЯ"]),
        ("kk", ["НЕГІЗГІ ТҰЖЫРЫМДАР", "Жағдай бойынша 2024 ж. 1 сәуір", "1-бет, барлығы 2",
                "ТАЛДАМАЛЫҚ ЖАЗБА", "Б қосымшасы · Дәлелдер"]),
    ],
)
def test_brief_in_another_language(
    run: Callable[..., Result], project: Path, language: str, labels: list[str]
) -> None:
    _add_language_brief(project, language)
    result = run("build", "--strict", f"river-{language}", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    pdf = project / "build" / f"river-{language}" / "analyst.pdf"
    text = pdf_text(pdf)
    for label in labels:
        assert label in text
    assert TEXTS[language]["note"] in text
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == language
    # The fonts in the PDF are the bundled families, and nothing else (no system font
    # filled in for a missing letter); their cmaps have every character of the text.
    fonts = _embedded_fonts(pdf)
    assert {f["name"].getDebugName(1) for f in fonts.values()} == BUNDLED_FAMILIES, sorted(fonts)
    assert all(name.startswith(("PT-Serif", "PT-Sans")) for name in fonts), sorted(fonts)
    covered = set().union(*(f.getBestCmap() for f in fonts.values()))
    missing = {c for c in text if not c.isspace() and ord(c) not in covered}
    assert missing == set()
    if language == "kk":
        assert KAZAKH <= set(text)  # the note ends with the capitals; words have the rest


def test_note_without_the_brief_language_fails_clearly(
    run: Callable[..., Result], project: Path
) -> None:
    _add_language_brief(project, "ru", translate=False)
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "briefs/river-ru.yaml:15: sections[0].notes[0]: note 'river-2024/talks-resume' has "
        "no text in 'ru'; give it `text: {en: ..., ru: ...}`, or allow_untranslated in the "
        "audience's profile"
    )
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + (
        "\n[audiences.analyst]\nallow_untranslated = true\n"
        "[audiences.executive]\nallow_untranslated = true\n"
    ))
    lenient = run("check", "--project", project)
    assert lenient.exit_code == 0
    assert "warning: briefs/river-ru.yaml:15: sections[0].notes[0]: note " in lenient.stderr


def test_note_without_the_project_language_names_it_once(
    run: Callable[..., Result], project: Path
) -> None:
    """An en-GB brief of an English project citing a note written only in Russian: the
    suggestion names English once."""
    source = project / "sources" / "river-2024.yaml"
    old = ("    text: >-\n      The draft would split summer flow 60/40, according to "
           "officials quoted by the paper.\n")
    assert old in source.read_text()
    source.write_text(source.read_text().replace(old, "    text: {ru: Проект.}\n"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "briefs/river-talks.yaml:16: sections[1].notes[0]: note 'river-2024/water-share' has "
        "no text in 'en-GB'; give it `text: {en: ...}`, or allow_untranslated in the "
        "audience's profile"
    )


# Long words in a narrow lead paragraph: lines must break inside words.
LEADS = {
    "ru": "Межправительственная комиссия рассматривает взаимоприемлемые договорённости "
          "относительно трансграничного водопользования.",
    "kk": "Үкіметаралық комиссия трансшекаралық суды пайдалану жөніндегі өзара тиімді "
          "келісімдерді қарастырады.",
}


def _pdf_lines(pdf: Path) -> list[str]:
    """The PDF's text line by line, as laid out (line ends kept, unlike pdf_text)."""
    return [" ".join(line.split()) for page in PdfReader(pdf).pages
            for line in (page.extract_text() or "").splitlines()]


def test_hyphenation_follows_the_language(run: Callable[..., Result], project: Path) -> None:
    """Russian is hyphenated (a dictionary exists), Kazakh is not (none does)."""
    for language in ("ru", "kk"):
        _add_language_brief(project, language, translate=False)
        brief = project / "briefs" / f"river-{language}.yaml"
        old = f"lead: {TEXTS[language]['lead']}\n"
        assert old in brief.read_text()
        brief.write_text(brief.read_text().replace(old, f"lead: {LEADS[language]}\n"))
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + (
        "\n[audiences.analyst]\nallow_untranslated = true\n"
        "[audiences.executive]\nallow_untranslated = true\n"
    ))
    # A narrow lead (the packaged stylesheet, with its hyphenation settings, unchanged).
    write(project / "templates" / "analyst.html.j2",
          '{% extends "default:analyst.html.j2" %}\n'
          "{% block style %}.lead { width: 30mm; }{% endblock %}\n")
    result = run("build", "river-ru", "river-kk", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    lines = {}
    for language in ("ru", "kk"):
        html = (project / "build" / f"river-{language}" / "analyst.html").read_text()
        assert f'<html lang="{language}"' in html
        lines[language] = _pdf_lines(project / "build" / f"river-{language}" / "analyst.pdf")

    def lead(language: str) -> list[str]:  # the lead's lines, after its section heading
        start = lines[language].index(f"1 {TEXTS[language]['title']}") + 1
        end = next(i for i in range(start, len(lines[language]))
                   if lines[language][i].endswith("."))
        return lines[language][start:end + 1]

    # Russian: the lead breaks inside its words, with the hyphenate-character, and every
    # break in the PDF is one the Russian dictionary allows.
    ru_lead = lead("ru")
    assert " ".join(ru_lead).replace("- ", "") == LEADS["ru"]
    assert sum(line.endswith("-") for line in ru_lead) >= 5, ru_lead
    russian = pyphen.Pyphen(lang="ru")
    breaks = [(a, b) for a, b in zip(lines["ru"], lines["ru"][1:], strict=False)
              if re.search(r"[а-яё]-$", a, re.IGNORECASE)]
    assert len(breaks) >= 5
    for before, after in breaks:
        left, right = before.split()[-1][:-1], after.split()[0]
        word = re.sub(r"\W+$", "", left + right)
        assert len(left) in russian.positions(word), (before, after)
    # Kazakh: as narrow, several lines, but no dictionary, so no word is broken.
    kk_lead = lead("kk")
    assert " ".join(kk_lead) == LEADS["kk"] and len(kk_lead) >= 5, kk_lead
    assert not [line for line in lines["kk"] if line.endswith("-")]



# A paragraph long enough for several full lines, in each language (the note's text).
LONG = {
    "en-GB": "Negotiators from the two riparian states met again in Almaty after a two-year "
             "pause. The parties discussed sharing the water of transboundary rivers, "
             "accounting for seasonal flow and setting up a joint monitoring system. The "
             "delegations heard the report of the technical working group and agreed the "
             "agenda of the next meeting. Experts say several more rounds will be needed "
             "before an agreement is reached.",
    "kk": "Екі мемлекеттің келіссөзшілері Алматыда екі жылдық үзілістен кейін қайта "
          "кездесті. Тараптар трансшекаралық өзендердің суын бөлу, маусымдық ағынды есепке "
          "алу және бірлескен мониторинг жүйесін құру мәселелерін талқылады. Делегациялар "
          "техникалық жұмыс тобының есебін тыңдап, келесі кездесудің күн тәртібін келісті. "
          "Сарапшылардың пікірінше, келісімге қол жеткізу үшін тағы бірнеше раунд қажет.",
}


def _line_ends(pdf: Path, word: str) -> list[float]:
    """The right edge (x, pt) of every line but the last of the PDF's text block holding
    `word`, as pdftotext lays the page out."""
    xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout
    ns = "{http://www.w3.org/1999/xhtml}"
    for block in ET.fromstring(xhtml).iter(f"{ns}block"):
        lines = block.findall(f"{ns}line")
        if any(w.text == word for line in lines for w in line.iter(f"{ns}word")):
            return [float(line.get("xMax", 0)) for line in lines[:-1]]
    raise AssertionError(f"{word!r} not in {pdf}")


def test_justified_only_where_words_can_be_hyphenated(
    run: Callable[..., Result], project: Path
) -> None:
    """English (a hyphenation dictionary) is justified: its full lines end at one x.
    Kazakh (none: wide gaps if justified) is ragged-right: they do not."""
    _add_language_brief(project, "kk")
    note_text(project, "after a **two-year** pause. " + LONG["en-GB"].split("pause. ", 1)[1])
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace(TEXTS["kk"]["note"], LONG["kk"]))
    result = run("build", "--strict", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    english = _line_ends(project / "build" / "river-talks" / "analyst.pdf", "monitoring")
    kazakh = _line_ends(project / "build" / "river-kk" / "analyst.pdf", "мониторинг")
    assert len(english) >= 3 and len(kazakh) >= 3, (english, kazakh)
    assert max(english) - min(english) < 1, english
    assert max(kazakh) - min(kazakh) > 5, kazakh


MONTHLY = """type: article-magazine
title: "Steppe waters"
author:
  - family: Sagyntay
    given: Aru
  - family: Omar
    given: Berik
container-title: Steppe Review
issued: 2023-05
language: en
perspective: independent
assessment: Independent monthly.
notes:
  - id: flows
    section: context
    text:
      en: Summer flows fell.
      ru: Летний сток сократился.
      kk: Жазғы ағын азайды.
    locator: "p. 4"
"""
CITED = {  # what the footnotes and bibliography say in the brief's language
    "ru": ["8 мая 2023 г.", "май 2023 г.", "Sagyntay и Berik Omar"],
    "kk": ["2023 жылғы 8 мамыр", "2023 мамыр", "Sagyntay және Berik Omar"],
}
RANGES = {  # the chronology's date range (2024-03-12 to 13), months in full as in one date
    "en": "March 12 – 13, 2024", "en-GB": "12 – 13 March 2024",
    "ru": "12—13 марта 2024 г.", "kk": "2024 ж. 12–13 наурыз",
}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_citations_in_the_brief_language(
    run: Callable[..., Result], project: Path, language: str
) -> None:
    """Footnotes and bibliography in Russian and Kazakh: the locale's terms and months,
    a day-month date's month in the form a day takes (ru genitive), a month alone in
    the nominative; no English term or month."""
    _add_language_brief(project, language)
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("issued: 2024-03-14", "issued: 2023-05-08"))
    write(project / "sources" / "monthly-2015.yaml", MONTHLY)
    brief = project / "briefs" / f"river-{language}.yaml"
    brief.write_text(brief.read_text().rstrip("\n").removesuffix("river-2024/talks-resume]")
                     + "river-2024/talks-resume, monthly-2015/flows]\n")
    result = run("build", "--strict", f"river-{language}", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    text = pdf_text(project / "build" / f"river-{language}" / "analyst.pdf")
    for cited in CITED[language]:
        assert cited in text, cited
    assert RANGES[language] in text.replace("\u202f", " ")
    english = re.compile(r"\b(and|May|accessed|et al|Retrieved|In)\b")
    assert not english.findall(text), english.findall(text)


def test_language_without_citation_locale_warns(run: Callable[..., Result], project: Path) -> None:
    """A brief in a language no CSL locale covers (neither pandoc's nor ours) is told its
    citations are in en-US terms; under --strict that fails the target."""
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("language: en-GB", "language: uz"))
    config = project / "policybrief.toml"  # the notes' texts are then in Uzbek
    config.write_text('language = "uz"\n' + config.read_text())
    lenient = run("check", "--project", project)
    assert lenient.exit_code == 0, lenient.output
    said = ("river-talks/analyst: citations: language 'uz': no citation locale; citations "
            "use en-US terms ('and', 'pp.', English month names)")
    assert said in lenient.stderr
    strict = run("check", "--strict", "--project", project)
    assert strict.exit_code != 0
    assert f"{said} (--strict)" in strict.output


@pytest.mark.parametrize(("language", "term"),
                         [("tr", "ve"), ("pt-AO", " e "), ("kk", "және"), ("uz", "and")])
def test_citation_locales_known(project: Path, language: str, term: str) -> None:
    """cite.PANDOC_LOCALES says what pandoc's citeproc has: a listed language (directly
    or by its primary dialect) gets its own "and", ours gets kk's, others en-US's."""
    from policybrief.cite import format_citations, locale_fallback
    from policybrief.config import load_config
    from policybrief.curate import curate
    from policybrief.load import load_project

    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace(
        "    given: Aru\n", "    given: Aru\n  - family: Omar\n    given: Berik\n"))
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("language: en-GB", f"language: {language}"))
    config = load_config(project)
    loaded, _ = load_project(config)
    curated = curate(loaded, loaded.briefs["river-talks"].model, config.audiences["analyst"])
    formatted = format_citations(curated, config)
    assert term in str(formatted.bibliography["river-2024"])
    assert (locale_fallback(language) is None) == (language != "uz")


@pytest.mark.parametrize("language", ["en", "en-GB"])
def test_english_chronology_ranges_in_full(
    run: Callable[..., Result], project: Path, language: str
) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("language: en-GB", f"language: {language}"))
    result = run("build", "--strict", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    text = pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    assert RANGES[language] in text
    assert "Mar " not in text


QUOTED = {  # a note's "quoted" words and the pull quote, in the brief language's marks
    "en-GB": ("“two-year”", "“a fair share for every field”", "“unnamed officials”",
              "“where they stand”"),
    "ru": ("«вновь»", "«a fair share for every field»"),
    "kk": ("«қайта»", "«a fair share for every field»"),
}


@pytest.mark.parametrize("language", ["en-GB", "ru", "kk"])
def test_quotation_marks_follow_the_language(
    run: Callable[..., Result], project: Path, language: str
) -> None:
    """Straight quotes in a note's Markdown and the pull quote's marks: « » in Russian
    and Kazakh, “ ” in English, never straight, never English marks in ru/kk."""
    source = project / "sources" / "river-2024.yaml"
    if language == "en-GB":
        note_text(project, 'after a "two-year" pause.')
        source.write_text(source.read_text().replace(  # and a plain-text field
            "relies on unnamed officials.", 'relies on "unnamed officials".'))
        brief = project / "briefs" / "river-talks.yaml"
        brief.write_text(brief.read_text().replace(
            'title: "River treaty talks: where they stand"',
            "title: 'River treaty talks: \"where they stand\"'"))
    else:
        _add_language_brief(project, language)
        word = QUOTED[language][0][1:-1]
        source.write_text(source.read_text().replace(f" {word} ", f' "{word}" ', 1).replace(
            "    text: >-\n      The draft would split",
            f"    text:\n      {language}: Жоба.\n      en: >-\n        The draft would split"))
        brief = project / "briefs" / f"river-{language}.yaml"
        lead = TEXTS[language]["lead"]
        brief.write_text(brief.read_text().replace(
            f"{lead}\n    notes: [river-2024/talks-resume]",
            f"{lead}\n    notes: [river-2024/talks-resume, river-2024/water-share]"))
    result = run("build", "--strict", "-a", "analyst", "--project", project)
    assert result.exit_code == 0, result.output
    label = "river-talks" if language == "en-GB" else f"river-{language}"
    text = pdf_text(project / "build" / label / "analyst.pdf")
    for quoted in QUOTED[language]:
        assert quoted in text, quoted
    assert '"' not in text
    if language != "en-GB":  # no English marks (“ alone is the inner closing mark) but
        # the archived source's own sentence, quoted verbatim in the evidence annex
        verbatim = "Officials said the plan gives “a fair share for every field” in the basin."
        assert verbatim in text
        assert "”" not in text.replace(verbatim, "")


def test_quotation_makes_its_own_marks_the_inner_ones() -> None:
    from policybrief.markdown import quotation

    assert quotation('a "fair" share for “every” <field>', "«»„“") == \
        "«a „fair“ share for „every“ &lt;field&gt;»"
    assert quotation("it's «fair»") == "“it’s ‘fair’”"
