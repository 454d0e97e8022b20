"""The Jinja2 environment: project templates over package defaults, filters, sandbox."""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    nodes,
    pass_context,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import boundary
from .brand import TEMPLATES
from .config import Config
from .curate import MARK, MARK_END, CitationPoint, Prose
from .errors import ConfigError, TemplatingError, display_path
from .i18n import format_attribution, format_creator, format_names, format_span, format_when
from .markdown import ENGLISH_QUOTES, make_markdown, quotation, typographic
from .output import refuse_overwrite, write_atomic
from .sandbox import BoundedSandbox, bounded_filter
from .timeline import timeline_svg

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
_TEMPLATE_FILES = (".j2", ".css", ".js")  # what `templates list` shows of a folder


@dataclass(frozen=True)
class TemplateInfo:
    """A template name and the file that supplies it."""

    name: str
    where: str  # "project" or "package": the folder of the search path that supplies it
    path: Path
    overrides_default: bool  # a project file hiding a package default of the same name


def _search_path(config: Config) -> list[tuple[str, Path, BaseLoader]]:
    """Where templates are found, first match wins: the project's templates/, then the
    package defaults. The loader and `brief templates list` both read this list."""
    return [
        ("project", config.templates_dir, ConfinedLoader(config.templates_dir)),
        ("package", PACKAGE_TEMPLATES, PackageLoader("policybrief", "templates")),
    ]


def _names(loader: BaseLoader) -> set[str]:
    """The templates and stylesheets a loader can supply, subfolders included."""
    return {name for name in loader.list_templates() if name.endswith(_TEMPLATE_FILES)}


def list_templates(config: Config) -> list[TemplateInfo]:
    """Every template the build can use, with the folder that wins for each name."""
    found = [(where, folder, _names(loader)) for where, folder, loader in _search_path(config)]
    infos = []
    for name in sorted(set().union(*(names for _, _, names in found))):
        suppliers = [(where, folder) for where, folder, names in found if name in names]
        where, folder = suppliers[0]
        infos.append(TemplateInfo(name, where, folder / name, len(suppliers) > 1))
    return infos


def eject_template(config: Config, name: str, force: bool = False) -> Path:
    """Copy a package default into the project's templates/ for editing."""
    defaults = sorted(_names(PackageLoader("policybrief", "templates")))
    if name not in defaults:
        raise ConfigError(f"no packaged template {name!r}; templates: {', '.join(defaults)}")
    target = config.templates_dir / name
    refuse_overwrite([target], force)
    write_atomic(target, (PACKAGE_TEMPLATES / name).read_bytes())
    return target


def css_counters(template: str) -> Markup:
    """'Page {page} of {pages}' as CSS content: "Page " counter(page) " of " counter(pages)."""
    parts = re.split(r"\{(page|pages)\}", template)
    out = [css_string(p) if i % 2 == 0 else f"counter({p})" for i, p in enumerate(parts) if p]
    return Markup(" ".join(out))


def css_string(value: str) -> Markup:
    """A quoted CSS string with every non-alphanumeric character escaped.

    Safe inside a <style> element: no quote, backslash or `</style>` can survive.
    """
    out = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(value))
    return Markup(f'"{out}"')


def attach(html: str, call: str) -> Markup:
    """Join a footnote to the last word of rendered text, so no line starts with a call.
    In block Markdown (paragraphs, tables) the call goes into the last paragraph when the
    text ends with one, else after the text.

    Only a plain last word (no markup in it) is wrapped; otherwise the call just follows.
    """
    text = str(html).rstrip()
    if text.endswith("</p>"):
        return Markup(f"{attach(Markup(text[:-4]), call)}</p>")
    head, space, tail = text.rpartition(" ")
    if not tail or "<" in tail or ">" in tail:
        return Markup(f"{text}{call}")
    return Markup(f'{head}{space}<span class="nobr">{tail}{call}</span>')


_CALL = re.compile(f"([^\\s<>]*){MARK}(\\d+){MARK_END}")
_CALL_BEFORE_PUNCTUATION = re.compile(f"({MARK}\\d+{MARK_END})([.,;:!?]+)")


