"""The web edition: build/<brief-id>/<audience>/index.html, a responsive page of the same
curated brief, with each numbered paragraph's evidence one click away (from the claim
map, claims.json) and its notes as sidenotes; build/_web/ holds what every page loads
(brand.css, web.css, web.js, the fonts, the logo) and build/index.html lists the
project's briefs. Nothing comes from elsewhere: each page's Content-Security-Policy
allows only its own folder's files.

A page is the audience's own template rendered with web-base.html.j2 in place of
base.html.j2 (WebLoader) and `web` set (citations.html.j2 then writes sidenotes and
evidence), so an audience's blocks, and a project's overrides of them, make both the
PDF and the web page. build.py renders a page after the PDF (it names the PDF's pages);
manifest.py writes it, with web_files.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import BaseLoader, Environment
from jinja2.sandbox import SandboxedEnvironment

from . import boundary
from .brand import TEMPLATES
from .cite import FormattedCitations
from .config import Config
from .curate import CuratedBrief
from .fonts import font_dirs
from .i18n import load_labels
from .models import Brief
from .output import ARCHIVAL, artifact_key
from .render import fill_template, render_html, template_text
from .templating import css_string

ASSETS = "_web"  # build/_web/: what every page loads
PAGE = "index.html"  # a target's page: build/<brief-id>/<audience>/index.html
BASE, WEB_BASE = "base.html.j2", "web-base.html.j2"
INDEX_TEMPLATE = "web-index.html.j2"
# Only the build folder's own files; no inline script or style, no frames, no forms.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "font-src 'self'; base-uri 'none'; form-action 'none'")
# The characters the web fonts keep: Latin (Western and Central European), Cyrillic with
# its supplement (U+0400-052F), punctuation, currency signs, №, arrows, the minus sign.
# Fixed, so a font is the same whatever a build's text: a character outside falls back to
# the reader's own font.
FONT_RANGES = ((0x20, 0x7E), (0xA0, 0x24F), (0x400, 0x52F), (0x2000, 0x206F),
               (0x20A0, 0x20C0), (0x2116, 0x2116), (0x2190, 0x21FF), (0x2212, 0x2212))


class WebLoader(BaseLoader):
    """A template loader that gives web-base.html.j2 where base.html.j2 is asked for (and
    `default:web-base.html.j2` for `default:base.html.j2`); every other name as the
    wrapped loader finds it."""

    def __init__(self, loader: BaseLoader) -> None:
        self.loader = loader

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        prefix, _, name = template.rpartition(":")
        if name == BASE:
            template = f"{prefix}:{WEB_BASE}" if prefix else WEB_BASE
        return self.loader.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return self.loader.list_templates()


@functools.cache  # one per environment: its compiled templates are kept with it
def web_environment(env: SandboxedEnvironment) -> SandboxedEnvironment:
    """The environment `env` with web-base.html.j2 in place of base.html.j2: the same
    filters, sandbox and search path."""
    assert env.loader is not None
    return env.overlay(loader=WebLoader(env.loader))


@dataclass(frozen=True)
class Edition:
    """A link to an edition of the brief: the PDF, the Word document, another audience."""

    label: str
    href: str
    type: str | None = None  # its media type, for a download
    current: bool = False


@dataclass(frozen=True)
class WebPage:
    """`web` in a template: set only when rendering a web page (docs/templates.md)."""

    policy: str  # the Content-Security-Policy
    assets: str  # the relative URL of build/_web/, ending in "/"
    logo: str | None  # the brand's logo, in assets
    index: str  # the relative URL of build/index.html
    editions: tuple[Edition, ...]
    claims: tuple[dict[str, Any], ...]  # the claim map's claims (claims.json)
    claims_by_paragraph: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # By note reference: a quote in its source sentence, as (before, quote, after).
    in_sentence: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def page_path(key: str) -> str:
    """A target's page within build/, from its artifact key (output.artifact_key)."""
    return f"{key}/{PAGE}"


def _relative(from_page: str, to: str) -> str:
    """The URL of build/`to` from the page build/`from_page`."""
    return posixpath.relpath(to, posixpath.dirname(from_page) or ".")


def _pdf_label(labels: dict[str, Any], pages: int) -> str:
    web = labels["web"]
    return web["pdf_one"] if pages == 1 else str(web["pdf"]).format(pages=pages)


def editions(config: Config, brief_id: str, audiences: list[str], audience: str,
             archival: bool, pages: int, docx: bool, labels: dict[str, Any]
             ) -> tuple[Edition, ...]:
    """The links of the page of a target (the brief for `audience`, `archival` or not):
    its PDF and Word edition, then the web editions of the brief's audiences, built in
    the same build: archival where their profile says so, or all of them where this one
    is archival though its profile is not (`brief build --archival`)."""
    key = artifact_key(brief_id, audience, archival)
    every_archival = archival and not config.audiences[audience].archival
    page = page_path(key)
    found = [Edition(_pdf_label(labels, pages), _relative(page, f"{key}.pdf"),
                     "application/pdf")]
    if docx:
        found.append(Edition(labels["web"]["docx"], _relative(page, f"{key}.docx"),
                             "application/vnd.openxmlformats-officedocument."
                             "wordprocessingml.document"))
    for name in audiences:
        if not config.writes_web(name):
            continue
        other = artifact_key(brief_id, name, every_archival or config.audiences[name].archival)
        label = labels["audiences"].get(name, config.audiences[name].label)
        found.append(Edition(label, _relative(page, page_path(other)),
                             current=page_path(other) == page))
    return tuple(found)


