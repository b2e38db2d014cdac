"""Give each fetched page its liveness verdict."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from archive.liveness import verdict_for_failure, verdict_for_status
from crawler.items import FetchedPage

__all__ = ["ClassifyPipeline"]


class ClassifyPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.status is not None:
            verdict = verdict_for_status(item.status)
        else:
            verdict = verdict_for_failure(item.failure or "error")
        item.verdict, item.reason = verdict.verdict, verdict.reason
        self.stats.inc_value(f"liveness/verdict/{verdict.verdict}")
        return item
