"""Audiences: executive, talking points, budgets, overrides, brand, init, templates commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from pypdf import PdfReader

from conftest import REPO, TALKING_POINTS, pdf_text, write
from policybrief.config import load_config
from policybrief.curate import curate
from policybrief.load import load_project


@pytest.fixture
def three(project: Path) -> Path:
    """The minimal project with all three packaged audiences."""
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    return project


def test_every_audience_builds(run: Callable[..., Result], three: Path) -> None:
    result = run("build", "--strict", "--project", three)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "built build/river-talks/analyst.pdf (2 pages)",
        "built build/river-talks/executive.pdf (1 page)",
        "built build/river-talks/talking-points.pdf (1 page)",
    ]
    out = three / "build" / "river-talks"
    executive = pdf_text(out / "executive.pdf")
    assert "EXECUTIVE NOTE" in executive and "KEY MESSAGES" in executive
    # key notes only, summarised by the section lead, with a source endnote
    assert "Context The talks restarted quietly.1 Recommendations" in executive
    assert "Options" not in executive  # no key note, no summary: nothing for a minister
    entry = "Sagyntay, Aru. ‘River Treaty Talks Resume in Almaty’. Steppe Herald, 14 March 2024."
    assert f"NOTES {entry}" in executive
    talking = pdf_text(out / "talking-points.pdf")
    assert "Lines to take We welcome the resumption of talks. Source: Sagyntay" in talking
    assert "Will a deal be signed this year?" in talking
    assert "That is for the parties to decide. Source: Sagyntay" in talking
    assert "DO NOT SAY Do not comment on the draft split." in talking
    assert f"INDEPENDENT {entry}" in talking


def test_audience_option_narrows_and_keeps_manifest(
    run: Callable[..., Result], three: Path
) -> None:
    assert run("build", "--project", three).exit_code == 0
    result = run("build", "-a", "executive", "--project", three)
    assert result.stdout == "unchanged build/river-talks/executive.pdf\n"  # inputs unchanged
    result = run("build", "-a", "executive", "--force", "--project", three)
    assert result.stdout == "built build/river-talks/executive.pdf (1 page)\n"
    manifest = json.loads((three / "build" / "manifest.json").read_text())
    assert sorted(manifest["artifacts"]) == [
        "river-talks/analyst", "river-talks/executive", "river-talks/talking-points"]
    result = run("build", "-a", "ministers", "--project", three)
    assert result.exit_code == 2
    assert "unknown audience 'ministers'; audiences: analyst, executive, talking-points" in (
        result.stderr
    )


def test_talking_points_need_their_fields(run: Callable[..., Result], project: Path) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + "audiences: [talking-points]\n")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "briefs/river-talks.yaml:22: audiences[0]: audience 'talking-points' needs "
        "`lines_to_take`, which this brief lacks; add `lines_to_take:` to the brief or remove "
        "the audience",
        "briefs/river-talks.yaml:22: audiences[0]: audience 'talking-points' needs "
        "`questions`, which this brief lacks; add `questions:` to the brief or remove the "
        "audience",
    ]


def test_over_budget_fails_with_pages_and_wordy_sections(
    run: Callable[..., Result], three: Path
) -> None:
    long_lead = " ".join(["The talks restarted quietly after a long and difficult pause."] * 240)
    brief = three / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("lead: The talks restarted quietly.",
                                               f"lead: {long_lead}"))
    result = run("build", "--project", three)
    assert result.exit_code == 1
    match = re.fullmatch(
        r"failed river-talks/executive: (\d+) pages, (\d+) over the "
        r"2-page budget; sections over their 110-word budget: context \(2400 words in `lead`\); "
        r"shorten what the executive audience prints \(the sections' `lead` or notes' `text`, "
        r"the key messages, the recommendations\) or raise `pages` for audience 'executive' in "
        r"the project config",
        result.stderr.splitlines()[-2],
    )
    assert match and int(match[1]) - 2 == int(match[2]) >= 1
    assert result.stderr.splitlines()[-1] == "Error: 1 of 3 targets failed; the others were written"
    out = three / "build" / "river-talks"  # the other audiences are written; this one is not
    assert sorted(p.name for p in out.glob("*.pdf")) == ["analyst.pdf", "talking-points.pdf"]
    again = run("--debug", "build", "--project", three)  # a BudgetError; the others now unchanged
    assert again.exit_code == 1
    assert ("policybrief.errors.BudgetError: 1 of 3 targets failed; the others were unchanged\n"
            in again.stderr)


def test_wordy_section_warns_and_fails_strict(run: Callable[..., Result], three: Path) -> None:
    lead = " ".join(["Quiet talks resumed."] * 40)  # 120 words: over 110, fits the pages
    brief = three / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("lead: The talks restarted quietly.",
                                               f"lead: {lead}"))
    result = run("build", "-a", "executive", "--project", three)
    assert result.exit_code == 0
    assert "warning: river-talks/executive: sections over their 110-word budget: " \
           "context (120 words in `lead`)" in result.stderr
    result = run("build", "--strict", "-a", "executive", "--project", three)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: river-talks/executive: sections over their 110-word budget: context "
        "(120 words in `lead`) (--strict); shorten them\n"
    )
    # A section with a summary: the executive note prints it, so it is the field named.
    brief.write_text(brief.read_text().replace(f"lead: {lead}",
                                               f"lead: Talks resumed.\n    summary: {lead}"))
    result = run("build", "-a", "executive", "--project", three)
    assert result.exit_code == 0
    assert "warning: river-talks/executive: sections over their 110-word budget: " \
           "context (120 words in `summary`)" in result.stderr


def test_project_config_overrides_profile_and_adds_audience(
    run: Callable[..., Result], three: Path
) -> None:
    config = three / "policybrief.toml"
    config.write_text(config.read_text() + (
        '\n[audiences.executive]\npages = 3\nlabel = "Minister\'s note"\n'
        '\n[audiences.cable]\nlike = "executive"\ntemplate = "cable.html.j2"\n'
    ))
    write(three / "templates" / "cable.html.j2",
          '{% extends "default:executive.html.j2" %}\n{% block actions %}{% endblock %}\n')
    brief = three / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "audiences: [analyst, executive, talking-points]", "audiences: [executive, cable]"))
    result = run("build", "--project", three)
    assert result.exit_code == 0, result.output
    assert "MINISTER'S NOTE" in pdf_text(three / "build" / "river-talks" / "executive.pdf")
    cable = pdf_text(three / "build" / "river-talks" / "cable.pdf")
    assert "CABLE" in cable and "Recommendations" not in cable


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("[audiences.executive]\npages = 0\n", "audiences.executive.pages: 0 is not a whole "
         "number above 0"),
        ("[audiences.board]\nlabel = \"Board\"\n", "audiences.board: a new audience needs "
         "`template` (or `like`)"),
        ("[audiences.board]\nlike = \"minister\"\n", "audiences.board.like: unknown audience "
         "'minister'; use one of: analyst, executive, talking-points"),
        ("[audiences.executive]\npage = 2\n", "audiences.executive.page: unknown setting"),
        ("[audiences.executive]\nparts = [\"summary\"]\n", "audiences.executive.parts: "
         "['summary'] is not a list of: key_messages, sections, recommendations, "
         "lines_to_take, questions"),
    ],
)
def test_bad_audience_config(
    run: Callable[..., Result], project: Path, setting: str, message: str
) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + "\n" + setting)
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert message in result.stderr


def test_an_audience_cites_only_the_parts_it_prints(
    run: Callable[..., Result], three: Path
) -> None:
    """Talking points print no key messages and no sections, so what only those cite is
    not among their sources or claims; an audience given `parts` likewise."""
    config = three / "policybrief.toml"
    config.write_text(config.read_text() + (
        '\n[audiences.brief-note]\nlike = "executive"\nparts = ["key_messages"]\n'))
    brief = three / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "audiences: [analyst, executive, talking-points]",
        "audiences: [analyst, talking-points, brief-note]"))
    result = run("build", "--project", three)
    assert result.exit_code == 0, result.output
    out = three / "build" / "river-talks"
    talking = pdf_text(out / "talking-points.pdf")
    assert "KEY MESSAGES" not in talking and "Talks have resumed" not in talking
    note = pdf_text(out / "brief-note.pdf")
    assert "Talks have resumed" in note and "Recommendations" not in note
    config = load_config(three)
    loaded, _ = load_project(config)
    spec = loaded.briefs["river-talks"].model

    def cited(audience: str) -> set[str]:
        return {c.ref for c in curate(loaded, spec, config.audiences[audience]).cited}

    assert "river-2024/kazakh-names" in cited("analyst")  # cited by a section only
    assert cited("talking-points") == {"river-2024/talks-resume", "river-2024/water-share"}
    assert cited("brief-note") == {"river-2024/talks-resume"}  # the key message's


def test_templates_list_and_eject(run: Callable[..., Result], project: Path) -> None:
    write(project / "templates" / "analyst.html.j2", '{% extends "default:analyst.html.j2" %}\n')
    listing = run("templates", "list", "--project", project).stdout.splitlines()
    rows = {line.split()[0]: line for line in listing}
    assert set(rows) >= {"analyst.html.j2", "base.html.j2", "brief.css", "executive.html.j2",
                         "talking-points.html.j2", "citations.html.j2"}
    assert re.match(r"analyst\.html\.j2 +project .*\(overrides the package default\)$",
                    rows["analyst.html.j2"])
    assert re.match(r"executive\.html\.j2 +package ", rows["executive.html.j2"])

    result = run("templates", "eject", "executive.html.j2", "--project", project)
    assert result.exit_code == 0
    assert (project / "templates" / "executive.html.j2").read_text() == (
        REPO / "src" / "policybrief" / "templates" / "executive.html.j2"
    ).read_text()
    listing = run("templates", "list", "--project", project).stdout
    assert re.search(r"^executive\.html\.j2 +project .*\(overrides the package default\)$",
                     listing, re.MULTILINE)
    again = run("templates", "eject", "executive.html.j2", "--project", project)
    assert again.exit_code == 1 and "already exists; use --force to replace it" in again.stderr
    bad = run("templates", "eject", "nope.html.j2", "--project", project)
    assert bad.exit_code == 1 and "no packaged template 'nope.html.j2'" in bad.stderr


def test_templates_list_shows_what_the_loader_finds(
    run: Callable[..., Result], project: Path
) -> None:
    """The listing asks the loader's own search path: templates in subfolders (which
    `{% include "partials/box.html.j2" %}` finds) are listed, as the project's."""
    write(project / "templates" / "partials" / "box.html.j2", "<div>{{ brief.title }}</div>\n")
    write(project / "templates" / "partials" / "brief.css", "p { color: red }\n")
    write(project / "templates" / "brand.toml", 'organisation = "Steppe Institute"\n')
    listing = run("templates", "list", "--project", project).stdout
    assert re.search(r"^partials/box\.html\.j2 +project .*box\.html\.j2$", listing, re.MULTILINE)
    # a file in a subfolder does not override the top-level package default of its name
    assert re.search(r"^partials/brief\.css +project .*brief\.css$", listing, re.MULTILINE)
    assert re.search(r"^brief\.css +package ", listing, re.MULTILINE)
    assert "brand.toml" not in listing  # settings, not a template


