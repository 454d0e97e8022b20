"""The Word edition of a target (build/<brief>/<audience>.docx), from the same curated
brief and formatted citations as its PDF, not from the print HTML.

The curated brief becomes a pandoc document (pandoc's JSON AST: no escaping, so note
text cannot make markup), which pandoc (cite.run_offline: `--sandbox`, no network)
writes as .docx with a reference document for its styles: the project's
templates/reference.docx if it has one, else one made from brand.toml (fonts, colours,
heading styles). python-docx then sets what pandoc cannot write: the protective marking
in every page's header and footer (the organisation above it on the first page), the
language of the document's styles, and the core properties (title, authors, keywords,
dates from the as-of date or SOURCE_DATE_EPOCH). Last the zip is written again with
fixed timestamps in a fixed member order, so that two builds are byte-identical.

Citations follow the audience's `citations` mode, as the PDF prints them: `footnotes`
are real Word footnotes, each the style's formatted note; `endnotes` are, as in the
PDF, one per cited source (its number the call, a final "Notes" list with each source's
bibliography entry and the places cited), which Word's own endnotes (one per call)
cannot be; `sources` prints no calls, only the list of sources.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from . import boundary
from .brand import TEMPLATES, Brand
from .cite import FormattedCitations, check_run, pandoc_path, run_offline
from .config import DEFAULT_AUDIENCES, Config
from .curate import MARK, MARK_END, CitationPoint, CuratedBrief, Prose
from .errors import ConfigError, PolicyError
from .i18n import format_when, load_labels
from .markdown import make_markdown

REFERENCE = "reference.docx"  # a project's own, in templates/
_API = [1, 23, 1]  # pandoc-types of pandoc 3.x
_WORDS = re.compile(r"(\s+)")
_CALL = re.compile(f"{MARK}(\\d+){MARK_END}")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
Inline = dict[str, Any]
Block = dict[str, Any]


# --- the pandoc document -------------------------------------------------------------

def _text(text: str) -> list[Inline]:
    """Plain text as pandoc inlines: words and the spaces between them."""
    out: list[Inline] = []
    for part in _WORDS.split(text):
        if not part:
            continue
        out.append({"t": "Space"} if part.isspace() and "\u00a0" not in part
                   else {"t": "Str", "c": part})
    return out


def _attr(style: str | None = None) -> list[Any]:
    return ["", [], [["custom-style", style]] if style else []]


def _para(inlines: list[Inline]) -> Block:
    return {"t": "Para", "c": inlines}


def _styled(style: str, blocks: list[Block]) -> Block:
    """Blocks in a named paragraph style (pandoc's custom-style: created if missing)."""
    return {"t": "Div", "c": [_attr(style), blocks]}


def _header(level: int, inlines: list[Inline]) -> Block:
    return {"t": "Header", "c": [level, _attr(), inlines]}


class _HtmlInlines(HTMLParser):
    """Pandoc's HTML for a citation (em, strong, a, span, sup, sub) as pandoc inlines."""

    _KINDS = {"em": "Emph", "i": "Emph", "strong": "Strong", "b": "Strong",
              "sup": "Superscript", "sub": "Subscript", "a": "Link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, list[Inline], str]] = [("", [], "")]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = self._KINDS.get(tag)
        if kind is not None:
            href = dict(attrs).get("href") or ""
            self.stack.append((kind, [], href if href.startswith(("http", "mailto")) else ""))

    def handle_endtag(self, tag: str) -> None:
        kind = self._KINDS.get(tag)
        if kind is None or len(self.stack) < 2 or self.stack[-1][0] != kind:
            return
        name, inner, href = self.stack.pop()
        made: Inline
        if name == "Link":
            made = ({"t": "Link", "c": [_attr(), inner, [href, ""]]} if href
                    else {"t": "Span", "c": [_attr(), inner]})
        else:
            made = {"t": name, "c": inner}
        self.stack[-1][1].append(made)

    def handle_data(self, data: str) -> None:
        self.stack[-1][1].extend(_text(data))

    def result(self) -> list[Inline]:
        while len(self.stack) > 1:
            self.handle_endtag(next(t for t, k in self._KINDS.items() if k == self.stack[-1][0]))
        return self.stack[0][1]


def html_inlines(fragment: str) -> list[Inline]:
    """A formatted citation (cite.py's HTML fragment) as pandoc inlines."""
    parser = _HtmlInlines()
    parser.feed(str(fragment))
    parser.close()
    return parser.result()


class _Writer:
    """Builds the pandoc blocks of one target."""

    def __init__(self, curated: CuratedBrief, citations: FormattedCitations,
                 labels: dict[str, Any]) -> None:
        self.curated = curated
        self.citations = citations
        self.labels = labels
        self.mode = curated.audience.citations
        self.md = make_markdown(labels.get("quotes", "“”‘’"))

    # Citation calls
    def call(self, point: CitationPoint) -> list[Inline]:
        """What a citation point prints where it is made, in the audience's mode."""
        if not point.citations:
            return []
        if self.mode == "footnotes":
            note = html_inlines(self.citations.note(point))
            return [{"t": "Note", "c": [_para(note)]}] if note else []
        if self.mode == "endnotes":
            numbers = dict.fromkeys(c.source_number for c in point.citations)
            return [{"t": "Superscript", "c": [{"t": "Str", "c": ",".join(map(str, numbers))}]}]
        return []

    # Markdown
    def blocks(self, text: str, points: list[CitationPoint] | None = None) -> list[Block]:
        """Markdown (a note's or the brief's text) as pandoc blocks, each citation mark
        (curate.MARK) replaced by its point's call."""
        tokens = self.md.parse(text)
        out, _ = self._blocks(tokens, 0, points or [], None)
        return out

    def inlines(self, text: str, points: list[CitationPoint] | None = None) -> list[Inline]:
        """Markdown as one paragraph's inlines (block structure flattened)."""
        found: list[Inline] = []
        for block in self.blocks(text, points):
            if found:
                found.append({"t": "Space"})
            found.extend(_flatten(block))
        return found

    def prose(self, prose: Prose) -> list[Block]:
        return self.blocks(prose.text, prose.points)

    def _blocks(self, tokens: list[Any], i: int, points: list[CitationPoint],
                end: str | None) -> tuple[list[Block], int]:
        out: list[Block] = []
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if end is not None and kind == end:
                return out, i + 1
            if kind == "paragraph_open":
                out.append(_para(self._inline(tokens[i + 1].children or [], points)))
                i += 3
            elif kind == "heading_open":
                level = min(int(token.tag[1:]) + 1, 6)
                out.append(_header(level, self._inline(tokens[i + 1].children or [], points)))
                i += 3
            elif kind in ("bullet_list_open", "ordered_list_open"):
                items: list[list[Block]] = []
                close = kind.replace("_open", "_close")
                i += 1
                while tokens[i].type != close:
                    item, i = self._blocks(tokens, i + 1, points, "list_item_close")
                    items.append(item)
                i += 1
                if kind == "bullet_list_open":
                    out.append({"t": "BulletList", "c": items})
                else:
                    start = int(token.attrGet("start") or 1)
                    out.append({"t": "OrderedList", "c": [
                        [start, {"t": "Decimal"}, {"t": "Period"}], items]})
            elif kind == "blockquote_open":
                inner, i = self._blocks(tokens, i + 1, points, "blockquote_close")
                out.append({"t": "BlockQuote", "c": inner})
            elif kind == "table_open":
                table, i = self._table(tokens, i + 1, points)
                out.append(table)
            elif kind in ("fence", "code_block"):
                out.append({"t": "CodeBlock", "c": [_attr(), token.content.rstrip("\n")]})
                i += 1
            elif kind == "hr":
                out.append({"t": "HorizontalRule"})
                i += 1
            else:
                i += 1
        return out, i

    def _table(self, tokens: list[Any], i: int,
               points: list[CitationPoint]) -> tuple[Block, int]:
        head: list[Any] = []
        body: list[Any] = []
        row: list[Any] = []
        in_head = False
        while tokens[i].type != "table_close":
            kind = tokens[i].type
            if kind == "thead_open":
                in_head = True
            elif kind == "thead_close":
                in_head = False
            elif kind == "tr_open":
                row = []
            elif kind == "tr_close":
                (head if in_head else body).append([_attr(), row])
            elif kind in ("th_open", "td_open"):
                style = tokens[i].attrGet("style") or ""
                align = ("AlignRight" if "right" in style else "AlignCenter"
                         if "center" in style else "AlignLeft" if "left" in style
                         else "AlignDefault")
                cell = self._inline(tokens[i + 1].children or [], points)
                row.append([_attr(), {"t": align}, 1, 1, [{"t": "Plain", "c": cell}]])
                i += 2
            i += 1
        columns = max((len(r[1]) for r in head + body), default=1)
        table = {"t": "Table", "c": [
            _attr(), [None, []],
            [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}]] * columns,
            [_attr(), head], [[_attr(), 0, [], body]], [_attr(), []],
        ]}
        return table, i + 1

    def _inline(self, children: list[Any], points: list[CitationPoint]) -> list[Inline]:
        stack: list[tuple[str, list[Inline], str]] = [("", [], "")]
        for token in children:
            kind = token.type
            if kind == "text":
                stack[-1][1].extend(self._marked(token.content, points))
            elif kind == "softbreak":
                stack[-1][1].append({"t": "SoftBreak"})
            elif kind == "hardbreak":
                stack[-1][1].append({"t": "LineBreak"})
            elif kind == "code_inline":
                stack[-1][1].append({"t": "Code", "c": [_attr(), token.content]})
            elif kind == "image":  # not carried: its description stands in (README)
                stack[-1][1].extend(_text(f"[{token.content}]"))
            elif kind in ("em_open", "strong_open", "s_open"):
                stack.append((kind[:-5], [], ""))
            elif kind == "link_open":
                stack.append(("link", [], str(token.attrGet("href") or "")))
            elif kind in ("em_close", "strong_close", "s_close", "link_close") and len(stack) > 1:
                name, inner, href = stack.pop()
                if name == "link":
                    made: Inline = ({"t": "Link", "c": [_attr(), inner, [href, ""]]}
                                    if href.startswith(("http://", "https://", "mailto:"))
                                    else {"t": "Span", "c": [_attr(), inner]})
                else:
                    made = {"t": {"em": "Emph", "strong": "Strong", "s": "Strikeout"}[name],
                            "c": inner}
                stack[-1][1].append(made)
        while len(stack) > 1:
            _, inner, _ = stack.pop()
            stack[-1][1].extend(inner)
        return stack[0][1]

    def _marked(self, text: str, points: list[CitationPoint]) -> list[Inline]:
        out: list[Inline] = []
        last = 0
        for match in _CALL.finditer(text):
            out.extend(_text(text[last:match.start()].rstrip() if self.mode != "sources"
                             else text[last:match.start()]))
            n = int(match.group(1))
            if n < len(points):
                out.extend(self.call(points[n]))
            last = match.end()
        out.extend(_text(text[last:]))
        return out

    # The document
    def cited_text(self, text: str, point: CitationPoint) -> list[Block]:
        """A key message, recommendation or line: its text, then its point's call."""
        blocks = self.blocks(text)
        call = self.call(point)
        if blocks and blocks[-1]["t"] == "Para":
            blocks[-1]["c"].extend(call)
        elif call:
            blocks.append(_para(call))
        return blocks

    def document(self, marking: str | None) -> list[Block]:
        c, labels = self.curated, self.labels
        brief = c.brief
        out: list[Block] = [_styled("Edition", [_para(_text(labels["edition"]))])]
        if marking:
            out.append(_styled("Marking", [_para(_text(marking))]))
        control = [labels["version"].format(version=brief.version)] if brief.version else []
        control.append(labels["status"][brief.status])
        if brief.contact:
            control.append(f"{labels['contact']}: {_contact(brief.contact)}")
        out.append(_styled("Control Line", [_para(_text(" · ".join(control)))]))
        if c.key_messages:
            out.append(_header(1, _text(labels["key_messages"])))
            out.append({"t": "BulletList", "c": [self.cited_text(m.text, m.point)
                                                 for m in c.key_messages]})
        for n, section in enumerate(c.sections, 1):
            numbered = c.audience.citations == "footnotes"
            out.append(_header(1, _text(f"{n}. {section.title}" if numbered
                                        else section.title)))
            if section.paragraphs and not numbered:
                out.append(_para([i for p in section.paragraphs
                                  for i in [*self.inlines(p.prose.text, p.points),
                                            {"t": "Space"}]][:-1]))
                continue
            if not section.paragraphs and section.summary:
                out += self.prose(section.summary)
                continue
            if section.lead:
                out.append(_styled("Lead", self.prose(section.lead)))
            for p in section.paragraphs:
                blocks = self.prose(p.prose)
                number: list[Inline] = [{"t": "Strong", "c": _text(p.number)}, {"t": "Space"}]
                if p.judgement:
                    number += [{"t": "Emph", "c": _text(labels["judgement"])}, {"t": "Space"}]
                if blocks and blocks[0]["t"] == "Para":
                    blocks[0]["c"][:0] = number
                else:
                    blocks.insert(0, _para(number))
                out.append(_styled("Numbered Paragraph", blocks))
        if c.recommendations:
            out.append(_header(1, _text(labels["recommendations"])))
            out.append({"t": "OrderedList", "c": [
                [1, {"t": "Decimal"}, {"t": "Period"}],
                [self.cited_text(r.text, r.point) for r in c.recommendations]]})
        if brief.outlook_signposts and "sections" in c.audience.parts:
            out.append(_header(2, _text(labels["signposts"])))
            out.append({"t": "BulletList", "c": [[_para(self.inlines(s))]
                                                 for s in brief.outlook_signposts]})
        # A footnote edition is the analyst brief's: like its PDF, it leaves the lines to
        # take and likely questions to the talking points.
        spoken = self.mode != "footnotes"
        if c.lines_to_take and spoken:
            out.append(_header(1, _text(labels["lines_to_take"])))
            out.append({"t": "BulletList", "c": [self.cited_text(m.text, m.point)
                                                 for m in c.lines_to_take]})
        if c.questions and spoken:
            out.append(_header(1, _text(labels["likely_questions"])))
            for q in c.questions:
                out.append(_para([{"t": "Strong", "c": [
                    *_text(f"{labels['question']}: "), *self.inlines(q.question)]}]))
                out.append(_para([*_text(f"{labels['answer']}: "),
                                  *self.inlines(q.answer), *self.call(q.point)]))
        if self.mode == "endnotes" and c.endnotes:
            out.append(_header(1, _text(labels["notes"])))
            items = []
            for e in c.endnotes:
                places = "; ".join(dict.fromkeys(x.locator for x in e.citations))
                items.append([_para([*html_inlines(self.citations.bibliography[e.source.id]),
                                     *_text(f" ({places})")])])
            out.append({"t": "OrderedList", "c": [[1, {"t": "Decimal"}, {"t": "Period"}],
                                                  items]})
        elif c.references:
            out.append(_header(1, _text(labels["sources"])))
            out.append({"t": "BulletList", "c": [
                [_para(html_inlines(self.citations.bibliography[i]))]
                for i in self.citations.order if i in self.citations.bibliography]})
        if brief.has_document_control:
            out += self.control(marking)
        return out

    def control(self, marking: str | None) -> list[Block]:
        """The document control block: the analyst brief's annex, as a table."""
        brief, labels = self.curated.brief, self.labels
        rows: list[tuple[str, list[Inline]]] = []
        if brief.version:
            rows.append((labels["control_version"], _text(brief.version)))
        rows.append((labels["control_status"], _text(labels["status"][brief.status])))
        if marking:
            rows.append((labels["control_marking"], _text(marking)))
        rows.append((labels["control_as_of"], _text(format_when(brief.as_of, brief.language))))
        if brief.contact:
            rows.append((labels["contact"], _text(_contact(brief.contact))))
        if brief.distribution:
            rows.append((labels["distribution"],
                         _text("; ".join(" ".join(d.split()) for d in brief.distribution))))
        out = [_header(1, _text(labels["docx"]["document_control"])),
               _table([[_text(k), v] for k, v in rows], None),
               _header(2, _text(labels["clearance"]))]
        if brief.clearance:
            out.append(_table(
                [[_text(format_when(e.date, brief.language)), _text(e.name),
                  _text(e.role or ""), _text(labels["decisions"][e.decision]),
                  self.inlines(e.comment or "")] for e in brief.clearance],
                [_text(labels[k]) for k in ("date", "name", "role", "decision", "comment")]))
        else:
            out.append(_para(_text(labels["not_cleared_yet"])))
        return out


