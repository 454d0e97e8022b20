"""Bad input: every problem reported at once, as path:line: field: problem; remedy."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from conftest import FIXTURES, write
from policybrief.config import load_config
from policybrief.evidence import check_evidence
from policybrief.load import Entry, Project
from policybrief.models import Brief, PartialDate, Place, Source
from policybrief.validate import validate_project
from policybrief.yamlio import Document

FIXTURE = FIXTURES / "minimal"

NOTE = """\
  - id: {id}
    section: context
    text: A claim.
    locator: "para. 9"
"""


# Nine levels of nine aliases: 387 million values once expanded.
BILLION_LAUGHS = b"""\
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _problems(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("Error:")]


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        (
            "briefs/river-talks.yaml",
            "notes: [river-2024/water-share]",
            "notes: [river-2024/water-shares]",
            "briefs/river-talks.yaml:16: sections[1].notes[0]: source 'river-2024' has no note "
            "'water-shares'; did you mean 'water-share'?",
        ),
        (
            "briefs/river-talks.yaml",
            "notes: [river-2024/water-share]",
            "notes: [delta-2020/water-share]",
            "briefs/river-talks.yaml:16: sections[1].notes[0]: unknown source 'delta-2020' in "
            "'delta-2020/water-share'; add sources/delta-2020.yaml",
        ),
        (
            "sources/river-2024.yaml",
            "date: 2024-03-12",
            "date: 2017-02-30",
            "sources/river-2024.yaml:18: notes[0].date: '2017-02-30' is not a real date: "
            "February 2017 has 28 days",
        ),
        (
            "sources/river-2024.yaml",
            "  - id: kazakh-names\n    section: context",
            "  - id: kazakh-names\n    section: contexts",
            "sources/river-2024.yaml:23: notes[1].section: unknown section 'contexts'; "
            "did you mean 'context'?",
        ),
        (
            "sources/river-2024.yaml",
            '    locator: "para. 3"\n',
            "",
            "sources/river-2024.yaml:22: notes[1].locator: required field is missing; "
            "add `locator:`",
        ),
        (
            "briefs/river-talks.yaml",
            "as_of: 2024-04-01",
            "as_of: 2024-04",
            "briefs/river-talks.yaml:3: as_of: '2024-04' is not a full date; write YYYY-MM-DD",
        ),
        (
            "sources/river-2024.yaml",
            "    priority: key\n",
            "    priority: urgent\n",
            "sources/river-2024.yaml:21: notes[0].priority: 'urgent' is not one of: key, "
            "supporting, detail; write one of those",
        ),
        (
            "sources/river-2024.yaml",
            "container-title: Steppe Herald",
            "container_title: Steppe Herald",
            "sources/river-2024.yaml:6: container_title: unknown field; "
            "did you mean `container-title`?",
        ),
        (  # suggestions come from the fields of the file read: `authors` is a brief's
            "sources/river-2024.yaml",
            "author:\n",
            "authors:\n",
            "sources/river-2024.yaml:3: authors: unknown field; did you mean `author`?",
        ),
        (  # ... and of the mapping read: `lead` is a brief section's, not a note's
            "sources/river-2024.yaml",
            '    locator: "para. 1"\n',
            '    locator: "para. 1"\n    lead: Talks resumed.\n',
            "sources/river-2024.yaml:18: notes[0].lead: unknown field; "
            "remove it or check its spelling",
        ),
        (
            "briefs/river-talks.yaml",
            "status: final",
            "status: final\naudiences: [ministers]",
            "briefs/river-talks.yaml:7: audiences[0]: unknown audience 'ministers'; "
            "use one of: analyst, executive, talking-points",
        ),
        (
            "sources/river-2024.yaml",
            "language: en\n",
            "language: en\nlanguage: kk\n",
            "sources/river-2024.yaml:9: found duplicate key \"language\" with value \"kk\" "
            "(original value: \"en\") (column 1); remove or rename one of the two keys",
        ),
        (
            "sources/river-2024.yaml",
            "title: \"River treaty talks resume in Almaty\"",
            "title: [unclosed",
            "sources/river-2024.yaml:3: expected ',' or ']', but got ':' (column 7); "
            "fix the YAML syntax",
        ),
        (
            "sources/river-2024.yaml",
            "perspective: independent",
            "perspective: !!python/object/apply:os.system [ls]",
            "sources/river-2024.yaml:9: unknown tag 'tag:yaml.org,2002:python/object/apply:"
            "os.system' is not allowed (column 14); remove the tag; only plain YAML data is read",
        ),
    ],
)
def test_bad_input_message(
    run: Callable[..., Result], project: Path, path: str, old: str, new: str, expected: str
) -> None:
    file = project / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run("build", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [expected]
    assert result.stderr.splitlines()[-1] == "Error: 1 error in the input; nothing was built"
    assert "Traceback" not in result.output
    assert not (project / "build").exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.10", "expected text, but YAML reads the unquoted value as a number (1.1); put the "
         'value in quotes, e.g. locator: "..."'),
        ("01234", "expected text, but YAML reads the unquoted value as a number (1234); put the "
         'value in quotes, e.g. locator: "..."'),
        ("0x1F", "expected text, but YAML reads the unquoted value as a number (31); put the "
         'value in quotes, e.g. locator: "..."'),
        ("true", "expected text, but YAML reads the unquoted value as true/false (True); put "
         'the value in quotes, e.g. locator: "..."'),
        ("", "has no value; write the value after `locator:`, or remove the line"),
        ("[p. 1, p. 2]", "expected text, found a list; put the value in quotes, e.g. "
         'locator: "..."'),
    ],
)
def test_yaml_scalars_that_are_not_text(
    run: Callable[..., Result], project: Path, value: str, expected: str
) -> None:
    """YAML reads some unquoted values as numbers or booleans: a clear error, not str(1.1)."""
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace('locator: "para. 1"', f"locator: {value}"))
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [f"sources/river-2024.yaml:17: notes[0].locator: {expected}"]


