"""A narrowly scoped correction of WeasyPrint 70.0's pagination: footnotes deferred to
the next page are lost when that page is laid out again (issue 14). Only pdf.py, the
module that renders, installs it.

The engine's fault (weasyprint/layout/page.py): a footnote whose body does not fit on
its call's page is "reported" (`LayoutContext.report_footnote`) and
`context.reported_footnotes` is handed, as process state, to the next `make_page`,
which lays it out first. When a later pass re-makes only some pages (a page whose
`target-counter()` values changed, e.g. one with the contents), `make_all_pages`
reuses the page before it unchanged, so nothing sets `reported_footnotes` again:
the re-made page starts with none, and the deferred bodies appear on no page. The
page cache (`context.page_maker`) keeps a page's resume point, counters and side,
but not the footnotes it passes on.

The correction wraps `page.remake_page`: it remembers, for each page, the footnotes
the page before it passed on, and restores them when that page is re-made without
its predecessor; it puts them back in document order (the engine can pass them on
reversed: block.py's `_linebox_layout` only re-orders when it reported two or more
in one go); when a re-made page passes on a different set than before, it marks the
next page as changed so that it is re-made too; and it has a last page of content
that defers footnotes re-made in every pass, as `make_all_pages` would otherwise stop
at it, reused, and drop the page of footnotes after it (a second form of the fault).
Written for, and only installed on, WeasyPrint 70.0: any other version is left alone
(see `install`); tests/test_weasyprint_footnotes.py holds the engine's behaviour.
"""

from __future__ import annotations

import functools
from typing import Any

FOR_VERSION = "70.0"
_ATTR = "_policybrief_reported_footnotes"  # on the LayoutContext: {page index: [boxes]}
_ORDER = "_policybrief_footnote_order"


def install(version: str | None = None) -> bool:
    """Wrap weasyprint.layout.page.remake_page (once); False, and nothing done, when
    the installed WeasyPrint is not the version this was written for."""
    import weasyprint
    from weasyprint.layout import page

    if (version or weasyprint.__version__) != FOR_VERSION:
        return False
    if getattr(page.remake_page, "_policybrief", False):
        return True  # the original stays reachable as remake_page.__wrapped__
    original = page.remake_page

    @functools.wraps(original)
    def remake_page(index: int, context: Any, root_box: Any, html: Any) -> Any:
        saved: dict[int, list[Any]] = context.__dict__.setdefault(_ATTR, {})
        order: dict[int, int] = context.__dict__.setdefault(_ORDER, {})
        if not order:  # the first page of the first pass: every footnote still waits
            order.update((id(f), n) for n, f in enumerate(context.footnotes))
        # What the page before passed on, whether it was just made or reused.
        context.reported_footnotes = list(saved.get(index, ()))
        context.reported_footnotes.sort(key=lambda f: order.get(id(f), len(order)))
        result = original(index, context, root_box, html)
        passed_on = list(context.reported_footnotes)
        before = saved.get(index + 1)
        saved[index + 1] = passed_on
        if before is not None and before != passed_on and index + 1 < len(
            context.page_maker
        ):
            context.page_maker[index + 1][-1]["content_changed"] = True
        if passed_on and result[1] is None:
            # The last page of content defers footnotes to a page of their own. Were it
            # reused in a later pass, make_all_pages would stop there (it only looks at
            # reported_footnotes for pages it re-made) and drop that page: have it
            # re-made whenever a pass runs ('pages_wanted' adds no pass by itself).
            context.page_maker[index][-1]["pages_wanted"] = True
        return result

    remake_page._policybrief = True  # type: ignore[attr-defined]
    page.remake_page = remake_page
    return True