def render_web(env: SandboxedEnvironment, curated: CuratedBrief,
               citations: FormattedCitations, config: Config, sentences: dict[str, str],
               claimed: dict[str, Any], brief_id: str, key: str, pages: int, docx: bool,
               audiences: list[str]) -> str:
    """The web page of a target (its artifact key), through the audience's template with
    web-base.html.j2 (web_environment); `pages`: its PDF's."""
    labels = load_labels(curated.brief.language, config.labels)
    page = page_path(key)
    by_paragraph: dict[str, list[dict[str, Any]]] = {}
    for claim in claimed["claims"]:
        for number in claim["paragraphs"]:
            by_paragraph.setdefault(number, []).append(claim)
    web = WebPage(
        policy=POLICY,
        assets=_relative(page, ASSETS) + "/",
        logo=_logo_name(config),
        index=_relative(page, PAGE),
        editions=editions(config, brief_id, audiences, curated.audience.name,
                          key.endswith(ARCHIVAL), pages, docx, labels),
        claims=tuple(claimed["claims"]),
        claims_by_paragraph=by_paragraph,
        in_sentence={c["ref"]: found for c in claimed["claims"] if c["quote"] and
                     c["source_sentence"] and (found := in_sentence(c["quote"],
                                                                    c["source_sentence"]))},
    )
    return one_main(render_html(web_environment(env), curated, citations, config, sentences,
                                web=web))


_MAIN = re.compile(r"<(/?)main\b")


def one_main(page: str) -> str:
    """A page with one <main>: web-base.html.j2's, around the whole brief; any other (an
    audience template's, which in print marks its sections) made a <div>, its attributes
    kept. The outer one opens first and closes last; no text or attribute can hold a tag,
    as the templates escape them."""
    tags = [m.start() for m in _MAIN.finditer(page)]
    inner = set(tags[1:-1])
    return _MAIN.sub(lambda m: m.group(0) if m.start() not in inner else f"<{m.group(1)}div",
                     page)


CONTEXT_WORDS = 20  # of a source sentence, at most, on either side of its quote


def in_sentence(quote: str, sentence: str) -> tuple[str, str, str] | None:
    """The source sentence around a quote, as (before, the quote as the source writes it,
    after), each side cut to its CONTEXT_WORDS nearest words (an archived text's first
    "sentence" can hold its page furniture); None where the quote is not in it word for
    word (spacing and case aside)."""
    words = [re.escape(w) for w in quote.split()]
    found = re.search(r"\s+".join(words), sentence, re.IGNORECASE) if words else None
    if found is None:
        return None
    before, after = sentence[:found.start()], sentence[found.end():]
    head, tail = before.split(" "), after.split(" ")
    if len(head) > CONTEXT_WORDS + 1:
        before = "… " + " ".join(head[-CONTEXT_WORDS - 1:])
    if len(tail) > CONTEXT_WORDS + 1:
        after = " ".join(tail[:CONTEXT_WORDS + 1]) + " …"
    return before, found.group(0), after


def _logo_name(config: Config) -> str | None:
    logo = config.brand.logo
    return PurePosixPath(logo).name if logo else None


def _template_file(env: SandboxedEnvironment, name: str) -> bytes:
    """web.css or web.js, found as templates are (render.template_text)."""
    return template_text(env, name, "file", "restore it, or copy the package's with "
                         f"`brief templates eject {name}`").encode("utf-8")


def _subset(data: bytes) -> bytes:
    """A font cut down to FONT_RANGES (with uharfbuzz, as the PDFs' fonts are: the same
    bytes on every machine); the whole font where HarfBuzz cannot subset it."""
    import uharfbuzz as hb

    keep = hb.SubsetInput()
    keep.unicode_set.update(c for start, end in FONT_RANGES for c in range(start, end + 1))
    try:
        return bytes(hb.subset(hb.Face(hb.Blob(data)), keep).blob.data)
    except RuntimeError:
        return data


