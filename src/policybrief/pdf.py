"""HTML string -> PDF bytes with WeasyPrint. Reads only allowed files; writes nothing
but its temporary files (see session()).

Kept apart from the template side (render.py) so that a process can render PDFs without
importing Jinja2, pydantic or markdown-it (prefork.py)."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import logging
import math
import mimetypes
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from . import boundary
from .brand import FONT_FORMATS
from .config import Config
from .errors import BriefError, PolicyError, RenderError, TemplateError
from .output import signals_held

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcherResponse

log = logging.getLogger(__name__)

# Font packages installed as Python dependencies, so output never depends on system fonts.
FONT_PACKAGES = {"serif": "fontpkg_pt_serif", "sans": "fontpkg_pt_sans"}


@dataclass(frozen=True)
class Rendered:
    """A rendered target: the HTML, the PDF bytes and what was learnt while rendering."""

    html: str
    pdf: bytes
    pages: int
    warnings: list[str]


@cache  # installed packages do not change while we run; a warm worker reads them once
def _font_dirs() -> dict[str, Path]:
    return {
        role: Path(importlib.import_module(name).__file__ or "").parent
        for role, name in FONT_PACKAGES.items()
    }


@cache
def font_css() -> str:
    """@font-face rules for the bundled fonts, under their own family names."""
    rules = []
    for folder in _font_dirs().values():
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        for font in meta["files"]:
            url = (folder / font["path"]).as_uri()
            weight = font["weight"] or 400
            rules.append(
                f"@font-face {{ font-family: '{meta['family']}'; src: url('{url}'); "
                f"font-style: {font['style']}; font-weight: {weight}; }}"
            )
    return "\n".join(rules)


def allowed_roots(config: Config) -> list[Path]:
    """Folders the renderer may read: the project, the package templates, the fonts."""
    package_templates = Path(__file__).parent / "templates"
    return [p.resolve() for p in (config.root, package_templates, *_font_dirs().values())]


@cache
def _mime_types() -> mimetypes.MimeTypes:
    # Python's built-in table only: mimetypes.guess_type() would read the machine's
    # /etc/mime.types, a file outside the project (and output would depend on it).
    return mimetypes.MimeTypes()


def _resource_kind(path: Path) -> str:
    """What a file a document loads is, for its size limit (boundary.LIMITS)."""
    if path.suffix.lower() == ".css":
        return "stylesheet"
    return "font" if path.suffix.lower() in FONT_FORMATS else "image"


def make_fetcher(roots: list[Path], refused: list[str], unsafe: list[str] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves files under roots and refuses everything else.

    Refused URLs go to `refused`; stylesheets with values outside the safe range (see
    check_css) are not served either, and their problems go to `unsafe`.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ConfinedFetcher(URLFetcher):  # type: ignore[misc]
        """No network, no file outside the allowed folders (symlinks resolved first)."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme == "data":
                response = super().fetch(url, headers)
                if response.headers.get_content_type() != "text/css":
                    return response
                body, kind = response.read(), "text/css"
            elif (
                parts.scheme == "file" and parts.netloc in ("", "localhost")
                and parts.path.startswith("/")  # "file:x" would be relative to the cwd
            ):
                path = Path(unquote(parts.path))
                try:
                    body = boundary.read(path, roots, _resource_kind(path))
                except boundary.Refused as exc:
                    refused.append(url if exc.outside
                                   else f"{url} ({exc.problem.removeprefix('is ')})")
                    raise ValueError(f"refused by policybrief: {url}") from None
                except FileNotFoundError as exc:  # a mistake, not a breach: WeasyPrint
                    raise FileNotFoundError(f"no such file: {exc.filename}") from None  # warns
                kind = _mime_types().guess_type(path.name)[0] or "application/octet-stream"
            else:
                refused.append(url)
                raise ValueError(f"refused by policybrief: {url}")
            if kind == "text/css":
                problems = check_css(body.decode("utf-8", errors="replace"))
                if problems:
                    where = url if parts.scheme == "file" else "a data: stylesheet"
                    (unsafe if unsafe is not None else refused).extend(
                        f"{p} (in {where})" for p in problems
                    )
                    raise ValueError(f"refused by policybrief: unsafe CSS in {where}")
            return URLFetcherResponse(url, body, {"Content-Type": kind})

    return ConfinedFetcher(timeout=1, allowed_protocols={"file", "data"})


