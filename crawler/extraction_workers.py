"""The crawl's extraction pool, shared by every component that needs a page extracted.

Article extraction (pipelines.extract) and the soft-404 probe both extract pages; one pool of
worker processes serves both, so a crawl never runs more extraction processes than
``EXTRACT_WORKERS``. Nothing is extracted on the reactor thread.
"""

from __future__ import annotations

import asyncio
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from archive.extraction.article import WORKER_PRELOAD, ExtractResult, extract_page
from archive.extraction.pool import KillablePool

__all__ = ["ExtractionWorkers", "find_pool"]


class ExtractionWorkers:
    def __init__(self, pool: KillablePool[ExtractResult | None]) -> None:
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured("EXTRACT_ENABLED is off")
        ext = cls(
            KillablePool(
                extract_page,
                workers=settings.getint("EXTRACT_WORKERS") or None,
                timeout=settings.getfloat("EXTRACT_TIMEOUT"),
                preload=WORKER_PRELOAD,
            )
        )
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_opened(self) -> None:
        # Workers boot (a forkserver, trafilatura imported once) while robots.txt and the
        # first pages download, not after the first page arrives.
        self.pool.start()

    async def extract(
        self, body: bytes, url: str, content_type: str | None
    ) -> ExtractResult | None:
        """Extract one page in a worker process; raises ``ExtractError`` or ``ExtractTimeout``."""
        return await asyncio.wrap_future(self.pool.submit(body, url, content_type))

    def engine_stopped(self) -> None:
        self.pool.close(wait=False)


def find_pool(crawler: Crawler) -> ExtractionWorkers | None:
    assert crawler.extensions is not None
    for ext in crawler.extensions.middlewares:
        if isinstance(ext, ExtractionWorkers):
            return ext
    return None