def test_ejected_template_builds_identical_pdf(run: Callable[..., Result], three: Path) -> None:
    assert run("build", "--project", three).exit_code == 0
    out = three / "build" / "river-talks"
    before = {p.name: p.read_bytes() for p in out.glob("*.pdf")}
    for name in ("analyst.html.j2", "executive.html.j2", "talking-points.html.j2",
                 "base.html.j2", "citations.html.j2", "brief.css"):
        assert run("templates", "eject", name, "--project", three).exit_code == 0
    assert run("build", "--project", three).exit_code == 0
    assert {p.name: p.read_bytes() for p in out.glob("*.pdf")} == before


def test_brand_applies_colours_logo_and_name(run: Callable[..., Result], project: Path) -> None:
    write(project / "templates" / "logo.svg",
          '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
          '<rect width="10" height="10" fill="#123456"/></svg>')
    write(project / "templates" / "brand.toml",
          'organisation = "Steppe Institute"\nlogo = "logo.svg"\n[colours]\nbrand = "#7a1f5c"\n')
    assert run("build", "--strict", "--project", project).exit_code == 0
    html = (project / "build" / "river-talks" / "analyst.html").read_text()
    assert "--brand: #7a1f5c;" in html and '<img class="logo" src="logo.svg"' in html
    assert "STEPPE INSTITUTE" in pdf_text(project / "build" / "river-talks" / "analyst.pdf")
    page = PdfReader(project / "build" / "river-talks" / "analyst.pdf").pages[0]
    assert b"0.070588 0.203922 0.337255 rg" in page.get_contents().get_data()  # logo's #123456