# --- Values WeasyPrint cannot lay out in reasonable time or memory ----------------------
# Found by trying: `width: 1e8px` on body runs for ~25 s and then fails, `font-size:
# 1e30px` divides by zero, `columns: 40` on body runs for minutes. Within these limits
# a brief still lays out (slowly, for many columns; build.py's timeout is the backstop).
MAX_CSS_LENGTH = 10_000  # lengths and percentages, any unit (10000px is 2.6 m)
MAX_CSS_NUMBER = 2**31  # plain numbers (`z-index: 2147483647` is a common idiom)
MAX_CSS_COLUMNS = 10  # columns / column-count
MAX_CSS_REPEAT = 1_000  # repeat(N, ...) in grid templates
_MATH = ("calc", "min", "max", "clamp")
# A value over a limit needs one of these (five digits, an exponent, a two-digit column
# count, a four-digit repeat, infinity): most stylesheets are then not parsed at all.
_MAYBE_HUGE = re.compile(
    r"\d{5}|\d[eE][+-]?\d|column[^;{}]*\d\d|repeat\(\s*\d{4}|infinity|\bnan\b",
    re.IGNORECASE,
)


def _numbers(tokens: Iterable[Any], in_math: bool = False) -> Iterator[tuple[Any, bool]]:
    for token in tokens:
        if token.type in ("number", "dimension", "percentage") or (
            in_math and token.type == "ident"
        ):
            yield token, in_math
        elif token.type == "function":
            yield from _numbers(token.arguments, in_math or token.lower_name in _MATH)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from _numbers(token.content, in_math)


def _declaration_problems(
    name: str, value: list[Any], serialize: Callable[[Iterable[Any]], str]
) -> Iterator[str]:
    def show() -> str:
        return f"`{name}: {serialize(value).strip()}`"

    for token, in_math in _numbers(value):
        if token.type == "ident" and token.lower_value in ("infinity", "-infinity", "nan"):
            yield f"{show()}: {serialize([token])} is not a finite value"
            return
        number = float(token.value)
        limit = MAX_CSS_NUMBER if token.type == "number" and not in_math else MAX_CSS_LENGTH
        if name in ("columns", "column-count") and token.type == "number":
            limit = MAX_CSS_COLUMNS
        if not math.isfinite(number) or abs(number) > limit:
            yield f"{show()}: {serialize([token])} is over the limit of {limit}"
            return
    for token in value:
        if token.type == "function" and token.lower_name == "repeat":
            counts = [t for t in token.arguments if t.type == "number"]
            if counts and counts[0].value > MAX_CSS_REPEAT:
                yield f"{show()}: repeat count over the limit of {MAX_CSS_REPEAT}"


