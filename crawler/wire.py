"""An HTTP/1.1 download handler that keeps the response head as it came over the wire.

Scrapy's handler (on Twisted's client) keeps neither the reason phrase of the status line nor
the connection-level headers (``Content-Length``, ``Transfer-Encoding``, ``Connection``,
``Keep-Alive``), and it lowercases and regroups the rest. An archive wants the response head
as sent, so this handler records the status phrase and every header line, in order and with its
original case, and leaves them in ``request.meta[META_WIRE]`` for the WARC capture extension.
Scrapy's own behaviour is otherwise unchanged: its ``Response`` is built exactly as before.

This leans on Scrapy's private HTTP/1.1 classes (checked with Scrapy 2.19). Should they change
shape, the handler degrades to Scrapy's plain behaviour and the capture falls back to
``response.headers``; ``tests/test_archive_e2e.py`` notices either way.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers import http11
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils._download_handlers import wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

__all__ = ["META_WIRE", "WireDownloadHandler"]

logger = logging.getLogger(__name__)

# (reason phrase, [(name, value), ...]) of the latest response. Not on the page's ticket
# (crawler.ticket): it lives from this handler to the capture extension, which pops it, within one
# download, and a download handler is where Scrapy leaves such per-response facts.
META_WIRE = "morgue_wire"


class _RecordingParser(http11._LenientHTTPClientParser):
    """Scrapy's lenient parser, also keeping each header line as received."""

    def statusReceived(self, status: bytes) -> None:
        # A 1xx interim response starts the head over: keep only the final one.
        self._morgue_headers: list[tuple[bytes, bytes]] = []
        super().statusReceived(status)  # type: ignore[no-untyped-call]

    def headerReceived(self, name: bytes, value: bytes) -> None:
        self._morgue_headers.append((name, value))
        super().headerReceived(name, value)  # type: ignore[no-untyped-call]

    def allHeadersReceived(self) -> None:
        if self.response is not None:
            self.response._morgue_headers = self._morgue_headers
        super().allHeadersReceived()  # type: ignore[no-untyped-call]


class _RecordingProtocol(http11._LenientHTTP11ClientProtocol):
    def request(self, request: Any) -> Any:
        deferred = super().request(request)
        # The protocol creates its parser in request() (Scrapy swaps the class the same way).
        if type(self._parser) is http11._LenientHTTPClientParser:
            self._parser.__class__ = _RecordingParser
        return deferred


class _RecordingFactory(http11._LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> Any:
        return _RecordingProtocol(self._quiescentCallback)  # type: ignore[no-untyped-call]


class _RecordingAgent(http11._ScrapyAgent):
    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        raw = getattr(txresponse, "_morgue_headers", None)
        if raw is not None:
            phrase = txresponse.phrase
            request.meta[META_WIRE] = (
                phrase.decode("latin-1") if isinstance(phrase, bytes) else str(phrase or ""),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw],
            )
        return super()._cb_bodyready(txresponse, request)


class WireDownloadHandler(http11.HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool._factory = _RecordingFactory

    async def download_request(self, request: Request) -> Response:
        agent = _RecordingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        with wrap_twisted_exceptions():
            response: Response = await maybe_deferred_to_future(agent.download_request(request))
        return response
