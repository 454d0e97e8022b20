"""`brief preview`: build the web editions, serve build/ on this machine only, rebuild
on every change (watch.py) and tell the open pages (server-sent events): a page reloads
itself when a build succeeds, and shows the build's error instead of its stale content
when one fails.

The server is Starlette on uvicorn, in a thread; the builds run in the main thread, as
`brief watch` runs them (the job engine's time limit and held signals need it). Ctrl-C
stops the watcher, then the server, within a second. Each HTML page is served with
/__preview__/reload.js and preview.css added and its Content-Security-Policy opened to
the server's own events (connect-src 'self'): nothing else of the page is changed, and
nothing in build/ is written but by the builds.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import os
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

PREFIX = "/__preview__/"
LOOPBACK_NAMES = {"localhost"}
_POLICY = re.compile(r'(<meta http-equiv="Content-Security-Policy" content=")([^"]*)(")')
_HEAD_END = re.compile(r"</head>", re.IGNORECASE)

RELOAD_JS = """\
/* brief preview: reload when a build succeeds (what was open stays open); show its
   error when one fails. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="preview-version"]');
  var shown = meta ? Number(meta.content) : -1;
  var panel = null;
  function showError(message) {
    if (!panel) {
      panel = document.createElement("section");
      panel.className = "preview-error";
      panel.setAttribute("role", "alert");
      var title = document.createElement("h2");
      title.textContent = "The build failed: this page is not up to date";
      panel.appendChild(title);
      panel.appendChild(document.createElement("pre"));
      document.body.prepend(panel);
      document.body.classList.add("preview-failed");
    }
    panel.querySelector("pre").textContent = message;
  }
  /* What the reader had opened (evidence, notes) stays open across a reload. */
  var key = "brief-preview-open:" + window.location.pathname;
  var kept = JSON.parse(window.sessionStorage.getItem(key) || "[]");
  window.sessionStorage.removeItem(key);
  kept.forEach(function (id) {
    var element = document.getElementById(id);
    if (!element) { return; }
    if (element.tagName === "DETAILS") { element.open = true; }
    else { element.classList.add("open"); }
  });
  function reload() {
    var open = Array.prototype.map.call(
      document.querySelectorAll("details[open][id], .sidenote.open[id]"),
      function (element) { return element.id; });
    window.sessionStorage.setItem(key, JSON.stringify(open));
    window.location.reload();
  }
  var events = new EventSource("/__preview__/events");
  events.addEventListener("build", function (event) {
    var state = JSON.parse(event.data);
    if (state.error) {
      showError(state.error);
    } else if (state.version !== shown) {
      reload();
    }
  });
})();
"""

PREVIEW_CSS = """\
/* brief preview: a failed build's error, in place of the page. */
body.preview-failed > :not(.preview-error) { display: none; }
.preview-error { max-width: 48rem; margin: 2rem auto; padding: 1rem 1.5rem;
  border: 3px solid #a4262c; background: #fbefef; color: #1b1b1b;
  font: 1rem/1.5 system-ui, sans-serif; }
.preview-error h2 { color: #a4262c; margin: 0 0 0.6rem; font-size: 1.2rem; }
.preview-error pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
  font: 0.9rem/1.5 ui-monospace, monospace; }
"""

NOT_BUILT = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; \
style-src 'self'">
<title>Not built yet</title></head>
<body><main><h1>Not built yet</h1><p>{message}</p></main></body></html>
"""


@dataclass
class BuildState:
    """What the open pages are told: the number of builds finished and the last one's
    errors (none: it succeeded). Written by the build thread, read by the server's."""

    version: int = 0
    error: str | None = None
    stopping: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def finished(self, errors: list[str]) -> None:
        with self.lock:
            self.version += 1
            self.error = "\n\n".join(errors) or None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"version": self.version, "error": self.error}


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse an address other machines can reach, unless `allow_remote` says so: the
    preview shows briefs before clearance, marked ones among them."""
    if host in LOOPBACK_NAMES:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise UsageError(f"--host {host!r} is not an IP address; give one, e.g. 127.0.0.1") \
            from None
    if not loopback and not allow_remote:
        raise UsageError(
            f"refusing to serve on {host}: other machines could read the briefs, drafts "
            "and marked ones among them; the preview serves 127.0.0.1 only, unless "
            "--allow-remote is given as well"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a UsageError saying why not (a port in use, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is in use; pass another with --port N "
                             "(--port 0 picks a free one)") from None
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def add_preview(html: str, version: int) -> str:
    """A page as the preview serves it: reload.js and preview.css added, the build's
    number in a meta tag, its policy opened to the server's events."""
    html = _POLICY.sub(lambda m: f"{m[1]}{m[2]}; connect-src 'self'{m[3]}", html, count=1)
    added = (f'<meta name="preview-version" content="{version}">\n'
             f'<link rel="stylesheet" href="{PREFIX}preview.css">\n'
             f'<script src="{PREFIX}reload.js" defer></script>\n')
    found = _HEAD_END.search(html)
    return html[:found.start()] + added + html[found.start():] if found else added + html


