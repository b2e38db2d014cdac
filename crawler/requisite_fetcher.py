"""Fetch a page's requisites through the engine, so that the WARC capture archives each one.

The URLs come from ``archive.captures.requisite_urls`` (the page's markup, then the ``url()``s
and ``@import``s of the stylesheets fetched, one level deep). Each request goes through Scrapy's
downloader like the page did: the same per-host slots and delays, ``DOWNLOAD_MAXSIZE``,
robots.txt and the private-address guard; its ticket marks it a requisite, so that it is never
judged nor stored as a page and an already archived payload becomes a revisit record.

A URL is fetched once per crawl: a later page that needs it gets a row pointing at the first
fetch's record (``reused``), after waiting for it if it is still in flight. With a freshness
window (``REQUISITES_REFRESH_AFTER``, ``archive.captures.recent_requisites``), a URL an earlier
run archived within it is not fetched either: the row points at that run's record, and a
stylesheet's own ``url()``s are read from the archived stylesheet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.statscollectors import StatsCollector

from archive.captures.recent_requisites import RecentRequisites
from archive.captures.record import RequisiteRecord
from archive.captures.requisite_urls import RequisiteUrl, css_requisites, page_requisites
from crawler.failures import exception_reason
from crawler.ticket import PageTicket

__all__ = ["RequisiteFetcher"]

logger = logging.getLogger(__name__)

Downloader = Callable[[Request], Awaitable[Response]]

# URLs remembered as fetched in this crawl at most: past it the oldest are forgotten (and fetched
# again, as revisits), so that memory stays flat on a long crawl.
_MAX_REMEMBERED = 50_000


@dataclass(frozen=True, slots=True)
class _Fetched:
    record: RequisiteRecord
    needs: tuple[RequisiteUrl, ...] = ()  # a stylesheet's own requisites


class RequisiteFetcher:
    def __init__(
        self,
        download: Downloader,
        stats: StatsCollector,
        max_per_page: int,
        recent: RecentRequisites | None = None,
    ) -> None:
        self.download = download
        self.stats = stats
        self.max_per_page = max(0, max_per_page)
        self.recent = recent
        self._fetched: dict[str, asyncio.Future[_Fetched]] = {}

    async def fetch_page(self, page_url: str, html: bytes) -> list[RequisiteRecord]:
        """Fetch what the page at ``page_url`` needs (``html``: its decoded body)."""
        # Parsing a large page takes milliseconds: off the reactor thread, like extraction.
        needed = await asyncio.to_thread(page_requisites, html, page_url)
        seen = {page_url}
        first = self._take(needed, seen)
        if not first:
            return []
        await self._find_recent(first)
        fetched = list(await asyncio.gather(*(self._get(req, page_url) for req in first)))
        # One level deeper: what the stylesheets themselves load (fonts, backgrounds, imports).
        deeper = self._take([need for f in fetched for need in f.needs], seen, len(fetched))
        await self._find_recent(deeper)
        fetched += await asyncio.gather(*(self._get(req, page_url, deep=False) for req in deeper))
        self.stats.inc_value("requisites/pages")
        return [f.record for f in fetched]

    def _take(
        self, needed: list[RequisiteUrl], seen: set[str], already: int = 0
    ) -> list[RequisiteUrl]:
        """The requisites not yet seen for this page, within the page's limit."""
        out: list[RequisiteUrl] = []
        for req in needed:
            if req.url in seen:
                continue
            if already + len(out) >= self.max_per_page:
                self.stats.inc_value("requisites/over_limit")
                break
            seen.add(req.url)
            out.append(req)
        return out

    async def _find_recent(self, needed: list[RequisiteUrl]) -> None:
        """Take what an earlier run archived within the freshness window as fetched already."""
        recent = self.recent
        urls = [req.url for req in needed if req.url not in self._fetched]
        if recent is None or not urls:
            return
        # A database query (and a WARC read for a stylesheet): off the reactor thread.
        found = await asyncio.to_thread(recent.find, urls, datetime.now(UTC))
        for url, record in found.items():
            needs: tuple[RequisiteUrl, ...] = ()
            if _is_css_type(record.content_type, record.kind, url):
                body = await asyncio.to_thread(recent.body, record)
                if body is None:
                    continue  # fetched again, its url()s with it
                text = body.decode("utf-8", "replace")
                needs = tuple(await asyncio.to_thread(css_requisites, text, url))
            if url in self._fetched:  # another page started fetching it meanwhile
                continue
            future: asyncio.Future[_Fetched] = asyncio.get_running_loop().create_future()
            future.set_result(_Fetched(record, needs))
            self._fetched[url] = future
            self.stats.inc_value("requisites/fresh")

    async def _get(self, req: RequisiteUrl, page_url: str, *, deep: bool = True) -> _Fetched:
        known = self._fetched.get(req.url)
        if known is not None:
            earlier = await asyncio.shield(known)
            self.stats.inc_value("requisites/reused")
            record = dataclasses.replace(earlier.record, kind=req.kind, reused=True)
            return _Fetched(record, earlier.needs if deep else ())
        if len(self._fetched) >= _MAX_REMEMBERED:
            for url in [u for u, f in self._fetched.items() if f.done()][: _MAX_REMEMBERED // 2]:
                del self._fetched[url]
        future: asyncio.Future[_Fetched] = asyncio.get_running_loop().create_future()
        self._fetched[req.url] = future
        try:
            result = await self._fetch(req, page_url, deep=deep)
        except BaseException as exc:  # cancelled: a later page fetches it again
            del self._fetched[req.url]
            future.set_exception(exc)
            future.exception()  # retrieved here: nobody else may be waiting
            raise
        future.set_result(result)
        return result

    async def _fetch(self, req: RequisiteUrl, page_url: str, *, deep: bool) -> _Fetched:
        request = Request(
            req.url,
            # A browser names the page it loads a requisite for; some hosts refuse images
            # without it.
            headers={"Referer": page_url},
            meta=PageTicket(requisite_of=page_url).meta(),
            dont_filter=True,
        )
        self.stats.inc_value("requisites/requested")
        fetched_at = datetime.now(UTC)
        try:
            response = await self.download(request)
        except Exception as exc:
            reason, message = exception_reason(exc)
            self.stats.inc_value(f"requisites/error/{reason}")
            logger.debug("Requisite %s of %s not fetched: %s", req.url, page_url, message)
            return _Fetched(RequisiteRecord(req.url, req.kind, fetched_at, error=message))
        ticket = PageTicket.of(response)
        content_type = response.headers.get(b"Content-Type")
        record = RequisiteRecord(
            url=req.url,
            kind=req.kind,
            fetched_at=ticket.fetched_at or fetched_at,
            http_status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            size=len(response.body),
            payload_digest=ticket.record.payload_digest if ticket.record else None,
            record=ticket.record,
            warc_date=ticket.warc_date,
            revisit=ticket.revisit,
            error=None if ticket.record else "not archived",
        )
        self.stats.inc_value("requisites/revisits" if ticket.revisit else "requisites/fetched")
        needs: tuple[RequisiteUrl, ...] = ()
        if deep and response.status == 200 and _is_css(record, response):
            text = response.text if isinstance(response, TextResponse) else ""
            if not text:
                text = response.body.decode("utf-8", "replace")
            needs = tuple(await asyncio.to_thread(css_requisites, text, response.url))
        return _Fetched(record, needs)


def _is_css_type(content_type: str | None, kind: str, url: str) -> bool:
    ctype = (content_type or "").lower()
    return "text/css" in ctype or (
        kind == "stylesheet" and not ctype and url.lower().endswith(".css")
    )


def _is_css(record: RequisiteRecord, response: Response) -> bool:
    return _is_css_type(record.content_type, record.kind, response.url)
