"""Curated brief -> HTML string -> PDF bytes. Reads only allowed files; writes nothing."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import logging
import mimetypes
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import click
from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from .cite import Formatted
from .config import DEFAULT_AUDIENCES, PAPER_SIZES, Config
from .curate import CuratedBrief
from .errors import PolicyError, RenderError, TemplateError
from .templating import load_labels

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


def make_fetcher(roots: list[Path], refused: list[str]) -> Any:
    """A WeasyPrint URL fetcher that serves files under roots and refuses everything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ConfinedFetcher(URLFetcher):  # type: ignore[misc]
        """No network, no file outside the allowed folders (symlinks resolved first)."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(
                        url, path.read_bytes(), {"Content-Type": kind}
                    )
            refused.append(url)
            raise ValueError(f"refused by policybrief: {url}")

    return ConfinedFetcher(timeout=1, allowed_protocols={"file", "data"})


# WeasyPrint notices about the machine, not the document: not warnings under --strict.
# (Without the system's libharfbuzz-subset it subsets with fontTools, which works and,
# with the static bundled fonts, is no slower.)
_MACHINE_NOTICES = ("Using fontTools instead of HarfBuzz-Subset",)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())
        if message.startswith(_MACHINE_NOTICES):
            log.debug("WeasyPrint: %s", message)
        else:
            self.messages.append(message)


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


def render_html(
    env: SandboxedEnvironment, curated: CuratedBrief, citations: Formatted, config: Config
) -> str:
    """Fill the audience's template with the curated brief."""
    template_name = curated.audience.template
    labels = load_labels(curated.brief.language)
    audience = curated.audience
    # A packaged audience is named in the brief's language; a project's label stays.
    packaged = DEFAULT_AUDIENCES.get(audience.name)
    labels["edition"] = (
        labels["audiences"].get(audience.name, audience.label)
        if packaged and packaged.label == audience.label else audience.label
    )
    try:
        template = env.get_template(template_name)
        log.debug("template %s from %s", template_name, template.filename)
        return template.render(
            **curated.context(), citations=citations, paper=PAPER_SIZES[config.paper],
            brand=config.brand, labels=labels,
        )
    except TemplateNotFound as exc:
        raise TemplateError(
            f"template {exc.name!r} not found in {config.templates_dir} or the package "
            "defaults; check the name, or run without the override"
        ) from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from exc
    except UndefinedError as exc:
        raise TemplateError(
            f"template {template_name!r}: {exc.message}; check the variable name "
            "(template variables are listed in docs/templates.md)"
        ) from exc
    except JinjaTemplateError as exc:
        raise TemplateError(f"template {template_name!r}: {exc}") from exc
    except Exception as exc:  # a template's own runtime error (bad filter use, types)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else repr(template_name)
        raise TemplateError(
            f"template {where}: {type(exc).__name__}: {exc}; fix the template"
        ) from exc


PDF_UA = "pdf/ua-1"  # every target: tagged, titled, language set (PDF/UA-1)
PDF_A = "pdf/a-3a"  # archival targets: PDF/A-3, tagged, with the evidence attached


@dataclass(frozen=True)
class Attachment:
    """A file embedded in an archival PDF."""

    name: str
    data: bytes
    description: str


def source_date(fallback: dt.date | None = None) -> dt.datetime | None:
    """SOURCE_DATE_EPOCH if set (a malformed one is an error), else the fallback day."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise click.UsageError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp; unset it or give seconds"
            ) from exc
    if fallback is None:
        return None
    return dt.datetime(fallback.year, fallback.month, fallback.day, tzinfo=dt.UTC)


class _Accessibility(HTMLParser):
    """Finds images without alternative text: <img> without alt, <svg> without <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: list[str] = []
        self._svg: list[bool] = []  # per open <svg>: has it a <title>?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and not (values.get("alt") or "").strip():
            self.missing.append(f"image {values.get('src') or '(no src)'!r}")
        elif tag == "svg":
            self._svg.append(False)
        elif tag == "title" and self._svg:
            self._svg[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._svg and not self._svg.pop():
            self.missing.append("an inline SVG figure")


def check_alternative_text(html: str, label: str) -> None:
    """PDF/UA needs a text alternative for every figure: fail the target otherwise."""
    parser = _Accessibility()
    parser.feed(html)
    if parser.missing:
        raise TemplateError(
            f"{label}: {parser.missing[0]} has no alternative text; give images alt text "
            "(in a note: ![what it shows](file.png)) and SVGs a <title>"
        )


def render_pdf(
    html: str, config: Config, *, label: str, archival: bool = False,
    attachments: tuple[Attachment, ...] = (), as_of: dt.date | None = None,
) -> Rendered:
    """Lay out and write the PDF in memory (PDF/UA-1, or PDF/A-3a when archival); raise
    if a resource was refused or, in strict mode, if WeasyPrint warned."""
    from weasyprint import CSS, HTML
    from weasyprint import Attachment as PdfAttachment
    from weasyprint.text.fonts import FontConfiguration

    check_alternative_text(html, label)
    refused: list[str] = []
    fetcher = make_fetcher(allowed_roots(config), refused)
    base_url = config.templates_dir.resolve().as_uri() + "/"
    with _weasyprint_warnings() as warnings:
        try:
            fonts = FontConfiguration()
            document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
                stylesheets=[CSS(string=font_css(), url_fetcher=fetcher, font_config=fonts)],
                font_config=fonts,
            )
            # No wall-clock time in the output: a date comes from SOURCE_DATE_EPOCH or,
            # for archival files (which need one), the brief's as-of date.
            moment = source_date(as_of if archival else None)
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
        except (PolicyError, RenderError, click.UsageError):
            raise
        except Exception as exc:
            raise RenderError(f"{label}: WeasyPrint failed: {exc}") from exc
    if refused:
        listed = ", ".join(sorted(set(refused)))
        raise PolicyError(
            f"{label}: refused to load {listed}; notes and templates may only use files inside "
            "the project (no network, no other files)"
        )
    if config.strict and warnings:
        raise RenderError(
            f"{label}: WeasyPrint warned (--strict): " + "; ".join(warnings)
        )
    return Rendered(html, bytes(pdf or b""), len(document.pages), warnings)
