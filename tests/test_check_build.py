"""`brief check` is the build without the layout: a project broken before layout fails
both with the same message and exit code (build.prepare_target is their one code path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import write

CHILD = '{% extends "default:analyst.html.j2" %}\n'


def _template(body: str) -> Callable[[Path], None]:
    return lambda project: write(project / "templates" / "analyst.html.j2", CHILD + body) and None


def _config(line: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        config = project / "policybrief.toml"
        config.write_text(config.read_text().replace('paper = "A4"\n', f'paper = "A4"\n{line}\n'))
    return edit


def _words(project: Path) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + "\n[audiences.analyst]\nwords_per_section = 20\n")


def _unrendered_include(project: Path) -> None:
    """A template included only in a branch this brief never takes."""
    _template('{% block style %}{% if false %}{% include "extra.html.j2" %}{% endif %}'
              "{% endblock %}\n")(project)
    write(project / "templates" / "extra.html.j2", "{% if true %}x{% endfi %}\n")


BROKEN = {
    "misspelt variable": (
        _template("{% block style %}{{ key_message }}{% endblock %}\n"),
        "'key_message' is undefined",
    ),
    "template syntax error": (
        _template("{% block style %}x{% endblok %}\n"),
        "analyst.html.j2:2: template syntax error: Encountered unknown tag 'endblok'",
    ),
    "unknown citation style": (
        _config('citation_style = "chicago-autor-date"'),
        "citation_style: no CSL style 'chicago-autor-date'",
    ),
    "section over its word budget": (
        _words,
        "river-talks/analyst: sections over their 20-word budget: context (47 words in "
        "`lead` and notes' `text`) (--strict); shorten them",
    ),
    "misspelt block in a child template": (
        _template("{% block contnt %}x{% endblock %}\n"),
        "templates/analyst.html.j2:2: block 'contnt' is in none of the templates it extends "
        "(default:analyst.html.j2, base.html.j2), so it is never printed; did you mean "
        "'content' or 'control'? Name one of their blocks (content, control, edition, marking, "
        "style) or remove it",
    ),
    "syntax error in a template the brief never reaches": (
        _unrendered_include,
        "extra.html.j2:1: template syntax error: Encountered unknown tag 'endfi'",
    ),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_check_fails_as_build_does(
    run: Callable[..., Result], project: Path, broken: str
) -> None:
    """Each broken project: `brief check --strict` fails with the very message and exit
    code of `brief build --strict`, and the build writes nothing."""
    breaking, expected = BROKEN[broken]
    breaking(project)
    checked = run("check", "--strict", "--project", project)
    built = run("build", "--strict", "--project", project)
    assert checked.exit_code == built.exit_code == 1, (checked.output, built.output)
    assert checked.stdout == built.stdout == ""
    assert checked.stderr == built.stderr
    assert checked.stderr.startswith("Error: ") and expected in checked.stderr, checked.stderr
    assert not list(project.glob("build/**/*.pdf"))


def test_check_names_each_failing_target(run: Callable[..., Result], project: Path) -> None:
    """With several targets, check lists each failure as a build does, and says that the
    others passed (a build: were written)."""
    from conftest import TALKING_POINTS

    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    write(project / "templates" / "executive.html.j2",
          '{% extends "default:executive.html.j2" %}\n{% block sumary %}{% endblock %}\n')
    checked = run("check", "--strict", "--project", project)
    assert checked.exit_code == 1
    assert checked.stderr.splitlines() == [
        "failed river-talks/executive: templates/executive.html.j2:2: block 'sumary' is in "
        "none of the templates it extends (default:executive.html.j2, base.html.j2), so it "
        "is never printed; did you mean 'summary'? Name one of their blocks (actions, "
        "content, control, edition, endnotes, marking, sections, style, summary) or remove it",
        "Error: 1 of 3 targets failed; the others passed",
    ]