@pytest.mark.parametrize(
    ("path", "new", "expected"),
    [
        ("sources/river-2024.yaml", "text: 1.10", "sources/river-2024.yaml:15: notes[0].text: "
         "expected text, but YAML reads the unquoted value as a number (1.1); put the value in "
         'quotes, e.g. text: "..."'),
        ("sources/river-2024.yaml", "text: {en: 1.10, ru: Переговоры}",
         "sources/river-2024.yaml:15: notes[0].text.en: expected text, but YAML reads the "
         'unquoted value as a number (1.1); put the value in quotes, e.g. en: "..."'),
        ("briefs/river-talks.yaml", "- 5", "briefs/river-talks.yaml:9: key_messages[0]: "
         "expected text or fields, but YAML reads the unquoted value as a number (5); put the "
         "value in quotes if it is text"),
    ],
)
def test_fields_of_two_forms_get_one_error(
    run: Callable[..., Result], project: Path, path: str, new: str, expected: str
) -> None:
    """`text` is text or {language: text}; a key message is text or {text, notes}: the
    error speaks of the form the value has, once, at the file's own field path."""
    file = project / path
    old = {"sources": "text: >-\n      Negotiators from the two riparian states met again in "
                      "Almaty after a **two-year** pause.",
           "briefs": "- text: Talks have resumed after a two-year pause.\n"
                     "    notes: [river-2024/talks-resume]"}[path.split("/")[0]]
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    assert _problems(run("check", "--project", project)) == [expected]


