"""HTML string -> PDF bytes with WeasyPrint: layout, the fonts subset alike everywhere,
the per-process render cache and the PDF's metadata and attachments. Reads only allowed
files (fetch.py serves them; htmlcheck.py and css.py check the document first); writes
nothing but its temporary files (see session()).

Kept apart from the template side (render.py) so that a process can render PDFs without
importing Jinja2, pydantic or markdown-it (prefork.py)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import weasyfix
from .config import Config
from .css import NO_STYLESHEET, Stylesheet, check_css
from .errors import BriefError, LayoutError, RenderError
from .fetch import allowed_roots, make_fetcher, raise_refusals
from .fonts import font_css
from .htmlcheck import check_html
from .output import signals_held
from .verify import NO_RULES, LayoutRules, check_layout, failed_layout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A rendered target: the HTML, the PDF bytes and what was learnt while rendering."""

    html: str
    pdf: bytes
    pages: int
    warnings: list[str]
    checked: str = ""  # what verify.check_layout checked (shown with -v)


# Tables WeasyPrint's own HarfBuzz subsetting drops: the PDF needs none of them.
_DROP_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH",
                "PCLT", "SVG ")


def _subset_font(font: Any, to_unicode: dict[int, Any], hinting: bool) -> None:
    """WeasyPrint's Font.subset, made the same on every machine (#12).

    WeasyPrint subsets each embedded font with the system's HarfBuzz-subset library where
    it is installed and with fontTools where it is not. So the bytes of a PDF depended on
    the machine: on the system's HarfBuzz version, and, through fontTools, on the clock,
    which it stamps into each font's head table unless SOURCE_DATE_EPOCH is set. Here the
    HarfBuzz inside uharfbuzz, at the version requirements.lock pins, always subsets, in
    WeasyPrint's two steps and with its flags; the head table keeps the font's own dates.

    No fallback to fontTools is left. Where uharfbuzz cannot subset a font (it raises
    RuntimeError), the font goes into the PDF whole, as in WeasyPrint when HarfBuzz
    fails, with WeasyPrint's warning (so --strict fails the target): a bigger PDF, still
    the same bytes everywhere. Only WeasyPrint used without render_pdf, which installs
    this (_subset_fonts_alike), subsets its own way: with fontTools, where the system
    lacks HarfBuzz-subset, and then not reproducibly (the clock in each font's head
    table; test_reproducible shows it).
    """
    import uharfbuzz as hb

    if not to_unicode:
        return
    flags = hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED | hb.SubsetFlags.DESUBROUTINIZE
    if font.missing:
        flags |= hb.SubsetFlags.NOTDEF_OUTLINE
    # First the glyphs used, at their own ids (the PDF's text refers to glyphs by id) ...
    used = hb.SubsetInput()
    used.glyph_set.update(sorted(to_unicode))
    used.flags = flags | hb.SubsetFlags.RETAIN_GIDS
    dropped = used.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    for tag in _DROP_TABLES:
        dropped.add(int.from_bytes(tag.encode("ascii"), "big"))
    # ... then the empty glyphs after the last one used go.
    upto = hb.SubsetInput()
    upto.glyph_set.update(range(max(to_unicode) + 1))
    upto.flags = flags if hinting else flags | hb.SubsetFlags.NO_HINTING
    try:
        face = hb.Face(hb.Blob(font.file_content), font.index)
        font.file_content = hb.subset(hb.subset(face, used), upto).blob.data
    except RuntimeError:  # WeasyPrint's own handling: the font goes in whole, with a warning
        logging.getLogger("weasyprint").warning("Unable to subset %r with HarfBuzz",
                                                font.family)


@cache
def _subset_fonts_alike() -> None:
    """Install _subset_font in this process's WeasyPrint (once; never undone: see
    "Process-wide state" in the package docstring)."""
    from weasyprint.pdf.fonts import Font

    Font.subset = _subset_font


