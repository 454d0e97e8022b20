"""Protective markings: the scheme, the clearance check, the marking on every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import TALKING_POINTS, write

SCHEME = """
[markings]
levels = ["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"]
caveats = ["NOT FOR PUBLICATION"]
default = "OFFICIAL"
"""
PAYWALLED = """\
type: report
title: "Water figures"
publisher: Basin Institute
issued: 2024-02-01
marking: OFFICIAL-SENSITIVE
perspective: independent
assessment: Paywalled basin model; sound methods.
notes:
  - id: figures
    section: context
    text: The basin model puts the shortfall at a fifth of the flow.
    locator: "p. 4"
    priority: key
"""


def marked(project: Path, brief_lines: str) -> Path:
    """The minimal project with a scheme, a sensitive source cited in a section (so not
    by the talking points, whose `parts` leave sections out) and `brief_lines` added."""
    config = project / "policybrief.toml"
    config.write_text(config.read_text(encoding="utf-8") + SCHEME, encoding="utf-8")
    write(project / "sources" / "paywalled-2024.yaml", PAYWALLED)
    brief = project / "briefs" / "river-talks.yaml"
    text = brief.read_text(encoding="utf-8").replace(
        "river-2024/kazakh-names]", "river-2024/kazakh-names, paywalled-2024/figures]")
    brief.write_text(brief_lines + text + TALKING_POINTS, encoding="utf-8")
    return brief


def test_an_audience_citing_a_higher_marked_note_fails_check_and_build(
    run: Callable[..., Result], project: Path
) -> None:
    marked(project, "marking: OFFICIAL\naudience_markings: {analyst: OFFICIAL-SENSITIVE}\n")
    message = (
        "briefs/river-talks.yaml:1: marking: river-talks/executive is marked OFFICIAL but "
        "cites notes marked OFFICIAL-SENSITIVE: paywalled-2024/figures; mark the audience "
        "OFFICIAL-SENSITIVE (audience_markings) or cite nothing above OFFICIAL in it"
    )
    for command in ("check", "build"):
        result = run(command, "--project", project)
        assert result.exit_code != 0, result.output
        assert message in result.output, result.output
        # the analyst brief is marked high enough; the talking points cite no section
        assert "river-talks/analyst is marked" not in result.output
        assert "river-talks/talking-points is marked" not in result.output


def test_marked_high_enough_passes(run: Callable[..., Result], project: Path) -> None:
    marked(project, "marking: OFFICIAL\naudience_markings: {analyst: OFFICIAL-SENSITIVE,"
                    " executive: OFFICIAL-SENSITIVE}\n")
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output


def test_unknown_levels_and_caveats_name_file_line_and_closest(
    run: Callable[..., Result], project: Path
) -> None:
    marked(project, "marking: OFICIAL\ncaveats: [NOT FOR PUBLICATON]\n")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert ("briefs/river-talks.yaml:1: marking: unknown marking level 'OFICIAL'; "
            "did you mean 'OFFICIAL'?") in result.output, result.output
    assert ("briefs/river-talks.yaml:2: caveats[0]: unknown caveat 'NOT FOR PUBLICATON'; "
            "did you mean 'NOT FOR PUBLICATION'?") in result.output, result.output


def test_a_marking_without_a_scheme_says_to_declare_one(
    run: Callable[..., Result], project: Path
) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text("marking: OFFICIAL\n" + source.read_text(encoding="utf-8"),
                      encoding="utf-8")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert ("sources/river-2024.yaml:1: marking: the project declares no marking scheme; "
            "declare it in the project config: [markings]") in result.output, result.output


def test_the_marking_is_on_every_page_in_metadata_title_and_manifest(
    run: Callable[..., Result], project: Path
) -> None:
    import json
    import subprocess

    from pypdf import PdfReader

    marked(project, "marking: OFFICIAL-SENSITIVE\ncaveats: [NOT FOR PUBLICATION]\n"
                    "embargo: 2026-12-03\naudience_markings: {talking-points: OFFICIAL}\n")
    result = run("build", "--project", project)
    assert result.exit_code == 0, result.output
    label = "OFFICIAL-SENSITIVE · NOT FOR PUBLICATION · EMBARGOED UNTIL 3 DECEMBER 2026"
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    for number in range(1, len(reader.pages) + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), pdf, "-"],
            capture_output=True, text=True, check=True).stdout
        lines = [line for line in text.splitlines() if line.strip()]
        assert label in lines[0] and label in lines[-1], (number, lines[0], lines[-1])
    info = reader.metadata
    assert info is not None
    assert info["/marking"] == label
    assert str(info["/Subject"]).startswith(label)
    assert str(info["/Title"]).startswith("[OFFICIAL-SENSITIVE] River treaty talks")
    manifest = json.loads((project / "build" / "manifest.json").read_text(encoding="utf-8"))
    artifacts = manifest["artifacts"]
    assert artifacts["river-talks/analyst"]["marking"] == {
        "level": "OFFICIAL-SENSITIVE", "caveats": ["NOT FOR PUBLICATION"],
        "embargo": "2026-12-03"}
    assert artifacts["river-talks/talking-points"]["marking"]["level"] == "OFFICIAL"