def test_yaml_1_1_words_stay_text(run: Callable[..., Result], project: Path) -> None:
    """YAML 1.1 read NO, on and 12:30 as false, true and 750: YAML 1.2 (used here) keeps
    them as the text the analyst wrote."""
    source = project / "sources" / "river-2024.yaml"
    text = source.read_text()
    for old, new in [('locator: "para. 1"', "locator: NO"), ('locator: "para. 3"', "locator: on"),
                     ('locator: "para. 5"', "locator: 12:30")]:
        text = text.replace(old, new)
    source.write_text(text)
    assert run("build", "--project", project).exit_code == 0
    claims = (project / "build" / "river-talks" / "claims.json").read_text()
    assert '"locator": "NO"' in claims and '"locator": "12:30"' in claims


def test_duplicate_note_ids(run: Callable[..., Result], project: Path) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text() + NOTE.format(id="talks-resume"), encoding="utf-8")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [
        "sources/river-2024.yaml:36: notes[3].id: duplicate note id 'talks-resume' "
        "(first used in notes[0]); give each note in a source its own id"
    ]


def test_all_problems_across_files_at_once(run: Callable[..., Result], project: Path) -> None:
    write(project / "sources" / "extra.yaml", "type: report\ntitle: X\nperspective: official\n")
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("status: final", "status: done"), encoding="utf-8")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [
        "briefs/river-talks.yaml:6: status: 'done' is not one of: draft, for clearance, "
        "cleared, final; write one of those",
        "sources/extra.yaml: assessment: required field is missing; add `assessment:`",
    ]
    assert result.stderr.splitlines()[-1] == "Error: 2 errors in the input; fix them and run again"


def test_broken_source_does_not_cascade(run: Callable[..., Result], project: Path) -> None:
    """References into a file that failed to load are not reported a second time."""
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("perspective: independent\n", ""))
    result = run("check", "--project", project)
    assert _problems(result) == [
        "sources/river-2024.yaml: perspective: required field is missing; add `perspective:`"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "sources/empty.yaml: file is empty; add content or delete the file"),
        (b"- a\n- b\n", "sources/empty.yaml:1: expected a mapping of fields, found a "
                         "list; start the file with `field: value` lines"),
        (b"title: caf\xe9\n", "sources/empty.yaml:1: not valid UTF-8 text; save the file as UTF-8"),
        (b"title: a\n\tlocator: b\n", "sources/empty.yaml:2: found character '\\t' that cannot "
         "start any token (column 1); indent with spaces, not tabs"),
        (b"title: a\x00b\n", "sources/empty.yaml:1: control character U+0000 at column 9; "
         "remove it (is this a binary or damaged file?)"),
        (b"title: a\n---\ntitle: b\n", "sources/empty.yaml:2: a second YAML document starts "
         "here (column 1); keep one document per file: remove the `---` line or split the file"),
        (b"title: !!binary aGVsbG8=\n", "sources/empty.yaml:1: unknown tag "
         "'tag:yaml.org,2002:binary' is not allowed (column 8); remove the tag; only plain YAML "
         "data is read"),
        (b"title: !!set {a, b}\n", "sources/empty.yaml:1: unknown tag 'tag:yaml.org,2002:set' "
         "is not allowed (column 8); remove the tag; only plain YAML data is read"),
        (b"1: a\n", "sources/empty.yaml:1: key '1' is not text (column 1); put the key in "
         "quotes, or check the indentation"),
        (b"null: a\n", "sources/empty.yaml:1: key 'null' is not text (column 1); put the key in "
         "quotes, or check the indentation"),
        # Deep nesting: in flow style (caught before the parser's slow look-ahead) and block.
        (b"title: " + b"[" * 5000 + b"]" * 5000 + b"\n", "sources/empty.yaml:1: nested more "
         "than 32 levels deep; flatten the structure; no field of a source or brief nests that "
         "deep"),
        (b"".join(b" " * i + b"k:\n" for i in range(40)), "sources/empty.yaml:32: nested more "
         "than 32 levels deep; flatten the structure; no field of a source or brief nests that "
         "deep"),
        (BILLION_LAUGHS, "sources/empty.yaml:1: aliases (*name) repeat anchored values "
         "490329036 times, over the limit of 10000 (column 1); write the values out instead of "
         "repeating them with *aliases"),
        (b"title: x\n" * 300_000, "sources/empty.yaml: file is 2700000 bytes, over the "
         "source file limit of 2097152 bytes; make it smaller or split it"),
    ],
)
def test_unreadable_files(
    run: Callable[..., Result], project: Path, content: bytes, expected: str
) -> None:
    (project / "sources" / "empty.yaml").write_bytes(content)
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [expected]


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_source_that_is_not_a_file(run: Callable[..., Result], project: Path,
                                     kind: str) -> None:
    """A link to /dev/zero or a named pipe among the sources would never finish reading."""
    path = project / "sources" / "odd.yaml"
    if kind == "device":
        path.symlink_to("/dev/zero")
    else:
        os.mkfifo(path)
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert _problems(result) == [
        "sources/odd.yaml: file is a link to /dev/zero, outside sources/; copy the file into "
        "sources/ instead" if kind == "device" else
        "sources/odd.yaml: file is a named pipe (FIFO), not a regular file; replace it with a "
        "regular file"
    ]


