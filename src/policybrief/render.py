"""Curated brief -> HTML string, through the audience's template (pdf.py makes the PDF)."""

from __future__ import annotations

import logging
import traceback

from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .cite import FormattedCitations
from .config import DEFAULT_AUDIENCES, PAPER_SIZES, Config
from .css import Stylesheet
from .curate import CuratedBrief
from .errors import PolicyError, TemplatingError
from .i18n import justified, load_labels
from .markdown import MarkdownNestingError
from .sandbox import TemplateLimitError
from .templating import load_template

log = logging.getLogger(__name__)


def render_html(
    env: SandboxedEnvironment, curated: CuratedBrief, citations: FormattedCitations, config: Config,
    sentences: dict[str, str] | None = None,
) -> str:
    """Fill the audience's template with the curated brief; `sentences` are the source
    sentences around its quotes, by reference (evidence.quote_sentences)."""
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
    try:
        template = load_template(env, template_name, config.root)  # and all it uses
        log.debug("template %s from %s", template_name, template.filename)
        # The sandbox (sandbox.BoundedSandbox) counts the output as it is joined and
        # stops at MAX_OUTPUT characters.
        return template.render(
            **curated.context(), citations=citations, paper=PAPER_SIZES[config.paper],
            brand=config.brand, labels=labels, quote_sentences=sentences or {},
            justified=justified(curated.brief.language),
        )
    except TemplatingError:  # load_template's own: a block no parent has
        raise
    except TemplateNotFound as exc:
        raise TemplatingError(
            f"template {exc.name!r} not found in {config.templates_dir} or the package "
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
        raise TemplatingError(
            f"template {template_name!r}: {exc.message}{_at(exc)}; check the variable name "
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
    try:
        text, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except TemplateNotFound:
        raise TemplatingError(
            f"stylesheet {name!r} not found in templates/ or the package; fix `stylesheet` "
            'in the audience\'s config, or set it to "" for none'
        ) from None
    except SecurityError as exc:  # a way out of templates/, a pipe, a file too big
        raise PolicyError(str(exc)) from None
    return Stylesheet(name, text)