def make_app(build_dir: Path, state: BuildState) -> Any:
    """The Starlette application: build/'s files (pages with add_preview), the events,
    reload.js and preview.css."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
    from starlette.types import Scope

    fresh = {"Cache-Control": "no-store"}

    class Pages(StaticFiles):
        """build/, every response uncached and every page with the preview's script."""

        async def get_response(self, path: str, scope: Scope) -> Response:
            try:
                response = await super().get_response(path, scope)
            except HTTPException as exc:
                if exc.status_code != 404:
                    raise
                page = NOT_BUILT.format(message=f"Nothing is built at /{path} yet.")
                return HTMLResponse(add_preview(page, state.snapshot()["version"]),
                                    status_code=404, headers=fresh)
            if isinstance(response, FileResponse) and str(response.path).endswith(".html"):
                text = Path(response.path).read_text(encoding="utf-8")
                return HTMLResponse(add_preview(text, state.snapshot()["version"]),
                                    headers=fresh)
            response.headers.update(fresh)
            return response

    async def events(request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            yield "retry: 1000\n\n"
            sent: dict[str, Any] | None = None
            beat = 0
            while not state.stopping:
                now = state.snapshot()
                if now != sent:
                    sent = now
                    yield f"event: build\ndata: {json.dumps(now)}\n\n"
                elif beat >= 75:  # a comment every 15 s keeps proxies from closing it
                    beat = 0
                    yield ": waiting\n\n"
                beat += 1
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=fresh)

    def text(body: str, media_type: str) -> Callable[[Request], Response]:
        return lambda request: Response(body, media_type=media_type, headers=fresh)

    return Starlette(routes=[
        Route(f"{PREFIX}events", events),
        Route(f"{PREFIX}reload.js", text(RELOAD_JS, "text/javascript")),
        Route(f"{PREFIX}preview.css", text(PREVIEW_CSS, "text/css")),
        Route(f"{PREFIX}status", lambda request: Response(
            json.dumps(state.snapshot()), media_type="application/json", headers=fresh)),
        Mount("/", app=Pages(directory=build_dir, html=True, check_dir=False)),
    ])


def preview(project: Path | None, archive: Path | None, host: str, port: int,
            allow_remote: bool, echo: Callable[[str], None]) -> None:
    """Serve the project's build/ at host:port, build its web editions (with the PDFs they
    link to), rebuild on change and tell the open pages; until Ctrl-C."""
    import uvicorn

    from .config import load_config
    from .watch import watch

    check_host(host, allow_remote)
    config = load_config(project, archive=archive)
    sock = bind(host, port)
    state = BuildState()
    server = uvicorn.Server(uvicorn.Config(
        make_app(config.build_dir, state), log_level="warning", timeout_graceful_shutdown=1,
        lifespan="off",
    ))
    serving = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                               name="preview-server", daemon=True)
    serving.start()
    where = sock.getsockname()
    shown = f"[{where[0]}]" if ":" in where[0] else where[0]
    if not ipaddress.ip_address(where[0]).is_loopback:
        echo(f"warning: serving on {where[0]}: other machines can read these briefs")
    echo(f"serving http://{shown}:{where[1]}/ (Ctrl-C to stop)")
    try:
        watch(config.root, archive, echo, formats=("pdf", "web"), built=state.finished,
              jobs=os.cpu_count() or 1)
    finally:
        state.stopping = True
        server.should_exit = True
        serving.join(timeout=5)
        sock.close()
        echo("stopped")
