"""`brief watch`: a warm process that rebuilds the targets a change affects."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from threading import Event

from .config import Config, load_config
from .errors import BriefError, count

log = logging.getLogger(__name__)


def _paths(config: Config) -> list[Path]:
    """What to watch: the whole project, so that a folder or file made later (sources/
    removed and made again, places.yaml, templates/, an image) is seen; and the archive
    if it lies outside the project."""
    archive = config.archive
    outside = archive is not None and archive.is_dir() and not archive.resolve(
    ).is_relative_to(config.root.resolve())
    return [config.root, *([archive] if outside and archive else [])]


# Editors' and tools' temporary files, which come and go as a file is saved: sed -i's
# sedXXXXXX, vim's swap files (.swp, .swx ...) and its write test 4913, emacs's #autosave#
# and .#lock, backups ending in ~, Kate's swap files and JetBrains' safe-write copies.
# (Hidden files, .x.swp and .#x among them, are left out anyway.)
TEMPORARY = re.compile(r"sed[A-Za-z0-9]{6}|\d+|#.*#|.*(\.sw[a-px]|~|\.kate-swp|___jb_(tmp|old)___)")


def _relevant(config: Config) -> Callable[[object, str], bool]:
    """A change that can matter to a build: anywhere in the project but build/ (the
    build's own writes), hidden files and folders (.git, .venv, editors' swap files),
    __pycache__ and editors' temporary files (TEMPORARY)."""
    roots = (config.root, config.root.resolve())
    build = config.build_dir.relative_to(config.root).parts

    def relevant(change: object, path: str) -> bool:
        where = Path(path)
        inside = next((where.relative_to(r) for r in roots if where.is_relative_to(r)), None)
        parts = where.parts[-1:] if inside is None else inside.parts  # else: the archive
        return (
            bool(parts) and parts[:len(build)] != build and not TEMPORARY.fullmatch(where.name)
            and not any(p.startswith(".") or p == "__pycache__" for p in parts)
        )

    return relevant


class _Errors(logging.Handler):
    """The error messages logged while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def rebuild(config: Config, echo: Callable[[str], None], jobs: int = 1) -> list[str]:
    """One incremental build in this process (WeasyPrint stays loaded between builds);
    an error is shown, not raised, so watching goes on. Returns the errors: each problem
    logged (file, line, field: check.py logs them) and the build's own message."""
    from .build import build

    started = time.perf_counter()
    logged = _Errors()
    logging.getLogger("policybrief").addHandler(logged)
    try:
        result = build(config, jobs=jobs)
    except BriefError as exc:
        echo(f"error: {exc.format_message()}")
        return [*logged.messages, exc.format_message()]
    finally:
        logging.getLogger("policybrief").removeHandler(logged)
    seconds = time.perf_counter() - started
    for target in result.built:
        echo(f"rebuilt {target.brief_id}/{target.audience} "
             f"({count(target.rendered.pages, 'page')})")
    for failure in result.failed:
        echo(f"error: {failure.labelled}")
    if not result.built and not result.failed:
        echo(f"nothing to rebuild ({seconds:.1f} s)")
    else:
        echo(f"done in {seconds:.1f} s")
    return [failure.labelled for failure in result.failed]


def watch(project: Path | None, archive: Path | None, echo: Callable[[str], None],
          stop: Event | None = None, formats: tuple[str, ...] | None = None,
          built: Callable[[list[str]], None] | None = None, jobs: int = 1) -> None:
    """Build once, then after each burst of changes rebuild what they affect; `formats`
    as --format gives them; `built` is told each build's errors (none: it succeeded)."""
    from watchfiles import watch as watch_files

    def build_now(config: Config) -> None:
        errors = rebuild(config, echo, jobs)
        if built is not None:
            built(errors)

    config = load_config(project, archive=archive, formats=formats)
    echo(f"watching {config.root} (Ctrl-C to stop)")
    first = True
    # The watcher starts before the first build (its first, empty, yield triggers it), so
    # no change is missed. A burst of saves (an editor writing twice) is one batch.
    for changes in watch_files(*_paths(config), watch_filter=_relevant(config), debounce=400,
                               step=50, stop_event=stop, raise_interrupt=False,
                               yield_on_timeout=True, rust_timeout=300):
        if first:
            first = False
            build_now(config)
            if not changes:
                continue
        if not changes:
            continue
        names = sorted({Path(path).name for _, path in changes})
        echo(f"changed: {', '.join(names)}")
        try:  # the config may have changed
            config = load_config(config.root, archive=archive, formats=formats)
        except BriefError as exc:
            echo(f"error: {exc.format_message()}")
            if built is not None:
                built([exc.format_message()])
            continue
        build_now(config)
