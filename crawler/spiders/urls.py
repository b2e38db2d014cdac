"""The ``urls`` spider: fetch an explicit list of URLs, one capture each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.capture import META_HOPS, META_RESPONSE, META_STATUS, NotArchived
from crawler.failures import failure_reason
from crawler.items import FetchedPage

__all__ = ["UrlsSpider", "page_from_failure", "page_from_response"]

META_URL = "morgue_url"  # the URL as requested, kept across redirects


class UrlsSpider(Spider):
    name = "urls"

    def __init__(self, urls: list[str] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(urls, str):
            # From the command line (`-a urls=...`): a JSON list or one URL per line.
            urls = json.loads(urls) if urls.lstrip().startswith("[") else urls.split()
        self.urls: list[str] = list(dict.fromkeys(urls or []))

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(
                url,
                callback=self.parse,
                errback=self.failed,
                # Each listed URL is fetched even if an earlier one redirected to it.
                dont_filter=True,
                meta={META_URL: url},
            )

    def parse(self, response: Response) -> Iterator[FetchedPage]:
        yield page_from_response(response)

    def failed(self, failure: Failure) -> Iterator[FetchedPage]:
        if isinstance(failure.value, NotArchived):
            return  # its records could not be written and the crawl is stopping: no row
        yield page_from_failure(failure)


def page_from_response(response: Response) -> FetchedPage:
    content_type = response.headers.get(b"Content-Type")
    return FetchedPage(
        url=response.meta.get(META_URL, response.url),
        fetched_at=datetime.now(UTC),
        final_url=response.url,
        status=response.status,
        content_type=content_type.decode("latin-1") if content_type else None,
        body=response.body,
        response=response.meta.get(META_RESPONSE),
        redirects=list(response.meta.get(META_HOPS, [])),
    )


def page_from_failure(failure: Failure) -> FetchedPage:
    request: Request = failure.request  # type: ignore[attr-defined]
    reason, message = failure_reason(failure)
    page = FetchedPage(
        url=request.meta.get(META_URL, request.url),
        fetched_at=datetime.now(UTC),
        final_url=request.url,
        redirects=list(request.meta.get(META_HOPS, [])),
        failure=reason,
        error=message,
    )
    status = request.meta.get(META_STATUS)
    if reason == "too_large" and status is not None and status[0] == request.url:
        # The response arrived and was archived; only decoding it overflowed (a gzip bomb).
        page.final_url, page.status, page.content_type = status
        page.response = request.meta.get(META_RESPONSE)
        page.failure = None
        page.extract_error = message
    return page
