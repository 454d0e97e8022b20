"""`brief diff`: what changed in the curated content between two versions of a project.

A version is a project folder or a git revision of the current project, read with
`git archive` into a temporary folder (the working tree is never touched). Both are
loaded and validated as a build would; then each brief is compared part by part, not by
its PDF bytes: document fields (title, status, marking...), key messages,
recommendations, section titles, leads and numbered paragraphs, lines to take,
questions, and every note the brief cites, by its reference (added, removed, text,
quote, locator... changed), with the sources it cites (added, removed, re-assessed).

A note that stops being cited is one change (with the places that cited it), not also a
change of each paragraph that cited it: a passage's citations are compared over the
notes both versions cite. Passages are aligned on their text with their citations taken
out, so an inserted paragraph shows as one insertion, not a renumbering of the rest.

Changed text is diffed word by word with diff-match-patch (semantic clean-up), for the
terminal, `--json`, and the redline document (`--html`, `--pdf`) rendered through the
overridable template redline.html.j2 on the brief's brand.
"""

from __future__ import annotations

import difflib
import logging
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .config import CONFIG_FILES, LABELS, Config, load_config
from .errors import BriefError, InputError, UsageError, count
from .load import PLACES_FILE, Project, load_project
from .models import INLINE_CITATION, Brief, Note
from .validate import validate_project

log = logging.getLogger(__name__)

# What of a project a version holds: its config and the folders a brief is made from.
PROJECT_PATHS = (*CONFIG_FILES, "sources", "briefs", "templates", LABELS, PLACES_FILE)
WORKING = "."  # the working folder, named explicitly as NEW
MAX_ARCHIVE = 64 * 1024 * 1024  # bytes of `git archive` output read for one version

# The parts of a brief, in the order a change list and the redline give them, with the
# English names the terminal uses (the redline's come from the labels' [redline.parts]).
PART_NAMES = {
    "brief": "brief",
    "key_message": "key message",
    "section": "section",
    "paragraph": "¶",
    "recommendation": "recommendation",
    "signpost": "signpost",
    "line_to_take": "line to take",
    "question": "question",
    "do_not_say": "do not say",
    "source": "source",
    "note": "note",
}
# Brief fields compared as passages (numbered lists), not as one value.
_PASSAGE_FIELDS = {
    "key_messages": "key_message", "recommendations": "recommendation",
    "outlook_signposts": "signpost", "lines_to_take": "line_to_take",
    "questions": "question", "do_not_say": "do_not_say",
}
_CITING_PARTS = {"key_messages": "key_message", "recommendations": "recommendation",
                 "lines_to_take": "line_to_take", "questions": "question"}
SIMILAR = 0.5  # word-sequence similarity above which two passages are one, edited


class DiffError(BriefError):
    """Raised by diff.py when a version cannot be read: not a folder or a revision git
    knows, no git, no project at that revision, or a redline that needs one brief."""


@dataclass(frozen=True)
class Version:
    """One side of a comparison: what the user named, and the project it holds."""

    label: str  # "HEAD~1 (3f2a9c1)", "../old-project", "working folder"
    config: Config
    project: Project


@dataclass(frozen=True)
class Place:
    """Where in a brief: a part and its number ("paragraph", "2.3")."""

    part: str
    number: str = ""

    def __str__(self) -> str:
        return f"{PART_NAMES[self.part]} {self.number}".strip()


@dataclass(frozen=True)
class Change:
    """One thing that changed: added, removed or changed, at a place, in a field.

    `old`/`new` are texts (None for the side that has none); `old_notes`/`new_notes` a
    passage's citations; `cited_in` the places that cite a note or source."""

    kind: str  # added | removed | changed
    place: Place
    field: str = ""  # the field of a note, source, section or the brief; "" the text
    old: str | None = None
    new: str | None = None
    old_notes: tuple[str, ...] = ()
    new_notes: tuple[str, ...] = ()
    cited_in: tuple[Place, ...] = ()

    @property
    def citations_changed(self) -> bool:
        return self.old_notes != self.new_notes

    def segments(self) -> list[tuple[int, str]]:
        """The text word-diffed: (-1 deleted | 0 kept | 1 inserted, text) runs."""
        return word_diff(self.old or "", self.new or "")

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "part": self.place.part, "number": self.place.number,
            "field": self.field, "old": self.old, "new": self.new,
            "old_notes": list(self.old_notes), "new_notes": list(self.new_notes),
            "cited_in": [{"part": p.part, "number": p.number} for p in self.cited_in],
        }


