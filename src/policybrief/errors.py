"""Exceptions, exit codes and the Problem record every stage reports through."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Exit codes (documented in the README). Click itself uses 2 for usage errors.
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_RENDER = 4
EXIT_OUTPUT = 5
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it: 128 + 2
EXIT_TERMINATED = 143  # SIGTERM (a CI runner cancelling a job): 128 + 15


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (cli.py installs it)."""


def printable(text: str) -> str:
    """Text with control, format and line-separator characters escaped (\\n, \\x1b,
    \\u202e): a message quoting input stays one line and cannot drive the terminal."""
    out = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\u00ad":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def count(n: int, word: str, plural: str | None = None) -> str:
    """A number and its noun, singular for one: count(1, "page") == "1 page",
    count(2, "body", "bodies") == "2 bodies". Every message that counts uses it."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option a misspelt name most likely meant, if one is close (for "did you
    mean ...?" in a message)."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where it is, what is wrong, how to fix it."""

    path: str
    line: int | None
    field: str
    message: str
    remedy: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        remedy = f"; {self.remedy}" if self.remedy else ""
        return printable(f"{where}:{field} {self.message}{remedy}")


def display_path(path: Path, root: Path) -> str:
    """Path relative to the project root when inside it, for short error messages."""
    for mine, base in ((path.absolute(), root.absolute()), (path.resolve(), root.resolve())):
        if mine.is_relative_to(base):  # first as written: a link is named by its own path
            return mine.relative_to(base).as_posix()
    return str(path)


class BriefError(Exception):
    """Base class: any error the CLI reports as a message, without a traceback, and
    exits with exit_code (cli.py shows it as Click shows its own errors)."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def format_message(self) -> str:
        """The message on one line, whatever input it quotes."""
        return printable(self.message)


class UsageError(BriefError):
    """Raised by build.py (an unknown brief or audience) and config.py (a malformed
    SOURCE_DATE_EPOCH): the command was given something it cannot use. cli.py shows it
    as a Click usage error, with the command's usage line, and exits 2."""

    exit_code = EXIT_USAGE


class ConfigError(BriefError):
    """Raised by config.py (no project found, or its settings are invalid), tomlfile.py
    (a config file or brand.toml that is not TOML Python can read), brand.py (brand.toml
    unreadable or its settings invalid, a logo or font file it names missing or refused),
    cite.py (an unusable citation_style), templating.py (a template to eject that is not
    packaged, or is already ejected) and scaffold.py (a file `brief init` would
    overwrite)."""


class InputError(BriefError):
    """Raised by check.py when loading or validation found problems in sources or briefs."""

    def __init__(self, problems: list[Problem], consequence: str = "nothing was built") -> None:
        self.problems = problems
        errors = sum(not p.warning for p in problems)
        warnings = len(problems) - errors
        parts = [count(errors, "error")] if errors else []
        if warnings:
            parts.append(count(warnings, "warning") + ("" if errors else " (--strict)"))
        super().__init__(f"{' and '.join(parts)} in the input; {consequence}")


class BudgetError(BriefError):
    """Raised by check.py when a target is over its audience's page (or, strict, word) budget."""


class ClearanceError(BriefError):
    """Raised by check.py when a target is marked lower than a note it cites."""


class TemplatingError(BriefError):
    """Raised by render.py when a template or an audience's stylesheet is missing or a
    template fails to render, and by htmlcheck.py when a template made HTML that cannot
    be a PDF/UA (a figure without alternative text). Named apart from Jinja2's
    jinja2.TemplateError, which render.py catches as JinjaTemplateError."""


class PolicyError(BriefError):
    """Raised when a document or template reaches outside what it may: by fetch.py (a
    resource the renderer's fetcher refused, raise_refusals), boundary.py (Refused, a
    subclass: a file outside its folder, not a regular file or over its size limit, for
    whichever module reads it), render.py (a template or stylesheet reaching what the
    sandbox forbids) and cite.py (pandoc citeproc asked to fetch something)."""

    exit_code = EXIT_POLICY


class RenderError(BriefError):
    """Raised by pdf.py when WeasyPrint fails, or warns under --strict; by fetch.py and
    htmlcheck.py for a CSS value over css.py's limits; by cite.py when pandoc is missing
    or fails; by prefork.py for an unexpected failure in the PDF process; and by build.py
    when citeproc warned under --strict, or given to a target that timed out or whose
    worker died."""

    exit_code = EXIT_RENDER


class LayoutError(RenderError):
    """Raised by pdf.py when the laid-out pages fail verify.check_layout: a footnote lost,
    text past the margin, a near-empty last page, a heading ending a page, contents or a
    numbered paragraph that do not match."""


class MergeError(BriefError):
    """Raised by merge.py when build folders cannot be merged: a folder without a
    manifest, shards of different versions or sharing a target, a listed file missing
    or not matching its recorded hash."""


class OutputError(BriefError):
    """Raised by output.py when build/ cannot be written."""

    exit_code = EXIT_OUTPUT