def _contact(contact: Any) -> str:
    return " · ".join(x for x in (", ".join(x for x in (contact.name, contact.role) if x),
                                  contact.email, contact.phone) if x)


def _table(rows: list[list[list[Inline]]], head: list[list[Inline]] | None) -> Block:
    def row(cells: list[list[Inline]]) -> list[Any]:
        return [_attr(), [[_attr(), {"t": "AlignDefault"}, 1, 1, [{"t": "Plain", "c": c}]]
                          for c in cells]]

    columns = len(head or rows[0])
    return {"t": "Table", "c": [
        _attr(), [None, []], [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}]] * columns,
        [_attr(), [row(head)] if head else []], [[_attr(), 0, [], [row(r) for r in rows]]],
        [_attr(), []],
    ]}


def _flatten(block: Block) -> list[Inline]:
    """A block's inlines (a list item or quote: its paragraphs joined)."""
    if block["t"] in ("Para", "Plain"):
        return list(block["c"])
    if block["t"] == "Header":
        return list(block["c"][2])
    found: list[Inline] = []
    for inner in _children(block):
        if found:
            found.append({"t": "Space"})
        found.extend(_flatten(inner))
    return found


def _children(block: Block) -> list[Block]:
    if block["t"] == "BlockQuote":
        return list(block["c"])
    if block["t"] == "BulletList":
        return [b for item in block["c"] for b in item]
    if block["t"] == "OrderedList":
        return [b for item in block["c"][1] for b in item]
    return []