# --- Linear checks: the cost of a reference or a place name does not grow with the project


def _big_project(notes: int, places: list[dict[str, object]], texts: list[str]) -> Project:
    """A project in memory (no YAML): one source of `notes` notes, dated, with the given
    texts in turn, and one brief citing every note."""
    config = load_config(FIXTURE)
    source = Source.model_validate({
        "id": "big", "type": "report", "title": "Big", "perspective": "official",
        "assessment": "x", "notes": [
            {"id": f"n{i}", "section": "context", "text": texts[i % len(texts)],
             "locator": "p. 1", "date": "2024-03-12"} for i in range(notes)],
    })
    refs = [f"big/n{i}" for i in range(notes)]
    brief = Brief.model_validate({
        "id": "b", "title": "B", "as_of": "2024-04-01", "authors": ["U"],
        "key_messages": [{"text": "M.", "notes": refs[:1]}],
        "sections": [{"key": "context", "notes": refs}],
    })
    project = Project(config)
    project.sources["big"] = Entry(source, Document("sources/big.yaml", {}))
    project.briefs["b"] = Entry(brief, Document("briefs/b.yaml", {}))
    project.places = [Place.model_validate(p) for p in places]
    return project


def test_references_are_checked_in_linear_time() -> None:
    """20,000 references into one source of 20,000 notes: each is found without reading
    every note of its source (which took minutes)."""
    project = _big_project(20_000, [], ["A claim."])
    started = time.perf_counter()
    problems = validate_project(project) + check_evidence(project, None, 365)
    assert time.perf_counter() - started < 10  # about 0.3 s; quadratic, several minutes
    assert problems == []


