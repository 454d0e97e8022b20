"""Curated brief -> HTML string, through the audience's template (pdf.py makes the PDF)."""

from __future__ import annotations

import dataclasses
import logging
import re
import traceback
from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from . import brand, config, curate, models
from .cite import FormattedCitations
from .config import DEFAULT_AUDIENCES, PAPER_SIZES, Config
from .css import Stylesheet
from .curate import CuratedBrief
from .errors import PolicyError, TemplatingError, closest
from .i18n import format_when, justified, load_labels
from .markdown import MarkdownNestingError
from .sandbox import TemplateLimitError
from .templating import load_template

log = logging.getLogger(__name__)


def render_html(
    env: SandboxedEnvironment, curated: CuratedBrief, citations: FormattedCitations, config: Config,
    sentences: dict[str, str] | None = None, web: Any = None,
) -> str:
    """Fill the audience's template with the curated brief; `sentences` are the source
    sentences around its quotes, by reference (evidence.quote_sentences); `web`, for a
    web page, what web.py gives it (web.WebPage), else None (print)."""
    template_name = curated.audience.template
    labels = load_labels(curated.brief.language, config.labels)
    audience = curated.audience
    # A packaged audience is named in the brief's language; a project's label stays
    # (curation has taken its text in the brief's language).
    packaged = DEFAULT_AUDIENCES.get(audience.name)
    labels["edition"] = (
        labels["audiences"].get(audience.name, audience.label)
        if packaged and packaged.label == audience.label else audience.label
    )
    return fill_template(
        env, template_name, config.root,
        **curated.context(), citations=citations, paper=PAPER_SIZES[config.paper],
        brand=config.brand, labels=labels, quote_sentences=sentences or {},
        justified=justified(curated.brief.language),
        marking_label=marking_label(curated.marking, curated.brief.language, labels),
        web=web,
    )


def fill_template(env: SandboxedEnvironment, template_name: str, root: Path,
                  **context: Any) -> str:
    """Render a template (and all it uses) with the context; every way it can fail is
    a TemplatingError or PolicyError naming the template and the line."""
    try:
        template = load_template(env, template_name, root)  # and all it uses
        log.debug("template %s from %s", template_name, template.filename)
        # The sandbox (sandbox.BoundedSandbox) counts the output as it is joined and
        # stops at MAX_OUTPUT characters.
        return template.render(**context)
    except TemplatingError:  # load_template's own: a block no parent has
        raise
    except TemplateNotFound as exc:
        raise TemplatingError(
            f"template {exc.name!r} not found in {root / 'templates'} or the package "
            "defaults; check the name, or run without the override"
        ) from exc
    except TemplateSyntaxError as exc:
        raise TemplatingError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}"
        ) from exc
    except SecurityError as exc:  # the sandbox refused: Python internals, a path, a limit
        problem, _, remedy = str(exc).rstrip(".").partition("; ")
        if not remedy:
            remedy = (
                "templates run with bounded sizes; make less output or smaller values"
                if isinstance(exc, TemplateLimitError) else
                "templates run in Jinja2's sandbox, without access to Python internals"
            )
        raise PolicyError(f"template {template_name!r}: {problem}{_at(exc)}; {remedy}") from exc
    except UndefinedError as exc:
        problem, remedy = _undefined(exc, root)
        raise TemplatingError(
            f"template {template_name!r}: {problem}{_at(exc)}; {remedy or 'check the name'} "
            "(template variables are listed in docs/templates.md)"
        ) from exc
    except JinjaTemplateError as exc:
        raise TemplatingError(f"template {template_name!r}: {exc}{_at(exc)}") from exc
    except MarkdownNestingError as exc:
        raise TemplatingError(
            f"template {template_name!r}: {exc}{_at(exc)}; nest block quotes and lists less"
        ) from exc
    except Exception as exc:  # a template's own runtime error (bad filter use, types)
        where = _template_frame(exc) or repr(template_name)
        raise TemplatingError(
            f"template {where}: {type(exc).__name__}: {exc}; fix the template"
        ) from exc


def marking_label(marking: curate.Marking | None, language: str,
                  labels: dict[str, Any]) -> str | None:
    """The marking as every page prints it: "OFFICIAL-SENSITIVE · NOT FOR PUBLICATION ·
    EMBARGOED UNTIL 3 DECEMBER 2026" (the embargo in the brief's language)."""
    if marking is None:
        return None
    parts = list(marking.printed)
    if marking.embargo is not None:
        when = format_when(marking.embargo, language)
        parts.append(labels["embargoed_until"].format(date=when).upper())
    return " · ".join(parts)


# "'policybrief.models.Brief object' has no attribute 'langauge'": Jinja's words for a
# misspelt field, which name our class, not what the template wrote.
_NO_ATTRIBUTE = re.compile(r"^'(?:[\w.]+\.)?(\w+) object' has no attribute '(\w+)'$")
_TEMPLATE_TYPES: dict[str, type] = {
    t.__name__: t for module in (models, curate, config, brand) for t in vars(module).values()
    if isinstance(t, type) and t.__module__ == module.__name__
}


def _fields(cls: type) -> list[str]:
    """What a template can read on an object of `cls`: its fields, properties, methods."""
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
    else:
        names = list(getattr(cls, "model_fields", {}))
    return names + [n for n in vars(cls) if not n.startswith("_")]


def _undefined(exc: UndefinedError, root: Path) -> tuple[str, str]:
    """A misspelt field as the template wrote it (`brief.langauge`), with the names it
    could have meant; other undefined names as Jinja says them."""
    found = _NO_ATTRIBUTE.match(exc.message or "")
    if not found:
        return str(exc.message), ""
    kind, name = found.groups()
    written = f".{name}"
    where = _template_frame(exc)
    if where:
        path, _, line = where.rpartition(":")
        try:
            text = Path(path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        except (OSError, IndexError, ValueError):
            text = ""
        expression = re.search(rf"([\w.]+)\.{re.escape(name)}\b", text)
        written = expression.group(0) if expression else written
    cls: Any = _TEMPLATE_TYPES.get(kind)
    close = closest(name, _fields(cls)) if cls else None
    return (f"`{written}`: a {kind} has no field {name!r}",
            f"did you mean {close!r}?" if close else "")


def _template_frame(exc: BaseException) -> str | None:
    """'<template file>:<line>' of the innermost template frame of an error raised while
    rendering (Jinja rewrites tracebacks so template code shows as its own file)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None


def _at(exc: BaseException) -> str:
    where = _template_frame(exc)
    return f" at {where}" if where else ""


def load_stylesheet(env: SandboxedEnvironment, name: str) -> Stylesheet:
    """The stylesheet called `name`, found as templates are (the project's templates/
    first, then the package; `default:` for the package's own)."""
    if not name:
        return Stylesheet()
    return Stylesheet(name, template_text(
        env, name, "stylesheet", 'fix `stylesheet` in the audience\'s config, or set it to "" '
        "for none"))


def template_text(env: SandboxedEnvironment, name: str, what: str, remedy: str) -> str:
    """The text of the file `name` (a stylesheet, web.js), found as templates are: the
    project's templates/ first, then the package; `what` it is and the `remedy` when it
    is not there, for the error."""
    try:
        text, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except TemplateNotFound:
        raise TemplatingError(
            f"{what} {name!r} not found in templates/ or the package; {remedy}") from None
    except SecurityError as exc:  # a way out of templates/, a pipe, a file too big
        raise PolicyError(str(exc)) from None
    return text