def pandoc_document(curated: CuratedBrief, citations: FormattedCitations, config: Config,
                    marking: str | None) -> dict[str, Any]:
    """The target as pandoc's JSON AST: the title block in its metadata, then the
    edition's blocks (_Writer.document)."""
    brief = curated.brief
    labels = _labels(curated, config)
    writer = _Writer(curated, citations, labels)

    def meta(text: str) -> dict[str, Any]:
        return {"t": "MetaInlines", "c": _text(" ".join(text.split()))}

    metadata: dict[str, Any] = {
        "title": meta(brief.title),
        "author": {"t": "MetaList", "c": [meta(a) for a in brief.authors]},
        "date": meta(f"{labels['as_of']} {format_when(brief.as_of, brief.language)}"),
        "lang": {"t": "MetaString", "c": brief.language},
    }
    if brief.subtitle:
        metadata["subtitle"] = meta(brief.subtitle)
    return {"pandoc-api-version": _API, "meta": metadata, "blocks": writer.document(marking)}


def _labels(curated: CuratedBrief, config: Config) -> dict[str, Any]:
    labels = load_labels(curated.brief.language, config.labels)
    audience = curated.audience
    packaged = DEFAULT_AUDIENCES.get(audience.name)  # named in the brief's language
    labels["edition"] = (
        labels["audiences"].get(audience.name, audience.label)
        if packaged and packaged.label == audience.label else audience.label
    )
    return labels