def cited(render: Callable[[str], str], prose: Prose, call: Callable[[CitationPoint], str],
          inline: bool = False, before: str = "", after: str = "") -> Markup:
    """Prose rendered as Markdown (by `render`) with each citation point's call (`call`,
    a macro such as citations.html.j2's `footnote`) where its inline citation stood:
    after the punctuation that follows it and joined to the word before it, so no line
    starts with a call; `inline` (an author-date citation): where it stood, as written.
    `before` and `after` (markup, such as a label) open and close the text: inside its
    first and last paragraph when it is block Markdown."""
    text = prose.text if inline else _CALL_BEFORE_PUNCTUATION.sub(r"\2\1", prose.text)

    def place(match: re.Match[str]) -> str:
        word, call_html = match.group(1), str(call(prose.points[int(match.group(2))]))
        if inline or not word:
            return word + call_html
        return f'<span class="nobr">{word}{call_html}</span>'

    html = _CALL.sub(place, str(render(text))).strip()
    if html.startswith("<p>"):
        html = f"<p>{before}{html[3:]}"
    elif before:
        html = f"{before}{html}"
    if html.endswith("</p>"):
        return Markup(f"{html[:-4]}{after}</p>")
    return Markup(f"{html}{after}")


class ConfinedLoader(FileSystemLoader):
    """A FileSystemLoader that reads through the trust boundary: `..`, absolute names,
    symlinks that resolve outside its folder (Jinja follows them), devices, pipes and
    files over the limit are refused (SecurityError), not read. A name not there is
    left to the next loader (the package's)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.folder = folder

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The template's (or stylesheet's) source, read by boundary.read."""
        what = "stylesheet" if template.endswith(".css") else "template"
        pieces = template.replace("\\", "/").split("/")
        if template.startswith(("/", "\\")) or ".." in pieces:
            raise SecurityError(
                f"{what} name {template!r} points outside templates/; name {what}s "
                "relative to templates/, without '..'"
            )
        candidate = self.folder.joinpath(*split_template_path(template))
        try:
            source = boundary.read(candidate, self.folder, what, name=TEMPLATES)
            mtime = os.stat(candidate).st_mtime
        except boundary.Refused as exc:
            raise SecurityError(f"{what} {template!r} {exc.problem}; {exc.remedy}") from None
        except FileNotFoundError:
            raise TemplateNotFound(template) from None
        filename = os.path.normpath(candidate)

        def uptodate() -> bool:
            try:
                return os.stat(candidate).st_mtime == mtime
            except OSError:
                return False

        return source.decode("utf-8"), filename, uptodate


