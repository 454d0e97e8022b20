"""Confined rendering and safe writes: no network, no outside files, no lost output."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Audit, write
from policybrief.fetch import make_fetcher

TEMPLATE = '{{% extends "default:analyst.html.j2" %}}\n{{% block style %}}{css}{{% endblock %}}\n'


def _note_text(project: Path, markdown: str) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("after a **two-year** pause.", markdown))


# A note's image outside the project is refused before rendering, naming the note:
# test_confinement.py::test_note_image_outside_is_an_error_naming_the_note.


@pytest.mark.parametrize(
    ("template", "refused"),
    [
        (TEMPLATE.format(css="body { background: url('file:///etc/passwd'); }"),
         "file:///etc/passwd"),
        (TEMPLATE.format(css="body { background: url('../../../../../../etc/passwd'); }"),
         "file:///etc/passwd"),
        ('<link rel="stylesheet" href="http://127.0.0.1:9/evil.css"><p>{{ brief.title }}</p>',
         "http://127.0.0.1:9/evil.css"),
        ('<img src="file:///etc/passwd" alt="x"><p>{{ brief.title }}</p>', "file:///etc/passwd"),
    ],
)
def test_template_cannot_fetch_outside(
    run: Callable[..., Result], project: Path, audit: Audit, template: str, refused: str
) -> None:
    write(project / "templates" / "analyst.html.j2", template)
    with audit:  # and nothing outside was opened on the way
        result = run("build", "-j1", "--project", project)
    assert result.exit_code == 3
    assert f"refused to load {refused};" in result.stderr
    assert not (project / "build").exists()


def test_fetcher_rules(tmp_path: Path) -> None:
    inside = tmp_path / "project"
    write(inside / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    write(tmp_path / "secret.txt", "secret")
    os.symlink(tmp_path / "secret.txt", inside / "link.txt")
    refused: list[str] = []
    fetch = make_fetcher([inside.resolve()], refused)
    response = fetch((inside / "logo.svg").as_uri())
    assert response.read().startswith(b"<svg") and response.content_type == "image/svg+xml"
    assert fetch("data:text/plain,hello").read() == b"hello"
    for url in [
        (tmp_path / "secret.txt").as_uri(),
        (inside / "link.txt").as_uri(),  # a symlink out of the project
        (inside / ".." / "secret.txt").as_uri(),
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x",
    ]:
        with pytest.raises(ValueError, match="refused by policybrief"):
            fetch(url)
    assert len(refused) == 6


def test_failed_build_keeps_earlier_output(run: Callable[..., Result], project: Path) -> None:
    assert run("build", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    before = pdf.read_bytes()
    write(project / "templates" / "analyst.html.j2", "{{ nope }}")
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert pdf.read_bytes() == before
    assert sorted(p.name for p in pdf.parent.iterdir()) == [
        "analyst.html", "analyst.pdf", "claims.json"
    ]


def test_interrupted_write_leaves_no_partial_file(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("build", "--project", project).exit_code == 0
    pdf = project / "build" / "river-talks" / "analyst.pdf"
    before = pdf.read_bytes()
    _note_text(project, "after a pause.")

    def crash(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    result = run("build", "--project", project)
    assert result.exit_code == 130
    assert pdf.read_bytes() == before
    assert not [p for p in pdf.parent.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_build_dir(run: Callable[..., Result], project: Path) -> None:
    write(project / "build" / "river-talks", "a file where a folder should be")
    result = run("build", "--project", project)
    assert result.exit_code == 5
    assert result.stderr.startswith(f"Error: {project / 'build' / 'river-talks'}: cannot write")