# --- the reference document ----------------------------------------------------------

def project_reference(config: Config) -> Path | None:
    """The project's own templates/reference.docx, if it has one (confined to templates/)."""
    path = config.templates_dir / REFERENCE
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return boundary.resolve(path, config.templates_dir, "reference document",
                                name=TEMPLATES)
    except boundary.Refused as exc:
        raise PolicyError(f"{TEMPLATES}{REFERENCE}: {exc.problem}; {exc.remedy}") from None


def _hex(colour: str) -> str | None:
    value = colour.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}", value):
        return None  # rgb() and hsl() colours: the reference's own colour stays
    return (value * 2 if len(value) == 3 else value).upper() if len(value) == 6 else "".join(
        ch * 2 for ch in value).upper()


def brand_reference(default: bytes, brand: Brand) -> bytes:
    """Pandoc's default reference document restyled from brand.toml: body text in the
    brand's serif, headings and the title in its sans and brand colour, and the
    paragraph styles the edition names (Edition, Marking, Control Line, Lead, Numbered
    Paragraph)."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    document = Document(io.BytesIO(default))
    styles = document.styles
    colour = _hex(brand.colours.get("brand", "")) or "1D3557"
    muted = _hex(brand.colours.get("muted", "")) or "5B6470"
    accent = _hex(brand.colours.get("accent", "")) or "B5651D"

    def font(style: Any, family: str, size: float | None = None,
             rgb: str | None = None, bold: bool | None = None) -> None:
        style.font.name = family
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        for key in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(_qn(key), family)
        for key in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(_qn(key), None)
        if size is not None:
            style.font.size = Pt(size)
        if rgb is not None:
            style.font.color.rgb = RGBColor.from_string(rgb)
        if bold is not None:
            style.font.bold = bold

    def paragraph_style(name: str, base: str = "Normal") -> Any:
        try:
            return styles[name]
        except KeyError:
            made = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            made.base_style = styles[base]
            return made

    for name in ("Normal", "Body Text", "First Paragraph", "Compact", "Footnote Text"):
        try:
            font(styles[name], brand.serif)
        except KeyError:
            continue
    font(styles["Normal"], brand.serif, 10.5)
    for name, size in (("Title", 22), ("Subtitle", 13), ("Heading 1", 15),
                       ("Heading 2", 12.5), ("Heading 3", 11)):
        font(paragraph_style(name), brand.sans, size, colour, name.startswith("Heading")
             or name == "Title")
    for name in ("Author", "Date"):
        font(paragraph_style(name), brand.sans, 10, muted)
    font(paragraph_style("Edition"), brand.sans, 11, accent, True)
    font(paragraph_style("Marking"), brand.sans, 10, colour, True)
    font(paragraph_style("Control Line"), brand.sans, 9, muted)
    font(paragraph_style("Lead", "Body Text"), brand.serif, 11.5)
    paragraph_style("Numbered Paragraph", "Body Text")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return str(qn(tag))


# --- after pandoc ----------------------------------------------------------------------

def finish(data: bytes, curated: CuratedBrief, marking: str | None, when: dt.datetime,
           organisation: str | None) -> bytes:
    """Pandoc's .docx with what pandoc cannot write (module docstring), made
    byte-identical for the same inputs (deterministic)."""
    from docx import Document
    from docx.shared import Pt

    brief = curated.brief
    document = Document(io.BytesIO(data))
    # The language of the document: the styles' defaults and every style that sets one.
    styles_element = document.styles.element
    defaults = styles_element.find(_qn("w:docDefaults"))
    targets = [e for e in styles_element.iter(_qn("w:rPr"))]
    if defaults is not None and not targets:
        targets = [defaults]
    for rpr in targets:
        lang = rpr.find(_qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(_qn("w:lang"), {})
            rpr.append(lang)
        for key in ("w:val", "w:eastAsia", "w:bidi"):
            lang.set(_qn(key), brief.language)
    for section in document.sections:
        section.different_first_page_header_footer = True
        first = [organisation, marking]
        for part, lines in ((section.header, [marking]), (section.footer, [marking]),
                            (section.first_page_header, first),
                            (section.first_page_footer, [marking])):
            part.is_linked_to_previous = False
            texts = [line for line in lines if line]
            paragraph = part.paragraphs[0]
            paragraph.text = "\n".join(texts)
            paragraph.alignment = 1  # centred
            for run in paragraph.runs:
                run.font.size = Pt(8.5)
                run.font.bold = True
    props = document.core_properties
    props.title = " ".join(brief.title.split())
    props.subject = " ".join((brief.subtitle or "").split())
    props.author = "; ".join(brief.authors)
    props.last_modified_by = "; ".join(brief.authors)
    props.keywords = ", ".join(brief.keywords)
    props.language = brief.language
    props.category = curated.audience.name
    props.comments = ""
    props.version = brief.version or ""
    props.revision = 1
    props.created = when
    props.modified = when
    props.last_printed = when
    props.identifier = f"{brief.id}/{curated.audience.name}"
    out = io.BytesIO()
    document.save(out)
    return deterministic_zip(out.getvalue())


def deterministic_zip(data: bytes) -> bytes:
    """A zip with every member's timestamp fixed (1980-01-01) and attributes fixed, in
    its given member order ([Content_Types].xml first, as Word wants)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 3
            target.writestr(fixed, source.read(info.filename), compresslevel=9)
    return out.getvalue()


