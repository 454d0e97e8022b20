"""A PDF process, forked at start-up to import WeasyPrint while this one imports the rest.

Importing WeasyPrint takes about a second, and policybrief's own stack (pydantic, Jinja2,
markdown-it, ruamel.yaml) most of another: one after the other in one process, though
the machine has a second core. A thread cannot overlap them (imports hold the GIL). So a
build that may render forks, before importing anything heavy, a process that imports
WeasyPrint and pdf.py and waits. Targets rendered in the main process (-j 1, or a single
target) send it their HTML and get the PDF back; a build that starts worker processes
stops it first (workers.run_jobs), as they import WeasyPrint themselves.

It is only a faster road to the same pdf.render_pdf: if the process is gone (or never
started: one core, POLICYBRIEF_FORK=0, no fork), targets render in the main process. It
ignores Ctrl-C (the main process stops it), ends on SIGTERM and when its pipe closes (so
also when the main process is killed), and keeps its temporary files in a folder of its
own, which is removed when it stops.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import signal
import socket
import struct
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import BriefError, RenderError
from .output import signals_held

if TYPE_CHECKING:
    from .config import Config
    from .pdf import Rendered

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class _Process:
    pid: int
    channel: socket.socket
    folder: str
    parent: int  # the process that forked it: a pool worker forked later must not use it


# Set by start(), reset by stop(). Process-wide state: see "Process-wide state" in the
# package docstring (policybrief/__init__.py).
_CURRENT: _Process | None = None


def start() -> None:
    """Fork the PDF process, unless there is one, the machine has one core, or the
    environment says POLICYBRIEF_FORK=0 (everything in one process, e.g. to profile)."""
    global _CURRENT
    if _CURRENT is not None or (os.cpu_count() or 1) < 2:
        return
    if os.environ.get("POLICYBRIEF_FORK", "1") == "0":
        return
    with signals_held():  # until it is recorded, for stop() to end it and remove its folder
        folder = tempfile.mkdtemp(prefix="policybrief-pdf-")
        ours, theirs = socket.socketpair()
        try:
            pid = os.fork()
        except OSError as exc:  # no memory or process slots left: render here
            log.debug("no PDF process (%s)", exc)
            ours.close()
            theirs.close()
            shutil.rmtree(folder, ignore_errors=True)
            return
        if pid == 0:  # the PDF process: never returns into the caller's code
            code = 1
            try:
                ours.close()
                _serve(theirs, folder)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        _CURRENT = _Process(pid, ours, folder, os.getpid())


def active() -> bool:
    """Whether targets rendered in this process go to the PDF process."""
    return _CURRENT is not None and _CURRENT.parent == os.getpid()


def stop() -> None:
    """End the PDF process (at once, even mid-render) and remove its temporary files."""
    global _CURRENT
    with signals_held():
        process, _CURRENT = _CURRENT, None
        if process is None or process.parent != os.getpid():
            return
        process.channel.close()
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(process.pid, 0)
        shutil.rmtree(process.folder, ignore_errors=True)


def render_pdf(html: str, config: Config, **options: Any) -> Rendered:
    """pdf.render_pdf, in the PDF process if there is one, else here."""
    if active():
        assert _CURRENT is not None
        try:
            _send(_CURRENT.channel, (html, config, options))
            reply = _receive(_CURRENT.channel)
        except OSError:
            reply = None
        except BaseException:  # a timeout or Ctrl-C while it renders: it cannot go on
            stop()
            raise
        if reply is not None:
            kind, value = reply
            if kind == "error":
                raise value
            return value  # type: ignore[no-any-return]
        log.debug("the PDF process has gone; rendering in this process")
        stop()
    from .pdf import render_pdf as render_here

    return render_here(html, config, **options)


def _serve(channel: socket.socket, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # start()
    tempfile.tempdir = folder  # this process's own, removed below (package docstring)
    try:
        from . import pdf
        from .weasy import import_weasyprint

        import_weasyprint()
        with pdf.session():
            while (request := _receive(channel)) is not None:
                html, config, options = request
                try:
                    reply: tuple[str, Any] = ("ok", pdf.render_pdf(html, config, **options))
                    log.debug("%s: PDF made in the PDF process", options.get("label", ""))
                except BriefError as exc:
                    reply = ("error", exc)
                except Exception as exc:  # a bug: reported as the target's
                    label = options.get("label", "")
                    reply = ("error", RenderError(f"{label}: {type(exc).__name__}: {exc}"))
                try:
                    _send(channel, reply)
                except (pickle.PicklingError, TypeError, AttributeError):  # its text will do
                    _send(channel, ("error", RenderError(str(reply[1]))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _send(channel: socket.socket, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    channel.sendall(_LENGTH.pack(len(data)) + data)


def _receive(channel: socket.socket) -> Any:
    """The next value, or None when the other end has closed."""
    header = _read(channel, _LENGTH.size)
    if header is None:
        return None
    data = _read(channel, _LENGTH.unpack(header)[0])
    return None if data is None else pickle.loads(data)  # our own child


def _read(channel: socket.socket, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = channel.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
