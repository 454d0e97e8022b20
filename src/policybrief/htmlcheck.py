"""The check of a document's HTML before layout (check_html): every figure has
alternative text, as PDF/UA needs, and no CSS in a <style> element or a style attribute
is over css.py's limits. Used by pdf.render_pdf; imports nothing heavy.
"""

from __future__ import annotations

from html.parser import HTMLParser

from .css import check_css
from .errors import RenderError, TemplatingError


class _Accessibility(HTMLParser):
    """Finds images without alternative text: <img> without alt, <svg> without <title>.
    Also collects the CSS in <style> elements and style attributes, for check_css."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: list[str] = []
        self._svg: list[bool] = []  # per open <svg>: has it a <title>?
        self.styles: list[tuple[int, str, bool]] = []  # (line, css, a style attribute?)
        self._style_line: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("style"):
            self.styles.append((self.getpos()[0], values["style"] or "", True))
        if tag == "img" and not (values.get("alt") or "").strip():
            self.missing.append(f"image {values.get('src') or '(no src)'!r}")
        elif tag == "svg":
            self._svg.append(False)
        elif tag == "title" and self._svg:
            self._svg[-1] = True
        elif tag == "style":
            self._style_line = self.getpos()[0]

    def handle_data(self, data: str) -> None:
        if self._style_line is not None:
            self.styles.append((self._style_line, data, False))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._svg and not self._svg.pop():
            self.missing.append("an inline SVG figure")
        elif tag == "style":
            self._style_line = None


def check_html(html: str, label: str) -> None:
    """Before layout: every figure has alternative text (PDF/UA needs it), and no CSS
    value in the document is beyond what WeasyPrint can lay out (see check_css)."""
    parser = _Accessibility()
    parser.feed(html)
    parser.close()
    if parser.missing:
        raise TemplatingError(
            f"{label}: {parser.missing[0]} has no alternative text; give images alt text "
            "(in a note: ![what it shows](file.png)) and SVGs a <title>"
        )
    for line, css, attribute in parser.styles:
        problems = check_css(css, declarations_only=attribute)
        if problems:
            where = "a style attribute" if attribute else "<style>"
            raise RenderError(
                f"{label}: CSS {problems[0]} (in {where} at line {line} of the HTML); "
                "use a value within the limit"
            )

