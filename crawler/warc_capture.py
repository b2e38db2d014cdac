"""The WARC capture extension: every response goes into a WARC file as it came over the wire.

It listens to ``response_downloaded``, which fires before any downloader middleware sees the
response: the body is still content-encoded (``HttpCompressionMiddleware`` at priority 590 has not
decompressed it nor dropped ``Content-Encoding``), and redirects and retries have not been acted
on, so every hop and every attempt is archived. The records are compressed and written on
writer threads (``WARC_WRITE_THREADS``; zlib lets go of the GIL, so they run beside the
reactor); the ``AwaitCapture`` downloader middleware, the first to see each response, waits for
them and stamps their location on the request's ticket (``crawler.ticket``).

A page requisite (an image, a stylesheet: ``crawler.requisite_fetcher``) whose payload is already
archived, by this crawl or an earlier one, is written as a ``revisit`` record naming the first
record of those bytes (``payloads``, an ``archive.captures.payload_index.PayloadIndex`` that the
requisites pipeline attaches).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive.captures.payload_index import ArchivedPayload, PayloadIndex
from archive.captures.record import RedirectHop
from archive.exceptions import WarcError, WarcWriteError
from archive.liveness.memento import parse_http_date, provenance_headers
from archive.sources.registry import PriorCapture
from archive.warc.records import REQUISITE_OF, RecordLocation, WarcWriter, payload_digest
from crawler.faults import WARC_WRITE_FAILED, stop_crawl
from crawler.ticket import Answer, PageTicket
from crawler.wire import META_WIRE

__all__ = ["AwaitCapture", "NotArchived", "WarcCapture", "find_capture"]

logger = logging.getLogger(__name__)

# The Future of the records being written: from the signal to AwaitCapture, in this process
# only (a Future is no data to queue or serialise, so it is not on the ticket).
_META_PENDING = "morgue_pending_record"


class NotArchived(IgnoreRequest):
    """A response whose records could not be written: the page is dropped, it gets no row."""


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One response and its request, as received: what the writer thread turns into records."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    protocol: str
    reason: str | None
    warc_headers: dict[str, str] | None
    ip_address: str | None
    prior: PriorCapture | None
    requisite_of: str | None = None


@dataclass(frozen=True, slots=True)
class _Written:
    """What the writer thread wrote for one exchange."""

    response: RecordLocation
    revisit: bool
    size: int  # bytes written, both records
    warc_date: str


class WarcCapture:
    def __init__(self, writer: WarcWriter, stats: StatsCollector, threads: int = 2) -> None:
        self.writer = writer
        self.stats = stats
        #: Set by the requisites pipeline when it is on: where payloads are already archived.
        self.payloads: PayloadIndex | None = None
        # Threads compress side by side; each exchange's records stay together in the file.
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="warc-writer"
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        directory = settings.get("WARC_DIR")
        if not directory:
            raise NotConfigured("WARC_DIR is not set")
        writer = WarcWriter.from_settings(Path(directory), settings)
        ext = cls(writer, crawler.stats, settings.getint("WARC_WRITE_THREADS"))
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        """Hand the exchange to the writer thread; ``AwaitCapture`` collects its location.

        The head and the body are taken here, before any middleware changes them; compressing
        and writing them (several milliseconds for a news page) happen on the writer thread, so
        that the reactor goes on downloading meanwhile.
        """
        wire = request.meta.pop(META_WIRE, None)
        if wire is not None:
            reason, headers = wire
        else:
            # Another download handler: Scrapy's view of the head (no reason phrase, no
            # connection headers, names in Scrapy's case) is the best there is.
            reason = None
            headers = [
                (key.decode("latin-1"), value.decode("latin-1"))
                for key, values in response.headers.items()
                for value in values
            ]
            self.stats.inc_value("warc/head_not_from_wire")
        request_headers = [
            (key.decode("latin-1"), value.decode("latin-1"))
            for key, values in request.headers.items()
            for value in values
        ]
        if not any(k.lower() == "host" for k, _ in request_headers):
            # Twisted adds Host itself, after Scrapy's middlewares; the record shows what was sent.
            request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
        provenance = None
        ticket = PageTicket.of(request)
        original = ticket.memento_of
        if original:
            stamp = response.headers.get(b"Memento-Datetime") or b""
            when = parse_http_date(stamp.decode("latin-1"))
            if when is not None:
                provenance = provenance_headers(original, when)
        exchange = _Exchange(
            url=response.url,
            method=request.method,
            request_headers=request_headers,
            request_body=request.body,
            status=response.status,
            response_headers=headers,
            body=response.body,
            protocol=response.protocol or "HTTP/1.1",
            reason=reason,
            warc_headers=provenance,
            ip_address=str(response.ip_address) if response.ip_address else None,
            prior=ticket.prior,
            requisite_of=ticket.requisite_of,
        )
        request.meta[_META_PENDING] = self._executor.submit(self._write, exchange)

    def _write(self, ex: _Exchange) -> _Written:
        """On the writer thread: the response and request records (or revisit and request)."""
        if ex.prior is not None and self._identical(ex.prior, ex.url, ex.status, ex.body):
            prior = ex.prior
            assert prior.payload_digest is not None
            return self._revisit(
                ex,
                ArchivedPayload(
                    prior.target_uri or prior.url,
                    prior.warc_date or self.writer.warc_date(),
                    prior.warc_record_id,
                ),
                prior.payload_digest,
            )
        if ex.requisite_of and self.payloads is not None and ex.status == 200 and ex.body:
            digest = payload_digest(ex.body)
            archived = self.payloads.claim(digest)
            if archived is not None:
                return self._revisit(ex, archived, digest)
            try:
                written = self._exchange(ex)
            except BaseException:
                self.payloads.settle(digest, None)  # another fetch of these bytes writes them
                raise
            self.payloads.settle(
                digest, ArchivedPayload(ex.url, written.warc_date, written.response.record_id)
            )
            return written
        return self._exchange(ex)

    def _exchange(self, ex: _Exchange) -> _Written:
        date = self.writer.warc_date()
        resp_loc, req_loc = self.writer.write_exchange(
            ex.url,
            method=ex.method,
            request_headers=ex.request_headers,
            request_body=ex.request_body,
            status=ex.status,
            response_headers=ex.response_headers,
            body=ex.body,
            protocol=ex.protocol,
            reason=ex.reason,
            warc_headers=_requisite_header(ex) or ex.warc_headers,
            ip_address=ex.ip_address,
            date=date,
        )
        return _Written(resp_loc, False, resp_loc.length + req_loc.length, date)

    def _revisit(self, ex: _Exchange, archived: ArchivedPayload, digest: str) -> _Written:
        date = self.writer.warc_date()
        resp_loc, req_loc = self.writer.write_revisit(
            ex.url,
            method=ex.method,
            request_headers=ex.request_headers,
            request_body=ex.request_body,
            status=ex.status,
            response_headers=ex.response_headers,
            refers_to_uri=archived.target_uri,
            refers_to_date=archived.warc_date,
            refers_to_id=archived.record_id,
            digest=digest,
            protocol=ex.protocol,
            reason=ex.reason,
            ip_address=ex.ip_address,
            warc_headers=_requisite_header(ex),
        )
        return _Written(resp_loc, True, resp_loc.length + req_loc.length, date)

    def collected(
        self,
        request: Request,
        response: Response,
        loc: RecordLocation,
        *,
        revisit: bool = False,
        warc_date: str | None = None,
    ) -> None:
        """Back on the reactor: what the rest of the crawl reads about the records written."""
        content_type = response.headers.get(b"Content-Type")
        ticket = PageTicket.of(request)
        hops = ticket.hops
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            hop = RedirectHop(
                url=response.url,
                status=response.status,
                location=urljoin(response.url, location.decode("latin-1")),
                record=loc,
            )
            hops = (*hops, hop)
        answer = Answer(
            response.url,
            response.status,
            content_type.decode("latin-1") if content_type else None,
        )
        ticket.replace(
            record=loc,
            answer=answer,
            hops=hops,
            revisit=revisit,
            warc_date=warc_date,
            fetched_at=datetime.now(UTC),
        ).stamp(request)

    @staticmethod
    def _identical(prior: PriorCapture, url: str, status: int, body: bytes) -> bool:
        """Whether a re-fetch brought back the payload ``prior`` already holds."""
        if not prior.payload_digest or url != (prior.target_uri or prior.url):
            return False
        if status == 304:
            return True
        return status == prior.http_status and payload_digest(body) == prior.payload_digest

    def write_metadata(
        self, url: str, data: dict[str, object], refers_to: RecordLocation | None
    ) -> RecordLocation:
        loc = self.writer.write_metadata(
            url, data, refers_to=refers_to.record_id if refers_to else None
        )
        self.stats.inc_value("warc/records_written")
        return loc

    def spider_closed(self, spider: Spider) -> None:
        self._executor.shutdown(wait=True)
        self.writer.close()
        self.stats.set_value("warc/files_written", len(self.writer.files_written))


def _requisite_header(ex: _Exchange) -> dict[str, str] | None:
    """A requisite's record names the page it was fetched for: it is no page itself, and
    resumption after a crash must not index it as one (``archive.integrity.unstored``)."""
    return {REQUISITE_OF: ex.requisite_of} if ex.requisite_of else None


def find_capture(crawler: Crawler) -> WarcCapture | None:
    """The crawl's capture extension, for pipelines that add records of their own."""
    assert crawler.extensions is not None
    for ext in crawler.extensions.middlewares:
        if isinstance(ext, WarcCapture):
            return ext
    return None


