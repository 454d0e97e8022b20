"""The trust boundary (boundary.py): every file the tool reads is a regular file inside
its folder, under its size limit, read with a bound; anything else is a clear error,
at once (a pipe or a device is never read, so nothing hangs)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from conftest import TALKING_POINTS, Audit, note_text, write
from policybrief import boundary
from policybrief.boundary import LIMITS, Refused

SOURCE = "sources/river-2024.yaml"


@contextmanager
def deadline(seconds: float = 10) -> Iterator[None]:
    """Fail, rather than hang, if the block is not done in time (SIGALRM interrupts a
    blocking open() of a FIFO)."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"not done after {seconds} s: a blocking read?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def brief(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`brief ARGS` in a process of its own, given up (and failed) after 60 s."""
    return subprocess.run(
        [sys.executable, "-m", "policybrief", *map(str, args)], capture_output=True,
        text=True, timeout=60, env={**os.environ, "POLICYBRIEF_FORK": "0"}, check=False,
    )


# --- The helper itself -------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inside = tmp_path / "inside"
    write(inside / "ok.txt", "fine")
    write(tmp_path / "secret.txt", "secret")
    return inside


def _refusal(path: Path, within: Path | None, what: str = "archived text") -> Refused:
    with deadline(), pytest.raises(Refused) as caught:
        boundary.read(path, within, what)
    with deadline(), pytest.raises(Refused) as again:  # resolve() has the same rule
        boundary.resolve(path, within, what)
    assert str(again.value) == str(caught.value)
    return caught.value


def test_a_regular_file_inside_is_read(folder: Path) -> None:
    assert boundary.read(folder / "ok.txt", folder, "archived text") == b"fine"
    assert boundary.resolve(folder / "ok.txt", folder, "archived text") == (
        folder / "ok.txt").resolve()
    with pytest.raises(FileNotFoundError):
        boundary.read(folder / "missing.txt", folder, "archived text")


def test_a_link_out_is_refused(folder: Path) -> None:
    os.symlink("../secret.txt", folder / "link.txt")
    refused = _refusal(folder / "link.txt", folder)
    secret = (folder.parent / "secret.txt").resolve()
    assert refused.outside
    assert str(refused) == (
        f"archived text '{folder}/link.txt' is a link to {secret}, outside {folder}/; copy "
        f"the file into {folder}/ instead"
    )


@pytest.mark.parametrize("written", ["../secret.txt", "{tmp}/secret.txt", "/proc/self/environ"])
def test_a_path_out_is_refused(folder: Path, written: str) -> None:
    path = folder / written.format(tmp=folder.parent)
    refused = _refusal(path, folder)
    assert refused.outside
    assert refused.problem == f"resolves to {os.path.realpath(path)}, outside {folder}/"


def test_a_link_to_a_device_is_refused_unread(folder: Path) -> None:
    os.symlink("/dev/zero", folder / "zero.txt")
    assert _refusal(folder / "zero.txt", folder).problem == (
        f"is a link to /dev/zero, outside {folder}/")


def _bound_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the file stays when the socket is closed


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (os.mkfifo, "a named pipe (FIFO)"),
        (os.mkdir, "a folder"),
        (_bound_socket, "a socket"),
    ],
)
def test_what_is_not_a_regular_file_is_refused(
    folder: Path, make: Callable[[Path], None], kind: str
) -> None:
    make(folder / "odd.txt")
    refused = _refusal(folder / "odd.txt", folder)
    assert not refused.outside
    assert (refused.problem, refused.remedy) == (
        f"is {kind}, not a regular file", "replace it with a regular file")


def test_a_device_is_refused_even_inside() -> None:
    assert _refusal(Path("/dev/zero"), Path("/dev")).problem == (
        "is a device, not a regular file")
    assert _refusal(Path("/dev/zero"), None).problem == "is a device, not a regular file"


def test_a_file_over_its_limit_is_refused_unread(folder: Path) -> None:
    with open(folder / "big.txt", "wb") as sparse:
        sparse.truncate(LIMITS["archived text"] + 1)
    refused = _refusal(folder / "big.txt", folder)
    assert (refused.problem, refused.remedy) == (
        f"is {LIMITS['archived text'] + 1} bytes, over the archived text limit of "
        f"{LIMITS['archived text']} bytes", "make it smaller or split it")


def test_the_read_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc files say they hold 0 bytes: the limit holds for what is read, too."""
    monkeypatch.setitem(LIMITS, "archived text", 10)
    environ = Path("/proc/self/environ")
    with pytest.raises(Refused, match=r"is 11 bytes, over the archived text limit of 10"):
        boundary.read(environ, None, "archived text")


def test_a_pipe_swapped_in_after_the_check_is_not_read(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between resolve()'s checks and the open, the file may change: it is opened without
    blocking and checked again (a blocking open of a FIFO waits for a writer for ever)."""
    os.mkfifo(folder / "pipe.txt")
    monkeypatch.setattr(boundary, "resolve", lambda *args, **kwargs: folder / "pipe.txt")
    with deadline(), pytest.raises(Refused, match=r"is a named pipe \(FIFO\), not a regular"):
        boundary.read(folder / "ok.txt", folder, "archived text")


def test_a_nul_in_the_name_is_refused(folder: Path) -> None:
    assert _refusal(folder / "a\0b.txt", folder).problem == "has a NUL character in its name"


# --- Every kind of file, through the CLI -------------------------------------------------

PAYLOADS = ["device", "environ", "outside", "fifo", "oversize"]


def _plant(path: Path, payload: str, what: str, tmp_path: Path) -> str:
    """Put a payload where a file of kind `what` is read; return the problem it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    if payload == "device":
        path.symlink_to("/dev/zero")
        return "is a link to /dev/zero, outside {folder}"
    if payload == "environ":
        path.symlink_to("/proc/self/environ")
        return f"is a link to /proc/{os.getpid()}/environ, outside {{folder}}"
    if payload == "outside":  # a relative link through ../
        secret = write(tmp_path / "elsewhere" / path.name, "secret")
        path.symlink_to(os.path.relpath(secret, path.parent))
        return f"is a link to {secret.resolve()}, outside {{folder}}"
    if payload == "fifo":
        os.mkfifo(path)
        return "is a named pipe (FIFO), not a regular file"
    with open(path, "wb") as sparse:
        sparse.truncate(LIMITS[what] + 1)
    return f"is {LIMITS[what] + 1} bytes, over the {what} limit of {LIMITS[what]} bytes"


def _remedy(problem: str, folder: str) -> str:
    if "outside" in problem:
        return f"copy the file into {folder} instead"
    return "replace it with a regular file" if "pipe" in problem else "make it smaller or split it"


@dataclass(frozen=True)
class Kind:
    """Where a kind of file is read from, how a build is told to read it, and the error."""

    what: str
    file: str  # relative to the project
    folder: str  # as messages name it ({root} is the project folder)
    command: tuple[str, ...]
    code: int
    message: str  # {problem}, {remedy}, {root}, {file}, {uri}
    setup: Callable[[Path], None] = lambda project: None


def _brand(text: str) -> Callable[[Path], None]:
    return lambda project: (write(project / "templates" / "brand.toml", text), None)[1]


def _config(line: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        config = project / "policybrief.toml"
        config.write_text(line + "\n" + config.read_text())
    return setup


def _note_image(project: Path) -> None:
    note_text(project, "after a pause ![a map](fig.png).")


BRAND = "{root}/templates/brand.toml"
NOTE_IMAGE = (f"{SOURCE}:15: notes[0].text: note 'talks-resume': image 'fig.png' {{problem}}; "
              "use an image file inside the project (paths are relative to templates/) or "
              "inline PNG/JPEG/GIF/WebP data")
KINDS = {
    "source": Kind("source file", "sources/odd.yaml", "sources/", ("check",), 1,
                   "sources/odd.yaml: file {problem}; {remedy}"),
    "brief": Kind("brief file", "briefs/odd.yaml", "briefs/", ("check",), 1,
                  "briefs/odd.yaml: file {problem}; {remedy}"),
    "places": Kind("places file", "places.yaml", "the project folder", ("check",), 1,
                   "places.yaml: file {problem}; {remedy}"),
    "config": Kind("config file", "policybrief.toml", "{root}/", ("check",), 1,
                   "Error: {root}/policybrief.toml: {problem}; {remedy}"),
    "labels": Kind("label catalog", "labels/kk.toml", "{root}/", ("check",), 1,
                   "Error: {root}/labels/kk.toml: {problem}; {remedy}"),
    "brand": Kind("brand file", "templates/brand.toml", "templates/", ("check",), 1,
                  f"Error: {BRAND}: {{problem}}; {{remedy}}"),
    "logo": Kind("logo", "templates/logo.svg", "templates/", ("check",), 1,
                 f"Error: {BRAND}: logo: 'logo.svg' {{problem}}; {{remedy}}",
                 _brand('logo = "logo.svg"\n')),
    "font": Kind("font", "templates/f.ttf", "templates/", ("check",), 1,
                 f"Error: {BRAND}: fonts.faces[0].file: 'f.ttf' {{problem}}; {{remedy}}",
                 _brand('[[fonts.faces]]\nfamily = "F"\nfile = "f.ttf"\n')),
    "template": Kind("template", "templates/analyst.html.j2", "templates/", ("build", "-j1"),
                     3, "Error: template 'analyst.html.j2': template 'analyst.html.j2' "
                     "{problem}; {remedy}"),
    "stylesheet": Kind("stylesheet", "templates/brief.css", "templates/", ("build", "-j1"), 3,
                       "Error: stylesheet 'brief.css' {problem}; {remedy}"),
    "image": Kind("image", "templates/fig.png", "the project", ("check",), 1, NOTE_IMAGE,
                  _note_image),
    "citation style": Kind("citation style", "style.csl", "the project", ("build", "-j1"), 1,
                           "Error: citation_style: 'style.csl' {problem}; {remedy}",
                           _config('citation_style = "style.csl"')),
    "archived text": Kind("archived text", "archive/river-2024.txt",
                          "the archive folder (archive)", ("check",), 1,
                          f"{SOURCE}: archived text 'river-2024.txt' {{problem}}; {{remedy}}"),
}


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("name", list(KINDS))
def test_every_file_read_is_confined(
    run: Callable[..., Result], project: Path, tmp_path: Path, audit: Audit,
    name: str, payload: str,
) -> None:
    """A link to /dev/zero or /proc/self/environ, a link out through ../, a FIFO and a
    file over the limit, wherever the tool reads a file: a clear error naming the file,
    the right exit code, nothing built, nothing outside opened, no hang (the FIFO in a
    process of its own, with a timeout)."""
    kind = KINDS[name]
    kind.setup(project)
    root = str(project.resolve()) if name in ("config", "labels") else str(project)
    problem = _plant(project / kind.file, payload, kind.what, tmp_path)
    folder = kind.folder.format(root=root)
    problem = problem.format(folder=folder)
    if name == "image" and "outside" in problem:  # the note checker's own words
        problem = f"is outside the project ({os.path.realpath(project / kind.file)})"
    expected = kind.message.format(problem=problem, remedy=_remedy(problem, folder), root=root)
    if payload == "fifo":
        done = brief(*kind.command, "--project", project)
        code, stderr = done.returncode, done.stderr
    else:
        with audit, deadline(60):
            result = run(*kind.command, "--project", project)
        code, stderr = result.exit_code, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in stderr
    assert code == kind.code, stderr
    assert expected in stderr.splitlines(), stderr
    assert not (project / "build").exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_resource_a_document_loads_is_confined(
    run: Callable[..., Result], project: Path, tmp_path: Path, payload: str
) -> None:
    """An image a template loads goes through the same rule in the renderer's fetcher."""
    write(project / "templates" / "analyst.html.j2",
          '<img src="fig.png" alt="a figure"><p>{{ brief.title }}</p>\n')
    problem = _plant(project / "templates" / "fig.png", payload, "image", tmp_path)
    uri = (project.resolve() / "templates" / "fig.png").as_uri()
    shown = uri if "outside" in problem else f"{uri} ({problem.removeprefix('is ')})"
    done = brief("build", "-j1", "--project", project)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(
        f"Error: river-talks/analyst: refused to load {shown}; notes and templates may only "
        "use files inside the project")
    assert not (project / "build").exists()


# --- Archived texts -----------------------------------------------------------------------


def _archive_field(project: Path, value: str) -> None:
    source = project / SOURCE
    source.write_text(f"archive: {json.dumps(value)}\n" + source.read_text())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/dev/zero", "resolves to /dev/zero, outside"),
        ("/proc/self/environ", f"resolves to /proc/{os.getpid()}/environ, outside"),
        ("../policybrief.toml", "resolves to {root}/policybrief.toml, outside"),
        ("{root}/sources/river-2024.yaml", "resolves to {root}/sources/river-2024.yaml, outside"),
    ],
)
def test_archive_field_out_of_the_archive_is_an_error(
    run: Callable[..., Result], project: Path, audit: Audit, value: str, problem: str
) -> None:
    """`archive:` naming a file out of the archive folder is never read: an error under
    --strict or not, the same whatever the file holds (no oracle for its contents)."""
    _archive_field(project, value.format(root=project))
    folder = "the archive folder (archive)"
    expected = (f"{SOURCE}:1: archive: archived text {value.format(root=project)!r} "
                f"{problem.format(root=project)} {folder}; copy the file into {folder} instead")
    for strict in ((), ("--strict",)):
        with audit, deadline(30):
            result = run("check", *strict, "--project", project)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            expected, "Error: 1 error in the input; fix them and run again"]
    with audit, deadline(30):
        built = run("build", "-j1", "--project", project)
    assert built.exit_code == 1 and expected in built.stderr.splitlines()
    assert not (project / "build").exists()


