"""The renderer's confined resource fetcher: which folders WeasyPrint may read
(allowed_roots), a URL fetcher that serves files under them and refuses everything else
(make_fetcher), and the errors its refusals become (raise_refusals).

Used by pdf.py only (for the document, its stylesheets and its attachments). What a
file may be (regular, within its size limit) is boundary.py's; which CSS values are
safe is css.py's.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from . import boundary
from .brand import FONT_FORMATS
from .config import Config
from .css import check_css
from .errors import PolicyError, RenderError
from .fonts import font_dirs

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcherResponse


def allowed_roots(config: Config) -> list[Path]:
    """Folders the renderer may read: the project, the package templates, the fonts."""
    package_templates = Path(__file__).parent / "templates"
    return [p.resolve() for p in (config.root, package_templates, *font_dirs().values())]


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


def raise_refusals(label: str, refused: list[str], unsafe: list[str]) -> None:
    """Raise for what a fetcher (make_fetcher) refused: RenderError for unsafe CSS,
    PolicyError for the URLs it would not serve; nothing if it refused nothing."""
    if unsafe:
        raise RenderError(f"{label}: CSS {unsafe[0]}; use a value within the limit")
    if refused:
        listed = ", ".join(sorted(set(refused)))
        raise PolicyError(
            f"{label}: refused to load {listed}; notes and templates may only use files inside "
            "the project (no network, no other files)"
        )
