"""Shared fixtures: a copy of the minimal project, a CLI runner, PDF read-back helpers."""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

import policybrief
from policybrief.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
# Appended to the minimal brief: all three packaged audiences, with what they need.
TALKING_POINTS = """
audiences: [analyst, executive, talking-points]
lines_to_take:
  - text: We welcome the resumption of talks.
    notes: [river-2024/talks-resume]
questions:
  - question: Will a deal be signed this year?
    answer: That is for the parties to decide.
    notes: [river-2024/water-share]
do_not_say:
  - Do not comment on the draft split.
"""
REPO = Path(__file__).parent.parent
# A project's analyst template: the packaged one, with `css` (str.format) as its styles.
STYLED_TEMPLATE = (
    '{{% extends "default:analyst.html.j2" %}}\n{{% block style %}}{css}{{% endblock %}}\n'
)


def _engine_as_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take weasyfix's wrappers off WeasyPrint for one test (an install earlier in this
    process is never undone); monkeypatch puts them back afterwards."""
    import importlib

    from policybrief import weasyfix

    for module_name, name in weasyfix.PATCHED:
        module = importlib.import_module(module_name)
        function = getattr(module, name)
        monkeypatch.setattr(module, name, getattr(function, "__wrapped__", function))


@pytest.fixture
def engine_as_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint without policybrief's corrections, even if another test installed them."""
    _engine_as_shipped(monkeypatch)


@pytest.fixture
def corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint with weasyfix's corrections installed, taken off again afterwards."""
    from weasyprint import __version__

    from policybrief import weasyfix

    _engine_as_shipped(monkeypatch)
    if not weasyfix.install():
        pytest.skip(f"weasyfix is for WeasyPrint {weasyfix.FOR_VERSION}, not {__version__}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of tests/fixtures/minimal (one source, one brief)."""
    dest = tmp_path / "minimal"
    shutil.copytree(FIXTURES / "minimal", dest, ignore=shutil.ignore_patterns("build"))
    return dest


@pytest.fixture
def run() -> Callable[..., Result]:
    """Invoke `brief ARGS...` in-process and return Click's result."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args])

    return invoke


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal project, built once for the read-back tests; returns the PDF path."""
    dest = tmp_path_factory.mktemp("built") / "minimal"
    shutil.copytree(FIXTURES / "minimal", dest, ignore=shutil.ignore_patterns("build"))
    result = CliRunner().invoke(cli, ["build", "--strict", "--project", str(dest)])
    assert result.exit_code == 0, result.output
    return dest / "build" / "river-talks" / "analyst.pdf"


def copy_repository_project(dest: Path) -> Path:
    """A copy of the repository's own project (the Astana brief) at dest: its briefs,
    sources, templates, config and places; returns dest."""
    for name in ("briefs", "sources", "templates"):
        shutil.copytree(REPO / name, dest / name)
    for name in ("pyproject.toml", "places.yaml"):
        shutil.copy(REPO / name, dest / name)
    return dest


def pdf_text(path: Path) -> str:
    """All text of a PDF, pages joined, whitespace folded."""
    reader = PdfReader(path)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_fonts(path: Path) -> set[str]:
    """BaseFont names of every font on every page, subset prefixes removed."""
    names = set()
    for page in PdfReader(path).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 file, making folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def note_text(project: Path, markdown: str) -> None:
    """Put `markdown` in place of "after a **two-year** pause." in the first note of the
    minimal project's source."""
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace("after a **two-year** pause.", markdown))


# --- Proof of confinement: a Python audit hook ------------------------------------------
# sys.addaudithook cannot be removed, so it is installed once per process and does nothing
# unless an Audit is switched on (`with audit:`). It records rather than raises: callers
# often swallow exceptions (WeasyPrint logs a failed fetch and goes on), so a raise could
# pass unnoticed. Not counted: Python's import machinery (finding and loading modules,
# including what libraries do at import time, such as ctypes running ldconfig to find
# WeasyPrint's C libraries) - a document cannot choose what is imported. Not visible:
# file access inside C libraries (fontconfig reads /etc/fonts and its cache; Pango,
# Cairo) and inside the pandoc subprocess (which runs with --sandbox).

_FILE_EVENTS = {  # event -> positions of path arguments
    "open": (0,), "os.listdir": (0,), "os.scandir": (0,), "os.mkdir": (0,),
    "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.truncate": (0,),
    "os.symlink": (0, 1), "os.link": (0, 1), "os.chmod": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (0, 1), "shutil.move": (0, 1), "glob.glob": (0,),
}
_NETWORK_EVENTS = {
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
    "socket.sendto", "socket.sendmsg", "socket.bind", "urllib.Request", "http.client.connect",
}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                   "os.fork", "os.forkpty", "pty.spawn", "ctypes.dlopen"}


