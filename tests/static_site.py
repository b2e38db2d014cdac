"""A tiny configurable web site on 127.0.0.1 for liveness tests and the liveness evaluation.

Each path maps to a ``Route`` (status, body, headers); an unknown path gets the site's
``fallback``: a soft-404 host answers it with 200 and an error page, a well-behaved one with 404,
another redirects it to its home page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

__all__ = ["Route", "StaticSite"]


@dataclass(frozen=True, slots=True)
class Route:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Route:
        return cls(status, b"", (("Location", location),))


@dataclass
class StaticSite:
    routes: dict[str, Route] = field(default_factory=dict)
    fallback: Route = field(default_factory=lambda: Route(404, b"<html><body>no</body></html>"))
    requests: list[str] = field(default_factory=list)
    # When set, decides the answer for unknown paths (one site can hold many "publishers").
    fallback_for: Callable[[str], Route] | None = None

    def __post_init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                if self.path == "/robots.txt":
                    route = Route(
                        200, b"User-agent: *\nAllow: /\n", (("Content-Type", "text/plain"),)
                    )
                else:
                    route = site.routes.get(self.path) or site.unknown(self.path)
                self.send_response(route.status)
                for name, value in route.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def unknown(self, path: str) -> Route:
        return self.fallback_for(path) if self.fallback_for else self.fallback

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
