"""Evidence discipline before rendering: quotes against archived texts, citation
coverage, dates, names (the claim map of a rendered target is claims.py's).

Warnings here become errors under --strict; an event after the brief's as-of date is
always an error.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import boundary
from .errors import Problem, display_path
from .load import Project, format_loc
from .models import PROSE_FIELDS, Note, Place, Source, inline_refs

log = logging.getLogger(__name__)

# Typographic quote marks, folded one character for one (positions stay where they were).
_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'",
                        "’": "'", "‚": "'"})
_SPACES = str.maketrans({"\u00a0": " ", "\u00ad": None})


def normalise(text: str) -> str:
    """Fold what differs between a quote and its source without changing its words:
    Unicode forms, typographic quotes, soft hyphens, whitespace and line breaks."""
    return _spaced(text).translate(_MARKS)


def _spaced(text: str) -> str:
    """normalise, but for the quote marks: the text as shown, as long as its normalised
    form, each character at the same place."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_SPACES).split())


_BLANK_LINE = re.compile(r"\n\s*\n")


def _archived(path: Path, archive: Path, folder: str) -> str:
    """An archived text, normalised but for its quote marks (the sentence around a quote
    is shown with them; locate_quote folds them), one paragraph a line: a blank line parts
    paragraphs unless a lower-case word follows it or the paragraph before stops
    mid-sentence (_unfinished: a sentence broken by extraction). It
    must be in the archive folder (boundary.read). Read again by every check (not cached
    for the process: `brief watch` sees edits)."""
    data = boundary.read(path, archive, "archived text", name=folder)
    paragraphs: list[str] = []
    for piece in filter(None, map(_spaced, _BLANK_LINE.split(
            data.decode("utf-8", errors="replace")))):
        if paragraphs and (piece[0].islower() or _unfinished(paragraphs[-1])):
            paragraphs[-1] += " " + piece
        else:
            paragraphs.append(piece)
    return "\n".join(paragraphs)


_HEADING = 80  # characters: a line ending without punctuation and longer is prose


def _unfinished(paragraph: str) -> bool:
    """A paragraph that stops mid-sentence: it ends in a word or a comma, and it is prose
    (it holds a sentence end, or is longer than a heading such as "Some concluding
    thoughts" would be), not a heading."""
    return bool(re.search(r"[\w,]$", paragraph)
                and (len(paragraph) > _HEADING or _SENTENCE_END.search(paragraph)))


def archived_name(source: Source) -> str:
    """The file name of a source's archived text: its `archive`, else <id>.txt."""
    return source.archive or f"{source.id}.txt"


