"""The trust boundary: the one rule for every file the tool reads.

A file is read only if it is a regular file, resolves (symlinks followed) inside the
folder it belongs to, and is within the size limit for its kind; it is then read with
a bound, so that a file growing meanwhile cannot make the read unbounded. Anything else
is refused with a Refused error, before any byte is read: a link or `..` out of the
folder, a device (/dev/zero), a named pipe (whose reading would never end), a socket,
a folder, a file over its limit. A file that is not there raises FileNotFoundError, as
open() does (a missing file is often a warning, not a breach).

The folder each kind belongs to is the caller's to say (README, "Rendering and trust").

Two lighter reads sit here too: regular() (is a path a regular file, after links: for
a listing of inputs, before any read) and open_written()/read_written() (a file the
build itself wrote, read back as untrusted input: never through a link, never a
device or FIFO). This module imports only the standard library (and errors.py): the
fast path (fastpath.py) and the output layer (output.py) use it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import PolicyError

_MiB = 1024 * 1024
# The size limit of each kind of file, in bytes: well above any real one, far below
# what would exhaust memory or time.
LIMITS = {
    "source file": 2 * _MiB,  # YAML an analyst wrote, not a data dump
    "brief file": 2 * _MiB,
    "places file": 2 * _MiB,
    "config file": 1 * _MiB,  # pyproject.toml or policybrief.toml
    "brand file": 1 * _MiB,  # templates/brand.toml
    "label catalog": 1 * _MiB,  # labels/<language>.toml
    "template": 5 * _MiB,
    "stylesheet": 5 * _MiB,
    "citation style": 5 * _MiB,  # a .csl file (the largest in the CSL repository: 0.3 MB)
    "archived text": 20 * _MiB,  # a long treaty or report is a few MB of text
    "logo": 5 * _MiB,
    "reference document": 20 * _MiB,  # templates/reference.docx, the Word edition's styles
    "image": 50 * _MiB,
    "font": 50 * _MiB,  # a CJK font is about 20 MB
    "CSL-JSON export": 32 * _MiB,  # tens of thousands of items; a Zotero item is about 1 KB
    # Read only to be hashed (fastpath.py, build.input_digest): any of the above.
    "hashed input": 50 * _MiB,
}

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


class Refused(PolicyError):
    """A file the boundary will not read; `problem` and `remedy` are phrased to follow
    the file's name ("sources/x.yaml: is a device, not a regular file")."""

    def __init__(self, path: Path, what: str, problem: str, remedy: str,
                 outside: bool = False) -> None:
        self.path, self.what = path, what
        self.problem, self.remedy = problem, remedy
        self.outside = outside  # outside its folder (else: not a regular file, too big)
        super().__init__(f"{what} {str(path)!r} {problem}; {remedy}")


def _folders(within: Path | Sequence[Path] | None) -> list[Path]:
    if within is None:
        return []
    return [within] if isinstance(within, Path) else list(within)


def _inside(path: Path, within: Path | Sequence[Path] | None, what: str,
            name: str | None) -> Path:
    """The path with symlinks resolved, if that is inside one of the folders."""
    if "\0" in str(path):  # no file has one; os.path would raise ValueError
        raise Refused(path, what, "has a NUL character in its name", "fix the name")
    real = Path(os.path.realpath(path))  # never raises, even on a symlink loop
    folders = _folders(within)
    if not folders or any(real.is_relative_to(os.path.realpath(f)) for f in folders):
        return real
    shown = name or (f"{folders[0]}{os.sep}" if len(folders) == 1 else "the allowed folders")
    as_written = Path(os.path.normpath(path.absolute()))
    linked = any(as_written.is_relative_to(os.path.normpath(f.absolute())) for f in folders)
    problem = (f"is a link to {real}, outside {shown}" if linked
               else f"resolves to {real}, outside {shown}")
    raise Refused(path, what, problem, f"copy the file into {shown} instead", outside=True)


def _check(info: os.stat_result, path: Path, what: str) -> None:
    """Refuse what is not a regular file, or is over its kind's limit."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((kind for test, kind in _KINDS if test(info.st_mode)), "a special file")
        raise Refused(path, what, f"is {kind}, not a regular file",
                      "replace it with a regular file")
    if info.st_size > LIMITS[what]:
        raise _too_big(path, what, info.st_size)


def _too_big(path: Path, what: str, size: int) -> Refused:
    return Refused(path, what, f"is {size} bytes, over the {what} limit of {LIMITS[what]} "
                   "bytes", "make it smaller or split it")


def resolve(path: Path, within: Path | Sequence[Path] | None, what: str, *,
            name: str | None = None) -> Path:
    """The file's real path, for a caller that hands it to another program (pandoc):
    a regular file inside `within` (one folder or several; None for a file named on the
    command line, or read only to be hashed), within the limit for `what` (a key of
    LIMITS). `name` is how messages call the folder ("templates/"). Nothing is opened.
    Raises Refused, or FileNotFoundError (or another OSError) as os.stat does."""
    real = _inside(path, within, what, name)
    _check(os.stat(real), path, what)
    return real


def read(path: Path, within: Path | Sequence[Path] | None, what: str, *,
         name: str | None = None) -> bytes:
    """The file's bytes, under the rule of resolve(). It is opened without blocking
    and without following a link (its path is already resolved), and checked again
    once open, so a file swapped in meanwhile (a FIFO, a link) is refused too; at most
    the limit plus one byte is read (/proc files say they are empty)."""
    real = resolve(path, within, what, name=name)
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        _check(os.fstat(fd), path, what)
        data = handle.read(LIMITS[what] + 1)
    if len(data) > LIMITS[what]:
        raise _too_big(path, what, len(data))
    return data


def hashed(path: Path, within: Path | Sequence[Path] | None) -> bytes:
    """What a digest of inputs takes for a file (fastpath.py, build.input_digest): its
    bytes if it may be read (as read() says), else a marker of why not. A file refused
    stays refused, and a missing one missing, whatever else changes in it: the build's
    outcome is the same."""
    try:
        return read(path, within, "hashed input")
    except FileNotFoundError:
        return b"\0missing"
    except Refused as exc:
        return b"\0refused: " + exc.problem.encode()
    except OSError:
        return b"\0unreadable"


def regular(path: Path) -> bool:
    """A regular file (after links): not missing, not a device, FIFO or folder."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


@contextmanager
def open_written(path: Path) -> Iterator[Any]:
    """A file the build wrote, open for reading, or None if what is at path is not one:
    missing, a link (not followed), a folder, a device or a FIFO (never read: reading
    /dev/zero or a FIFO would never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        yield None
        return
    with os.fdopen(fd, "rb") as handle:
        yield handle


def read_written(path: Path, limit: int | None = None) -> bytes | None:
    """The bytes of a file the build wrote (see open_written), or None if there is none
    or it is larger than `limit` bytes."""
    with open_written(path) as handle:
        if handle is None:
            return None
        data: bytes = handle.read(-1 if limit is None else limit + 1)
        return None if limit is not None and len(data) > limit else data
