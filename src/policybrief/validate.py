"""Cross-file checks: references, ids, sections and audiences. Returns every problem."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .errors import Problem, closest
from .load import Entry, Project, format_loc
from .markdown import markdown_checker
from .models import CITATION_LIKE, CITING_LISTS, INLINE_CITATION, PROSE_FIELDS, Brief
from .vocabulary import QUOTING_PERSPECTIVES, QUOTING_TYPES, Texts, text_in, unknown_language


def _did_you_mean(word: str, options: Iterable[str], fallback: str) -> str:
    close = closest(word, options)
    return f"did you mean {close!r}?" if close else fallback


def _check_sources(project: Project) -> list[Problem]:
    problems = []
    sections = project.config.sections
    for entry in project.sources.values():
        seen: dict[str, int] = {}
        for i, note in enumerate(entry.model.notes):
            if note.id in seen:
                problems.append(
                    Problem(
                        entry.doc.path, entry.doc.line(("notes", i, "id")), f"notes[{i}].id",
                        f"duplicate note id {note.id!r} (first used in notes[{seen[note.id]}])",
                        "give each note in a source its own id",
                    )
                )
            seen.setdefault(note.id, i)
            source = entry.model
            if note.quote and not note.speaker and (
                    source.type in QUOTING_TYPES or source.perspective in QUOTING_PERSPECTIVES):
                problems.append(Problem(
                    entry.doc.path, entry.doc.line(("notes", i, "quote")), f"notes[{i}].quote",
                    f"note {note.id!r} has a quote but no speaker, and its source "
                    f"({source.type}, {source.perspective}) is of a kind that quotes others",
                    "add `speaker:` (who said them; the author's name if they are the "
                    "author's own)", warning=True,
                ))
            if note.section not in sections:
                problems.append(
                    Problem(
                        entry.doc.path, entry.doc.line(("notes", i, "section")),
                        f"notes[{i}].section", f"unknown section {note.section!r}",
                        _did_you_mean(
                            note.section, sections,
                            f"use one of: {', '.join(sections)} (set in the project config)",
                        ),
                    )
                )
    return problems


def _check_ref(
    project: Project, entry: Entry[Brief], loc: tuple[str | int, ...], ref: str
) -> Problem | None:
    source_id, note_id = ref.split("/", 1)
    field = format_loc(loc)
    line = entry.doc.line(loc)
    source = project.sources.get(source_id)
    if source is None and source_id in project.broken:
        return None  # its own errors are reported; an "unknown source" here would be noise
    if source is None:
        return Problem(
            entry.doc.path, line, field, f"unknown source {source_id!r} in {ref!r}",
            _did_you_mean(source_id, project.sources, f"add sources/{source_id}.yaml"),
        )
    if note_id not in source.notes_by_id:
        return Problem(
            entry.doc.path, line, field, f"source {source_id!r} has no note {note_id!r}",
            _did_you_mean(note_id, [n.id for n in source.model.notes],
                          f"check the note ids in {source.doc.path}"),
        )
    return None


def _check_brief(project: Project, entry: Entry[Brief]) -> list[Problem]:
    brief, doc, config = entry.model, entry.doc, project.config
    problems: list[Problem | None] = []
    for i, audience in enumerate(brief.audiences):
        profile = config.audiences.get(audience)
        if profile is None:
            problems.append(
                Problem(
                    doc.path, doc.line(("audiences", i)), f"audiences[{i}]",
                    f"unknown audience {audience!r}",
                    _did_you_mean(audience, config.audiences,
                                  f"use one of: {', '.join(config.audiences)}"),
                )
            )
            continue
        for needed in profile.requires:
            if not getattr(brief, needed):
                problems.append(
                    Problem(
                        doc.path, doc.line(("audiences", i)), f"audiences[{i}]",
                        f"audience {audience!r} needs `{needed}`, which this brief lacks",
                        f"add `{needed}:` to the brief or remove the audience",
                    )
                )
    keys: dict[str, int] = {}
    for i, section in enumerate(brief.sections):
        if section.key not in config.sections:
            problems.append(
                Problem(
                    doc.path, doc.line(("sections", i, "key")), f"sections[{i}].key",
                    f"unknown section {section.key!r}",
                    _did_you_mean(section.key, config.sections,
                                  f"use one of: {', '.join(config.sections)}"),
                )
            )
        if section.key in keys:
            problems.append(
                Problem(
                    doc.path, doc.line(("sections", i, "key")), f"sections[{i}].key",
                    f"section {section.key!r} appears twice (also sections[{keys[section.key]}])",
                    "merge the two sections",
                )
            )
        keys.setdefault(section.key, i)
    problems += _check_prose(project, entry)
    problems += [_check_ref(project, entry, loc, ref) for loc, ref in brief.references()]
    problems += _check_languages(project, entry)
    return [p for p in problems if p is not None]


def _check_prose(project: Project, entry: Entry[Brief]) -> list[Problem | None]:
    """Each argued paragraph cites a note or is marked as the authors' judgement; each
    inline citation is well-formed, and only where it can be printed as one."""
    brief, doc = entry.model, entry.doc
    problems: list[Problem | None] = []
    texts: list[tuple[Loc, str]] = []
    for i, section in enumerate(brief.sections):
        texts += [(("sections", i, f), getattr(section, f)) for f in PROSE_FIELDS
                  if getattr(section, f)]
        for j, paragraph in enumerate(section.paragraphs):
            loc: Loc = ("sections", i, "paragraphs", j)
            texts.append((loc, paragraph.text))
            if not paragraph.refs and not paragraph.judgement:
                problems.append(Problem(
                    doc.path, doc.line(loc), format_loc(loc),
                    "the paragraph cites no note and is not marked as our judgement",
                    "cite the notes it rests on as [@source/note] after the sentence each "
                    "supports, or mark it `judgement: true` (printed as the authors' view)",
                ))
            quoted = paragraph.pull_quote
            found = project.note(quoted) if quoted else None
            if quoted and quoted not in {r for group in paragraph.refs for r in group}:
                problems.append(Problem(
                    doc.path, doc.line((*loc, "pull_quote")), format_loc((*loc, "pull_quote")),
                    f"pull_quote {quoted!r} is not a note the paragraph cites",
                    f"cite it in the paragraph's text as [@{quoted}], or pull a quote from a "
                    "note it cites",
                ))
            elif found is not None and found[0].quote is None:
                problems.append(Problem(
                    doc.path, doc.line((*loc, "pull_quote")), format_loc((*loc, "pull_quote")),
                    f"note {quoted!r} has no `quote` to pull out",
                    "give the note a `quote:` (the source's words) or remove `pull_quote`",
                ))
    for loc, text in texts:
        for bad in CITATION_LIKE.finditer(INLINE_CITATION.sub("", text)):
            problems.append(Problem(
                doc.path, doc.line(loc), format_loc(loc),
                f"{bad.group(0)!r} is not an inline citation",
                "write [@source-id/note-id], several as [@a/b; @c/d]",
            ))
    for name in CITING_LISTS:
        for i, item in enumerate(getattr(brief, name)):
            for field in ("text", "question", "answer"):
                value = getattr(item, field, None)
                if value and CITATION_LIKE.search(value):
                    loc = (name, i)
                    problems.append(Problem(
                        doc.path, doc.line(loc), format_loc(loc),
                        "inline citations [@…] are for a section's paragraphs, lead and "
                        "summary",
                        f"list the notes under `notes:` of this item of `{name}`",
                    ))
    return problems


def _check_languages(project: Project, entry: Entry[Brief]) -> list[Problem | None]:
    """Every text the brief shows needs the brief's language (or an audience that allows
    the gap, which is then a warning): a cited note's `text` (a plain text is in the
    project's language), and any field written per language ({en: ..., kk: ...}): a
    note's `event` and `locator`, its source's `assessment`, the config's section titles
    and audience labels (a plain one is shown as written, in every language)."""
    brief, config = entry.model, project.config
    unknown = unknown_language(brief.language)
    if unknown is not None:  # one error, not one for every note "without text in it"
        return [Problem(entry.doc.path, entry.doc.line(("language",)), "language", unknown,
                        "use a language code such as en, ru or kk")]
    if unknown_language(config.language) is not None:
        return []  # validate_project reports the project's language once
    language, base = brief.language, brief.language.split("-")[0]
    profiles = [config.audiences[a] for a in brief.audiences if a in config.audiences]
    lenient = bool(profiles) and all(p.allow_untranslated for p in profiles)
    allow = "" if lenient else ", or allow_untranslated in the audience's profile"
    languages = ", ".join(f"{code}: ..." for code in dict.fromkeys((config.language, base)))
    problems: list[Problem | None] = []

    def lacking(value: Texts | None, default: str | None) -> bool:
        return value is not None and text_in(value, language, default) is None

    seen: set[str] = set()
    sources: set[str] = set()
    for loc, ref in brief.references():
        found = project.note(ref)
        if found is None or ref in seen:
            continue
        seen.add(ref)
        note, source = found
        fields = [("text", note.text, config.language), ("event", note.event, None),
                  ("locator", note.locator, None)]
        what = [(f"note {ref!r} has no {name} in {language!r}", name) for name, value, default
                in fields if lacking(value, default)]
        if source.id not in sources and lacking(source.assessment, None):
            what.append((f"source {source.id!r} has no assessment in {language!r}",
                         "assessment"))
        sources.add(source.id)
        problems += [Problem(
            entry.doc.path, entry.doc.line(loc), format_loc(loc), problem,
            f"give it `{name}: {{{languages}}}`" + allow,
            warning=lenient,
        ) for problem, name in what]
    where = config.config_file.name
    for i, section in enumerate(brief.sections):
        title = config.sections.get(section.key)
        if section.title is None and lacking(title, None):
            problems.append(Problem(
                where, None, f"sections.{section.key}",
                f"the title of section {section.key!r} has no {language!r} text "
                f"(used by {entry.doc.path}, sections[{i}])",
                f'give it {section.key} = {{{config.language} = "...", {base} = "..."}}, '
                "or a `title:` in the brief" + allow, warning=lenient))
    for audience in profiles:
        if lacking(audience.label, None):
            problems.append(Problem(
                where, None, f"audiences.{audience.name}.label",
                f"the label of audience {audience.name!r} has no {language!r} text "
                f"(used by {entry.doc.path})",
                f'give it label = {{{config.language} = "...", {base} = "..."}}' + allow,
                warning=lenient))
    return problems


Loc = tuple[str | int, ...]


def _texts(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _texts(value, (*loc, i))


def _check_markdown(project: Project) -> list[Problem]:
    """Every text a template may render as Markdown (any string in a source or brief):
    images only from inside the project, nesting within markdown-it's limit. Checked here,
    before rendering, so that the error names the note, not just a refused URL."""
    problems = []
    check = markdown_checker(project.config)
    entries: list[Entry[Any]] = [*project.sources.values(), *project.briefs.values()]
    for entry in entries:
        doc = entry.doc
        for loc, text in _texts(doc.data):
            found = check(text)
            if not found:
                continue
            note = ""
            if loc[:1] == ("notes",) and len(loc) > 1 and isinstance(loc[1], int):
                notes = entry.model.notes
                note = f"note {notes[loc[1]].id!r}: " if loc[1] < len(notes) else ""
            for problem in found:
                problems.append(Problem(
                    doc.path, doc.line(loc), format_loc(loc), note + problem.message,
                    _MARKDOWN_REMEDIES[problem.kind], warning=problem.kind == "missing",
                ))
    return problems


_MARKDOWN_REMEDIES = {
    "outside": "use an image file inside the project (paths are relative to templates/) "
               "or inline PNG/JPEG/GIF/WebP data",
    "missing": "add the file (image paths are relative to templates/) or fix the path",
    "nesting": "nest block quotes, lists and brackets less deeply",
}


def _check_markings(project: Project) -> list[Problem]:
    """Every marking, caveat and embargo names the project's scheme; none without one."""
    scheme, problems = project.config.markings, []
    table = ("[markings]" if project.config.config_file.name == "policybrief.toml"
             else "[tool.policybrief.markings]")
    entries: list[Entry[Any]] = [*project.sources.values(), *project.briefs.values()]
    for entry in entries:
        model, doc = entry.model, entry.doc
        given: list[tuple[Loc, str, tuple[str, ...]]] = []
        levels = scheme.levels if scheme else ()
        if model.marking is not None:
            given.append((("marking",), model.marking, levels))
        if isinstance(model, Brief):
            given += [(("caveats", i), c, scheme.caveats if scheme else ())
                      for i, c in enumerate(model.caveats)]
            given += [(("audience_markings", a), m, levels)
                      for a, m in model.audience_markings.items()]
            if model.embargo is not None:
                given.append((("embargo",), "", ()))
            for audience in model.audience_markings:
                if audience not in model.audiences:
                    loc: Loc = ("audience_markings", audience)
                    problems.append(Problem(
                        doc.path, doc.line(loc), format_loc(loc),
                        f"{audience!r} is not one of the brief's audiences",
                        f"mark one of: {', '.join(model.audiences)}"))
        for loc, value, allowed in given:
            if scheme is None:
                problems.append(Problem(
                    doc.path, doc.line(loc), format_loc(loc),
                    "the project declares no marking scheme",
                    f"declare it in the project config: {table} with levels (lowest "
                    "first), caveats and a default; or remove the marking"))
                break
            if value and value not in allowed:
                kind = "caveat" if loc[0] == "caveats" else "marking level"
                problems.append(Problem(
                    doc.path, doc.line(loc), format_loc(loc), f"unknown {kind} {value!r}",
                    _did_you_mean(value, allowed, f"use one of: {', '.join(allowed) or 'none'} "
                                  f"({table} in the project config)")))
    return problems


