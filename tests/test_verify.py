"""The prototype verifier (verify.py) on crafted documents: each breaks one property
and must be reported; the same document without the defect must pass."""

from __future__ import annotations

from importlib.resources import files

from weasyprint import CSS, HTML

from policybrief import verify

OVERFLOW = """
<style>
  @page { size: 300px 200px; margin: 20px; }
  body { margin: 0; font: 10px/20px monospace; }
  p { margin: 0; }
</style>
<p>Some words and then <span style="white-space: nowrap"
  >(Author and Other 2024, pp. 12-14, 18-19, 21)</span></p>
"""


def test_the_verifier_finds_text_past_the_right_margin() -> None:
    problems = verify.overflows(HTML(string=OVERFLOW).render())
    assert [(p.kind, p.page) for p in problems] == [("overflow", 1)]
    assert "right margin" in problems[0].message


def test_the_verifier_passes_text_that_wraps() -> None:
    wraps = OVERFLOW.replace("white-space: nowrap", "white-space: normal")
    assert verify.overflows(HTML(string=wraps).render()) == []


def test_packaged_css_wraps_a_long_in_text_citation() -> None:
    """attach() glues the last word to its citation (.nobr, white-space: nowrap); with an
    author-date style that citation is long text and must still wrap (issue 14)."""
    css = CSS(string=(files("policybrief") / "templates" / "brief.css").read_text("utf-8"))
    cite = "Kazakhstan, a Mediator in the Syrian Crisis 2017, 'The initiative', para. 1; " * 3
    html = (f'<p>Words before the end of the <span class="nobr">sentence <span class="cite">'
            f"({cite})</span></span></p>")
    assert verify.overflows(HTML(string=html).render(stylesheets=[css])) == []
