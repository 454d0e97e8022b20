"""`brief schema`: the JSON Schemas accept what `brief check` accepts, and the files name them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from conftest import FIXTURES, REPO, write
from policybrief.cli import schema as schema_command
from policybrief.errors import Problem
from policybrief.schema import KINDS
from policybrief.yamlio import load_yaml

SKELETON = REPO / "src" / "policybrief" / "skeleton"
REGENERATE = "brief schema --write schemas && brief schema --write src/policybrief/skeleton/schemas"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


def _kind(path: Path) -> str:
    return "places" if path.name == "places.yaml" else path.parent.name.removesuffix("s")


def _project_files(root: Path) -> list[Path]:
    files = sorted(root.glob("sources/*.yaml")) + sorted(root.glob("briefs/*.yaml"))
    return files + ([root / "places.yaml"] if (root / "places.yaml").is_file() else [])


REPO_FILES = _project_files(REPO) + _project_files(SKELETON)
ALL_FILES = REPO_FILES + _project_files(FIXTURES / "minimal")


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    """Each kind's schema, as `brief schema KIND` prints it."""
    from click.testing import CliRunner

    from policybrief.cli import cli

    out = {}
    for kind in KINDS:
        result = CliRunner().invoke(cli, ["schema", kind])
        assert result.exit_code == 0, result.output
        out[kind] = json.loads(result.stdout)
    return out


def _errors(schema: dict[str, Any], path: Path) -> list[str]:
    doc = load_yaml(path, path.name, path.parent, "source file")  # as `brief build` reads
    assert not isinstance(doc, Problem), doc
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc.data)]


def test_schemas_are_valid_draft_2020_12(schemas: dict[str, dict[str, Any]]) -> None:
    for schema in schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "id" not in schema["properties"]  # the file name is the id


@pytest.mark.parametrize("folder", [REPO / "schemas", SKELETON / "schemas"],
                         ids=["repo", "skeleton"])
def test_committed_schemas_match_the_command(run: Callable[..., Result], folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(k.schema_file for k in KINDS.values())
    for kind, spec in KINDS.items():
        committed = (folder / spec.schema_file).read_text(encoding="utf-8")
        assert committed == run("schema", kind).stdout, (
            f"{folder.relative_to(REPO)}/{spec.schema_file} is out of date; "
            f"regenerate with: {REGENERATE}"
        )


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_real_files_are_valid(schemas: dict[str, dict[str, Any]], path: Path) -> None:
    assert _errors(schemas[_kind(path)], path) == []


@pytest.mark.parametrize("path", REPO_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_files_name_their_schema_on_the_first_line(path: Path) -> None:
    match = MODELINE.match(path.read_text(encoding="utf-8"))
    assert match, f"{path}: first line must be {KINDS[_kind(path)].modeline}"
    assert match.group(0).rstrip() == KINDS[_kind(path)].modeline
    assert (path.parent / match.group(1)).resolve().is_file()


FIRST_TEXT = (  # of the first note in the minimal project
    "text: >-\n      Negotiators from the two riparian states met again in Almaty after a "
    "**two-year** pause."
)
# (file in the minimal project, text there, replacement): `brief check` and the schema
# both reject the result.
REJECTED = [
    ("sources/river-2024.yaml", "perspective: independent\n", ""),  # required field
    ("sources/river-2024.yaml", "container-title:", "container_title:"),  # unknown field
    ("sources/river-2024.yaml", "type: article-newspaper", "id: river-2024\ntype: article"),
    ("sources/river-2024.yaml", 'title: "River treaty talks resume in Almaty"', "title: 2024"),
    ("sources/river-2024.yaml", "issued: 2024-03-14", "issued: 2024-13"),
    ("sources/river-2024.yaml", "issued: 2024-03-14", "issued: 24"),
    ("sources/river-2024.yaml", "issued: 2024-03-14", "issued: 2024-04-31"),
    ("sources/river-2024.yaml", "issued: 2024-03-14", 'issued: "0000"'),  # no year 0
    ("sources/river-2024.yaml", "    date: 2024-03-12", "    date: 0000-03-12"),
    ("sources/river-2024.yaml", "    given: Aru", "    given: Aru\n  - given: Ben"),  # no family
    ("sources/river-2024.yaml", "priority: key", "priority: high"),
    ("sources/river-2024.yaml", "priority: key", "priority: key\n    tags: [Water Share]"),
    ("sources/river-2024.yaml", "    date: 2024-03-12\n", ""),  # end_date and event need it
    ("sources/river-2024.yaml", 'locator: "para. 1"', 'locator: "  "'),
    ("sources/river-2024.yaml", '"a fair share for every field"', "a" + " word" * 25),
    ("sources/river-2024.yaml", "language: en", "language: English"),
    ("sources/river-2024.yaml", FIRST_TEXT, "text: {}"),
    ("sources/river-2024.yaml", FIRST_TEXT, "text:\n      english: Negotiators met again."),
    ("briefs/river-talks.yaml", "as_of: 2024-04-01", "as_of: 2024-04"),
    ("briefs/river-talks.yaml", "authors: [Test Unit]", "authors: []"),
    ("briefs/river-talks.yaml", "status: final", "status: done"),
    ("briefs/river-talks.yaml", "  - text: Talks have", "  - txt: Talks have"),
    ("places.yaml", "", "places:\n  - name: Astana\n    former: []\n"),
    ("places.yaml", "", "places:\n  - name: Astana\n    former:\n      - name: Akmola\n"
                        "        from: 1961\n        to: 1992-01-01\n"),
]
# The loader keeps these as YAML reads them; the models take them, so the schema must too.
ACCEPTED = [
    ("sources/river-2024.yaml", "issued: 2024-03-14", "issued: 2024"),
    ("sources/river-2024.yaml", "issued: 2024-03-14", 'issued: "2024-03"'),
    ("sources/river-2024.yaml", "priority: key", "priority: key\n    tags: [2015, water]"),
    ("sources/river-2024.yaml", "author:\n  - family: Sagyntay\n    given: Aru",
     "author:\n  - literal: Steppe Herald staff"),
    ("sources/river-2024.yaml", FIRST_TEXT,
     "text:\n      en: Negotiators met again.\n      ru: Переговорщики встретились снова."),
    ("briefs/river-talks.yaml", "  - text: Talks have resumed after a two-year pause.\n"
                                "    notes: [river-2024/talks-resume]",
     "  - Talks have resumed after a two-year pause."),
    ("places.yaml", "", "places:\n  - name: Astana\n    former:\n      - name: Akmola\n"
                        "        from: 1961-03-14\n        to: 1992-01-01\n"),
]


def _edit(project: Path, file: str, old: str, new: str) -> Path:
    path = project / file
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    assert old in text
    return write(path, text.replace(old, new, 1))


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: f"{c[0].split('/')[0]}:{c[2][:30]}")
def test_schema_rejects_what_check_rejects(
    run: Callable[..., Result], project: Path, schemas: dict[str, dict[str, Any]],
    case: tuple[str, str, str],
) -> None:
    path = _edit(project, *case)
    check = run("check", "--project", project)
    assert check.exit_code == 1, check.output
    assert _errors(schemas[_kind(path)], path) != []


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: f"{c[0].split('/')[0]}:{c[2][:30]}")
def test_schema_accepts_what_check_accepts(
    run: Callable[..., Result], project: Path, schemas: dict[str, dict[str, Any]],
    case: tuple[str, str, str],
) -> None:
    path = _edit(project, *case)
    check = run("check", "--project", project)
    assert check.exit_code == 0, check.output
    assert _errors(schemas[_kind(path)], path) == []


