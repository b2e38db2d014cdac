"""Spider middleware: the requests a response leads to belong to the crawl it belongs to.

A worker serves many crawls at once (one per ``morgue crawl --redis``), each with its own seen
set and spec: the crawl id travels in meta from a request to the requests its callback yields.
The lease does not (each request queued anew is a job of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

__all__ = ["META_CRAWL", "META_LEASE", "CrawlTag"]

META_CRAWL = "morgue_crawl"
META_LEASE = "morgue_lease"


class CrawlTag:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("MORGUE_REDIS_URL"):
            raise NotConfigured("not a distributed worker (MORGUE_REDIS_URL)")
        return cls()

    @staticmethod
    def _tag(response: Response, output: Any) -> Any:
        if isinstance(output, Request) and META_CRAWL not in output.meta:
            crawl = response.meta.get(META_CRAWL) if response.request is not None else None
            if crawl is not None:
                output.meta[META_CRAWL] = crawl
        return output

    def process_spider_output(
        self, response: Response, result: Iterable[Any], spider: object = None
    ) -> Iterable[Any]:
        for output in result:
            yield self._tag(response, output)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: object = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            yield self._tag(response, output)
