"""Extract the article of each fetched page in the crawl's process pool, off the reactor thread.

Which bodies are pages to extract is ``archive.liveness.judging.is_html``'s to say, as in ``morgue
extract``.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.exceptions import ExtractError, ExtractTimeout
from archive.liveness.judging import is_html
from crawler.extraction_workers import ExtractionWorkers, find_pool
from crawler.items import FetchedPage

__all__ = ["ExtractPipeline"]

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, pool: ExtractionWorkers, stats: StatsCollector) -> None:
        self.pool = pool
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pool = find_pool(crawler)
        if pool is None:
            raise NotConfigured("no extraction pool (EXTRACT_ENABLED is off)")
        assert crawler.stats is not None
        return cls(pool, crawler.stats)

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        body, item.body = item.body, None  # the body is not needed past this point
        if not body or item.extract_error or not is_html(item.content_type, body):
            return item
        try:
            result = await self.pool.extract(body, item.final_url or item.url, item.content_type)
        except ExtractTimeout as exc:
            item.extract_error = str(exc)
            self.stats.inc_value("extract/timeout")
            self.stats.inc_value("extract/error")
        except ExtractError as exc:
            item.extract_error = str(exc)
            self.stats.inc_value("extract/error")
            logger.info("Extraction failed for %s: %s", item.url, exc)
        else:
            if result is not None:
                item.extraction, item.facts = result.extraction, result.facts
                item.links, item.chrome = list(result.links), result.chrome
            if item.extraction is None or not item.extraction.text:
                self.stats.inc_value("extract/empty")
            else:
                self.stats.inc_value("extract/ok")
        return item
