"""The repository's own project: the Astana brief and its source notes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from conftest import REPO, copy_repository_project, pdf_fonts, pdf_text
from policybrief.cli import cli
from policybrief.config import load_config
from policybrief.load import load_project

# The archived source texts: where the project's `archive` setting says (../shared/seeds,
# kept outside the repository; the GitHub workflow checks them out there).
SEEDS = load_config(REPO).archive or REPO / "archive"


def seeds(required: bool = True) -> Path | None:
    """The archive folder. Without it: a failure in CI, which never passes quotes it did
    not check; elsewhere a skip, or None where the test can go on without it."""
    if SEEDS.is_dir():
        return SEEDS
    if os.environ.get("CI"):
        pytest.fail(f"no archive of source texts at {SEEDS} (the `archive` setting in "
                    "pyproject.toml); CI must check every quote against it")
    if required:
        pytest.skip(f"no archive of source texts at {SEEDS}")
    return None


@pytest.fixture(scope="module")
def astana() -> dict[str, object]:
    config = load_config(REPO)
    project, problems = load_project(config)
    assert problems == []
    return {"config": config, "project": project}


def test_enough_notes_each_with_locator(astana: dict[str, object]) -> None:
    project = astana["project"]
    notes = [n for e in project.sources.values() for n in e.model.notes]  # type: ignore[attr-defined]
    assert len(notes) >= 40
    assert all(n.locator.strip() for n in notes)


@pytest.mark.parametrize(
    "when",
    ["2012", "2013", "2015-05", "2015-10", "2016-12-30", "2017-01-23", "2017-02-06", "2023",
     "2024-01", "2024-05", "2024-11"],
)
def test_key_events_are_dated(astana: dict[str, object], when: str) -> None:
    project = astana["project"]
    dated = {str(n.date) for e in project.sources.values()  # type: ignore[attr-defined]
             for n in e.model.notes if n.date and n.event}
    assert when in dated


def test_quotes_mean_what_their_source_says(run: Callable[..., Result], tmp_path: Path) -> None:
    """Every quote passes `brief check --strict` against the archive: found as whole words,
    not cut after a negation. The note's first quote (the words without "no") fails it."""
    archive = seeds()
    copy = tmp_path / "repo"
    copy_repository_project(copy)
    result = run("check", "--strict", "--archive", archive, "--project", copy)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    source = copy / "sources" / "diplomat-2015.yaml"
    quote = 'quote: "the country had no “intention to substitute the existing platforms.”"'
    assert quote in source.read_text()
    source.write_text(source.read_text().replace(
        quote, 'quote: "intention to substitute the existing platforms"'))
    old = run("check", "--strict", "--archive", archive, "--project", copy)
    assert old.exit_code == 1
    assert "quote in 002_188744fc314725ed.txt starts just after 'no', so its words may say " \
           "the opposite of the source" in old.stderr