def brand_css(config: Config) -> tuple[str, dict[str, bytes]]:
    """build/_web/brand.css (the brand's colours as custom properties, its fonts as
    @font-face rules) and the font files it names, by name under build/_web/."""
    brand = config.brand
    rules: list[str] = []
    files: dict[str, bytes] = {}
    for folder in font_dirs().values():
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        for font in meta["files"]:
            name = f"fonts/{PurePosixPath(font['path']).name}"
            files[name] = _subset((folder / font["path"]).read_bytes())
            rules.append(_face(meta["family"], name, font["weight"] or 400, font["style"]))
    for face in brand.faces:  # the brand's own, from templates/
        data = boundary.read(config.templates_dir / face.file, config.templates_dir,
                             "font", name=TEMPLATES)
        name = f"fonts/{PurePosixPath(face.file).name}"
        files[name] = data
        rules.append(_face(face.family, name, face.weight, face.style))
    colours = "".join(f"  --{name}: {value};\n" for name, value in brand.colours.items())
    rules.append(f":root {{\n{colours}  --serif: {css_string(brand.serif)}, serif;\n"
                 f"  --sans: {css_string(brand.sans)}, sans-serif;\n}}")
    return "/* The brand (templates/brand.toml), written by policybrief. */\n" + "\n".join(
        rules) + "\n", files


def _face(family: str, file: str, weight: object, style: str) -> str:
    return (f"@font-face {{ font-family: {css_string(family)}; src: url({css_string(file)}); "
            f"font-weight: {weight}; font-style: {style}; font-display: swap; }}")


def asset_files(config: Config, env: SandboxedEnvironment) -> dict[str, bytes]:
    """What build/_web/ holds, by name: brand.css and its fonts, web.css, web.js, the
    logo."""
    css, files = brand_css(config)
    files = {"brand.css": css.encode("utf-8"), **files,
             "web.css": _template_file(env, "web.css"), "web.js": _template_file(env, "web.js")}
    logo = _logo_name(config)
    if logo and config.brand.logo:
        files[logo] = boundary.read(config.templates_dir / config.brand.logo,
                                    config.templates_dir, "logo", name=TEMPLATES)
    return files


@dataclass(frozen=True)
class _Listed:
    """A brief as build/index.html lists it."""

    id: str
    title: str
    subtitle: str | None
    language: str
    as_of: dt.date
    status: str
    labels: dict[str, Any]
    audiences: list[dict[str, Any]]


def index_entry(brief: Brief, marking: str | None) -> dict[str, Any]:
    """What build/index.html shows of a target, kept in its manifest entry (so that a
    merge of shards, which reads no brief, writes the same index): the brief's title,
    subtitle, language and as-of date, and the marking as its pages print it."""
    return {"title": brief.title, "subtitle": brief.subtitle, "language": brief.language,
            "as_of": brief.as_of.isoformat(), "marking_label": marking}


def index_page(config: Config, env: SandboxedEnvironment, artifacts: dict[str, Any]) -> str:
    """build/index.html: every brief the manifest's `artifacts` hold (from each entry's
    listing), its as-of date and status, and for each audience its marking and editions:
    the web page, the PDF, the Word document."""
    by_brief: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(artifacts):
        by_brief.setdefault(artifacts[key]["brief"], []).append(artifacts[key])
    order = {name: i for i, name in enumerate(config.audiences)}
    briefs = []
    for brief_id, entries in sorted(by_brief.items()):
        entries.sort(key=lambda e: (order.get(e["audience"], len(order)), e["archival"]))
        first = entries[0]
        language = str(first.get("language", "en"))
        labels = load_labels(language, config.labels)
        listed = []
        for entry in entries:
            found = []
            if "web" in entry:
                found.append(Edition(labels["web"]["web"], entry["web"]["path"]))
            found.append(Edition(_pdf_label(labels, entry["pages"]), entry["pdf"],
                                 "application/pdf"))
            if "docx" in entry:
                found.append(Edition(labels["web"]["docx"], entry["docx"]["path"]))
            name = entry["audience"]
            profile = config.audiences.get(name)
            listed.append({
                "label": labels["audiences"].get(name, profile.label if profile else name),
                "marking": entry.get("marking_label"),
                "editions": found,
            })
        as_of = dt.date.fromisoformat(str(first.get("as_of", "1970-01-01")))
        briefs.append(_Listed(brief_id, str(first.get("title", brief_id)), first.get("subtitle"),
                              language, as_of, str(first.get("status", "final")), labels,
                              listed))
    languages = {b.language for b in briefs}
    language = languages.pop() if len(languages) == 1 else "en"
    labels = load_labels(language, config.labels)
    return fill_template(
        env, INDEX_TEMPLATE, config.root, briefs=briefs, labels=labels, language=language,
        title=labels["web"]["index_title"], brand=config.brand, logo=_logo_name(config),
        assets=f"{ASSETS}/", policy=POLICY,
    )


def web_files(config: Config, env: SandboxedEnvironment, artifacts: dict[str, Any],
              into: Path | None = None) -> dict[Path, bytes]:
    """build/_web/ and build/index.html (or under `into`: a merge's folder), when the
    manifest's `artifacts` list a web page; nothing otherwise."""
    if not any("web" in entry for entry in artifacts.values()):
        return {}
    folder = into or config.build_dir
    found = {folder / ASSETS / name: data for name, data in asset_files(config, env).items()}
    found[folder / PAGE] = index_page(config, env, artifacts).encode()
    return found

