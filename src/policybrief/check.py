"""The checks that decide whether a target may be built, without rendering anything.

check_project loads the project, validates it and checks its evidence before anything
is rendered (`brief check`, `brief build`, `brief watch`); check_budget checks a
rendered target against its audience's page and word budgets. Nothing here renders,
so `brief check` imports neither Jinja2, Babel nor WeasyPrint: a test keeps it so.
"""

from __future__ import annotations

import logging

from .config import Config
from .curate import CuratedBrief, counted_fields
from .errors import BudgetError, InputError, Problem
from .evidence import check_evidence
from .load import Project, load_project
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


def check_budget(label: str, curated: CuratedBrief, pages: int, strict: bool) -> None:
    """Fail a target over its page budget; warn (fail if strict) on wordy sections."""
    audience = curated.audience
    limit = audience.words_per_section
    # The brief's fields each section's words come from, as the audience prints them.
    printed = {s.key: _fields(counted_fields(s, audience)) for s in curated.brief.sections}
    wordy = [s for s in curated.sections if limit and s.words > limit]
    sections = ", ".join(f"{s.key} ({s.words} words in {printed[s.key]})" for s in wordy)
    if audience.pages and pages > audience.pages:
        message = (
            f"{label}: {pages} pages, {pages - audience.pages} over the "
            f"{audience.pages}-page budget"
        )
        if wordy:
            message += f"; sections over their {limit}-word budget: {sections}"
        fields = " or ".join(dict.fromkeys(printed[s.key] for s in curated.sections))
        raise BudgetError(
            f"{message}; shorten what the {audience.name} audience prints (the sections' "
            f"{fields}, the key messages, the recommendations) or raise "
            f"`pages` for audience {audience.name!r} in the project config"
        )
    if wordy:
        message = f"{label}: sections over their {limit}-word budget: {sections}"
        if strict:
            raise BudgetError(f"{message} (--strict); shorten them")
        log.warning("%s", message)