def test_archive_folder_may_be_outside_the_project(run: Callable[..., Result], project: Path,
                                                   tmp_path: Path) -> None:
    """The archive folder is a setting (`archive = "../shared/seeds"`): files inside it
    are read, wherever it is; an absolute `archive:` inside it too."""
    shared = tmp_path / "shared" / "seeds"
    shared.mkdir(parents=True)
    (project / "archive" / "river-2024.txt").rename(shared / "river.txt")
    config = project / "policybrief.toml"
    config.write_text(config.read_text().replace('archive = "archive"',
                                                 'archive = "../shared/seeds"'))
    _archive_field(project, "river.txt")
    assert run("check", "--strict", "--project", project).exit_code == 0
    source = project / SOURCE
    source.write_text(source.read_text().replace('"river.txt"', json.dumps(
        str(shared / "river.txt"))))
    assert run("check", "--strict", "--project", project).exit_code == 0


# --- An audience stylesheet outside templates/ ------------------------------------------


@pytest.fixture
def three(project: Path) -> Path:
    with (project / "briefs" / "river-talks.yaml").open("a") as spec:
        spec.write(TALKING_POINTS)
    return project


def _stylesheet(project: Path, value: str) -> None:
    config = project / "policybrief.toml"
    config.write_text(config.read_text() + f"\n[audiences.analyst]\nstylesheet = {value!r}\n")


