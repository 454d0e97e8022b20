"""Sources carry the CSL 1.0.2 variables: validated, passed to citeproc, printed."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import REPO, write
from policybrief.models import CSL_VARIABLES, OWN_MEANING

ARTICLE = """\
type: article-journal
title: "Sharing a river"
author:
  - family: Abenova
    given: Dana
container-title: Journal of Water Law
volume: 12
issue: "3"
page: 45-67
DOI: 10.1000/jwl.2023.12
issued: 2023-06
perspective: academic
assessment: Peer-reviewed legal analysis.
notes:
  - id: quotas
    section: options
    text: Quotas are the usual instrument.
    locator: "p. 50"
"""
REPORT = """\
type: report
title: "Basin options"
author:
  - literal: Steppe Institute
publisher-place: Almaty
number: Working Paper 14
issued: 2022
perspective: think-tank
assessment: Think-tank options paper.
notes:
  - id: options
    section: options
    text: Three options are on the table.
    locator: "p. 2"
"""


def _cite_both(project: Path) -> None:
    write(project / "sources" / "abenova-2023.yaml", ARTICLE)
    write(project / "sources" / "steppe-2022.yaml", REPORT)
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "notes: [river-2024/water-share]\nrecommendations",
        "notes: [river-2024/water-share, abenova-2023/quotas, steppe-2022/options]\n"
        "recommendations"))


def test_journal_and_report_variables_are_in_the_bibliography(
    run: Callable[..., Result], project: Path
) -> None:
    _cite_both(project)
    result = run("build", "-j1", "--project", project)
    assert result.exit_code == 0, result.output
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    text = " ".join(subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    # Chicago notes-bibliography (CMOS 18), the default style, as it prints them: it gives
    # the place of publication only when there is no publisher.
    assert "Abenova, Dana. ‘Sharing a River’. Journal of Water Law 12, no. 3 (2023): " \
        "45–67. https://doi.org/10.1000/jwl.2023.12." in text
    assert "Steppe Institute. Basin Options. Working Paper 14. Almaty, 2022." in text


def test_a_wrong_value_is_an_error_with_its_line(run: Callable[..., Result],
                                                 project: Path) -> None:
    _cite_both(project)
    source = project / "sources" / "abenova-2023.yaml"
    source.write_text(ARTICLE.replace("volume: 12", "volume: [12]")
                      .replace("page: 45-67", "page: 45.67")
                      .replace("issued: 2023-06", "issued: 2023-06\noriginal-date: June"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert "sources/abenova-2023.yaml:7: volume: expected a number or text (e.g. 12 or " \
        '"12a"), but found a list' in result.output
    assert "sources/abenova-2023.yaml:9: page: expected a number or text (e.g. 12 or " \
        '"12a"), but YAML reads the unquoted value as a fraction (45.67); put it in quotes' \
        in result.output
    assert "sources/abenova-2023.yaml:12: original-date: 'June' is not a date; write " \
        "YYYY, YYYY-MM or YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_docs_list_every_variable_by_kind() -> None:
    doc = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    listed = {}
    for kind in ("standard", "number", "date", "name"):
        section = re.search(rf"^## {kind.capitalize()} variables\n(.*?)(?=^## |\Z)", doc,
                            re.S | re.M)
        assert section, f"docs/sources.md has no section '## {kind.capitalize()} variables'"
        names = section.group(1).strip().split("\n\n")[-1]  # after the kind's description
        listed |= dict.fromkeys(re.findall(r"`([^`]+)`", names), kind)
    assert listed == CSL_VARIABLES
    for name in OWN_MEANING:
        assert f"`{name}`" in doc.split("## ")[0]  # said before the lists
