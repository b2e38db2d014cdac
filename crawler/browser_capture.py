"""What a browser rendering leaves in the WARC: its downloads, the screenshot, the rendered DOM.

Each response the browser received (``crawler.browser_pool.BrowserExchange``) becomes request
and response records, like a requisite's (``WARC-Requisite-Of`` names the page). The driver
gives bodies already decoded and de-chunked, not the bytes of the wire: those records say so
(``WARC-Browser-Body: driver``), and their ``Content-Encoding`` and ``Content-Length`` headers
are kept as ``X-Crawler-Content-Encoding`` and ``X-Crawler-Content-Length`` so that a replay does
not decode the body again. The screenshot (PNG) and the rendered DOM (HTML) are ``resource``
records at ``urn:screenshot:URL`` and ``urn:rendered-dom:URL``, concurrent to the page's own
response record, and so is the page printed to PDF (``urn:pdf:URL``) when ``BROWSER_PDF``
asks. A body whose payload is already archived (the page's requisites were fetched over HTTP
just before) is written as a revisit record instead, as for requisites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archive.captures.payload_index import ArchivedPayload, PayloadIndex
from archive.warc.records import REQUISITE_OF, RecordLocation, WarcWriter, payload_digest
from crawler.browser_pool import BrowserExchange, Rendered

__all__ = [
    "BROWSER_BODY",
    "DOM_URI_PREFIX",
    "PDF_URI_PREFIX",
    "SCREENSHOT_URI_PREFIX",
    "BrowserCapture",
    "BrowserWritten",
]

#: The WARC extension field on a response record whose body came from the browser driver.
BROWSER_BODY = "WARC-Browser-Body"
SCREENSHOT_URI_PREFIX = "urn:screenshot:"
DOM_URI_PREFIX = "urn:rendered-dom:"
PDF_URI_PREFIX = "urn:pdf:"
# Headers that describe the wire form of a body the driver gives decoded.
_WIRE_ONLY = {
    "content-encoding": "X-Crawler-Content-Encoding",
    "content-length": "X-Crawler-Content-Length",
}


@dataclass(frozen=True, slots=True)
class BrowserWritten:
    records: int
    screenshot: RecordLocation | None
    dom: RecordLocation | None


class BrowserCapture:
    def __init__(
        self, writer: WarcWriter, payloads: Callable[[], PayloadIndex | None] = lambda: None
    ) -> None:
        self.writer = writer
        self.payloads = payloads  # the crawl's index of archived payloads, when it has one

    def write(
        self, page_url: str, rendered: Rendered, page: RecordLocation | None
    ) -> BrowserWritten:
        """Write the records of one rendering (on a thread: compression is CPU work)."""
        records = 0
        for exchange in rendered.exchanges:
            self._exchange(page_url, exchange)
            records += 2
        concurrent = page.record_id if page else None
        shot = None
        if rendered.screenshot:
            shot = self.writer.write_resource(
                SCREENSHOT_URI_PREFIX + page_url,
                rendered.screenshot,
                "image/png",
                concurrent_to=concurrent,
            )
            records += 1
        if rendered.pdf:
            self.writer.write_resource(
                PDF_URI_PREFIX + page_url, rendered.pdf, "application/pdf", concurrent_to=concurrent
            )
            records += 1
        dom = self.writer.write_resource(
            DOM_URI_PREFIX + page_url,
            rendered.dom,
            "text/html; charset=utf-8",
            concurrent_to=concurrent,
        )
        return BrowserWritten(records + 1, shot, dom)

    def _exchange(self, page_url: str, ex: BrowserExchange) -> None:
        headers = [(_WIRE_ONLY.get(k.lower(), k), v) for k, v in ex.response_headers]
        marks = {REQUISITE_OF: page_url, BROWSER_BODY: "driver"}
        index = self.payloads()
        digest = payload_digest(ex.body) if ex.body and ex.status == 200 else None
        if index is not None and digest is not None:
            archived = index.claim(digest)
            if archived is not None:
                self.writer.write_revisit(
                    ex.url,
                    method=ex.method,
                    request_headers=ex.request_headers,
                    request_body=ex.request_body,
                    status=ex.status,
                    response_headers=headers,
                    refers_to_uri=archived.target_uri,
                    refers_to_date=archived.warc_date,
                    refers_to_id=archived.record_id,
                    digest=digest,
                    reason=ex.reason or None,
                    ip_address=ex.ip_address,
                    warc_headers=marks,
                )
                return
        date = self.writer.warc_date()
        try:
            response, _ = self._write(ex, headers, marks, date)
        except BaseException:
            if index is not None and digest is not None:
                index.settle(digest, None)
            raise
        if index is not None and digest is not None:
            index.settle(digest, ArchivedPayload(ex.url, date, response.record_id))

    def _write(
        self,
        ex: BrowserExchange,
        headers: list[tuple[str, str]],
        marks: dict[str, str],
        date: str,
    ) -> tuple[RecordLocation, RecordLocation]:
        return self.writer.write_exchange(
            ex.url,
            method=ex.method,
            request_headers=ex.request_headers,
            request_body=ex.request_body,
            status=ex.status,
            response_headers=headers,
            body=ex.body or b"",
            reason=ex.reason or None,
            ip_address=ex.ip_address,
            warc_headers=marks,
            date=date,
        )