def _explain(value: object) -> object:
    """An exception's own message, else that of its cause (WeasyPrint wraps Pillow's)."""
    seen: BaseException | None = value if isinstance(value, BaseException) else None
    while seen is not None and not str(seen):
        seen = seen.__cause__ or seen.__context__
    if isinstance(value, BaseException):
        return str(seen) if seen is not None else type(value).__name__
    return value


class _WarningCollector(logging.Handler):
    """A logging handler that keeps WeasyPrint's warnings, each on one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and any(
            isinstance(a, BaseException) for a in record.args
        ):  # "Failed to load image at %r: %s" with an ImageLoadingError that says nothing
            record.args = tuple(_explain(a) for a in record.args)
        self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def _weasyprint_warnings() -> Iterator[list[str]]:
    """Collect what WeasyPrint logs (it warns about bad CSS instead of raising)."""
    handler = _WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


PDF_UA = "pdf/ua-1"  # every target: tagged, titled, language set (PDF/UA-1)
PDF_A = "pdf/a-3a"  # archival targets: PDF/A-3, tagged, with the evidence attached


@dataclass(frozen=True)
class Attachment:
    """A file embedded in an archival PDF."""

    name: str
    data: bytes
    description: str


def source_date(epoch: int | None, fallback: dt.date | None = None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH (the config's source_date_epoch) if set, else the fallback day."""
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    if fallback is None:
        return None
    return dt.datetime(fallback.year, fallback.month, fallback.day, tzinfo=dt.UTC)


class _RenderCache:
    """What one process keeps across the targets it renders: a font configuration, with
    the bundled @font-face rules, and the stylesheets parsed so far (with the warnings
    WeasyPrint gave while parsing each, repeated for every target that uses it)."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.fonts = FontConfiguration()
        self.parsed: dict[Stylesheet, tuple[Any, list[str]]] = {}

    def sheet(self, stylesheet: Stylesheet, config: Config, messages: list[str],
              target: str) -> Any:
        """The stylesheet parsed (once); what WeasyPrint said of it goes to messages."""
        from weasyprint import CSS

        if stylesheet not in self.parsed:
            label = f"{target}: stylesheet {stylesheet.name}"
            refused: list[str] = []
            raise_refusals(label, [], list(check_css(stylesheet.text)))
            unsafe: list[str] = []
            with _weasyprint_warnings() as said:
                css = CSS(
                    string=stylesheet.text, font_config=self.fonts,
                    base_url=config.base_url,
                    url_fetcher=make_fetcher(allowed_roots(config), refused, unsafe),
                )
            raise_refusals(label, refused, unsafe)
            self.parsed[stylesheet] = css, said
        css, said = self.parsed[stylesheet]
        messages.extend(said)
        return css

    def close(self) -> None:
        self.fonts.__del__()  # in reference cycles: its weasyprint-* folder goes now


# By process id (a forked worker makes its own); set only by session(). Process-wide
# state: see "Process-wide state" in the package docstring (policybrief/__init__.py).
_RENDER_CACHES: dict[int, _RenderCache] | None = None


@contextmanager
def session() -> Iterator[None]:
    """Render many targets: each process keeps one font configuration and the parsed
    stylesheets across the targets it renders (about 30 ms and 60 ms a target otherwise).
    Everything a render writes to TMPDIR (WeasyPrint's font files, pandoc's input) goes
    into one folder of this session's own, removed at its end, with whatever a worker
    stopped by a signal or recycled by the pool left there.
    """
    global _RENDER_CACHES
    folder, previous = None, tempfile.tempdir
    try:
        with signals_held():  # a Ctrl-C now would leave the folder unknown
            folder = tempfile.mkdtemp(prefix="policybrief-run-")
            tempfile.tempdir = folder  # inherited by forked workers (package docstring)
            _RENDER_CACHES = {}
        yield
    finally:
        with signals_held():
            for kept in (_RENDER_CACHES or {}).values():
                kept.close()
            _RENDER_CACHES = None
            tempfile.tempdir = previous
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _render_cache() -> Iterator[_RenderCache]:
    """This process's kept state in a session(), else one for this render only."""
    if _RENDER_CACHES is not None:
        if os.getpid() not in _RENDER_CACHES:
            _RENDER_CACHES[os.getpid()] = _RenderCache()
        yield _RENDER_CACHES[os.getpid()]
        return
    kept = _RenderCache()
    try:
        yield kept
    finally:
        kept.close()


