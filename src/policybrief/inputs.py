"""What a target reads: the one list of files behind its input digest (build.input_digest).

The fast path's fingerprint (fastpath.py) hashes the folders a check reads and records
the rest of this list after each build, so a file here is never missing from either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from jinja2 import TemplateError

from .boundary import regular
from .cite import LOCALES
from .config import Config
from .evidence import archived_name
from .fastpath import input_files, shared_inputs
from .i18n import LABELS
from .load import Project
from .markdown import make_markdown
from .templating import PACKAGE_TEMPLATES, template_files

# A file a template or stylesheet names literally: src="...", href="...", url(...),
# @import "...". A name computed by Jinja ({{ ... }}) cannot be known before rendering.
_REFERENCE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']|\burl\(\s*["']?|@import\s+["'])([^"'()\s{}]+)""",
    re.IGNORECASE,
)


def target_files(config: Config, project: Project, brief_id: str) -> list[Path]:
    """Every file a target of the brief reads, whatever its audience: the project's
    shared inputs (fastpath.shared_inputs), the brief and the sources it cites, the
    archived texts of those that quote (the evidence annex and claims.json show the
    sentence around each quote), the package's templates, labels and CSL locales, and the files
    inside the project that the texts of the brief and its sources (Markdown images) or
    the project's templates and stylesheets name. Links count as the file they lead to."""
    brief = project.briefs[brief_id]
    cited = sorted({ref.split("/", 1)[0] for _, ref in brief.model.references()})
    files = [*shared_inputs(config), config.briefs_dir / f"{brief_id}.yaml"]
    files += [config.sources_dir / f"{source_id}.yaml" for source_id in cited]
    if config.archive is not None:
        files += sorted({config.archive / archived_name(project.sources[s].model) for s in cited
                         if any(n.quote for n in project.sources[s].model.notes)})
    for folder in (PACKAGE_TEMPLATES, LABELS, LOCALES):
        files += input_files(folder, folder.resolve())
    named = _markdown_images(config, [brief.doc.data, *(project.sources[s].doc.data
                                                        for s in cited)])
    named |= _template_references(config)
    return files + sorted(named - set(files))


def audience_files(config: Config, env: Any, template: str,
                   read: dict[Path, str]) -> dict[Path, str]:
    """Of the files a brief's targets read (`read`: path -> hash), those a target with
    this template reads: every file but the Jinja templates (.j2, the project's and the
    package's) that its template does not load (templating.template_files: what it
    extends, includes, imports). Stylesheets, brand.toml and images stay, shared by all.
    If the template names another by a computed name, or does not compile (rendering
    then says why), every template counts."""
    try:
        used = template_files(env, template)
    except TemplateError:
        used = None
    if used is None:
        return read
    loaded = {path.resolve() for path in used}
    folders = [config.templates_dir.resolve(), PACKAGE_TEMPLATES.resolve()]
    return {path: sha for path, sha in read.items()
            if not (path.suffix == ".j2" and path.resolve() not in loaded
                    and any(path.resolve().is_relative_to(f) for f in folders))}


def _texts(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _texts(value)
    elif isinstance(data, list):
        for value in data:
            yield from _texts(value)


def _project_file(config: Config, url: str, base: str) -> Path | None:
    """The file inside the project that a URL (relative to `base`) leads to, if any:
    the renderer's fetcher reads no other."""
    parts = urlsplit(urljoin(base, url))
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path))
    resolved = path.resolve()
    return path if resolved.is_relative_to(config.root.resolve()) and regular(path) else None


def _markdown_images(config: Config, documents: list[Any]) -> set[Path]:
    """The image files the Markdown texts of these documents show (relative to
    templates/, the renderer's base URL), parsed as the templates' `markdown` filter
    parses them."""
    md = make_markdown()
    base = config.base_url
    found = set()
    for data in documents:
        for text in _texts(data):
            if "![" not in text:  # no image syntax: nothing to parse
                continue
            tokens = md.parse(text)
            while tokens:
                token = tokens.pop()
                tokens += token.children or []
                if token.type == "image":
                    path = _project_file(config, str(token.attrGet("src") or ""), base)
                    if path is not None:
                        found.add(path)
    return found


def _template_references(config: Config) -> set[Path]:
    """Files the project's templates and stylesheets name literally, outside templates/
    (whose files are all inputs anyway): a relative name starts in templates/ (the
    document's base URL) or, in a stylesheet, in the stylesheet's own folder."""
    found = set()
    templates = config.base_url
    for path in input_files(config.templates_dir, config.root.resolve()):
        if path.suffix not in (".j2", ".css", ".html"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in _REFERENCE.findall(text):
            if name.startswith("#"):  # a place in the document itself
                continue
            for base in {templates, path.resolve().as_uri()}:
                file = _project_file(config, name, base)
                if file is not None:
                    found.add(file)
    return found