def _check_control(entry: Entry[Brief]) -> list[Problem]:
    """Document control: a cleared or final brief was cleared, the clearance history is in
    date order, and a brief dated after its last clearance is flagged."""
    brief, doc, problems = entry.model, entry.doc, []
    for i in range(1, len(brief.clearance)):
        if brief.clearance[i].date < brief.clearance[i - 1].date:
            loc: Loc = ("clearance", i, "date")
            problems.append(Problem(
                doc.path, doc.line(loc), format_loc(loc),
                f"{brief.clearance[i].date} is before the entry above it "
                f"({brief.clearance[i - 1].date})", "list the clearance history oldest first"))
    last = brief.last_clearance
    if brief.status in ("cleared", "final") and (last is None or last.decision != "cleared"):
        found = (f"its last clearance entry ({last.name}, {last.date}) decided {last.decision!r}"
                 if last else "it has no clearance entry")
        problems.append(Problem(
            doc.path, doc.line(("status",)), "status",
            f"the brief is {brief.status!r} but {found}",
            "add the clearance under `clearance:` (name, role, date, decision: cleared), "
            "or set `status: for clearance`"))
    if last is not None and brief.as_of > last.date:
        problems.append(Problem(
            doc.path, doc.line(("as_of",)), "as_of",
            f"the brief is dated {brief.as_of}, after its last clearance ({last.name}, "
            f"{last.date}): what the clearer saw may have changed",
            "have it cleared again and add the entry to `clearance:` (`brief diff` shows "
            "what changed), or correct `as_of`", warning=True))
    return problems


def validate_project(project: Project) -> list[Problem]:
    """Every cross-reference problem in the project, sorted by file and line."""
    problems = _check_sources(project) + _check_markdown(project) + _check_markings(project)
    config = project.config
    if (unknown := unknown_language(config.language)) is not None:
        problems.append(Problem(
            config.config_file.name, None, "language", unknown,
            "set `language` in the project config to a language code such as en, ru or kk"))
    for entry in project.briefs.values():
        problems.extend(_check_brief(project, entry))
        problems.extend(_check_control(entry))
    if not project.briefs and not project.broken_briefs:
        problems.append(
            Problem("briefs", None, "", "no brief found", "add briefs/<brief-id>.yaml")
        )
    return problems