MAX_IMAGE_PIXELS = 25_000_000  # a full A4 page at 400 dpi is 15.5 million pixels


def render_pdf(
    html: str, config: Config, *, label: str, stylesheet: Stylesheet = NO_STYLESHEET,
    archival: bool = False, attachments: tuple[Attachment, ...] = (),
    as_of: dt.date | None = None, layout: LayoutRules = NO_RULES,
) -> Rendered:
    """Lay out and write the PDF in memory (PDF/UA-1, or PDF/A-3a when archival), with
    the stylesheet under the HTML's own; raise if a resource was refused, if the pages
    fail verify.check_layout, or, in strict mode, if WeasyPrint warned."""
    from PIL import Image
    from weasyprint import HTML
    from weasyprint import Attachment as PdfAttachment

    check_html(html, label)
    refused: list[str] = []
    unsafe: list[str] = []
    fetcher = make_fetcher(allowed_roots(config), refused, unsafe)
    base_url = config.base_url
    # Decompression bombs: Pillow refuses images over 2 * MAX_IMAGE_PIXELS and only warns
    # between 1x and 2x; as an error, WeasyPrint skips the image and logs why.
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # process-wide: see the package docstring
    _subset_fonts_alike()
    weasyfix.install()  # WeasyPrint 70.0 faults (lost footnotes, a one-word line): weasyfix.py
    with _render_cache() as kept:
        said: list[str] = []  # what WeasyPrint said of the stylesheets when it parsed them
        sheets = [kept.sheet(sheet, config, said, label)
                  for sheet in (Stylesheet("bundled fonts", font_css()), stylesheet)
                  if sheet.text]
        with _weasyprint_warnings() as messages, warnings.catch_warnings():
            messages.extend(said)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
                    stylesheets=sheets, font_config=kept.fonts,
                )
                checked = check_layout(document, layout)
                # No wall-clock time in the output: a date comes from SOURCE_DATE_EPOCH or,
                # for archival files (which need one), the brief's as-of date.
                moment = source_date(config.source_date_epoch, as_of if archival else None)
                if moment is not None:
                    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
                    document.metadata.created = document.metadata.modified = stamp
                files = [
                    PdfAttachment(
                        file_obj=io.BytesIO(a.data), name=a.name, description=a.description,
                        created=moment, modified=moment, relationship="Data",
                        url_fetcher=fetcher,
                    )
                    for a in attachments
                ] if archival else []
                pdf = document.write_pdf(
                    pdf_variant=PDF_A if archival else PDF_UA, attachments=files,
                    custom_metadata=True,  # <meta name="marking">: the marking, as key /marking
                )
            except BriefError:  # a refused fetch: as it is
                raise
            except Exception as exc:
                problem = str(exc) or type(exc).__name__  # some (OverflowError...) say nothing
                raise RenderError(f"{label}: WeasyPrint failed: {problem}") from exc
    raise_refusals(label, refused, unsafe)  # a refused resource first: it is the cause
    if checked.problems:
        raise LayoutError(f"{label}: {failed_layout(checked.problems)}")
    if config.strict and messages:
        raise RenderError(
            f"{label}: WeasyPrint warned (--strict): " + "; ".join(messages)
        )
    return Rendered(with_stylesheet(html, stylesheet), bytes(pdf or b""),
                    len(document.pages), messages, checked.summary)


def with_stylesheet(html: str, stylesheet: Stylesheet) -> str:
    """The HTML as written to build/: the stylesheet inlined before the document's own
    styles, so that the file shows what the PDF has on its own."""
    if not stylesheet.text:
        return html
    block = f"<style>\n/* {stylesheet.name} */\n{stylesheet.text.strip()}\n</style>\n"
    at = html.find("<style")
    if at < 0:
        at = max(html.find("</head>"), 0)
    return html[:at] + block + html[at:]