def make_environment(config: Config) -> SandboxedEnvironment:
    """Jinja environment: project templates/, then package defaults, then `default:` prefix."""
    search = [loader for _, _, loader in _search_path(config)]
    package = search[-1]
    loader = ChoiceLoader([*search, PrefixLoader({"default": package}, delimiter=":")])
    env = BoundedSandbox(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    parsers = functools.cache(make_markdown)  # one per set of quotation marks

    def quotes(context: Context) -> str:  # the brief language's marks (its label catalog)
        labels = context.get("labels")
        return str(labels.get("quotes", ENGLISH_QUOTES)) if isinstance(labels, dict) \
            else ENGLISH_QUOTES

    ours: dict[str, Callable[..., Any]] = {
        "markdown": pass_context(
            lambda context, text: Markup(parsers(quotes(context)).render(text))),
        "markdown_inline": pass_context(
            lambda context, text: Markup(parsers(quotes(context)).renderInline(text))),
        "quotation": pass_context(
            lambda context, text: Markup(quotation(text, quotes(context)))),
        "typographic": pass_context(
            lambda context, text: Markup(typographic(text, quotes(context)))),
        "when": format_when,
        "span": format_span,
        "names": format_names,
        "creator": format_creator,
        "attribution": format_attribution,
        "css_string": css_string,
        "css_counters": css_counters,
        "attach": attach,
        "cited": pass_context(lambda context, prose, call, inline=False, **marks: cited(
            parsers(quotes(context)).renderInline, prose, call, inline, **marks)),
        "cited_block": pass_context(lambda context, prose, call, inline=False, **marks: cited(
            parsers(quotes(context)).render, prose, call, inline, **marks)),
        "timeline_svg": pass_context(
            lambda context, events, language, brand, title="Timeline": timeline_svg(
                events, language, brand, title, inline_style=not context.get("web"))),
    }
    for name, func in ours.items():
        env.filters[name] = bounded_filter(name, func)
    return env


def load_template(env: Environment, name: str, root: Path) -> Template:
    """The template `name`, compiled with every template it uses by a constant name
    (extends, include, import), so that a syntax error in any of them is found before
    anything renders, whichever branches the brief takes (one that cannot be found or
    read is left to rendering, which names the line that uses it); and each block of a template
    that extends another checked against the blocks of the templates it extends: a
    block none of them has is never printed (TemplatingError: file, line, the names it
    could have meant). `root`: the project, for short file names."""
    template = env.get_template(name)
    for used, (tree, _) in _uses(env, name).items():
        parent = _parent(tree)
        if parent is not None:
            _check_blocks(env, used, tree, parent, root)
    return template


def template_files(env: Environment, name: str) -> list[Path] | None:
    """The files of the templates that template `name` loads (itself, and what it
    extends, includes and imports, followed as load_template follows them), or None if
    one of them names a template by a computed name, which only rendering knows."""
    found = []
    for used, (_, constant) in _uses(env, name).items():
        if not constant:
            return None
        filename = env.get_template(used).filename
        if filename:
            found.append(Path(filename))
    return found


def _uses(env: Environment, name: str) -> dict[str, tuple[nodes.Template, bool]]:
    """Template `name` and every template it uses by a constant name, each with its
    syntax tree and whether all the templates it names are constants. One that cannot
    be found or read is left out: rendering says so where the template names it."""
    seen: dict[str, tuple[nodes.Template, bool]] = {}

    def visit(name: str) -> None:
        tree = _parse(env, name)
        references = list(tree.find_all((nodes.Extends, nodes.Include, nodes.Import,
                                         nodes.FromImport)))
        names = [_constants(node.template) for node in references]  # type: ignore[attr-defined]
        seen[name] = tree, all(names)
        for used in (n for group in names for n in group):
            if used in seen:
                continue
            try:
                visit(used)
            except (TemplateNotFound, SecurityError):  # rendering, if it gets there,
                continue  # says so where the template names it (ignore missing: not)

    visit(name)
    return seen


def _parse(env: Environment, name: str) -> nodes.Template:
    """The syntax tree of a template (compiled first, so its errors are Jinja's own)."""
    env.get_template(name)
    source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    return env.parse(source, name, filename)


def _constants(node: nodes.Node) -> list[str]:
    """The template names an extends, include or import names as constants."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, nodes.List | nodes.Tuple):  # include ["a", "b"]: the first found
        return [item.value for item in node.items
                if isinstance(item, nodes.Const) and isinstance(item.value, str)]
    return []  # a name computed at render time: rendering finds it


def _parent(tree: nodes.Template) -> str | None:
    extends = next(tree.find_all(nodes.Extends), None)
    names = _constants(extends.template) if extends is not None else []
    return names[0] if names else None


def _outer_blocks(node: nodes.Node) -> list[nodes.Block]:
    """The blocks of a template not inside another of its blocks."""
    found = []
    for child in node.iter_child_nodes():
        found += [child] if isinstance(child, nodes.Block) else _outer_blocks(child)
    return found


def _check_blocks(env: Environment, name: str, tree: nodes.Template, parent: str,
                  root: Path) -> None:
    """Refuse a block of `name` (which extends `parent`) that no template it extends has."""
    chain: list[str] = []
    defined: set[str] = set()
    ancestor: str | None = parent
    while ancestor is not None and ancestor not in chain and ancestor != name:
        chain.append(ancestor)
        try:
            defined |= set(env.get_template(ancestor).blocks)
            ancestor = _parent(_parse(env, ancestor))
        except (TemplateNotFound, SecurityError):  # left to rendering (load_template)
            return
    for block in _outer_blocks(tree):
        if block.name in defined:
            continue
        filename = env.get_template(name).filename
        where = display_path(Path(filename), root) if filename else name
        near = difflib.get_close_matches(block.name, sorted(defined), n=3, cutoff=0.6)
        raise TemplatingError(
            f"{where}:{block.lineno}: block {block.name!r} is in none of the templates it "
            f"extends ({', '.join(chain)}), so it is never printed; "
            + (f"did you mean {' or '.join(repr(n) for n in near)}? " if near else "")
            + f"Name one of their blocks ({', '.join(sorted(defined))}) or remove it"
        )