def test_place_names_are_tried_only_where_their_words_occur(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each note is compared with the places whose names share a word with it, not with
    every place (12,000 places x 10,000 notes took most of an hour), and the warnings are
    those of comparing every place: names of several words, with punctuation, sharing
    a word, inside a longer word."""
    places = [{"name": f"Town{i}", "former": [{"name": f"Old{i}", "from": "2000-01-01",
                                               "to": "2030-01-01"}]} for i in range(2000)]
    places += [
        {"name": "Astana", "former": [{"name": "Nur-Sultan", "from": "2019-03-23",
                                       "to": "2025-01-01"}]},
        {"name": "Sultan Hills", "former": [{"name": "Sultan", "from": "2024-01-01",
                                             "to": "2024-12-31"}]},
        {"name": "St. Paul's", "former": [{"name": "Old St. Paul's", "from": "2024-01-01",
                                           "to": "2024-12-31"}]},
    ]
    texts = ["Talks in Nur-Sultan and Astana.", "St. Paul's and Sultan Hills; Town3.",
             "Sultanate of Old1 and Old12, not Old1x.", "Nothing named here."]
    project = _big_project(2000, places, texts)
    calls = 0
    name_on = Place.name_on

    def counted(self: Place, date: PartialDate) -> str | None:
        nonlocal calls
        calls += 1
        return name_on(self, date)

    monkeypatch.setattr(Place, "name_on", counted)
    found = [(p.field, p.message) for p in check_evidence(project, None, 365)
             if "calls the place" in p.message]
    assert calls < 10 * 2000  # a few per note; comparing every place: 2003 per note
    expected = []  # every place against every note, as the check used to do
    for i, note in enumerate(project.sources["big"].model.notes):
        for place in project.places if i < len(texts) else ():  # the texts repeat
            right = name_on(place, note.date)
            for name in place.names:
                if right and name != right and re.search(rf"\b{re.escape(name)}\b", note.texts[0]):
                    expected.append((i, name, right))
    assert found == [
        (f"notes[{i + k}].text", f"calls the place {name!r}, but on 2024-03-12 it was {right!r}")
        for k in range(0, 2000, len(texts)) for i, name, right in expected
    ]
    assert ("notes[0].text", "calls the place 'Astana', but on 2024-03-12 it was 'Nur-Sultan'"
            ) in found
    assert ("notes[1].text", "calls the place 'Sultan Hills', but on 2024-03-12 it was "
            "'Sultan'") in found


@pytest.mark.parametrize(("where", "tag", "expected"), [
    ("brief", "kz", "briefs/river-talks.yaml:5: language: unknown language 'kz' (KZ is a "
     "country code: did you mean 'kk'?); use a language code such as en, ru or kk"),
    ("brief", "kkz", "briefs/river-talks.yaml:5: language: unknown language 'kkz' (did you "
     "mean 'kk'?); use a language code such as en, ru or kk"),
    ("project", "ua", "policybrief.toml: language: unknown language 'ua' (UA is a country "
     "code: did you mean 'uk'?); set `language` in the project config to a language code "
     "such as en, ru or kk"),
])
def test_an_unknown_language_is_one_error(
    run: Callable[..., Result], project: Path, where: str, tag: str, expected: str
) -> None:
    """Not one "no text in 'kz'" per note: the language itself is the mistake."""
    if where == "brief":
        brief = project / "briefs" / "river-talks.yaml"
        brief.write_text(re.sub(r"(?m)^language: .*$", f"language: {tag}", brief.read_text()))
    else:
        config = project / "policybrief.toml"
        config.write_text(f'language = "{tag}"\n' + config.read_text())
    result = run("check", "--project", project)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        expected, "Error: 1 error in the input; fix them and run again"]


def test_remedies_use_the_users_own_ids(run: Callable[..., Result], project: Path) -> None:
    """A malformed note reference or file name gets an example made from what the user
    wrote, not an id from another project."""
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "notes: [river-2024/water-share]\n", "notes: [River-2024/Water_Share]\n", 1))
    (project / "sources" / "River Notes.yaml").write_text("type: report\n")
    result = run("check", "--project", project)
    assert result.exit_code == 1
    out = " ".join(result.stderr.split())
    assert ("write a note reference as source-id/note-id (the source's file name without "
            ".yaml, a slash, the note's id), e.g. 'river-2024/water-share'") in out
    assert "file name 'River Notes' is not a valid id; name files with lowercase letters, " \
           "digits and hyphens, e.g. river-notes.yaml" in out
    assert "diplomat-2015" not in out


def test_a_misspelt_choice_gets_the_closest_one(run: Callable[..., Result], project: Path) -> None:
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace("status: final", "status: finale"))
    result = run("check", "--project", project)
    assert _problems(result) == [
        "briefs/river-talks.yaml:6: status: 'finale' is not one of: draft, for clearance, "
        "cleared, final; did you mean 'final'?"]
