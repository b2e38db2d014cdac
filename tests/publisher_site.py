"""A publisher's web site, as a crawl sees it, served from 127.0.0.1: a real corpus page at its
own URL, and every image, stylesheet, font and script it names answered on its own hosts.

The crawl is pointed here by the network guard (tests/netguard/sitecustomize.py): its fake DNS
makes the publisher's host names resolve to 127.0.0.1, and its fake ports send connections to
ports 80 and 443 of that address to this server's two ports (plain HTTP, and TLS with a
certificate made for the test). The URLs, ``Host`` headers and TLS server names stay the
publisher's, so the archive holds the page as it would from the web; nothing leaves the host.

Every path but the page's and ``/robots.txt`` (a 404: all allowed) answers 200 with bytes of
the type its name says (``answer``): a real PNG for an image, a stylesheet whose own ``url()``s
name a font and a background on its host, a script, a font. A test can compute what a URL
answered with the same function.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.mockserver.assets import png

__all__ = ["PublisherSite", "answer"]

_TYPES = {".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
          ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
          ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff",
          ".ttf": "font/ttf", ".otf": "font/otf", ".json": "application/json"}  # fmt: skip


def answer(url: str) -> tuple[str, bytes]:
    """The content type and body the publisher's servers give ``url`` (not the page's)."""
    parts = urlsplit(url)
    path = parts.path.lower()
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    ctype = _TYPES.get(suffix, "image/png")  # a CDN's extensionless image URL
    seed = f"{parts.hostname}{parts.path}?{parts.query}"
    if ctype == "text/css":
        # A stylesheet loads its own font and background, from its own host: one level deeper.
        stem = parts.path.rsplit("/", 1)[-1].removesuffix(".css") or "sheet"
        css = (
            f'@font-face {{ font-family: "Local"; src: url("fonts/{stem}.woff2"); }}\n'
            f"body {{ font-family: Local, serif; }}\n"
            f'header {{ background: url("img/{stem}-bg.png") no-repeat; }}\n'
        )
        return ctype, css.encode()
    if ctype == "text/javascript":
        return ctype, f"/* {seed} */\nwindow.__loaded = (window.__loaded || 0) + 1;\n".encode()
    if ctype.startswith("font/"):
        return ctype, b"wOF2" + hashlib.sha256(seed.encode()).digest() * 8
    if ctype == "application/json":
        return ctype, json.dumps({"url": seed}).encode()
    if ctype == "image/svg+xml":
        return ctype, b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'
    return ctype, png(seed, 8)  # every other image: a real PNG, whatever its name says


class PublisherSite:
    """The page at ``page_url`` (its body ``html``) and its hosts' requisites, on 127.0.0.1."""

    def __init__(self, page_url: str, html: bytes, workdir: Path) -> None:
        self.page_url = page_url
        self.html = html
        self.asked: list[tuple[str, str]] = []  # (Host header, path) of every request
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
                with site._lock:
                    site.asked.append((host, self.path))
                scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
                url = f"{scheme}://{host}{self.path}"
                status, ctype, body = site.respond(url)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # a page's requisites open dozens of connections at once

        self._plain = Server(("127.0.0.1", 0), Handler)
        self._tls = Server(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_certificate(workdir))
        # The handshake in the handler's thread (on its first read), not in the accepting one.
        self._tls.socket = context.wrap_socket(
            self._tls.socket, server_side=True, do_handshake_on_connect=False
        )
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True)
            for server in (self._plain, self._tls)
        ]

    def respond(self, url: str) -> tuple[int, str, bytes]:
        if _same_page(url, self.page_url):
            return 200, "text/html; charset=utf-8", self.html
        if urlsplit(url).path == "/robots.txt":
            return 404, "text/plain", b"no robots.txt here"
        ctype, body = answer(url)
        return 200, ctype, body

    def fake_network(self, hosts: Iterable[str]) -> dict[str, str]:
        """The environment that points the network guard of a child process at this site."""
        names = {urlsplit(self.page_url).hostname or "", *hosts} - {""}
        return {
            "NETGUARD_FAKE_DNS": json.dumps(dict.fromkeys(sorted(names), "127.0.0.1")),
            "NETGUARD_FAKE_PORTS": json.dumps(
                {"80": self._plain.server_address[1], "443": self._tls.server_address[1]}
            ),
        }

    def __enter__(self) -> PublisherSite:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in (self._plain, self._tls):
            server.shutdown()
            server.server_close()


def _same_page(url: str, page_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(page_url)
    return (a.hostname, a.path or "/", a.query) == (b.hostname, b.path or "/", b.query)


def _certificate(workdir: Path) -> tuple[str, str]:
    """A self-signed certificate and its key, as files: the crawl does not check certificates
    (Scrapy's default, as a browser-like archiver must reach sites with broken ones)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "publisher.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "publisher.crt", workdir / "publisher.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)
