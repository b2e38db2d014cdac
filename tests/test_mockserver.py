"""The mock news site answers each route the way the crawler tests rely on."""

from __future__ import annotations

import gzip
import http.client
import socket
import time
import zlib
from collections.abc import Iterator

import pytest

from tests.mockserver import MockServer
from tests.mockserver.app import BOMB_INFLATED_SIZE, HUGE_SIZE


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as s:
        yield s


def fetch(
    server: MockServer,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_home_links_articles(server: MockServer) -> None:
    response, body = fetch(server, "/")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b'href="/articles/alpha.html"' in body
    assert b'href="/stub-appended.html"' in body


def test_articles_are_deterministic_with_metadata(server: MockServer) -> None:
    response, body = fetch(server, "/articles/alpha.html")
    assert response.status == 200
    assert b"<article>" in body and b"School board delays vote" in body
    assert b'<meta name="author" content="Ruth Abernathy">' in body
    generated = fetch(server, "/articles/new-parking-rules.html")[1]
    assert generated == fetch(server, "/articles/new-parking-rules.html")[1]
    assert b"new parking rules" in generated


def test_keep_alive_serves_several_requests_on_one_connection(server: MockServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for path in ("/articles/beta.html", "/status/404", "/robots.txt"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.version == 11 and not response.will_close
    finally:
        conn.close()


def test_robots_disallows_private(server: MockServer) -> None:
    assert b"Disallow: /private/" in fetch(server, "/robots.txt")[1]
    assert fetch(server, "/private/secret.html")[0].status == 200


def test_gzip_body_decompresses_to_the_article(server: MockServer) -> None:
    response, body = fetch(server, "/gzip/beta.html")
    assert response.getheader("Content-Encoding") == "gzip"
    assert int(response.getheader("Content-Length") or 0) == len(body)
    assert gzip.decompress(body) == fetch(server, "/articles/beta.html")[1]


def test_chunked(server: MockServer) -> None:
    response, body = fetch(server, "/chunked/gamma.html")
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    assert body == fetch(server, "/articles/gamma.html")[1]


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/redirect/301", 301, "/articles/alpha.html"),
        ("/redirect/302", 302, "/articles/beta.html"),
        ("/redirect/chain/2", 302, "/articles/gamma.html"),
        ("/redirect/loop", 302, "/redirect/loop"),
        ("/redirect/home", 302, "/"),
    ],
)
def test_redirects(server: MockServer, path: str, status: int, location: str) -> None:
    response, _ = fetch(server, path)
    assert (response.status, response.getheader("Location")) == (status, location)


def test_redirect_chain_starts_with_an_absolute_location(server: MockServer) -> None:
    response, _ = fetch(server, "/redirect/chain")
    assert response.status == 301
    assert response.getheader("Location") == server.url("/redirect/chain/2")


@pytest.mark.parametrize("code", [401, 403, 404, 410, 429, 451, 500, 503])
def test_status_routes(server: MockServer, code: int) -> None:
    response, body = fetch(server, f"/status/{code}")
    assert response.status == code
    assert str(code).encode() in body
    if code == 503:
        assert response.getheader("Retry-After") == "0"


def test_unknown_path_gets_the_site_404_page(server: MockServer) -> None:
    response, body = fetch(server, "/no/such/page.html")
    assert response.status == 404
    assert b"Page not found" in body and b"The Valley Courier" in body


def test_hang_does_not_block_other_requests(server: MockServer) -> None:
    started = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        fetch(server, "/hang", timeout=0.5)
    assert time.monotonic() - started < 5
    assert fetch(server, "/articles/alpha.html")[0].status == 200


def test_query_multi_header_and_charsets(server: MockServer) -> None:
    assert b"id=7&amp;utm_source=x" in fetch(server, "/query?id=7&utm_source=x")[1]
    response, _ = fetch(server, "/multi-header.html")
    headers = response.getheaders()
    assert [v for k, v in headers if k == "X-Multi"] == ["first", "second"]
    assert len([v for k, v in headers if k == "Set-Cookie"]) == 2
    latin1 = fetch(server, "/latin1.html")[1]
    assert "Crème".encode("iso-8859-1") in latin1
    response, wrong = fetch(server, "/wrong-charset.html")
    assert "iso-8859-1" in (response.getheader("Content-Type") or "")
    assert "Crème".encode() in wrong
    response, binary = fetch(server, "/binary.html")
    assert response.getheader("Content-Type") == "text/html" and len(binary) == 16384


def test_stub_follows_the_article(server: MockServer) -> None:
    body = fetch(server, "/stub-appended.html")[1].decode()
    assert body.index("</article>") < body.index("This page is not available")


def test_huge_and_gzip_bomb(server: MockServer) -> None:
    response, _ = fetch(server, "/huge", method="HEAD")
    assert int(response.getheader("Content-Length") or 0) == HUGE_SIZE
    response, bomb = fetch(server, "/gzip-bomb")
    assert response.getheader("Content-Encoding") == "gzip" and len(bomb) < 1024 * 1024
    inflater, inflated = zlib.decompressobj(31), 0
    for start in range(0, len(bomb), 65536):
        inflated += len(inflater.decompress(bomb[start : start + 65536]))
    assert inflated == BOMB_INFLATED_SIZE > 64 * 1024 * 1024


def test_huge_nolength_streams_until_close(server: MockServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/huge-nolength")
        response = conn.getresponse()
        assert response.getheader("Content-Length") is None and response.will_close
        assert response.read(1024).startswith(b"<!DOCTYPE html>")
    finally:
        conn.close()


def test_requests_are_recorded(server: MockServer) -> None:
    server.clear_requests()
    fetch(server, "/articles/gamma.html?x=1", headers={"User-Agent": "morgue-test/1.0"})
    seen = server.requests()
    assert seen == [
        {
            "method": "GET",
            "path": "/articles/gamma.html?x=1",
            "headers": {
                "Host": f"127.0.0.1:{server.port}",
                "Accept-Encoding": "identity",
                "User-Agent": "morgue-test/1.0",
            },
        }
    ]
