"""WeasyPrint's line breaking, rendered directly (no policybrief templates): the engine
fault behind the one-word line of the Astana analyst brief (page 2, "to" alone in a
justified key message), and its correction (weasyfix.py, correction 3).

The fault: a text followed by another inline box ends with a space. When the rest of
that text fits the line only without the space, WeasyPrint keeps its first word alone
on the line and moves the rest to the next (text/line_break.py split_first_line: the
width it measures includes the trailing space, which Pango lets hang). No page break,
hyphenation or justification is needed; in the brief the line followed a word
hyphenated across the page break, which is where the remaining text started."""

from __future__ import annotations

import pytest
from weasyprint import HTML, __version__
from weasyprint.formatting_structure import boxes

from policybrief import verify

# engine_as_shipped and corrected: fixtures of conftest.py.
STYLE = """
<style>
  @page { size: 400px 200px; margin: 20px; }
  body { margin: 0; font: 10px/20px sans-serif; }
  p { margin: 0; }
</style>
"""
WORDS = "to join sanctions now"

ENGINE_FAULT = (
    "WeasyPrint 70.0: a text that fits the line but for its trailing space keeps only its "
    "first word on the line (line_break.py split_first_line, step 3)"
)


def _lines(html: str) -> list[str]:
    """The words of each line box of the document's flow, in order."""
    found = []
    for page in HTML(string=html).render().pages:
        for box in verify._walk(page._page_box):
            if isinstance(box, boxes.LineBox):
                found.append(verify._text(box, 200))
    return found


def _width(text: str) -> float:
    """The width of the text on one line, with this stylesheet."""
    page = HTML(string=STYLE + f"<p>{text}</p>").render().pages[0]
    line = next(b for b in verify._walk(page._page_box) if isinstance(b, boxes.LineBox))
    return float(line.children[0].width)


def _fits_but_for_the_space(spaces: float = 0.5) -> str:
    """The words, then a span: the paragraph is as wide as the words and half a space,
    so the words fit their line and the space after them does not."""
    space = _width("a a") - _width("aa")
    width = _width(WORDS) + space * spaces
    return STYLE + f'<p style="width: {width:.2f}px">{WORDS} <span>elsewhere</span></p>'


@pytest.mark.xfail(__version__ == "70.0", strict=True, reason=ENGINE_FAULT)
def test_words_that_fit_but_for_a_trailing_space_stay_on_their_line(
    engine_as_shipped: None,
) -> None:
    assert _lines(_fits_but_for_the_space()) == [WORDS, "elsewhere"]


def test_the_engine_keeps_one_word_alone(engine_as_shipped: None) -> None:
    """The fault as it shows: the first word alone, a line with room for the rest."""
    if __version__ != "70.0":
        pytest.skip("the fault of WeasyPrint 70.0")
    assert _lines(_fits_but_for_the_space()) == ["to", "join sanctions now", "elsewhere"]


def test_words_that_fit_with_their_space_are_one_line(engine_as_shipped: None) -> None:
    """With a whole space to spare the engine was always right."""
    assert _lines(_fits_but_for_the_space(spaces=1.5)) == [WORDS, "elsewhere"]


def test_corrected_engine_keeps_the_words_together(corrected: None) -> None:
    assert _lines(_fits_but_for_the_space()) == [WORDS, "elsewhere"]


def test_correction_leaves_text_that_does_not_fit(corrected: None) -> None:
    """One word too many: broken where it was, not squeezed or overflowing."""
    html = _fits_but_for_the_space().replace(WORDS, WORDS + " too")
    assert _lines(html) == [WORDS, "too elsewhere"]
