"""The ``urls`` spider: fetch an explicit list of URLs, one capture each.

"One capture each" holds for a URL that cannot be fetched at all: one Scrapy cannot make a
request of gets a capture with reason ``invalid_url``, and one longer than ``URLLENGTH_LIMIT``
(which Scrapy's ``UrlLengthMiddleware`` would drop without a word) reason ``too_long``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.failures import failure_reason
from crawler.items import FetchedPage
from crawler.ticket import PageTicket
from crawler.warc_capture import NotArchived

__all__ = [
    "UrlsSpider",
    "page_from_failure",
    "page_from_response",
    "request_or_failure",
    "unfetchable_page",
]


class UrlsSpider(Spider):
    name = "urls"

    def __init__(self, urls: list[str] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(urls, str):
            # From the command line (`-a urls=...`): a JSON list or one URL per line.
            urls = json.loads(urls) if urls.lstrip().startswith("[") else urls.split()
        self.urls: list[str] = list(dict.fromkeys(urls or []))
        self.max_url_length = 0  # URLLENGTH_LIMIT; 0 for none

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_url_length = crawler.settings.getint("URLLENGTH_LIMIT")
        return spider

    def seed_urls(self) -> list[str]:
        """The URLs this crawl was started from (crawler.netpolicy)."""
        return list(self.urls)

    async def start(self) -> AsyncIterator[Request | FetchedPage]:
        for url in self.urls:
            yield request_or_failure(
                url,
                self.max_url_length,
                callback=self.parse,
                errback=self.failed,
                # Each listed URL is fetched even if an earlier one redirected to it.
                dont_filter=True,
                meta=PageTicket(url=url).meta(),
            )

    def parse(self, response: Response) -> Iterator[FetchedPage]:
        yield page_from_response(response)

    def failed(self, failure: Failure) -> Iterator[FetchedPage]:
        if isinstance(failure.value, NotArchived):
            return  # its records could not be written and the crawl is stopping: no row
        yield page_from_failure(failure)


def unfetchable_page(url: str, reason: str, message: str) -> FetchedPage:
    """The capture of a URL that no request was made for."""
    return FetchedPage(url=url, fetched_at=datetime.now(UTC), failure=reason, error=message)


def request_or_failure(url: str, max_length: int, **kwargs: Any) -> Request | FetchedPage:
    """A request for ``url``, or, when none can be made, its capture: ``invalid_url`` for a
    URL Scrapy rejects, ``too_long`` for one longer than ``max_length`` once encoded (0: no
    limit)."""
    try:
        request = Request(url, **kwargs)
    except (ValueError, TypeError, UnicodeError) as exc:
        return unfetchable_page(url, "invalid_url", f"{type(exc).__name__}: {exc}")
    if max_length and len(request.url) > max_length:
        message = f"URL of {len(request.url)} characters, over URLLENGTH_LIMIT ({max_length})"
        return unfetchable_page(url, "too_long", message)
    return request


def page_from_response(response: Response) -> FetchedPage:
    content_type = response.headers.get(b"Content-Type")
    ticket = PageTicket.of(response)
    return FetchedPage(
        url=ticket.url or response.url,
        fetched_at=ticket.fetched_at or datetime.now(UTC),
        final_url=response.url,
        status=response.status,
        content_type=content_type.decode("latin-1") if content_type else None,
        body=response.body,
        response=ticket.record,
        redirects=list(ticket.hops),
    )


def page_from_failure(failure: Failure) -> FetchedPage:
    request: Request = failure.request  # type: ignore[attr-defined]
    reason, message = failure_reason(failure)
    ticket = PageTicket.of(request)
    page = FetchedPage(
        url=ticket.url or request.url,
        fetched_at=datetime.now(UTC),
        final_url=request.url,
        redirects=list(ticket.hops),
        failure=reason,
        error=message,
    )
    answer = ticket.answer
    if reason == "too_large" and answer is not None and answer.url == request.url:
        # The response arrived and was archived, but decoding it overflowed DOWNLOAD_MAXSIZE
        # (a decompression bomb): its row points at the record, and says what went wrong.
        page.final_url, page.status = answer.url, answer.status
        page.content_type = answer.content_type
        page.response = ticket.record
    return page
