"""Evidence discipline before rendering: quotes against archived texts, citation
coverage, dates, names (the claim map of a rendered target is claims.py's).

Warnings here become errors under --strict; an event after the brief's as-of date is
always an error.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from . import boundary
from .errors import Problem, display_path
from .load import Project, format_loc
from .models import Place

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'",
                         "’": "'", "‚": "'", "\u00a0": " ", "\u00ad": None})


def normalise(text: str) -> str:
    """Fold what differs between a quote and its source without changing its words:
    Unicode forms, typographic quotes, soft hyphens, whitespace and line breaks."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).split())


def _archived(path: Path, archive: Path, folder: str) -> str:
    """An archived text, normalised; it must be in the archive folder (boundary.read).
    Read again by every check (not cached for the process: `brief watch` sees edits)."""
    data = boundary.read(path, archive, "archived text", name=folder)
    return normalise(data.decode("utf-8", errors="replace"))


def _check_quotes(project: Project, archive: Path | None) -> list[Problem]:
    quoted = [
        (entry, i, note)
        for entry in project.sources.values()
        for i, note in enumerate(entry.model.notes)
        if note.quote
    ]
    if not quoted:
        return []
    root = project.config.root
    if archive is None:
        return [Problem(
            "sources", None, "", f"{len(quoted)} quotes not verified: no archive folder",
            "pass --archive DIR or set `archive` in the project config", warning=True,
        )]
    if not archive.is_dir():
        return [Problem(
            display_path(archive, root), None, "archive", "archive folder not found",
            "check --archive or `archive` in the project config", warning=True,
        )]
    problems = []
    folder = f"the archive folder ({display_path(archive, root)})"
    refused: set[str] = set()  # sources whose archived text was refused (reported once)
    texts: dict[str, str] = {}
    for entry, i, note in quoted:
        source, doc = entry.model, entry.doc
        name = source.archive or f"{source.id}.txt"  # the default archived file name
        if source.id in refused:
            continue
        try:
            if name not in texts:  # several quotes of one source: read once per check
                texts[name] = _archived(archive / name, archive, folder)
            text: str | None = texts[name]
        except boundary.Refused as exc:  # an error, warned or not: never read, never compared
            refused.add(source.id)
            problems.append(Problem(
                doc.path, doc.line(("archive",)), "archive" if source.archive else "",
                f"archived text {name!r} {exc.problem}", exc.remedy,
            ))
            continue
        except OSError:
            text = None
        if text is None:
            problems.append(Problem(
                doc.path, doc.line(("archive",)), "archive",
                f"archived text {name!r} not found in {display_path(archive, root)}",
                "add the file to the archive, or name it with `archive:`", warning=True,
            ))
        elif normalise(note.quote or "") not in text:
            problems.append(Problem(
                doc.path, doc.line(("notes", i, "quote")), f"notes[{i}].quote",
                f"quote not found in {name}",
                "copy the words exactly from the source, or paraphrase in `text` instead",
                warning=True,
            ))
    return problems


def _check_briefs(project: Project, stale_after_days: int) -> list[Problem]:
    problems = []
    cited_sources: set[str] = set()
    for entry in project.briefs.values():
        brief, doc = entry.model, entry.doc
        for name in ("key_messages", "recommendations"):
            for i, item in enumerate(getattr(brief, name)):
                if not item.notes:
                    problems.append(Problem(
                        doc.path, doc.line((name, i)), f"{name}[{i}]", "cites no notes",
                        "add `notes:` with the notes that ground it", warning=True,
                    ))
        newest: dt.date | None = None
        for loc, ref in brief.references():
            found = project.note(ref)
            if found is None:  # reported by validation; evidence checks run after it passes
                continue
            note, source = found
            cited_sources.add(source.id)
            if source.issued and (newest is None or source.issued.end > newest):
                newest = source.issued.end
            last = note.end_date or note.date
            if note.event and last and last.start > brief.as_of:
                problems.append(Problem(
                    doc.path, doc.line(loc), format_loc(loc),
                    f"{ref}: event dated {last}, after the brief's as-of date {brief.as_of}",
                    "check the note's date or the brief's `as_of`",
                ))
        if newest is not None and (brief.as_of - newest).days > stale_after_days:
            problems.append(Problem(
                doc.path, doc.line(("as_of",)), "as_of",
                f"the newest source cited dates from {newest}, "
                f"{(brief.as_of - newest).days} days before the as-of date",
                f"look for newer sources (warning after {stale_after_days} days: "
                "`stale_after_days` in the project config)", warning=True,
            ))
    for source_id, source_entry in project.sources.items():
        if source_id not in cited_sources and project.briefs:
            problems.append(Problem(
                source_entry.doc.path, None, "", "source never cited by any brief",
                "cite its notes in a brief, or remove the file", warning=True,
            ))
    return problems


_WORD = re.compile(r"\w+")


def _names_by_word(places: list[Place]) -> dict[str | None, list[tuple[int, int, str]]]:
    """Each place name as (place index, name index, name), under the first word of the
    name: a text in which the name stands as a whole word has that word as one of its
    words. A name without a word character is under None."""
    index: dict[str | None, list[tuple[int, int, str]]] = {}
    for p, place in enumerate(places):
        for n, name in enumerate(place.names):
            word = _WORD.search(name)
            index.setdefault(word.group() if word else None, []).append((p, n, name))
    return index


def _check_names(project: Project) -> list[Problem]:
    """Dated notes that call a place by a name not in force on their date. Only the
    names whose first word is a word of the note are tried (not every place's names
    against every note), in the order of places.yaml."""
    problems = []
    index = _names_by_word(project.places)
    for entry in project.sources.values():
        for i, note in enumerate(entry.model.notes):
            if note.date is None:
                continue
            words = {w for t in note.texts for w in _WORD.findall(t)}
            candidates = sorted(c for w in (*words, None) for c in index.get(w, ()))
            for p, _, name in candidates:
                right = project.places[p].name_on(note.date)
                pattern = rf"\b{re.escape(name)}\b"
                if right and name != right and any(re.search(pattern, t) for t in note.texts):
                    problems.append(Problem(
                        entry.doc.path, entry.doc.line(("notes", i, "text")),
                        f"notes[{i}].text",
                        f"calls the place {name!r}, but on {note.date} it was {right!r}",
                        f"write {right!r} or say it was renamed (rules in places.yaml)",
                        warning=True,
                    ))
    return problems


def check_evidence(project: Project, archive: Path | None, stale_after_days: int) -> list[Problem]:
    """Every evidence problem in the project (see the module docstring)."""
    return (
        _check_quotes(project, archive)
        + _check_briefs(project, stale_after_days)
        + _check_names(project)
    )
