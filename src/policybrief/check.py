"""The checks on a project and on its targets' budgets, none of which renders.

check_project loads the project, validates it and checks its evidence before any target
is prepared (`brief check`, `brief build`, `brief watch`); check_words checks a curated
target against its audience's word budget, before layout, and check_pages a laid-out
one against its page budget. `brief check` runs these and then prepares every target
as a build does, up to layout (build.check_targets: templates, HTML, citations), so it
imports Jinja2 and Babel but never WeasyPrint: a test keeps it so.
"""

from __future__ import annotations

import logging

from .config import Config, Markings
from .curate import CuratedBrief, counted_fields, source_marking
from .errors import BudgetError, ClearanceError, InputError, Problem
from .evidence import check_evidence
from .load import Entry, Project, load_project
from .models import Brief
from .validate import validate_project

log = logging.getLogger(__name__)


def check_project(
    config: Config, consequence: str = "nothing was built"
) -> tuple[Project, list[Problem]]:
    """Load and validate; log every problem; raise if any is an error (or any, if strict)."""
    project, problems = load_project(config)
    problems += validate_project(project)
    if not any(not p.warning for p in problems):  # evidence checks need sound references
        problems += check_evidence(project, config.archive, config.stale_after_days)
    problems.sort(key=lambda p: (p.path, p.line or 0, p.field))
    for problem in problems:
        (log.warning if problem.warning else log.error)("%s", problem)
    if any(not p.warning or config.strict for p in problems):
        raise InputError(problems, consequence)
    return project, problems


def _fields(names: tuple[str, ...]) -> str:
    """("lead", "notes' text") -> "`lead` and notes' `text`"."""
    return " and ".join("notes' `text`" if n == "notes' text" else f"`{n}`" for n in names)


def _printed(curated: CuratedBrief) -> dict[str, str]:
    """The brief's fields each section's words come from, as the audience prints them."""
    return {s.key: _fields(counted_fields(s, curated.audience)) for s in curated.brief.sections}


def _wordy(curated: CuratedBrief) -> tuple[int | None, str]:
    """The audience's word budget per section, and the sections over it ("" if none)."""
    limit = curated.audience.words_per_section
    printed = _printed(curated)
    wordy = [s for s in curated.sections if limit and s.words > limit]
    return limit, ", ".join(f"{s.key} ({s.words} words in {printed[s.key]})" for s in wordy)


def check_words(label: str, curated: CuratedBrief, strict: bool) -> None:
    """Warn (fail if strict) on sections over the audience's word budget: known before
    layout, so `brief check` says it too."""
    limit, sections = _wordy(curated)
    if sections:
        message = f"{label}: sections over their {limit}-word budget: {sections}"
        if strict:
            raise BudgetError(f"{message} (--strict); shorten them")
        log.warning("%s", message)


def check_pages(label: str, curated: CuratedBrief, pages: int) -> None:
    """Fail a laid-out target over its page budget, naming its wordy sections too."""
    audience = curated.audience
    printed = _printed(curated)
    if audience.pages and pages > audience.pages:
        message = (
            f"{label}: {pages} pages, {pages - audience.pages} over the "
            f"{audience.pages}-page budget"
        )
        limit, sections = _wordy(curated)
        if sections:
            message += f"; sections over their {limit}-word budget: {sections}"
        fields = " or ".join(dict.fromkeys(printed[s.key] for s in curated.sections))
        raise BudgetError(
            f"{message}; shorten what the {audience.name} audience prints (the sections' "
            f"{fields}, the key messages, the recommendations) or raise "
            f"`pages` for audience {audience.name!r} in the project config"
        )


def check_marking(label: str, curated: CuratedBrief, entry: Entry[Brief],
                  scheme: Markings | None) -> None:
    """Fail a target marked lower than the highest marking among the notes it cites
    (for this audience: its `parts` decide what it cites)."""
    marking = curated.marking
    if scheme is None or marking is None:
        return
    rank = scheme.rank(marking.level)
    above = [(source_marking(c.source, scheme), c.ref) for c in curated.cited
             if scheme.rank(source_marking(c.source, scheme)) > rank]
    if not above:
        return
    highest = max((level for level, _ in above), key=scheme.rank)
    audience = curated.audience.name
    own = audience in curated.brief.audience_markings
    loc = ("audience_markings", audience) if own else ("marking",)
    levels = ", ".join(dict.fromkeys(level for level, _ in
                                     sorted(above, key=lambda a: scheme.rank(a[0]))))
    raise ClearanceError(str(Problem(
        entry.doc.path, entry.doc.line(loc) or entry.doc.line(("audiences",)), "marking",
        f"{label} is marked {marking.level} but cites notes marked {levels}: "
        + ", ".join(ref for _, ref in above),
        f"mark the audience {highest} (audience_markings) or cite nothing above "
        f"{marking.level} in it",
    )))