def test_schema_names_the_wrong_field(
    project: Path, schemas: dict[str, dict[str, Any]]
) -> None:
    path = _edit(project, "sources/river-2024.yaml", "priority: key", "priority: high")
    assert _errors(schemas["source"], path) == [
        "notes/0/priority: 'high' is not one of ['key', 'supporting', 'detail']"
    ]


def test_print_needs_a_kind_or_write(run: Callable[..., Result]) -> None:
    result = run("schema")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: name a schema to print (source, brief or places), "
        "or write all three with --write DIR\n"
    )


def test_write_writes_all_three_then_leaves_them(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "schemas"
    result = run("schema", "--write", folder)
    assert result.exit_code == 0, result.output
    names = [f"{kind}.schema.json" for kind in KINDS]
    assert result.stdout == "".join(f"wrote {folder / n}\n" for n in names)
    for kind in KINDS:
        text = (folder / f"{kind}.schema.json").read_text(encoding="utf-8")
        assert text == run("schema", kind).stdout
    again = run("schema", "--write", folder, "brief")
    assert again.stdout == f"unchanged {folder / 'brief.schema.json'}\n"


def test_kinds_on_the_command_line_are_the_schema_kinds() -> None:
    choice = next(p for p in schema_command.params if p.name == "kind").type
    assert list(choice.choices) == list(KINDS)  # type: ignore[attr-defined]


def test_init_project_has_schemas_its_files_name(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    dest = tmp_path / "memo"
    assert run("init", dest).exit_code == 0
    for path in _project_files(dest):
        match = MODELINE.match(path.read_text(encoding="utf-8"))
        assert match and (path.parent / match.group(1)).resolve().is_file(), path


def test_imported_skeletons_name_the_schema(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    export = write(tmp_path / "zotero.json", json.dumps([
        {"id": "Putz2015", "type": "article-newspaper", "title": "Kazakhstan to host talks"},
    ]))
    assert run("sources", "import", export, "--project", project).exit_code == 0
    first = (project / "sources" / "putz2015.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/source.schema.json"
