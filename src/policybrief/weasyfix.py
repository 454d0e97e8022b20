"""Narrowly scoped corrections of WeasyPrint 70.0's layout, each for a fault the layout
checks (verify.py) found in a shipped brief. Only pdf.py, the module that renders,
installs them; tests/test_weasyprint_footnotes.py and tests/test_weasyprint_lines.py
hold the engine's behaviour without them.

1. Footnotes deferred to the next page are lost when that page is laid out again
(issue 14); `keep_deferred_footnotes`.

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

2. The footnotes of a line kept on a page by deferring the page's earlier footnotes
are never laid out, and so are lost (`lay_out_kept_line_footnotes`).

The engine's fault (weasyprint/layout/block.py, `_linebox_layout`): when a line
overflows the page, but the paragraph may not break before it (orphans and widows)
and may break after it, the engine defers the page's footnotes, last first, until the
line fits, keeps the line and ends the page. It leaves the loop there, before the
code that lays out the footnotes called in each kept line: a call in that line is
printed, its body never laid out, on no page. Found when correction 3 moved the
analyst brief's lines by one (footnotes 14 and 33 lost). The correction wraps
`_linebox_layout`: when it ended the page on such a line, the bodies of its calls not
yet laid out are laid out and deferred to the next page, after the ones deferred to
make room, as the engine does with any call whose body does not fit.

3. A line broken after its first word although the rest of the text fits
(`fit_trailing_space`).

The engine's fault (weasyprint/text/line_break.py, `split_first_line`): the text of a
text box that is followed by another inline box (an <em>, a link, a footnote call)
ends with a space. When what is left of that text fits the line only without that
space, Pango lays it out on one line (a trailing space hangs past the edge) but the
logical width WeasyPrint measures includes the space and exceeds the line. Step 2 of
split_first_line ("don't split lines when it's not needed") then fails, and step 3
takes the line for one that "can't be split earlier": it keeps the text's first word
alone on the line and moves the rest to the next. In the shipped analyst brief: a line
holding only "to" in the middle of a justified paragraph.

The correction wraps the `split_first_line` that inline layout calls
(`weasyprint.layout.inline.split_first_line`; the min/max-content measures of
preferred.py are left as they are): when the engine split a text whose spaces collapse
and that ends with a space, and the text without its trailing spaces fits the width
on one line, the whole text is the line, measured as step 2 measures it (the trailing
space is removed at the end of the line, as for any line).

Written for, and only installed on, WeasyPrint 70.0: any other version is left alone
(see `install`).
"""

from __future__ import annotations

import functools
from typing import Any

FOR_VERSION = "70.0"
# What install() wraps: (module, function). Each wrapper keeps the original as
# __wrapped__ (tests take them off again to show the engine as shipped).
PATCHED = (
    ("weasyprint.layout.page", "remake_page"),  # correction 1
    ("weasyprint.layout.block", "_linebox_layout"),  # correction 2
    ("weasyprint.layout.inline", "split_first_line"),  # correction 3
)
_ATTR = "_policybrief_reported_footnotes"  # on the LayoutContext: {page index: [boxes]}
_ORDER = "_policybrief_footnote_order"


def install(version: str | None = None) -> bool:
    """Install the corrections (once); False, and nothing done, when the installed
    WeasyPrint is not the version they were written for."""
    import weasyprint

    if (version or weasyprint.__version__) != FOR_VERSION:
        return False
    keep_deferred_footnotes()
    lay_out_kept_line_footnotes()
    fit_trailing_space()
    return True


def keep_deferred_footnotes() -> None:
    """Wrap weasyprint.layout.page.remake_page (once): correction 1."""
    from weasyprint.layout import page

    if getattr(page.remake_page, "_policybrief", False):
        return  # the original stays reachable as remake_page.__wrapped__
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


def lay_out_kept_line_footnotes() -> None:
    """Wrap weasyprint.layout.block._linebox_layout (once): correction 2."""
    from weasyprint.layout import block

    if getattr(block._linebox_layout, "_policybrief", False):
        return  # the original stays reachable as _linebox_layout.__wrapped__
    original = block._linebox_layout

    @functools.wraps(original)
    def _linebox_layout(context: Any, box: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(context, box, *args, **kwargs)
        abort, stop, resume_at, position_y, new_footnotes, max_lines = result
        lines = args[2]  # new_children, after index and child
        if abort or not stop or not lines or not context.footnotes:
            return result
        for descendant in lines[-1].descendants():
            footnote = descendant.footnote
            if footnote is not None and footnote in context.footnotes:
                # What the engine does with a call whose body does not fit: lay the
                # body out, and defer it to the next page.
                context.layout_footnote(footnote)
                context.report_footnote(footnote)
                new_footnotes.append(footnote)
        return result

    _linebox_layout._policybrief = True  # type: ignore[attr-defined]
    block._linebox_layout = _linebox_layout


# split_first_line's own bound (step 1): a text that fits a line of max_width px has at
# most max_width / font_size * 4 characters; longer texts are not tried whole.
_CHARACTERS_PER_EM = 4


def fit_trailing_space() -> None:
    """Wrap weasyprint.layout.inline.split_first_line (once): correction 3."""
    from weasyprint.layout import inline
    from weasyprint.text.line_break import create_layout, first_line_metrics, line_size

    if getattr(inline.split_first_line, "_policybrief", False):
        return  # the original stays reachable as split_first_line.__wrapped__
    original = inline.split_first_line

    @functools.wraps(original)
    def split_first_line(text: str, style: Any, context: Any, max_width: float | None,
                         justification_spacing: float, is_line_start: bool = True,
                         minimum: bool = False) -> Any:
        result = original(text, style, context, max_width, justification_spacing,
                          is_line_start, minimum)
        stripped = text.rstrip(" ")
        if (result[2] is None or stripped == text or not stripped
                or max_width is None or max_width == float("inf")
                or style["white_space"] not in ("normal", "pre-line")
                or len(text) > max_width / style["font_size"] * _CHARACTERS_PER_EM):
            return result
        trial = create_layout(stripped, style, context, max_width, justification_spacing)
        line, resume_index = trial.get_first_line()
        fits = resume_index is None and line_size(line, style)[0] <= max_width
        trial.deactivate()
        if not fits:
            return result  # the engine was right to split it
        layout = create_layout(text, style, context, max_width, justification_spacing)
        line, resume_index = layout.get_first_line()
        if resume_index is not None:  # Pango did not let the space hang: as it was
            layout.deactivate()
            return result
        return first_line_metrics(line, text, layout, None, True, style)

    split_first_line._policybrief = True  # type: ignore[attr-defined]
    inline.split_first_line = split_first_line