STYLESHEETS = [
    ("../x.css", "stylesheet name '../x.css' points outside templates/; name stylesheets "
     "relative to templates/, without '..'"),
    ("{root}/x.css", "stylesheet name '{root}/x.css' points outside templates/; name "
     "stylesheets relative to templates/, without '..'"),
    ("out.css", "stylesheet 'out.css' is a link to {root}/x.css, outside templates/; copy "
     "the file into templates/ instead"),
]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(("value", "message"), STYLESHEETS)
def test_stylesheet_outside_templates_fails_only_its_targets(
    three: Path, jobs: str, value: str, message: str
) -> None:
    write(three / "x.css", "p { color: red }")
    os.symlink("../x.css", write(three / "templates" / "keep.txt", "").parent / "out.css")
    _stylesheet(three, value.format(root=three))
    done = brief("build", "-j", jobs, "--project", three)
    assert "Traceback" not in done.stderr
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [
        f"failed river-talks/analyst: {message.format(root=three)}",
        "Error: 1 of 3 targets failed; the others were written",
    ]
    folder = three / "build" / "river-talks"
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["executive.pdf",
                                                            "talking-points.pdf"]


def test_watch_reports_a_stylesheet_outside_and_goes_on(project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "policybrief", "watch", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            lines.put(line.rstrip("\n"))

    def wait_for(prefix: str) -> list[str]:
        seen, end = [], time.monotonic() + 60
        while time.monotonic() < end:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            if seen[-1].startswith(prefix):
                return seen
        raise AssertionError(f"no line starting {prefix!r}; saw {seen}")

    threading.Thread(target=pump, daemon=True).start()
    try:
        wait_for("done in")  # the first build
        config = project / "policybrief.toml"
        good = config.read_text()
        _stylesheet(project, "../x.css")
        seen = wait_for("error:")
        assert seen[-1] == ("error: river-talks/analyst: stylesheet name '../x.css' points "
                            "outside templates/; name stylesheets relative to templates/, "
                            "without '..'")  # the target named once, as build names it
        assert not any("Traceback" in line for line in seen)
        config.write_text(good)  # fixed: the PDF built first is still current
        wait_for("nothing to rebuild")
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
