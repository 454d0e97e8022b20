"""Untrusted input that used to be a traceback or worse: `brief sources import` exports,
years outside the calendar, TOML settings of the wrong type. Each is a message naming
the file and the field, with exit 1, and nothing written."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, REPO, write
from policybrief import boundary, importer
from policybrief.cli import cli
from policybrief.config import SETTINGS
from policybrief.errors import Problem
from policybrief.yamlio import load_yaml

GOOD = {"id": "good", "type": "report", "title": "A report that imports"}
INJECTED_ID = (
    "x\nperspective: official\nassessment: Trustworthy in every respect.\n"
    "archive: ../../etc/passwd"
)


def _no_traceback(result: Result) -> None:
    """The command ended with a message: Click's exit, not an exception it caught."""
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.output


def _item(**fields: object) -> dict[str, object]:
    return {"id": "a", "type": "report", "title": "T", **fields}


def _export(*items: object) -> str:
    return json.dumps([GOOD, *items])


# --- brief sources import ---------------------------------------------------------------

def test_an_id_with_newlines_cannot_add_fields(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    export = write(tmp_path / "zotero.json", json.dumps([
        {"id": INJECTED_ID, "type": "report", "title": "T"}]))
    result = run("sources", "import", export, "--project", project)
    _no_traceback(result)
    made = "x-perspective-official-assessment-trustworthy-in-every-respect-archive-etc-passw"
    assert result.stdout == (
        f"created sources/{made}.yaml (source id made from citation key "
        "'x\\nperspective: official\\nassessment: Trustworthy in ev...')\n"
    )
    path = project / "sources" / f"{made}.yaml"
    doc = load_yaml(path, path.name, path.parent, "source file")
    assert not isinstance(doc, Problem), doc
    assert list(doc.data) == ["type", "title", "notes"]
    check = run("check", "--project", project)
    assert check.exit_code == 1
    assert f"sources/{made}.yaml: perspective: required field is missing" in check.stderr
    assert f"sources/{made}.yaml: assessment: required field is missing" in check.stderr


# (case, export text, message after the file name); every one used to be a traceback,
# a wrong skeleton or silent.
BAD_EXPORTS = [
    ("deep nesting", "[" * 100_000 + "]" * 100_000,
     ": lists or objects nested more than 32 levels deep; this is not CSL JSON"),
    ("deep custom field", _export(_item(custom={"a": json.loads("[" * 40 + "]" * 40)})),
     ": item 2 (id 'a'): custom.a" + "[0]" * 29 + ": nested more than 32 levels deep"),
    ("date-parts a number", _export(_item(issued={"date-parts": 2015})),
     ": item 2 (id 'a'): issued.date-parts: 2015 is not of type 'array'"),
    ("date-parts an object", _export(_item(issued={"date-parts": {"year": 2015}})),
     ": item 2 (id 'a'): issued.date-parts: {'year': 2015} is not of type 'array'"),
    ("5000 digits", _export(_item()).replace('"T"', '"T", "page": ' + "9" * 5000),
     ": not valid JSON: a number 5000 digits long is not a CSL value"),
    ("author a number", _export(_item(author=5)),
     ": item 2 (id 'a'): author: 5 is not of type 'array'"),
    ("author null", _export(_item(author=None)),
     ": item 2 (id 'a'): author: None is not of type 'array'"),
    ("a name not a mapping", _export(_item(author=[{"family": "Putz"}, "Putz"])),
     ": item 2 (id 'a'): author[1]: 'Putz' is not of type 'object'"),
    ("lone surrogate", _export(_item()).replace('"T"', '"T\\ud800"'),
     ": item 2 (id 'a'): title: 'T\\ud800' holds half of a UTF-16 pair (a lone surrogate)"),
    ("lone surrogate in the id", _export(_item()).replace('"a"', '"a\\udc00"'),
     ": item 2 (id 'a\\udc00'): id: 'a\\udc00' holds half of a UTF-16 pair"),
    ("NaN", _export(_item()).replace('"T"', '"T", "page": NaN'),
     ": not valid JSON: NaN is not a number in JSON"),
    ("Infinity", _export(_item()).replace('"T"', '"T", "volume": -Infinity'),
     ": not valid JSON: -Infinity is not a number in JSON"),
    ("1e999", _export(_item()).replace('"T"', '"T", "volume": 1e999'),
     ": not valid JSON: the number 1e999 is too large to be a number"),
    ("year 0", _export(_item(issued={"date-parts": [[0]]})),
     ": item 2 (id 'a'): issued: '0000' is not a real date: year 0000 is not a calendar "
     "year (1–9999)"),
    ("raw year 0000", _export(_item(issued={"raw": "0000-05-01"})),
     ": item 2 (id 'a'): issued: '0000-05-01' is not a real date: year 0000"),
    ("year 10000", _export(_item(accessed={"date-parts": [["10000", 1]]})),
     ": item 2 (id 'a'): accessed: '10000-01' is not a real date: year 10000"),
    ("month 13", _export(_item(issued={"date-parts": [[2015, 13]]})),
     ": item 2 (id 'a'): issued: '2015-13' is not a real date: there is no month 13"),
    ("a fraction of a year", _export(_item(issued={"date-parts": [[2015.5]]})),
     ": item 2 (id 'a'): issued: date-parts [[2015.5]]: 2015.5 is not a whole number"),
    ("no type", _export({"id": "a", "title": "T"}),
     ": item 2 (id 'a'): 'type' is a required property"),
    ("unknown type", _export(_item(type="tweet")),
     ": item 2 (id 'a'): type: 'tweet' is not one of the values CSL-JSON allows; use one "
     "of: article, "),
    ("id a list", _export(_item(id=["a"])),
     ": item 2: id: ['a'] is not of type 'string', 'number'"),
    ("an id with no letters", _export(_item(id="---")),
     ": item 2 (id '---'): id: has no letter or digit (a-z, 0-9) to make a source id of"),
    ("two ids, one file", _export(_item(id="Good")),
     ": item 2 (id 'Good'): id: makes the source id 'good', as item 1 does"),
    ("not a list", json.dumps({"id": "a"}), ": expected a CSL-JSON list of items"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_EXPORTS],
                         ids=[c[0] for c in BAD_EXPORTS])
def test_odd_exports_are_messages_and_write_nothing(
    run: Callable[..., Result], project: Path, tmp_path: Path, text: str, message: str
) -> None:
    old = write(project / "sources" / "a.yaml", "an earlier file\n")
    export = write(tmp_path / "zotero.json", text)
    before = sorted((project / "sources").iterdir())
    result = run("sources", "import", export, "--force", "--project", project)
    _no_traceback(result)
    assert result.exit_code == 1
    assert f"{export}{message}" in result.stderr
    assert sorted((project / "sources").iterdir()) == before  # not even good.yaml
    assert old.read_text() == "an earlier file\n"


def test_an_export_over_the_size_limit(
    run: Callable[..., Result], project: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(boundary.LIMITS, "CSL-JSON export", 1000)
    export = write(tmp_path / "zotero.json", _export(_item(note="x" * 1000)))
    result = run("sources", "import", export, "--project", project)
    _no_traceback(result)
    assert result.exit_code == 1
    assert f"{export}: is " in result.stderr
    assert "bytes, over the CSL-JSON export limit of 1000 bytes" in result.stderr
    assert not (project / "sources" / "good.yaml").exists()


def test_many_problems_are_counted_not_all_listed(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    export = write(tmp_path / "zotero.json",
                   json.dumps([{"id": f"s{i}", "title": "T"} for i in range(30)]))
    result = run("sources", "import", export, "--project", project)
    assert result.exit_code == 1
    assert "item 20 (id 's19'): 'type' is a required property" in result.stderr
    assert "item 21 (id" not in result.stderr
    assert "... and 10 more\nError: 30 errors in the input; nothing was imported" \
        in result.stderr


def test_force_replaces_and_the_skeleton_checks(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    old = write(project / "sources" / "good.yaml", "an earlier file\n")
    export = write(tmp_path / "zotero.json", json.dumps([{
        **GOOD, "issued": {"date-parts": [["2015", 5, 8]]}, "accessed": {"raw": "2016"},
        "author": [{"family": "Putz", "given": "Catherine"}, {"literal": " "}],
    }]))
    assert run("sources", "import", export, "--project", project).exit_code == 1
    assert old.read_text() == "an earlier file\n"
    result = run("sources", "import", export, "--force", "--project", project)
    assert result.stdout == ("created sources/good.yaml (author[1] not kept: a name needs a "
                             "family name or a literal)\n")
    assert old.read_text(encoding="utf-8").splitlines()[1:] == [
        "# Imported from CSL-JSON (citation key 'good'). Fill in `perspective`",
        "# and `assessment`, then add notes: `brief check` reports what is missing.",
        "type: report",
        'title: "A report that imports"',
        "author:",
        '  - family: "Putz"',
        '    given: "Catherine"',
        "issued: 2015-05-08",
        "accessed: '2016'",
        "# perspective: independent | official | state-media | think-tank | academic | opinion",
        "# assessment: >-",
        "#   Who published it, with what stance, and what it is reliable for.",
        "notes: []",
    ]


def test_the_vendored_schema_is_the_csl_projects() -> None:
    schema = json.loads((Path(importer.__file__).parent / "schemas" / "csl-data.json")
                        .read_text(encoding="utf-8"))
    assert schema["$id"] == "https://resource.citationstyles.org/schema/v1.0/input/json/" \
        "csl-data.json"
    jsonschema.Draft7Validator.check_schema(schema)


# Any text Zotero could hold: the skeleton says exactly that, in the fields it names.
texts = st.text(min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=texts, title=texts, family=texts)
def test_any_text_is_a_value_not_yaml(key: str, title: str, family: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        export = write(Path(tmp) / "zotero.json", json.dumps([{
            "id": key + "k", "type": "book", "title": title, "author": [{"family": family}],
        }]))
        project = Path(tmp) / "p"
        write(project / "policybrief.toml", '[sections]\nbackground = "Background"\n')
        result = CliRunner().invoke(cli, ["sources", "import", str(export),
                                          "--project", str(project)])
        _no_traceback(result)
        assert result.exit_code == 0, result.output
        (path,) = (project / "sources").iterdir()
        doc = load_yaml(path, path.name, path.parent, "source file")
        assert not isinstance(doc, Problem), doc
        expected = {"type": "book", "title": title.strip(), "author": [{"family": family.strip()}],
                    "notes": []}
        expected = {k: v for k, v in expected.items()
                    if v != "" and v != [{"family": ""}]}
        assert doc.data == expected


# --- years outside the calendar ---------------------------------------------------------

SOURCE = "sources/river-2024.yaml"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("issued: 2024-03-14", 'issued: "0000"',
     "sources/river-2024.yaml:7: issued: '0000' is not a real date: year 0000 is not a "
     "calendar year (1–9999)"),
    ("issued: 2024-03-14", "issued: 0000-03-14",
     "sources/river-2024.yaml:7: issued: '0000-03-14' is not a real date: year 0000"),
    ("issued: 2024-03-14", 'issued: "10000"',
     "sources/river-2024.yaml:7: issued: '10000' is not a real date: year 10000 is not a "
     "calendar year (1–9999)"),
    ("issued: 2024-03-14", "issued: -1",
     "sources/river-2024.yaml:7: issued: '-1' is not a real date: year -1 is not a "
     "calendar year"),
    ("    date: 2024-03-12\n    end_date: 2024-03-13", '    date: "0000"',
     "sources/river-2024.yaml:18: notes[0].date: '0000' is not a real date: year 0000 is "
     "not a calendar year (1–9999)"),
    ("    end_date: 2024-03-13", "    end_date: 0000-01-01",
     "sources/river-2024.yaml:19: notes[0].end_date: '0000-01-01' is not a real date"),
], ids=["issued 0000", "issued 0000-03-14", "issued 10000", "issued -1",
        "note date 0000 with an event", "end_date 0000"])
@pytest.mark.parametrize("command", ["check", "build"])
def test_years_outside_the_calendar(
    run: Callable[..., Result], project: Path, command: str, old: str, new: str,
    message: str,
) -> None:
    path = project / SOURCE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = run(command, "--project", project)
    _no_traceback(result)
    assert result.exit_code == 1
    assert message in result.stderr
    assert not (project / "build").exists()


# --- TOML settings of the wrong type ----------------------------------------------------

MINIMAL = (FIXTURES / "minimal" / "policybrief.toml").read_text(encoding="utf-8")
SECTIONS = '[sections]\ncontext = "Context"\noptions = "Options"\n'
DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_TABLE = "{a = " * 10_000 + "1" + "}" * 10_000
CONFIG = "policybrief.toml: "  # the file named once (the test checks it is not twice)
# (key, the config's text, the message): every setting with a value of a wrong type.
BAD_CONFIG = [
    ("paper", 'paper = ["A4"]\n' + SECTIONS, CONFIG + "paper: ['A4'] is not one of: A4, Letter"),
    ("paper", "paper = {size = 1}\n" + SECTIONS,
     CONFIG + "paper: {'size': 1} is not one of: A4, Letter"),
    ("sections", 'sections = ["context"]\n', CONFIG + "sections: must be a table of section "
     "keys to titles"),
    ("sections", '[sections]\ncontext = ["Context"]\n', CONFIG + "sections: must be a table"),
    ("citation_style", 'citation_style = ["apa"]\n' + SECTIONS,
     CONFIG + "citation_style: must be a CSL style name"),
    ("archive", "archive = 5\n" + SECTIONS, CONFIG + "archive: must be a folder path"),
    ("language", 'language = ["en"]\n' + SECTIONS,
     CONFIG + "language: ['en'] is not a language tag"),
    ("stale_after_days", 'stale_after_days = "a year"\n' + SECTIONS,
     CONFIG + "stale_after_days: must be a whole number"),
    ("timeout", "timeout = [1]\n" + SECTIONS, CONFIG + "timeout: must be seconds per target"),
    ("audiences", "audiences = [1]\n" + SECTIONS, CONFIG + "audiences: must be a table"),
    ("audiences.x", SECTIONS + "[audiences]\nx = 1\n", CONFIG + "audiences.x: must be a table"),
    ("like", SECTIONS + '[audiences.x]\nlike = ["executive"]\n',
     CONFIG + "audiences.x.like: ['executive'] is not an audience name (a text); use one of: "
     "analyst, executive, talking-points"),
    ("like", SECTIONS + '[audiences.x]\nlike = {name = "executive"}\n',
     CONFIG + "audiences.x.like: {'name': 'executive'} is not an audience name (a text)"),
    ("label", SECTIONS + "[audiences.executive]\nlabel = [1]\n",
     CONFIG + "audiences.executive.label: [1] is not a non-empty text"),
    ("label", SECTIONS + '[audiences.executive]\nlabel = {en = "Note", kazakh = "Жазба"}\n',
     CONFIG + "audiences.executive.label: {'en': 'Note', 'kazakh': 'Жазба'} is not a "
     'non-empty text, or texts by language: {en = "...", kk = "..."}'),
    ("template", SECTIONS + '[audiences.x]\ntemplate = ["x.html.j2"]\n',
     CONFIG + "audiences.x.template: ['x.html.j2'] is not a name ending .j2"),
    ("pages", SECTIONS + '[audiences.executive]\npages = "2"\n',
     CONFIG + "audiences.executive.pages: '2' is not a whole number above 0"),
    ("words_per_section", SECTIONS + "[audiences.executive]\nwords_per_section = [1]\n",
     CONFIG + "audiences.executive.words_per_section: [1] is not a whole number above 0"),
    ("min_priority", SECTIONS + '[audiences.executive]\nmin_priority = ["key"]\n',
     CONFIG + "audiences.executive.min_priority: ['key'] is not one of: key, supporting"),
    ("citations", SECTIONS + "[audiences.executive]\ncitations = {a = 1}\n",
     CONFIG + "audiences.executive.citations: {'a': 1} is not one of: footnotes"),
    ("requires", SECTIONS + '[audiences.executive]\nrequires = [["questions"]]\n',
     CONFIG + "audiences.executive.requires: [['questions']] is not a list of: "),
    ("allow_untranslated", SECTIONS + '[audiences.executive]\nallow_untranslated = "yes"\n',
     CONFIG + "audiences.executive.allow_untranslated: 'yes' is not true or false"),
    ("archival", SECTIONS + "[audiences.executive]\narchival = [true]\n",
     CONFIG + "audiences.executive.archival: [True] is not true or false"),
    ("stylesheet", SECTIONS + "[audiences.executive]\nstylesheet = [\"a.css\"]\n",
     CONFIG + "audiences.executive.stylesheet: ['a.css'] is not a name ending .css"),
    ("deep arrays", f"deep = {DEEP_ARRAY}\n" + SECTIONS,
     "policybrief.toml: invalid TOML: arrays or tables nested too deeply; flatten them"),
    ("deep tables", f"deep = {DEEP_TABLE}\n" + SECTIONS,
     "policybrief.toml: invalid TOML: arrays or tables nested too deeply; flatten them"),
    ("5000 digits", f"timeout = {'9' * 5000}\n" + SECTIONS,
     "policybrief.toml: invalid TOML: a number over 4300 digits long; no setting takes one"),
]
BRAND = "templates/brand.toml: "
BAD_BRAND = [
    ("organisation", "organisation = [1]\n", BRAND + "organisation: must be a non-empty text"),
    ("logo", 'logo = ["logo.svg"]\n', BRAND + "logo: must be a non-empty text"),
    ("colours", "colours = 5\n", BRAND + "colours: must be a table"),
    ("colours.brand", '[colours]\nbrand = ["#123456"]\n',
     BRAND + "colours.brand: ['#123456'] is not a colour"),
    ("fonts", 'fonts = "PT Serif"\n', BRAND + "fonts: must be a table"),
    ("fonts.serif", "[fonts]\nserif = 5\n", BRAND + "fonts.serif: must be a font family name"),
    ("fonts.faces", "[fonts]\nfaces = 5\n", BRAND + "fonts.faces: must be a list of tables"),
    ("fonts.faces", '[fonts]\nfaces = "brand.woff2"\n',
     BRAND + "fonts.faces: must be a list of tables"),
    ("fonts.faces", '[fonts.faces]\nfamily = "Brand"\nfile = "brand.ttf"\n',
     BRAND + "fonts.faces: must be a list of tables"),
    ("faces.family", '[[fonts.faces]]\nfamily = ["Brand"]\nfile = "brand.ttf"\n',
     BRAND + "fonts.faces[0]: needs `family` and `file`, each a text"),
    ("faces.file", '[[fonts.faces]]\nfamily = "Brand"\nfile = 5\n',
     BRAND + "fonts.faces[0]: needs `family` and `file`, each a text"),
    ("faces.weight", '[[fonts.faces]]\nfamily = "Brand"\nfile = "brand.ttf"\nweight = "bold"\n',
     BRAND + "fonts.faces[0]: weight must be 100-900 and style normal or italic"),
    ("faces.style", '[[fonts.faces]]\nfamily = "Brand"\nfile = "brand.ttf"\nstyle = [1]\n',
     BRAND + "fonts.faces[0]: weight must be 100-900 and style normal or italic"),
    ("deep arrays", f"organisation = {DEEP_ARRAY}\n",
     BRAND + "invalid TOML: arrays or tables nested too deeply; flatten them"),
    ("5000 digits", f"organisation = {'9' * 5000}\n",
     BRAND + "invalid TOML: a number over 4300 digits long"),
]


@pytest.mark.parametrize(("config", "brand", "message"),
                         [(c, None, m) for _, c, m in BAD_CONFIG]
                         + [(MINIMAL, b, m) for _, b, m in BAD_BRAND],
                         ids=[f"config:{k}" for k, _, _ in BAD_CONFIG]
                         + [f"brand:{k}" for k, _, _ in BAD_BRAND])
def test_settings_of_the_wrong_type(
    run: Callable[..., Result], project: Path, config: str, brand: str | None, message: str
) -> None:
    write(project / "policybrief.toml", config)
    if brand is not None:
        write(project / "templates" / "brand.toml", brand)
        write(project / "templates" / "brand.ttf", "a font\n")
    result = run("check", "--project", project)
    _no_traceback(result)
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
    assert result.stderr.count(".toml: ") == 1, result.stderr


@pytest.mark.parametrize(("name", "text", "message"), [
    ("policybrief.toml", 'paper = "A4"\n',
     "policybrief.toml: sections: must be a table of section keys to titles, e.g. the lines "
     '[sections] and background = "Background", or titles by language: background = '
     '{en = "Background", kk = "..."} (in pyproject.toml the table is '
     "[tool.policybrief.sections])"),
    # A blank title in one language is no title.
    ("policybrief.toml", '[sections]\ncontext = {en = "Context", kk = " "}\n',
     "policybrief.toml: sections: must be a table of section keys to titles, e.g. the lines "
     '[sections] and background = "Background", or titles by language: background = '
     '{en = "Background", kk = "..."} (in pyproject.toml the table is '
     "[tool.policybrief.sections])"),
    ("pyproject.toml", '[tool.policybrief]\npaper = "A4"\n',
     "pyproject.toml [tool.policybrief]: sections: must be a table of section keys to titles, "
     'e.g. the lines [tool.policybrief.sections] and background = "Background", or titles '
     'by language: background = {en = "Background", kk = "..."} (in a '
     "policybrief.toml it is [sections])"),
    # The README's pyproject.toml form pasted into policybrief.toml: said as it is.
    ("policybrief.toml", '[tool.policybrief.sections]\ncontext = "Context"\n',
     "policybrief.toml: [tool.policybrief...] tables belong in pyproject.toml; in "
     "policybrief.toml the settings stand alone: write [sections] for "
     "[tool.policybrief.sections], [audiences.NAME] for [tool.policybrief.audiences.NAME] "
     "and put top-level keys (language = ...) above the first table"),
])
def test_sections_message_names_the_form_of_the_file(
    run: Callable[..., Result], tmp_path: Path, name: str, text: str, message: str
) -> None:
    write(tmp_path / "p" / name, text)
    result = run("check", "--project", tmp_path / "p")
    _no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'p'}/{message}\n"


def _readme_settings() -> list[str]:
    """The README's two examples of the settings: pyproject.toml's, policybrief.toml's."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    return [b for b in blocks if re.match(r"(\[tool\.policybrief\]\n)?language = ", b)]


@pytest.mark.parametrize("name", ["pyproject.toml", "policybrief.toml"])
def test_readme_settings_in_both_forms_with_every_key(
    run: Callable[..., Result], project: Path, name: str
) -> None:
    pyproject, own = _readme_settings()
    text = pyproject if name == "pyproject.toml" else own
    keys = re.findall(r"^(?:\[(?:tool\.policybrief\.)?)?([a-z_]+)\b", text, flags=re.M)
    assert set(SETTINGS) <= set(keys), set(SETTINGS) - set(keys)
    (project / "policybrief.toml").unlink()
    sections = 'context = "Context"\noptions = "Options"\n'  # the minimal brief's keys
    write(project / name, re.sub(r'background = .*\n.*\n', sections, text))
    result = run("check", "--project", project)
    assert result.exit_code == 0, result.output


def test_pyproject_tool_table_of_the_wrong_type(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    write(tmp_path / "p" / "pyproject.toml", "[tool]\npolicybrief = 5\n")
    result = run("check", "--project", tmp_path / "p")
    _no_traceback(result)
    assert result.exit_code == 1
    assert "pyproject.toml: tool.policybrief: must be a table, [tool.policybrief]" \
        in result.stderr
    write(tmp_path / "q" / "pyproject.toml", "tool = 5\n")  # not a policybrief project
    result = run("check", "--project", tmp_path / "q")
    _no_traceback(result)
    assert result.exit_code == 1
    assert "no policybrief project found in" in result.stderr


def test_every_csl_variable_is_kept_and_every_other_field_reported(
    run: Callable[..., Result], project: Path, tmp_path: Path
) -> None:
    export = write(tmp_path / "zotero.json", json.dumps([{
        "id": "wp14", "type": "thesis", "title": "Water sharing", "publisher-place": "Almaty",
        "number": "Working Paper 14", "abstract": "On the treaty.", "volume": 3, "page": "1-20",
        "DOI": "10.1000/xyz", "shortTitle": "Water", "event": "Summit", "archive": "JSTOR",
        "citation-number": 4, "custom": {"x": 1}, "categories": ["a"], "note": " ",
        "language": "English", "event-date": {"literal": "Spring 2015"},
        "editor": [{"family": "Nur", "given": "Ali", "suffix": "Jr."}],
    }]))
    result = run("sources", "import", export, "--project", project)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "created sources/wp14.yaml (type not kept: 'thesis' is not a type policybrief cites; "
        "written as document; archive not kept: a source's `archive` names its archived text "
        "file; citation-number not kept: numbered by the citation style; custom, categories "
        "not kept: not CSL 1.0.2 variables; note not kept: empty; language not kept: "
        "'English' is not a language code like en or ru; event-date not kept: no YYYY, "
        "YYYY-MM or YYYY-MM-DD date in it; editor[0].suffix not kept: a name has family, "
        "given or literal only)\n"
    )
    text = (project / "sources" / "wp14.yaml").read_text(encoding="utf-8")
    for line in ('title: "Water sharing"', 'title-short: "Water"', 'abstract: "On the treaty."',
                 'DOI: "10.1000/xyz"', 'event-title: "Summit"', 'publisher-place: "Almaty"',
                 "  - family: \"Nur\"", 'number: "Working Paper 14"', "volume: 3",
                 'page: "1-20"'):
        assert f"\n{line}\n" in text, line
    for absent in ("JSTOR", "citation-number", "custom", "English", "Jr."):
        assert absent not in text