def test_the_talking_points_cite_nothing_sensitive(run: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    """The project marks the key-messages sheet OFFICIAL-SENSITIVE: the brief is marked so
    and checks clean with its public talking points at OFFICIAL; a line to take resting on
    the sheet fails the check, naming the note."""
    copy = tmp_path / "repo"
    copy_repository_project(copy)
    config = load_config(copy)
    assert config.markings is not None and config.markings.default == "OFFICIAL"
    project, _ = load_project(config)
    assert project.sources["key-messages-2017"].model.marking == "OFFICIAL-SENSITIVE"
    brief = project.briefs["astana-talks"].model
    assert brief.marking == "OFFICIAL-SENSITIVE"
    assert brief.audience_markings == {"talking-points": "OFFICIAL"}
    result = run("check", "--project", copy)
    assert result.exit_code == 0, result.output
    spec = copy / "briefs" / "astana-talks.yaml"
    text = spec.read_text(encoding="utf-8")
    line = ("      - tass-gryaznov-2025/platform-only-2017\n"
            "      - tass-gryaznov-2025/almaty-goodwill")
    assert line in text
    spec.write_text(text.replace(line, line.replace("tass-gryaznov-2025/platform-only-2017",
                                                    "key-messages-2017/platform-not-party"), 1),
                    encoding="utf-8")
    result = run("check", "--project", copy)
    assert result.exit_code == 1, result.output
    assert ("marking: astana-talks/talking-points is marked OFFICIAL but cites notes marked "
            "OFFICIAL-SENSITIVE: key-messages-2017/platform-not-party; mark the audience "
            "OFFICIAL-SENSITIVE (audience_markings) or cite nothing above OFFICIAL in it"
            ) in result.output, result.output
    assert "astana-talks/analyst is marked" not in result.output


def test_nothing_topic_specific_in_code() -> None:
    code = " ".join(p.read_text() for p in (REPO / "src" / "policybrief").rglob("*.*")
                    if p.suffix in (".py", ".j2", ".css"))
    assert not re.search(r"kazakh|astana|syria|prior-attempts", code, re.IGNORECASE)


@pytest.fixture(scope="module")
def astana_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's project, built once (strict where the archive is there);
    returns its build folder."""
    copy = tmp_path_factory.mktemp("astana") / "repo"
    copy_repository_project(copy)
    archive = seeds(required=False)
    strict = ["--strict", "--archive", str(archive)] if archive else []  # quotes need it
    result = CliRunner().invoke(cli, ["build", *strict, "--project", str(copy)])
    assert result.exit_code == 0, result.output
    return copy / "build"


def test_astana_brief_builds(astana_build: Path) -> None:
    pdf = astana_build / "astana-talks" / "analyst.pdf"
    pages = len(PdfReader(pdf).pages)
    assert 8 <= pages <= 16  # the analyst audience has no page budget; this is a sanity bound
    text = pdf_text(pdf)
    for heading in ("1 Background", "2 Kazakhstan's role", "3 Prior attempts", "4 Outlook",
                    "Annex A · Chronology", "Annex B · Evidence: claims by source"):
        assert heading in text
    assert f"Page {pages} of {pages}" in text
    assert all(f.startswith("PT-") for f in pdf_fonts(pdf))  # every glyph from bundled fonts
    budgets = {"executive": 2, "talking-points": 4, "committee": 1}
    for audience, budget in budgets.items():
        out = astana_build / "astana-talks" / f"{audience}.pdf"
        assert 1 <= len(PdfReader(out).pages) <= budget, audience
    committee = pdf_text(astana_build / "astana-talks" / "committee.pdf")
    assert "NOTE FOR THE FOREIGN AFFAIRS COMMITTEE" in committee
    assert "Questions members may wish to put" in committee
    assert "CENTRE FOR MEDIATION STUDIES" in committee  # from templates/brand.toml


@pytest.mark.parametrize(("brief", "language", "endnotes", "labels"), [
    ("astana-talks-ru", "ru", "ПРИМЕЧАНИЯ", ["ЦЕНТР ИССЛЕДОВАНИЙ ПОСРЕДНИЧЕСТВА", "ОСНОВНЫЕ ВЫВОДЫ",
                                            "По состоянию на 22 ноября 2026 г.", "Страница 1 из",
                                            "Предыдущие попытки", "Рекомендации"]),
    ("astana-talks-kk", "kk", "ЕСКЕРТПЕЛЕР", ["МЕДИАЦИЯНЫ ЗЕРТТЕУ ОРТАЛЫҒЫ", "НЕГІЗГІ ТҰЖЫРЫМДАР",
                                             "Жағдай бойынша 2026 ж. 22 қараша", "1-бет, барлығы",
                                             "Бұрынғы талпыныстар", "Ұсынымдар"]),
])
def test_translated_executive_notes(astana_build: Path, brief: str, language: str,
                                    endnotes: str, labels: list[str]) -> None:
    """The Russian and Kazakh executive notes: in the 2-page budget, the PDF's language
    set, the labels, dates, section titles and organisation in that language, no Latin
    word before the endnotes but the magazine's name (the endnotes keep the sources'
    published titles), every glyph from the bundled fonts."""
    pdf = astana_build / brief / "executive.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) <= 2
    assert reader.trailer["/Root"]["/Lang"] == language
    text = pdf_text(pdf)
    for label in labels:
        assert label in text, label
    body, _, _ = text.partition(endnotes)
    assert set(re.findall(r"[A-Za-z]+", body)) <= {"The", "Diplomat"}
    assert all(f.startswith("PT-") for f in pdf_fonts(pdf))