@pytest.mark.parametrize(
    ("brand", "message"),
    [
        ('[colours]\nbrand = "red; } body { display: none"\n',
         "colours.brand: 'red; } body { display: none' is not a colour"),
        ('logo = "../../etc/logo.svg"\n', "logo: '../../etc/logo.svg' resolves to "),
        ('[colours]\nlink = "#000"\n', "colours.link: unknown colour"),
    ],
)
def test_bad_brand(run: Callable[..., Result], project: Path, brand: str, message: str) -> None:
    write(project / "templates" / "brand.toml", brand)
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert message in result.stderr


def test_init_creates_a_project_that_builds(run: Callable[..., Result], tmp_path: Path) -> None:
    dest = tmp_path / "water"
    result = run("init", dest)
    assert result.exit_code == 0, result.output
    assert (dest / ".gitignore").read_text() == "/build/\n"
    result = run("build", "--strict", "--project", dest)
    assert result.exit_code == 0, result.output
    assert len(list((dest / "build" / "example-brief").glob("*.pdf"))) == 3
    again = run("init", dest)
    assert again.exit_code == 1 and "already exists" in again.stderr


@pytest.mark.slow
def test_wheel_install_init_and_build(tmp_path: Path) -> None:
    """Build the wheel, install it in a fresh venv outside the repo, init and build."""
    dist, source = tmp_path / "dist", tmp_path / "source"
    # From a copy: setuptools writes build/lib into the folder it builds, which in the
    # repository is the briefs' output folder. The backend is the locked one in .venv.
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        "build", ".venv*", ".git", "*.egg-info", "__pycache__", ".*_cache"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True, capture_output=True,
    )
    wheel = next(dist.glob("policybrief-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The locked dependencies, as scripts/setup installs them: nothing resolved today.
    for what in (["--require-hashes", "-r", str(REPO / "requirements.lock")], [str(wheel)]):
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", *what],
                       check=True, capture_output=True)
    brief = env_dir / "bin" / "brief"
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run([str(brief), "init", "memo"], cwd=work, check=True, capture_output=True)
    done = subprocess.run([str(brief), "build", "--strict"], cwd=work / "memo",
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    pdfs = sorted(p.name for p in (work / "memo" / "build" / "example-brief").glob("*.pdf"))
    assert pdfs == ["analyst.pdf", "executive.pdf", "talking-points.pdf"]
    shutil.rmtree(env_dir)
