"""Document control: version, status, clearance history, contact officer, distribution;
the checks on them, and where the PDFs print them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import pdf_text

CLEARED = ("clearance:\n"
           "  - {name: A. Reviewer, role: Head of unit, date: 2024-04-01, decision: cleared}\n")
CONTROL = """version: "1.2"
contact:
  name: Dana Serikova
  role: Central Asia desk
  email: dana.serikova@example.org
  phone: "+44 20 7946 0000"
distribution:
  - Minister's private office
  - Press office
clearance:
  - name: A. Reviewer
    role: Head of unit
    date: 2024-03-28
    decision: changes requested
    comment: Sharpen the second key message.
  - name: B. Director
    role: Director
    date: 2024-04-01
    decision: cleared
"""


def spec(project: Path) -> Path:
    return project / "briefs" / "river-talks.yaml"


def with_control(project: Path, control: str) -> None:
    """The fixture brief with `control` (document control) in place of its clearance,
    after its `status` line."""
    replace(project, CLEARED, "")
    replace(project, "status: final\n", "status: final\n" + control)


def replace(project: Path, old: str, new: str) -> None:
    path = spec(project)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_final_brief_needs_a_cleared_entry(run: Callable[..., Result], project: Path) -> None:
    replace(project, CLEARED, "")
    result = run("check", "--project", project)
    assert result.exit_code == 1, result.output
    assert ("briefs/river-talks.yaml:6: status: the brief is 'final' but it has no clearance "
            "entry; add the clearance under `clearance:` (name, role, date, decision: "
            "cleared), or set `status: for clearance`") in result.output, result.output
    # A last decision other than "cleared" is not a clearance either.
    replace(project, "status: final\n", "status: cleared\n" + CLEARED.replace(
        "decision: cleared", "decision: changes requested"))
    result = run("check", "--project", project)
    assert result.exit_code == 1, result.output
    assert ("status: the brief is 'cleared' but its last clearance entry (A. Reviewer, "
            "2024-04-01) decided 'changes requested'") in result.output, result.output


def test_for_clearance_needs_no_entry(run: Callable[..., Result], project: Path) -> None:
    replace(project, CLEARED, "")
    replace(project, "status: final\n", "status: for clearance\n")
    result = run("check", "--strict", "--project", project)
    assert result.exit_code == 0, result.output


def test_clearance_history_oldest_first(run: Callable[..., Result], project: Path) -> None:
    with_control(project, CONTROL.replace("2024-03-28", "2024-04-02"))
    result = run("check", "--project", project)
    assert result.exit_code == 1, result.output
    assert ("briefs/river-talks.yaml:24: clearance[1].date: 2024-04-01 is before the entry "
            "above it (2024-04-02); list the clearance history oldest first") in result.output


def test_a_brief_dated_after_its_clearance_is_flagged(
    run: Callable[..., Result], project: Path
) -> None:
    replace(project, "as_of: 2024-04-01", "as_of: 2024-04-05")
    message = ("briefs/river-talks.yaml:3: as_of: the brief is dated 2024-04-05, after its "
               "last clearance (A. Reviewer, 2024-04-01): what the clearer saw may have changed; "
               "have it cleared again")
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output
    assert "warning: " + message in result.output, result.output
    result = run("check", "--strict", "--project", project)
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output


def test_bad_fields_say_what_to_write(run: Callable[..., Result], project: Path) -> None:
    with_control(project, CONTROL.replace('"1.2"', "1.10")
            .replace("dana.serikova@example.org", "dana.serikova")
            .replace("decision: cleared", "decision: approved"))
    result = run("check", "--project", project)
    assert result.exit_code == 1, result.output
    for expected in (
        "briefs/river-talks.yaml:7: version: expected text, but YAML reads the unquoted value "
        "as a number (1.1); put the value in quotes",
        "briefs/river-talks.yaml:11: contact.email: 'dana.serikova' is not in the expected form; "
        "give an e-mail address, e.g. name@example.org",
        "clearance[1].decision: 'approved' is not one of: cleared, changes requested, "
        "not cleared",
    ):
        assert expected in result.output, result.output


def test_the_pdfs_print_document_control(run: Callable[..., Result], project: Path) -> None:
    with_control(project, CONTROL + "audiences: [analyst, executive]\n")
    result = run("build", "--strict", "--project", project)
    assert result.exit_code == 0, result.output
    folder = project / "build" / "river-talks"
    analyst = pdf_text(folder / "analyst.pdf")
    annex = analyst[analyst.rindex("Annex C · Document control"):]
    for expected in ("Version 1.2", "Status Final", "Contact Dana Serikova, Central Asia desk · "
                     "dana.serikova@example.org · +44 20 7946 0000",
                     "Distribution Minister’s private office Press office",
                     "28 March 2024 A. Reviewer Head of unit changes requested Sharpen the second "
                     "key message.", "1 April 2024 B. Director Director cleared"):
        assert expected in annex, (expected, annex)
    # the contents lists the annex; every page's footer carries the version
    assert analyst.count("Annex C · Document control") == 2  # the contents and the annex
    pages = subprocess.run(["pdftotext", "-layout", str(folder / "analyst.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout.split("\f")
    footers = [[line for line in page.splitlines() if line.strip()][-1] for page in pages
               if page.strip()]
    assert all("As of 1 April 2024 · Version 1.2" in f for f in footers), footers
    # the short notes: one line of version, status and contact
    executive = pdf_text(folder / "executive.pdf")
    assert ("Version 1.2 · Final · Contact: Dana Serikova, Central Asia desk · "
            "dana.serikova@example.org · +44 20 7946 0000") in executive, executive
    assert "Document control" not in executive
    manifest = json.loads((project / "build" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["artifacts"]["river-talks/analyst"]["version"] == "1.2"
    assert manifest["artifacts"]["river-talks/executive"]["status"] == "final"


def test_status_in_the_running_header(run: Callable[..., Result], project: Path) -> None:
    replace(project, CLEARED, "")
    replace(project, "status: final\n", "status: for clearance\n")
    result = run("build", "--project", project, "-a", "analyst")
    assert result.exit_code == 0, result.output
    pages = subprocess.run(
        ["pdftotext", "-layout", str(project / "build" / "river-talks" / "analyst.pdf"), "-"],
        capture_output=True, text=True, check=True).stdout.split("\f")
    second = [line for line in pages[1].splitlines() if line.strip()]
    assert second[0].rstrip().endswith("Analyst brief · For clearance"), second[0]
    # no document control given: no annex
    assert "Document control" not in pdf_text(project / "build" / "river-talks" / "analyst.pdf")