@dataclass
class Audit:
    """Records, while switched on, what a build must not do: open (or list, write,
    remove) a path outside `allowed`, touch the network, start a process other than
    `executables`."""

    allowed: tuple[Path, ...]
    temp_prefixes: tuple[str, ...]
    executables: frozenset[str]
    entries: frozenset[str]  # sys.path entries themselves (listed, not read below)
    violations: list[str] = field(default_factory=list)
    on: bool = False

    def __enter__(self) -> Audit:
        self.on = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.on = False

    def _path(self, value: object, dir_fd: object = None) -> str | None:
        if isinstance(value, int) or value is None:
            return None  # an open file descriptor (pipes, sockets): nothing new is named
        path = os.fsdecode(value)  # type: ignore[arg-type]
        if isinstance(dir_fd, int) and not os.path.isabs(path):
            path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
        real = os.path.realpath(os.path.abspath(path))  # symlinks out count as out
        if any(Path(real).is_relative_to(root) for root in self.allowed):
            return None
        if real.startswith(self.temp_prefixes) or real in self.entries:
            return None
        return real

    def check(self, event: str, args: tuple[object, ...]) -> None:
        """Record the event if it breaks the confinement."""
        if event in _FILE_EVENTS:
            dir_fd = args[-1] if event in ("os.remove", "os.rmdir", "os.mkdir") else None
            for i in _FILE_EVENTS[event]:
                outside = self._path(args[i] if i < len(args) else None, dir_fd)
                if outside is not None:
                    self.violations.append(f"{event}: {outside}")
        elif event in _NETWORK_EVENTS:
            if event == "urllib.Request" and str(args[0]).startswith("data:"):
                return  # WeasyPrint decodes data: URLs with urllib: no network
            self.violations.append(f"{event}: {args!r:.200}")
        elif event in _PROCESS_EVENTS:
            program = os.path.realpath(os.fsdecode(args[0])) if args and isinstance(
                args[0], str | bytes) else repr(args)[:200]
            if event != "subprocess.Popen" or program not in self.executables:
                self.violations.append(f"{event}: {program}")


_AUDITS: list[Audit] = []  # the audit switched on by the running test, if any
_HOOK = threading.local()  # per thread: is the hook already running (its own events)?


def _importing() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _audit_hook(event: str, args: tuple[object, ...]) -> None:
    audit = _AUDITS[-1] if _AUDITS else None
    if audit is None or not audit.on:
        return
    if event not in _FILE_EVENTS and event not in _NETWORK_EVENTS | _PROCESS_EVENTS:
        return
    if getattr(_HOOK, "busy", False):
        return  # the checks' own events (os.readlink, sys._getframe)
    _HOOK.busy = True
    try:
        if not _importing():
            audit.check(event, args)
    except Exception as exc:  # never let the hook break the code under test
        audit.violations.append(f"{event}: the audit hook failed: {exc!r}")
    finally:
        _HOOK.busy = False


@cache
def _install_audit_hook() -> None:
    tempfile.gettempdir()  # its first call probes the temp folder by writing to it
    sys.addaudithook(_audit_hook)


def _allowed_roots(project: Path) -> tuple[Path, ...]:
    """The folders a build may read: the project, the policybrief package, the font
    packages, and the Python installation (standard library, site-packages)."""
    from policybrief.fonts import font_dirs

    python = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib",
                                                    "platlib")}
    folders = [project, Path(policybrief.__file__).parent, *font_dirs().values(),
               *(Path(p) for p in python)]
    return tuple(p.resolve() for p in folders)


@pytest.fixture
def audit(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Audit]:
    """An Audit for the `project` fixture: `with audit: run(...)`; the test fails at
    teardown listing every violation (see Audit). The PDF process (prefork.py) is off,
    so that the hook sees what the PDF side opens too."""
    from policybrief.cite import pandoc_path

    monkeypatch.setenv("POLICYBRIEF_FORK", "0")
    _install_audit_hook()
    temp = os.path.realpath(tempfile.gettempdir())
    recorder = Audit(
        allowed=_allowed_roots(project),
        # cite.py gives pandoc its references in policybrief-*; WeasyPrint writes the
        # @font-face files it hands to fontconfig into weasyprint-* (text/fonts.py).
        temp_prefixes=(f"{temp}/policybrief-", f"{temp}/weasyprint-"),
        # pandoc formats the citations, run by `unshare` in a network namespace of its
        # own. `ldconfig -p` prints the C library cache: weasy.py reads it once instead of
        # ctypes' find_library search when importing WeasyPrint.
        executables=frozenset(
            os.path.realpath(p) for p in (pandoc_path(), "/sbin/ldconfig",
                                          shutil.which("unshare") or "/usr/bin/unshare")
        ),
        # importlib.metadata (tool versions) and fastpath.py (installed distributions)
        # list the folders on sys.path and try to open the zip entries there.
        entries=frozenset(os.path.realpath(e or ".") for e in sys.path),
    )
    _AUDITS.append(recorder)
    try:
        yield recorder
    finally:
        _AUDITS.remove(recorder)
    assert not recorder.violations, "outside the confinement:\n" + "\n".join(
        dict.fromkeys(recorder.violations)
    )


def group_alive(pgid: int) -> list[str]:
    """Processes of group pgid that are still running (zombies excluded); Linux only."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name_end = text.rfind(")")
        fields = text[name_end + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            alive.append(f"{stat.parent.name} {text[text.find('(') + 1:name_end]}")
    return alive


# The browser the web tests drive: Debian's Chromium (packages chromium, chromium-driver),
# which `bash scripts/setup --test` installs; Playwright, from the lock, drives it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium (a playwright Browser), shared by the session's web tests.
    Without one: a failure in CI, which never skips a browser test; elsewhere a skip."""
    if not Path(CHROMIUM).is_file():
        reason = (f"no Chromium at {CHROMIUM}; `bash scripts/setup --test` installs "
                  "Debian's chromium")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()


# axe-core, the accessibility engine the web tests inject into pages: `bash scripts/setup
# --test` fetches it from the npm registry (version and SHA-256 pinned there).
AXE_VERSION = re.search(r"^AXE_VERSION=(\S+)$", (REPO / "scripts" / "setup").read_text(),
                        re.MULTILINE)[1]  # type: ignore[index]
AXE = REPO / ".venv" / "share" / "axe-core" / AXE_VERSION / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The text of axe.min.js. Without it: a failure in CI, elsewhere a skip."""
    if not AXE.is_file():
        reason = f"no axe-core at {AXE}; `bash scripts/setup --test` fetches it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")