def _when(curated: CuratedBrief, config: Config) -> dt.datetime:
    """The document's dates: SOURCE_DATE_EPOCH if set, else the as-of date at midnight."""
    if config.source_date_epoch is not None:
        return dt.datetime.fromtimestamp(config.source_date_epoch, dt.UTC).replace(tzinfo=None)
    return dt.datetime.combine(curated.brief.as_of, dt.time())


def render_docx(curated: CuratedBrief, citations: FormattedCitations, config: Config,
                marking: str | None) -> bytes:
    """The Word edition of a target, as bytes (no writes under build/)."""
    document = pandoc_document(curated, citations, config, marking)
    own = project_reference(config)
    with tempfile.TemporaryDirectory(prefix="policybrief-docx-") as tmp:
        folder = Path(tmp)
        reference = folder / REFERENCE
        if own is not None:
            data = boundary.read(own, config.templates_dir, "reference document",
                                 name=TEMPLATES)
            if not zipfile.is_zipfile(io.BytesIO(data)):
                raise ConfigError(f"{TEMPLATES}{REFERENCE}: not a Word document (.docx); "
                                  "save it from Word as .docx, or remove it to use the brand's")
            reference.write_bytes(data)
        else:
            default = folder / "default.docx"
            done = run_offline([pandoc_path(), "--sandbox", "-o", str(default),
                                "--print-default-data-file", REFERENCE], "", "Word edition")
            check_run(done, "Word edition")
            reference.write_bytes(brand_reference(default.read_bytes(), config.brand))
        written = folder / "out.docx"
        command = [pandoc_path(), "+RTS", "-H1m", "-M512m", "-RTS", "--sandbox",
                   "--from=json", "--to=docx", f"--reference-doc={reference}",
                   "-o", str(written)]
        done = run_offline(command, json.dumps(document, ensure_ascii=False), "Word edition")
        check_run(done, "Word edition")
        data = written.read_bytes()
    organisation = curated.brief.organisation or config.brand.organisation
    return finish(data, curated, marking, _when(curated, config), organisation)