class AwaitCapture:
    """Downloader middleware: wait for the records of each response before anything acts on it.

    At priority 950 it is the first to see a response, so the redirect, retry and compression
    middlewares after it find the record locations on the request's ticket; meanwhile the
    reactor serves other downloads.
    """

    def __init__(
        self, capture: WarcCapture | None, stats: StatsCollector, crawler: Crawler | None = None
    ) -> None:
        self.capture = capture
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        capture = find_capture(crawler)
        if capture is None:
            raise NotConfigured("no WARC capture (WARC_ENABLED is off)")
        assert crawler.stats is not None
        return cls(capture, crawler.stats, crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        pending: Future[_Written] | None = request.meta.pop(_META_PENDING, None)
        if pending is None or self.capture is None:
            return response
        try:
            written = await asyncio.wrap_future(pending)
        except WarcWriteError as exc:
            # A full disk or a read-only file system: every page after this one would fail
            # too. Stop the crawl (the first such error is reported) and drop this page.
            self.stats.inc_value("warc/write_errors")
            if self.crawler is not None:
                stop_crawl(self.crawler, WARC_WRITE_FAILED, str(exc))
            raise NotArchived(str(exc)) from None
        except (WarcError, OSError, RuntimeError) as exc:
            # The page goes on without a record, as when the writer fails on the reactor.
            logger.error("Could not archive %s: %s", response.url, exc)
            self.stats.inc_value("warc/write_errors")
            return response
        if written.revisit:
            self.stats.inc_value("warc/revisits_written")
        self.stats.inc_value("warc/records_written", 2)
        self.stats.inc_value("warc/bytes_written", written.size)
        self.capture.collected(
            request,
            response,
            written.response,
            revisit=written.revisit,
            warc_date=written.warc_date,
        )
        return response