# Words that turn a statement round when they stand just before a quote (the quote then
# says the opposite of its source), by the source's language.
_POLARITY = {
    "en": {"no", "not", "never", "without", "nor", "neither", "cannot"},
    "ru": {"не", "нет", "без", "ни"},
    "kk": {"емес", "жоқ"},
}
# Negative verb forms in kk: the stem, -ма/-ме/-ба/-бе/-па/-пе, then a tense or a
# person (бармады, келмейді, жазбаған, алмас, бармау).
_KK_NEGATIVE = re.compile(
    r"\w{2,}(?:ма|ме|ба|бе|па|пе)(?:ды|ді|ған|ген|йды|йді|йтын|йтін|с|у|йын|йін|ймын|ймін|"
    r"йсың|йсің|йміз|ңыз|ңіз)"
)
_WORDS = re.compile(r"\w+(?:'\w+)*")  # a word, with its inner apostrophes (don't)
_LAST_WORD = re.compile(r"(\w+(?:'\w+)*)[\s\"'(\[]*$")
_FIRST_WORD = re.compile(r"^[\s\"')\],.;:]*(\w+)")
# A sentence ends at . ! ? or … (and closing quotes or brackets), before a space and a
# word that does not start in lower case (not "U.S. officials"), or at a paragraph's end.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_MAX_SENTENCE = 600  # characters of a sentence shown around a quote; longer ones are cut


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote stands in its archived text: the span, the sentence around it, and
    what distorts it ("starts mid-word: ...", "starts just after 'not', ..."; an empty
    text if nothing does)."""

    start: int
    end: int
    sentence: str
    distortion: str


def _joined(text: str, i: int) -> bool:
    """Whether position i (between text[i-1] and text[i]) is inside a word."""
    def word(j: int) -> bool:
        return 0 <= j < len(text) and (text[j].isalnum() or text[j] == "_")
    return word(i - 1) and word(i) or (
        0 < i < len(text) and text[i - 1] == "'" and word(i - 2) and word(i)
        or text[i:i + 1] == "'" and word(i - 1) and word(i + 1)
    )


def _polarity(word: str, language: str) -> bool:
    word = word.lower()
    if language == "en" and word.endswith("n't"):
        return True
    if language == "kk" and _KK_NEGATIVE.fullmatch(word):
        return True
    return word in _POLARITY.get(language, set())


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (or sentences) of `text` around text[start:end], within its paragraph."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    ends = [m.end() for m in _SENTENCE_END.finditer(text, first, last)
            if not text[m.end():last].lstrip()[:1].islower()]
    first = max([e for e in ends if e <= start], default=first)
    last = min([e for e in ends if e >= end], default=last)
    sentence = text[first:last].strip()
    if len(sentence) > _MAX_SENTENCE:  # a window around the quote
        room = max(0, (_MAX_SENTENCE - (end - start)) // 2)
        a, b = max(first, start - room), min(last, end + room)
        sentence = ("…" if a > first else "") + text[a:b].strip() + ("…" if b < last else "")
    return sentence


def locate_quote(quote: str, text: str, language: str = "en") -> QuoteMatch | None:
    """Where a quote stands in an archived text (_archived): the first place it stands
    as whole words, else the first place inside words (its distortion says so); None if
    the text lacks it. A quote cut just after a polarity word of the source's language
    (or, in kk, just before емес or жоқ) is distorted too."""
    quote = normalise(quote)
    shown, text = text, text.translate(_MARKS)
    flat = text.replace("\n", " ")  # a quote may run on over a paragraph break
    if not quote:
        return None
    whole, inside = None, []  # the first place as whole words; places inside words
    at = flat.find(quote)
    while at >= 0 and whole is None:
        if _joined(flat, at) or _joined(flat, at + len(quote)):
            inside.append((at, at + len(quote)))
        else:
            whole = (at, at + len(quote))
        at = flat.find(quote, at + 1)
    if whole is None and not inside:
        return None
    start, end = whole or inside[0]
    cut = [edge for edge, i in (("starts", start), ("ends", end)) if _joined(flat, i)]
    distortion = ""
    if cut:
        words = _WORDS.finditer(flat, max(0, start - 40), end + 40)
        spanned = [m.group() for m in words if m.end() > start and m.start() < end]
        distortion = f"{' and '.join(cut)} mid-word: the source has '{' '.join(spanned)}'"
    else:
        before = _LAST_WORD.search(flat, max(0, start - 60), start)
        after = _FIRST_WORD.match(flat[end:end + 60])
        if before and _polarity(before.group(1), language):
            distortion = f"starts just after {before.group(1)!r}"
        elif after and language == "kk" and after.group(1).lower() in _POLARITY["kk"]:
            distortion = f"ends just before {after.group(1)!r}"
        if distortion:
            distortion += (", so its words may say the opposite of the source: "
                           f"'{_sentence(text, start, end)}'")
    return QuoteMatch(start, end, _sentence(shown, start, end), distortion)


def nearest_passage(quote: str, text: str) -> str:
    """What a quote not found in `text` is nearest to, and how it differs: "nearest
    passage: '...' (one word differs: the source has 'x' for 'y')". Fuzzy matching is
    RapidFuzz's (imported here: only a failed check needs it)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    quote, flat = normalise(quote), text.translate(_MARKS).replace("\n", " ")
    mine = _WORDS.findall(quote)
    if not mine or not flat:
        return "nothing like it in the source"
    lower = str.lower if len(flat.lower()) == len(flat) else None
    aligned = fuzz.partial_ratio_alignment(quote, flat, processor=lower)
    if aligned is None:
        return "nothing like it in the source"
    spans = [m.span() for m in _WORDS.finditer(flat)]
    first = next((k for k, (_, e) in enumerate(spans) if e > aligned.dest_start), 0)

    def folded(words: list[str]) -> list[str]:
        return [w.casefold() for w in words]

    best: tuple[int, int, int, int] | None = None  # (distance, |length - n|, a, b)
    n = len(mine)
    for a in range(max(0, first - 2), min(len(spans), first + 3)):
        for b in range(a + max(1, n - 3), min(len(spans), a + n + 3) + 1):
            theirs = [flat[s:e] for s, e in spans[a:b]]
            key = (Levenshtein.distance(folded(mine), folded(theirs)), abs(b - a - n), a, b)
            best = key if best is None or key < best else best
    if best is None or best[0] > max(1, n // 2):
        return "nothing near it in the source"
    _, _, a, b = best
    passage = flat[spans[a][0]:spans[b - 1][1]]
    theirs = [flat[s:e] for s, e in spans[a:b]]
    shown = passage if len(passage) <= 80 else passage[:77].rstrip() + "…"
    if folded(mine) == folded(theirs):
        what = "case differs" if mine != theirs else "punctuation or spacing differs"
        return f"{what}: the source has '{shown}'"
    changes, count = [], 0
    for op in Levenshtein.opcodes(folded(mine), folded(theirs)):
        ours, source = " ".join(mine[op.src_start:op.src_end]), " ".join(
            theirs[op.dest_start:op.dest_end])
        if op.tag == "replace":
            changes.append(f"the source has '{source}' for '{ours}'")
        elif op.tag == "delete":
            changes.append(f"the source has no '{ours}'")
        elif op.tag == "insert":
            changes.append(f"the source has '{source}' as well")
        if op.tag != "equal":
            count += max(op.src_end - op.src_start, op.dest_end - op.dest_start)
    differ = "one word differs" if count == 1 else f"{count} words differ"
    return f"nearest passage: '{shown}' ({differ}: {'; '.join(changes[:3])})"


def _check_quotes(project: Project, archive: Path | None,
                  texts: dict[str, str | None]) -> list[Problem]:
    """Each note's quote against its source's archived text; `texts` keeps each text
    read (by file name; None: not readable) for the other checks."""
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
    for entry, i, note in quoted:
        source, doc = entry.model, entry.doc
        name = archived_name(source)
        if source.id in refused:
            continue
        try:
            if name not in texts:  # several quotes of one source: read once per check
                texts[name] = None
                texts[name] = _archived(archive / name, archive, folder)
            text = texts[name]
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
            continue
        where = (doc.path, doc.line(("notes", i, "quote")), f"notes[{i}].quote")
        found = locate_quote(note.quote or "", text, source.language.split("-")[0])
        if found is None:
            problems.append(Problem(
                *where, f"quote not found in {name}; {nearest_passage(note.quote or '', text)}",
                "copy the words exactly from the source, or paraphrase in `text` instead",
                warning=True,
            ))
        elif found.distortion:
            problems.append(Problem(
                *where, f"quote in {name} {found.distortion}",
                "quote whole words, and the negation with them, or paraphrase in `text`",
                warning=True,
            ))
        else:
            log.info("%s/%s: quoted from %s: %s", source.id, note.id, name, found.sentence)
    return problems


def quote_sentences(archive: Path | None, quoted: list[tuple[str, Source, Note]]
                    ) -> dict[str, str]:
    """The source sentence around each quote found, by reference ("source/note"), for
    claims.json and the evidence annex. A quote not found (a warning the check reported)
    or an archived text not readable has none."""
    if archive is None:
        return {}
    folder = f"the archive folder ({archive})"
    texts: dict[str, str | None] = {}
    sentences = {}
    for ref, source, note in quoted:
        name = archived_name(source)
        if not note.quote:
            continue
        if name not in texts:
            try:
                texts[name] = _archived(archive / name, archive, folder)
            except (boundary.Refused, OSError):
                texts[name] = None
        text = texts[name]
        found = locate_quote(note.quote, text, source.language.split("-")[0]) if text else None
        if found is not None:
            sentences[ref] = found.sentence
    return sentences


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


# Words in quotation marks in the brief's own prose: two words or more (a single quoted
# word is usually a term, not a quotation).
_QUOTED = re.compile(r"[“\"«„]([^“”\"«»„]*?\w[^“”\"«»„]*?\s[^“”\"«»„]*?)[”\"»“]")


def _check_prose_quotes(project: Project, archive: Path | None,
                        texts: dict[str, str | None]) -> list[Problem]:
    """Words a brief's paragraph, lead or summary puts in quotation marks must be the
    words of a source it cites there: found, on word boundaries, in one of their
    archived texts (a brief in another language than a source is not checked against
    it: its quotes are translations)."""
    if archive is None or not archive.is_dir():
        return []  # _check_quotes says so
    folder = f"the archive folder ({display_path(archive, project.config.root)})"

    def text_of(source: Source) -> str | None:
        name = archived_name(source)
        if name not in texts:
            try:
                texts[name] = _archived(archive / name, archive, folder)
            except (boundary.Refused, OSError):  # _check_quotes reports it
                texts[name] = None
        return texts[name]

    problems = []
    for entry in project.briefs.values():
        brief, doc = entry.model, entry.doc
        language = brief.language.split("-")[0]
        for i, section in enumerate(brief.sections):
            prose: list[tuple[tuple[str | int, ...], str | None]] = [
                (("sections", i, f), getattr(section, f)) for f in PROSE_FIELDS]
            prose += [(("sections", i, "paragraphs", j), p.text)
                      for j, p in enumerate(section.paragraphs)]
            for loc, text in prose:
                if not text:
                    continue
                found = [project.note(r) for group in inline_refs(text) for r in group]
                sources = {s.id: s for n in found if n for s in [n[1]]
                           if s.language.split("-")[0] == language}
                readable = [t for t in map(text_of, sources.values()) if t is not None]
                if not readable:
                    continue
                for quoted in _QUOTED.findall(text):
                    words = " ".join(quoted.split())
                    if any(locate_quote(words, t, language) for t in readable):
                        continue
                    problems.append(Problem(
                        doc.path, doc.line(loc), format_loc(loc),
                        f"the quoted words “{words}” are in none of the sources it cites "
                        f"({', '.join(sorted(sources))})",
                        "quote the cited source's words exactly, cite the source they come "
                        "from, or drop the quotation marks", warning=True,
                    ))
    return problems


def check_evidence(project: Project, archive: Path | None, stale_after_days: int) -> list[Problem]:
    """Every evidence problem in the project (see the module docstring)."""
    texts: dict[str, str | None] = {}  # archived texts, each read once per check
    return (
        _check_quotes(project, archive, texts)
        + _check_prose_quotes(project, archive, texts)
        + _check_briefs(project, stale_after_days)
        + _check_names(project)
    )
