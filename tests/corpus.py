"""Real-size news pages for the tests, read at run time from ../shared/corpus (never copied here).

Small fixtures hide real bugs (resumption once hung only on records over 64 KiB), so crash,
resume, WARC and extraction tests serve these pages. ``CorpusSite`` serves N article URLs over
the corpus's ``dev`` article pages (cycled), with a home page, an RSS feed, a news sitemap and a
robots.txt, on 127.0.0.1 in a thread of the test process.

The corpus is looked for in ``MORGUE_CORPUS``, then beside the repository (``../shared/corpus``);
a test that needs it and cannot find it is skipped with the reason, or fails when
``MORGUE_TEST_REQUIRE_CORPUS`` is set.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from xml.sax.saxutils import escape

import pytest

__all__ = ["CorpusPage", "CorpusSite", "corpus_dir", "corpus_pages"]

_ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    """The corpus folder; skips (or fails, when required) the calling test if there is none."""
    candidates = [
        Path(os.environ["MORGUE_CORPUS"]) if os.environ.get("MORGUE_CORPUS") else None,
        _ROOT.parent / "shared" / "corpus",
    ]
    for path in candidates:
        if path is not None and (path / "manifest.jsonl").is_file():
            return path
    reason = "no corpus of real news pages (set MORGUE_CORPUS or put it at ../shared/corpus)"
    if os.environ.get("MORGUE_TEST_REQUIRE_CORPUS"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class CorpusPage:
    id: str
    url: str | None
    kind: str
    html: bytes
    title: str | None


@cache
def _manifest(path: Path) -> tuple[dict[str, object], ...]:
    with (path / "manifest.jsonl").open(encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def corpus_pages(
    kind: str = "article", split: str = "dev", limit: int | None = None, min_size: int = 0
) -> list[CorpusPage]:
    """Pages of one kind and split, in manifest order; ``min_size`` in bytes of HTML."""
    root = corpus_dir()
    pages: list[CorpusPage] = []
    for row in _manifest(root):
        if row["kind"] != kind or row["split"] != split:
            continue
        html = gzip.decompress((root / str(row["file"])).read_bytes())
        if len(html) < min_size:
            continue
        title = row.get("title")
        pages.append(
            CorpusPage(
                id=str(row["id"]),
                url=str(row["url"]) if row.get("url") else None,
                kind=kind,
                html=html,
                title=str(title) if title else None,
            )
        )
        if limit is not None and len(pages) >= limit:
            break
    return pages


class CorpusSite:
    """N articles at ``/news/2026/11/story-I.html`` over real corpus pages, on 127.0.0.1.

    ``/`` links every article, ``/feed.xml`` is an RSS feed of them, ``/sitemap.xml`` a news
    sitemap, ``/robots.txt`` allows all and names the sitemap; any other path is a 404.
    ``delay`` (seconds) is added before every article answer, so that a test can stop a crawl
    half-way; ``extra`` maps paths to (status, content type, body) for a test's own routes.
    """

    def __init__(
        self,
        n: int,
        *,
        delay: float = 0.0,
        min_size: int = 0,
        extra: dict[str, tuple[int, str, bytes]] | None = None,
        on_request: Callable[[str], None] | None = None,
    ) -> None:
        bodies = [page.html for page in corpus_pages(min_size=min_size)]
        if not bodies:
            pytest.skip(f"no corpus article of {min_size} bytes or more")
        self.n = n
        self.delay = delay
        self.bodies = bodies
        self.extra = dict(extra or {})
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._on_request = on_request
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append(self.path)
                if site._on_request is not None:
                    site._on_request(self.path)
                status, ctype, body = site.answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawl was killed mid-answer: what the test is about

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- content -----------------------------------------------------------------------------

    def path(self, i: int) -> str:
        return f"/news/2026/11/story-{i}.html"

    def url(self, path_or_index: str | int) -> str:
        path = self.path(path_or_index) if isinstance(path_or_index, int) else path_or_index
        return self.base + path

    @property
    def article_urls(self) -> list[str]:
        return [self.url(i) for i in range(self.n)]

    def body(self, i: int) -> bytes:
        return self.bodies[i % len(self.bodies)]

    def answer(self, path: str) -> tuple[int, str, bytes]:
        html = "text/html; charset=utf-8"
        if path in self.extra:
            return self.extra[path]
        if path in ("/", "/index.html"):
            links = "".join(
                f'<li><a href="{self.path(i)}">Story {i}</a></li>' for i in range(self.n)
            )
            return 200, html, f"<html><body><h1>News</h1><ul>{links}</ul></body></html>".encode()
        if path == "/robots.txt":
            text = f"User-agent: *\nAllow: /\nSitemap: {self.base}/sitemap.xml\n"
            return 200, "text/plain", text.encode()
        if path == "/feed.xml":
            return 200, "application/rss+xml", self._feed()
        if path == "/sitemap.xml":
            return 200, "application/xml", self._sitemap()
        prefix, suffix = "/news/2026/11/story-", ".html"
        if path.startswith(prefix) and path.endswith(suffix):
            index = path[len(prefix) : -len(suffix)]
            if index.isdigit() and int(index) < self.n:
                if self.delay:
                    time.sleep(self.delay)
                return 200, html, self.body(int(index))
        return 404, html, b"<html><body><h1>Not found</h1></body></html>"

    def _feed(self) -> bytes:
        items = "".join(
            f"<item><title>Story {i}</title><link>{escape(self.url(i))}</link>"
            f"<pubDate>Mon, 02 Nov 2026 {i % 24:02d}:00:00 GMT</pubDate></item>"
            for i in range(self.n)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Corpus news</title><link>{escape(self.base)}/</link>{items}</channel></rss>"
        ).encode()

    def _sitemap(self) -> bytes:
        urls = "".join(
            f"<url><loc>{escape(self.url(i))}</loc><news:news><news:publication>"
            "<news:name>Corpus news</news:name><news:language>en</news:language>"
            "</news:publication><news:publication_date>2026-11-02</news:publication_date>"
            f"<news:title>Story {i}</news:title></news:news></url>"
            for i in range(self.n)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{urls}</urlset>"
        ).encode()

    # -- server ------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def article_requests(self) -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.startswith("/news/")]

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