@dataclass(frozen=True)
class BriefDiff:
    """A brief's changes (state: added, removed, changed or unchanged)."""

    brief_id: str
    state: str
    old: Brief | None
    new: Brief | None
    changes: list[Change] = field(default_factory=list)

    @property
    def brief(self) -> Brief:
        brief = self.new or self.old
        assert brief is not None
        return brief


# Reading the versions

def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True,
                              text=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed; install it, or compare two project "
                        "folders instead of revisions") from None
    if done.returncode:
        raise DiffError(f"git {args[0]}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


def revision(root: Path, name: str) -> str | None:
    """The commit a revision name means in the git repository holding root (None if it
    names none, or root is not in a repository)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
            capture_output=True, text=True, check=False,
        )
    except FileNotFoundError:
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _extract_revision(root: Path, name: str, commit: str, into: Path) -> None:
    """Write the project files of `commit` (the folder of root, at that commit) into
    `into`, with git archive: nothing in the working tree or index changes."""
    top = Path(_git(root, "rev-parse", "--show-toplevel"))
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    tree = f"{commit}^{{tree}}" if prefix == "." else f"{commit}:{prefix}"
    listed = _git(top, "ls-tree", "--name-only", tree) if _has_tree(top, tree) else ""
    paths = [p for p in listed.splitlines() if p in PROJECT_PATHS]
    if not any(p in CONFIG_FILES for p in paths):
        where = "the repository's top folder" if prefix == "." else f"{prefix}/"
        raise DiffError(
            f"revision {name}: no policybrief project in {where} at {commit[:12]} (no "
            f"{' or '.join(CONFIG_FILES)}); name a revision that has the project"
        )
    with tempfile.TemporaryFile() as archive:
        done = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", tree,
                               "--", *paths], stdout=archive, stderr=subprocess.PIPE,
                              check=False)
        if done.returncode:
            raise DiffError(f"git archive {name}: {done.stderr.decode(errors='replace').strip()}")
        if archive.tell() > MAX_ARCHIVE:
            raise DiffError(f"revision {name}: the project is over {MAX_ARCHIVE >> 20} MB "
                            "in git; compare project folders instead")
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(into, filter="data")  # no links out, no absolute paths


def _has_tree(top: Path, tree: str) -> bool:
    done = subprocess.run(["git", "-C", str(top), "cat-file", "-t", tree],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() == "tree"


def open_version(spec: str, root: Path, side: str, stack: ExitStack) -> Version:
    """The version `spec` names, beside the project at root: `.` the working folder, an
    existing folder, else a git revision (extracted into a folder `stack` removes)."""
    if spec == WORKING:
        path, label = root, "working folder"
    elif Path(spec).is_dir():
        path, label = Path(spec), spec
    else:
        commit = revision(root, spec)
        if commit is None:
            raise UsageError(
                f"{side} {spec!r} is neither a folder nor a git revision of {root}; "
                "give a project folder, or a revision such as HEAD~1, a tag or a commit"
            )
        path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="brief-diff-")))
        _extract_revision(root, spec, commit, path)
        label = spec if spec.startswith(commit[:7]) else f"{spec} ({commit[:7]})"
    config = load_config(path)
    project, problems = load_project(config)
    problems += validate_project(project)
    errors = sorted(p for p in problems if not p.warning)
    for problem in errors:
        log.error("%s (%s): %s", side, label, problem)
    if errors:
        raise InputError(errors, f"cannot compare {side} ({label}); fix it, or compare "
                                 "another version")
    return Version(label, config, project)


def split_arguments(args: Sequence[str], root: Path) -> tuple[str, str, list[str]]:
    """OLD [NEW] [BRIEF_ID...]: the second is NEW when it is `.`, a folder or a git
    revision, else the first brief id (NEW is then the working folder)."""
    if not args:
        raise UsageError("name the version to compare with, e.g. brief diff HEAD~1")
    old, rest = args[0], list(args[1:])
    if rest and (rest[0] == WORKING or Path(rest[0]).is_dir() or revision(root, rest[0])):
        return old, rest[0], rest[1:]
    return old, WORKING, rest


# Comparing

def _plain(text: str | None) -> str:
    """A passage's text as compared: citations taken out, white space made single."""
    return " ".join(INLINE_CITATION.sub("", text or "").split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def similar(old: str, new: str) -> bool:
    """Whether two texts are one passage edited (more than half their words shared)."""
    matcher = difflib.SequenceMatcher(None, _words(old), _words(new), autojunk=False)
    return matcher.ratio() > SIMILAR


def word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """Runs of deleted (-1), kept (0) and inserted (1) text, word by word: each word and
    each run of spaces is encoded as one character for diff-match-patch, whose semantic
    clean-up then merges the runs a reader sees as one edit."""
    from diff_match_patch import diff_match_patch

    tokens: dict[str, str] = {}
    decode: list[str] = []

    def encode(text: str) -> str:
        out = []
        for token in re.findall(r"\s+|\w+|[^\w\s]", text):
            if token not in tokens:
                code = len(decode) + 0xE000  # private use, then on past the surrogates
                tokens[token] = chr(code if code < 0xF900 else code + 0x10000)
                decode.append(token)
            out.append(tokens[token])
        return "".join(out)

    engine = diff_match_patch()
    engine.Diff_Timeout = 0  # complete, and the same on every machine
    runs = engine.diff_main(encode(old), encode(new), False)
    engine.diff_cleanupSemantic(runs)
    first = 0xE000

    def text(chars: str) -> str:
        return "".join(decode[ord(c) - first - (0x10000 if ord(c) >= 0x1F900 else 0)]
                       for c in chars)

    return [(op, text(chars)) for op, chars in runs if chars]


@dataclass(frozen=True)
class _Passage:
    number: str
    text: str
    notes: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # other compared values (an answer...)


def _passages(items: Sequence[Any], numbered: str = "") -> list[_Passage]:
    out = []
    for i, item in enumerate(items, 1):
        number = f"{numbered}{i}"
        if isinstance(item, str):
            out.append(_Passage(number, _plain(item)))
        elif hasattr(item, "question"):
            out.append(_Passage(number, _plain(item.question), tuple(item.notes),
                                (("answer", _plain(item.answer)),)))
        elif hasattr(item, "judgement"):  # a paragraph: notes cited inline
            extra = (("judgement", "yes" if item.judgement else ""),
                     ("confidence", item.confidence or ""), ("pull_quote", item.pull_quote or ""))
            out.append(_Passage(number, _plain(item.text),
                                tuple(r for group in item.refs for r in group), extra))
        else:
            out.append(_Passage(number, _plain(item.text), tuple(item.notes)))
    return out


def _align(old: list[_Passage], new: list[_Passage]
           ) -> Iterator[tuple[_Passage | None, _Passage | None]]:
    """Pairs of the same passage in both lists (or None on the side without it)."""
    matcher = difflib.SequenceMatcher(None, [p.text for p in old], [p.text for p in new],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            yield from zip(old[i1:i2], new[j1:j2], strict=True)
            continue
        rest = new[j1:j2]
        for passage in old[i1:i2]:
            at = next((k for k, p in enumerate(rest) if similar(passage.text, p.text)), None)
            if at is None:
                yield passage, None
                continue
            for added in rest[:at]:
                yield None, added
            yield passage, rest[at]
            rest = rest[at + 1:]
        for added in rest:
            yield None, added


class _Comparison:
    """The changes of one brief between two versions."""

    def __init__(self, old: Project, new: Project, brief_id: str) -> None:
        self.old, self.new = old, new
        self.old_brief = old.briefs[brief_id].model
        self.new_brief = new.briefs[brief_id].model
        self.old_cited = cited_places(self.old_brief)
        self.new_cited = cited_places(self.new_brief)
        self.both = self.old_cited.keys() & self.new_cited.keys()
        self.changes: list[Change] = []

    def run(self) -> list[Change]:
        self._brief_fields()
        self._list("key_messages")
        self._sections()
        for name in ("recommendations", "outlook_signposts", "lines_to_take", "questions",
                     "do_not_say"):
            self._list(name)
        self._sources_and_notes()
        return self.changes

    def _still_cited(self, notes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(r for r in notes if r in self.both)

    def _value(self, place: Place, name: str, old: str | None, new: str | None) -> None:
        if (old or None) != (new or None):
            kind = "added" if not old else "removed" if not new else "changed"
            self.changes.append(Change(kind, place, name, old or None, new or None))

    def _brief_fields(self) -> None:
        skip = {"id", "sections", *_PASSAGE_FIELDS}
        for name in Brief.model_fields:
            if name not in skip:
                self._value(Place("brief"), name, flat(getattr(self.old_brief, name)),
                            flat(getattr(self.new_brief, name)))

    def _list(self, name: str) -> None:
        part = _PASSAGE_FIELDS[name]
        self._passages(part, _passages(getattr(self.old_brief, name)),
                       _passages(getattr(self.new_brief, name)))

    def _passages(self, part: str, old: list[_Passage], new: list[_Passage]) -> None:
        for before, after in _align(old, new):
            if after is None:
                assert before is not None
                self.changes.append(Change("removed", Place(part, before.number), "",
                                           before.text, None, old_notes=before.notes))
            elif before is None:
                self.changes.append(Change("added", Place(part, after.number), "", None,
                                           after.text, new_notes=after.notes))
            else:
                place = Place(part, after.number)
                old_notes = self._still_cited(before.notes)
                new_notes = self._still_cited(after.notes)
                if before.text != after.text or old_notes != new_notes:
                    self.changes.append(Change("changed", place, "", before.text, after.text,
                                               old_notes, new_notes))
                for (name, was), (_, now) in zip(before.fields, after.fields, strict=True):
                    self._value(place, name, was, now)

    def _sections(self) -> None:
        old = {s.key: (n, s) for n, s in enumerate(self.old_brief.sections, 1)}
        new = {s.key: (n, s) for n, s in enumerate(self.new_brief.sections, 1)}
        for key in [*new, *(k for k in old if k not in new)]:
            if key not in old or key not in new:
                number, section = new.get(key) or old[key]
                title = section.title or key
                self.changes.append(Change(
                    "added" if key in new else "removed", Place("section", str(number)),
                    "", None if key in new else title, title if key in new else None))
                continue
            (_, before), (number, after) = old[key], new[key]
            place = Place("section", str(number))
            for name in ("title", "lead", "summary"):
                self._value(place, name, _plain(getattr(before, name)),
                            _plain(getattr(after, name)))
            if self._still_cited(tuple(before.notes)) != self._still_cited(tuple(after.notes)):
                self.changes.append(Change(
                    "changed", place, "notes", old_notes=self._still_cited(tuple(before.notes)),
                    new_notes=self._still_cited(tuple(after.notes))))
            self._passages("paragraph", _passages(before.paragraphs, f"{old[key][0]}."),
                           _passages(after.paragraphs, f"{number}."))

    def _sources_and_notes(self) -> None:
        old_sources = {r.split("/")[0] for r in self.old_cited}
        new_sources = {r.split("/")[0] for r in self.new_cited}
        for source_id in sorted(old_sources | new_sources):
            place = Place("source", source_id)
            if source_id not in old_sources or source_id not in new_sources:
                added = source_id in new_sources
                project, cited = (self.new, self.new_cited) if added else (self.old, self.old_cited)
                title = project.sources[source_id].model.title
                refs = tuple(r for r in cited if r.split("/")[0] == source_id)
                places = tuple(dict.fromkeys(p for r in refs for p in cited[r]))
                self.changes.append(Change(
                    "added" if added else "removed", place, "", None if added else title,
                    title if added else None, () if added else refs, refs if added else (),
                    places))
                continue
            before = self.old.sources[source_id].model
            after = self.new.sources[source_id].model
            for name, was, now in _fields(before, after, {"id", "notes"}):
                self._value(place, name, was, now)
        for ref in sorted(self.old_cited.keys() | self.new_cited.keys()):
            if ref.split("/")[0] not in old_sources & new_sources:
                continue  # told with its source
            self._note(ref)

    def _note(self, ref: str) -> None:
        place = Place("note", ref)
        old = self.old.note(ref) if ref in self.old_cited else None
        new = self.new.note(ref) if ref in self.new_cited else None
        if old is None or new is None:
            added = new is not None
            found = new or old
            assert found is not None
            text = note_text(found[0])
            self.changes.append(Change(
                "added" if added else "removed", place, "", None if added else text,
                text if added else None,
                cited_in=tuple((self.new_cited if added else self.old_cited)[ref])))
            return
        before, after = old[0], new[0]
        first = len(self.changes)
        for name, was, now in _fields(before, after, {"id"}):
            self._value(place, name, was, now)
        self.changes[first:] = [
            Change(c.kind, c.place, c.field, c.old, c.new, cited_in=tuple(self.new_cited[ref]))
            for c in self.changes[first:]
        ]


def note_text(note: Note) -> str:
    """A note's text as a change shows it: its text (every language), with its quote."""
    text = flat(note.text) or ""
    return f"{text} “{note.quote}”" if note.quote else text


def flat(value: Any) -> str | None:
    """A field's value as one text to compare and show (None when unset)."""
    if value is None or value == [] or value == {} or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else None
    if isinstance(value, BaseModel):
        parts = [flat(getattr(value, name)) for name in type(value).model_fields]
        return ", ".join(p for p in parts if p)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(p for p in (flat(v) for v in value) if p)
    return " ".join(str(value).split())


def _fields(old: BaseModel, new: BaseModel, skip: set[str]
            ) -> Iterator[tuple[str, str | None, str | None]]:
    """(field, old text, new text) of two models of one type, a text per language
    compared apart (`text (ru)`), fields in the model's order."""
    for name, info in type(new).model_fields.items():
        if name in skip:
            continue
        label = info.alias or name
        was, now = getattr(old, name, None), getattr(new, name, None)
        if isinstance(was, dict) or isinstance(now, dict):
            was_texts = was if isinstance(was, dict) else {"": was} if was else {}
            now_texts = now if isinstance(now, dict) else {"": now} if now else {}
            for language in dict.fromkeys([*now_texts, *was_texts]):
                named = f"{label} ({language})" if language else label
                yield named, flat(was_texts.get(language)), flat(now_texts.get(language))
        else:
            yield label, flat(was), flat(now)


def cited_places(brief: Brief) -> dict[str, list[Place]]:
    """Each note the brief cites, in order, with the places that cite it."""
    places: dict[str, list[Place]] = {}
    for path, ref in brief.references():
        if path[0] == "sections":
            number = str(int(path[1]) + 1)
            place = (Place("paragraph", f"{number}.{int(path[3]) + 1}")
                     if path[2] == "paragraphs" else Place("section", number))
        else:
            place = Place(_CITING_PARTS[str(path[0])], str(int(path[1]) + 1))
        listed = places.setdefault(ref, [])
        if place not in listed:
            listed.append(place)
    return places


def compare(old: Project, new: Project, brief_ids: Sequence[str] = ()) -> list[BriefDiff]:
    """The changes of each brief (all briefs of either version, unless named)."""
    known = [*new.briefs, *(b for b in old.briefs if b not in new.briefs)]
    unknown = [b for b in brief_ids if b not in known]
    if unknown:
        raise UsageError(f"no brief {unknown[0]!r} in either version; briefs: "
                         f"{', '.join(sorted(known)) or 'none'}")
    diffs = []
    for brief_id in brief_ids or sorted(known):
        before = old.briefs.get(brief_id)
        after = new.briefs.get(brief_id)
        if before is None or after is None:
            diffs.append(BriefDiff(brief_id, "added" if after else "removed",
                                   before.model if before else None,
                                   after.model if after else None))
            continue
        changes = _Comparison(old, new, brief_id).run()
        diffs.append(BriefDiff(brief_id, "changed" if changes else "unchanged",
                               before.model, after.model, changes))
    return diffs


# Showing

def _short(runs: list[tuple[int, str]], context: int = 8) -> list[tuple[int, str]]:
    """Long kept runs cut to `context` words beside an edit (for the terminal)."""
    out = []
    last = len(runs) - 1
    for i, (op, text) in enumerate(runs):
        words = text.split(" ")
        keep_head, keep_tail = i > 0, i < last  # the words next to an edit
        long = len(words) > context * (keep_head + keep_tail) + 1
        if op == 0 and (keep_head or keep_tail) and long:
            head = " ".join(words[:context]) + " …" if keep_head else ""
            tail = "… " + " ".join(words[-context:]) if keep_tail else ""
            text = " ".join(t for t in (head, tail.removeprefix("… ") if head else tail) if t)
        out.append((op, text))
    return out


def describe(change: Change, styled: Any = None) -> str:
    """A change as one terminal line: `key message 2 changed: Talks [-have-]{+had+}
    hosted …` (git's --word-diff=plain markers; `styled(text, op)` may colour them)."""
    def mark(op: int, text: str) -> str:
        marked = text if op == 0 else f"[-{text}-]" if op < 0 else f"{{+{text}+}}"
        return styled(marked, op) if styled and op else marked

    where = f"{change.place} {change.field}".strip()
    head = f"{where} {change.kind}"
    if change.cited_in:
        head += f" (cited in {', '.join(map(str, change.cited_in))})"
    body = ""
    if change.old != change.new:
        body = "".join(mark(op, text) for op, text in _short(change.segments()))
    if change.citations_changed and change.kind == "changed":
        gone = [r for r in change.old_notes if r not in change.new_notes]
        new = [r for r in change.new_notes if r not in change.old_notes]
        cites = ", ".join([*(mark(-1, r) for r in gone), *(mark(1, r) for r in new)])
        cites = f"citations: {cites or 'reordered'}"
        body = f"{body} — {cites}" if body else cites
    elif change.kind != "changed" and (change.old_notes or change.new_notes):
        body += f" [{'; '.join(change.new_notes or change.old_notes)}]"
    return f"{head}: {body}" if body else head


def summary(diffs: list[BriefDiff], old: str, new: str, styled: Any = None) -> list[str]:
    """The terminal report: a line per brief, then one per change."""
    lines = [f"comparing {old} with {new}"]
    for diff in diffs:
        if diff.state in ("added", "removed"):
            lines.append(f"{diff.brief_id}: brief {diff.state}")
        elif not diff.changes:
            lines.append(f"{diff.brief_id}: unchanged")
        else:
            lines.append(f"{diff.brief_id}: {count(len(diff.changes), 'change')}")
            lines += [f"  {describe(c, styled)}" for c in diff.changes]
    return lines


def as_json(diffs: list[BriefDiff], old: str, new: str) -> dict[str, Any]:
    return {
        "old": old, "new": new,
        "briefs": [{"id": d.brief_id, "state": d.state,
                    "changes": [c.as_json() for c in d.changes]} for d in diffs],
    }


def changed(diffs: list[BriefDiff]) -> bool:
    return any(d.state != "unchanged" for d in diffs)


# The redline

REDLINE_TEMPLATE = "redline.html.j2"


def _marking(diff: BriefDiff, new_config: Config) -> Any:
    """The redline's marking: the higher of the two versions' (it prints both)."""
    from .curate import target_marking

    scheme = new_config.markings
    markings = [target_marking(b, "redline", scheme) for b in (diff.new, diff.old) if b]
    known = [m for m in markings if m is not None and scheme and m.level in scheme.levels]
    if not known or scheme is None:
        return markings[0] if markings else None
    return max(known, key=lambda m: scheme.rank(m.level))


def redline_html(diff: BriefDiff, old: Version, new: Version) -> str:
    """The redline of one brief through the template redline.html.j2 (the project's,
    else the package's), on the newer version's brand, in the brief's language."""
    from .config import PAPER_SIZES, Audience
    from .i18n import justified, load_labels
    from .render import fill_template, marking_label
    from .templating import make_environment

    config, brief = new.config, diff.brief
    labels = load_labels(brief.language, config.labels)
    labels["edition"] = labels["redline"]["edition"]
    marking = _marking(diff, config)
    sources = {**old.project.sources, **new.project.sources}
    return fill_template(
        make_environment(config), REDLINE_TEMPLATE, config.root,
        brief=brief, audience=Audience("redline", labels["edition"], REDLINE_TEMPLATE),
        state=diff.state, changes=diff.changes, old=old.label, new=new.label,
        sources={k: e.model for k, e in sources.items()}, paper=PAPER_SIZES[config.paper],
        brand=config.brand, labels=labels, justified=justified(brief.language),
        marking=marking, marking_label=marking_label(marking, brief.language, labels),
    )


def write_redline(diff: BriefDiff, old: Version, new: Version, path: Path, pdf: bool) -> int:
    """Write the redline as PDF (or HTML with its stylesheet inlined), atomically;
    return its pages (0 for HTML)."""
    from .output import write_atomic
    from .pdf import with_stylesheet
    from .render import load_stylesheet
    from .templating import make_environment

    html = redline_html(diff, old, new)
    stylesheet = load_stylesheet(make_environment(new.config), "brief.css")
    if not pdf:
        write_atomic(path, with_stylesheet(html, stylesheet).encode("utf-8"))
        return 0
    from .pdf import render_pdf

    rendered = render_pdf(html, new.config, label=f"redline of {diff.brief_id}",
                          stylesheet=stylesheet, as_of=diff.brief.as_of)
    write_atomic(path, rendered.pdf)
    return rendered.pages
