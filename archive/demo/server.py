"""Serve the bundled Riverside Ledger sample site on localhost, for ``morgue demo``.

The site is a handful of static files (``archive/demo/site``) plus three dynamic touches that a
real news site has and a plain file server lacks: a 404 page with the site's chrome for unknown
paths, a permanent redirect from an old URL, and absolute canonical URLs that name the port the
server happens to listen on (the files say ``{{BASE_URL}}``, replaced when served).

Example::

    with DemoSite() as site:
        for url in site.urls():
            print(url)
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from importlib.abc import Traversable
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import unquote, urlsplit

__all__ = [
    "ARTICLE_PATHS",
    "MEMENTO_TIMESTAMP",
    "MISSING_PATH",
    "REDIRECTS",
    "STUB_ARTICLE_PATH",
    "WEB_ARCHIVE",
    "DemoSite",
]

logger = logging.getLogger(__name__)

_SITE: Traversable = resources.files(__package__ or "archive.demo").joinpath("site")
_BASE_URL_TOKEN = b"{{BASE_URL}}"
_NOT_FOUND_PAGE = "404.html"
_Request = socket.socket | tuple[bytes, socket.socket]  # what socketserver hands a server

#: The four ordinary articles (one of them in Spanish).
ARTICLE_PATHS: tuple[str, ...] = (
    "/news/2025/03/council-approves-budget.html",
    "/news/2025/04/river-flood-warning.html",
    "/news/2025/05/library-reopens.html",
    "/news/2025/05/feria-comunitaria.html",
)
#: A live article followed, outside ``<article>``, by the site's "page not available" block.
STUB_ARTICLE_PATH = "/news/2025/06/science-fair-winners.html"
#: A path the site does not have: answered 404 with the site's "Page not found" page.
MISSING_PATH = "/news/2025/02/snow-day-schedule.html"
#: A small Wayback-style web archive on the same server, so that the demo shows a dead page
#: recovered over Memento without the internet: a TimeGate at ``WEB_ARCHIVE`` + URL, and one
#: memento, of the article behind ``MISSING_PATH``.
WEB_ARCHIVE = "/web-archive/"
MEMENTO_TIMESTAMP = "20250204071500"
_MEMENTO_HTTP_DATE = "Tue, 04 Feb 2025 07:15:00 GMT"
_MEMENTOS = {MISSING_PATH: "snow-day-schedule.html"}
_WEB_ARCHIVE_FILES: Traversable = resources.files(__package__ or "archive.demo").joinpath(
    "webarchive"
)
_MEMENTO_PATH_RE = re.compile(r"^(\d{14})(?:id_)?/(https?://.+)$")
#: Old paths answered with 301 Moved Permanently.
REDIRECTS: dict[str, str] = {
    "/old/council-budget": "/news/2025/03/council-approves-budget.html",
}

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class DemoSite:
    """The sample news site, served from a background thread while the context is open."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: _DemoServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Bind the socket and start serving; a second call does nothing."""
        if self._server is not None:
            return
        server = _DemoServer(self._address, _DemoHandler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="morgue-demo-site",
            daemon=True,
        )
        self._thread.start()
        logger.info("Demo site serving at %s", server.base_url)

    def close(self) -> None:
        """Stop serving, drop open connections and release the socket."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("DemoSite is not running; use it as a context manager")
        return self._server.base_url

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on the running site."""
        return self.base_url + path

    def urls(self) -> list[str]:
        """What ``morgue demo`` archives: home, articles, stub article, a 404, a redirect."""
        paths = ["/", *ARTICLE_PATHS, STUB_ARTICLE_PATH, MISSING_PATH, *REDIRECTS]
        return [self.url(path) for path in paths]


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        host, port = self.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: _Request, client_address: Any) -> None:
        if isinstance(request, socket.socket):
            with self._lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: _Request) -> None:
        if isinstance(request, socket.socket):
            with self._lock:
                self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections so they can finish."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # the client may already have gone
                conn.shutdown(socket.SHUT_RDWR)


class _DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RiversideLedger/1.0"
    timeout = 30  # seconds an idle keep-alive connection is kept

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _respond(self, *, send_body: bool) -> None:
        base_url = cast(_DemoServer, self.server).base_url
        path = unquote(urlsplit(self.path).path) or "/"
        if path.startswith(WEB_ARCHIVE):
            self._web_archive(self.path[len(WEB_ARCHIVE) :], base_url, send_body)
            return
        if path in REDIRECTS:
            location = base_url + REDIRECTS[path]
            body = f'<!DOCTYPE html>\n<p>Moved to <a href="{location}">{location}</a>.</p>\n'
            self._send(
                HTTPStatus.MOVED_PERMANENTLY,
                body.encode(),
                "text/html; charset=utf-8",
                send_body,
                location=location,
            )
            return
        resource = _find(path)
        status = HTTPStatus.OK
        if resource is None:
            resource, status = _SITE.joinpath(_NOT_FOUND_PAGE), HTTPStatus.NOT_FOUND
        suffix = "." + resource.name.rpartition(".")[2]
        content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
        data = resource.read_bytes()
        if content_type.startswith("text/html"):
            data = data.replace(_BASE_URL_TOKEN, base_url.encode("ascii"))
        self._send(status, data, content_type, send_body)

    def _web_archive(self, rest: str, base_url: str, send_body: bool) -> None:
        """A TimeGate (``/web-archive/URL``) and its mementos (``/web-archive/TS[id_]/URL``)."""
        match = _MEMENTO_PATH_RE.match(rest)
        original = match.group(2) if match else rest
        parts = urlsplit(original)
        own_site = parts.netloc == urlsplit(base_url).netloc
        name = _MEMENTOS.get(parts.path) if own_site else None
        if name is None:
            body = b"Not in this archive.\n"
            self._send(HTTPStatus.NOT_FOUND, body, "text/plain; charset=utf-8", send_body)
            return
        memento = f"{base_url}{WEB_ARCHIVE}{MEMENTO_TIMESTAMP}/{original}"
        links = (
            f'<{original}>; rel="original", <{base_url}{WEB_ARCHIVE}{original}>; rel="timegate", '
            f'<{memento}>; rel="memento"; datetime="{_MEMENTO_HTTP_DATE}"'
        )
        if match is None:
            body = f"Found a copy from {_MEMENTO_HTTP_DATE}: {memento}\n".encode()
            self._send(
                HTTPStatus.FOUND,
                body,
                "text/plain; charset=utf-8",
                send_body,
                location=memento,
                headers={"Link": links, "Vary": "accept-datetime"},
            )
            return
        data = _WEB_ARCHIVE_FILES.joinpath(name).read_bytes()
        data = data.replace(_BASE_URL_TOKEN, base_url.encode("ascii"))
        headers = {"Link": links, "Memento-Datetime": _MEMENTO_HTTP_DATE}
        self._send(HTTPStatus.OK, data, "text/html; charset=utf-8", send_body, headers=headers)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        send_body: bool,
        *,
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location is not None:
            self.send_header("Location", location)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status == HTTPStatus.OK:
            self.send_header("Cache-Control", "max-age=300")
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _find(path: str) -> Traversable | None:
    """The site file for a URL path, or None; never anything outside the site directory."""
    if path.endswith("/"):
        path += "index.html"
    parts = path.split("/")[1:]
    if not parts or parts == [_NOT_FOUND_PAGE]:
        return None
    for part in parts:
        if not part or part.startswith(".") or "\\" in part or "\0" in part:
            return None
    resource = _SITE.joinpath(*parts)
    return resource if resource.is_file() else None