@lru_cache(maxsize=64)  # the same stylesheets come back for every target
def check_css(text: str, declarations_only: bool = False) -> tuple[str, ...]:
    """Values in a stylesheet (or, declarations_only, a style attribute) that are over
    the limits above; each as "`property: value`: why"."""
    if not _MAYBE_HUGE.search(text):
        return ()
    import tinycss2  # type: ignore[import-untyped]

    problems: list[str] = []

    def walk(nodes: Iterable[Any]) -> None:
        for node in nodes:
            if node.type == "declaration":
                problems.extend(
                    _declaration_problems(node.lower_name, node.value, tinycss2.serialize)
                )
            elif node.type in ("qualified-rule", "at-rule") and node.content is not None:
                walk(tinycss2.parse_blocks_contents(
                    node.content, skip_comments=True, skip_whitespace=True
                ))

    if declarations_only:
        walk(tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True))
    else:
        walk(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    return tuple(problems)


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
    """Install _subset_font in this process's WeasyPrint (once)."""
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


class _Collect(logging.Handler):
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
    handler = _Collect()
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
        raise TemplateError(
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


@dataclass(frozen=True)
class Stylesheet:
    """An audience's stylesheet (Audience.stylesheet): its name and text."""

    name: str = ""
    text: str = ""


class _Warm:
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
            _raise_refusals(label, [], list(check_css(stylesheet.text)))
            unsafe: list[str] = []
            with _weasyprint_warnings() as said:
                css = CSS(
                    string=stylesheet.text, font_config=self.fonts,
                    base_url=config.templates_dir.resolve().as_uri() + "/",
                    url_fetcher=make_fetcher(allowed_roots(config), refused, unsafe),
                )
            _raise_refusals(label, refused, unsafe)
            self.parsed[stylesheet] = css, said
        css, said = self.parsed[stylesheet]
        messages.extend(said)
        return css

    def close(self) -> None:
        self.fonts.__del__()  # in reference cycles: its weasyprint-* folder goes now


_KEPT: dict[int, _Warm] | None = None  # by process id (a forked worker makes its own)


@contextmanager
def session() -> Iterator[None]:
    """Render many targets: each process keeps one font configuration and the parsed
    stylesheets across the targets it renders (about 30 ms and 60 ms a target otherwise).
    Everything a render writes to TMPDIR (WeasyPrint's font files, pandoc's input) goes
    into one folder of this session's own, removed at its end, with whatever a worker
    stopped by a signal or recycled by the pool left there.
    """
    global _KEPT
    folder, previous = None, tempfile.tempdir
    try:
        with signals_held():  # a Ctrl-C now would leave the folder unknown
            folder = tempfile.mkdtemp(prefix="policybrief-run-")
            tempfile.tempdir = folder  # inherited by forked workers
            _KEPT = {}
        yield
    finally:
        with signals_held():
            for warm in (_KEPT or {}).values():
                warm.close()
            _KEPT = None
            tempfile.tempdir = previous
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _warm() -> Iterator[_Warm]:
    """This process's kept state in a session(), else one for this render only."""
    if _KEPT is not None:
        if os.getpid() not in _KEPT:
            _KEPT[os.getpid()] = _Warm()
        yield _KEPT[os.getpid()]
        return
    warm = _Warm()
    try:
        yield warm
    finally:
        warm.close()


def _raise_refusals(label: str, refused: list[str], unsafe: list[str]) -> None:
    if unsafe:
        raise RenderError(f"{label}: CSS {unsafe[0]}; use a value within the limit")
    if refused:
        listed = ", ".join(sorted(set(refused)))
        raise PolicyError(
            f"{label}: refused to load {listed}; notes and templates may only use files inside "
            "the project (no network, no other files)"
        )


MAX_IMAGE_PIXELS = 25_000_000  # a full A4 page at 400 dpi is 15.5 million pixels


def render_pdf(
    html: str, config: Config, *, label: str, stylesheet: Stylesheet = Stylesheet(),
    archival: bool = False, attachments: tuple[Attachment, ...] = (),
    as_of: dt.date | None = None,
) -> Rendered:
    """Lay out and write the PDF in memory (PDF/UA-1, or PDF/A-3a when archival), with
    the stylesheet under the HTML's own; raise if a resource was refused or, in strict
    mode, if WeasyPrint warned."""
    from PIL import Image
    from weasyprint import HTML
    from weasyprint import Attachment as PdfAttachment

    check_html(html, label)
    refused: list[str] = []
    unsafe: list[str] = []
    fetcher = make_fetcher(allowed_roots(config), refused, unsafe)
    base_url = config.templates_dir.resolve().as_uri() + "/"
    # Decompression bombs: Pillow refuses images over 2 * MAX_IMAGE_PIXELS and only warns
    # between 1x and 2x; as an error, WeasyPrint skips the image and logs why.
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    _subset_fonts_alike()
    with _warm() as warm:
        said: list[str] = []  # what WeasyPrint said of the stylesheets when it parsed them
        sheets = [warm.sheet(sheet, config, said, label)
                  for sheet in (Stylesheet("bundled fonts", font_css()), stylesheet)
                  if sheet.text]
        with _weasyprint_warnings() as messages, warnings.catch_warnings():
            messages.extend(said)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
                    stylesheets=sheets, font_config=warm.fonts,
                )
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
                    pdf_variant=PDF_A if archival else PDF_UA, attachments=files
                )
            except BriefError:  # a refused fetch: as it is
                raise
            except Exception as exc:
                problem = str(exc) or type(exc).__name__  # some (OverflowError...) say nothing
                raise RenderError(f"{label}: WeasyPrint failed: {problem}") from exc
    _raise_refusals(label, refused, unsafe)
    if config.strict and messages:
        raise RenderError(
            f"{label}: WeasyPrint warned (--strict): " + "; ".join(messages)
        )
    return Rendered(with_stylesheet(html, stylesheet), bytes(pdf or b""),
                    len(document.pages), messages)


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
