"""Progress events for the process that started the crawl: one JSON object per line on stdout.

The CLI runs every crawl in a child process (a Twisted reactor cannot be restarted) and draws its
progress bar and summary from these lines. A line that cannot be written because nobody reads
the pipe any more means the CLI is gone: the crawl is told (crawler.lifeline) and no more lines
are written.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Self, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.items import FetchedPage
from crawler.lifeline import parent_gone

__all__ = ["ProgressEvents", "emit_event"]


class ProgressEvents:
    def __init__(self, stats: StatsCollector, out: TextIO, crawler: Crawler | None = None) -> None:
        self.stats = stats
        self.out: TextIO | None = out
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("PROGRESS_EVENTS_ENABLED"):
            raise NotConfigured("PROGRESS_EVENTS_ENABLED is off")
        ext = cls(crawler.stats, sys.stdout, crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def emit(self, event: dict[str, Any]) -> None:
        if self.out is None:
            return
        try:
            self.out.write(json.dumps(event, default=str) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            self.out = None
            if self.crawler is not None:
                self.crawler.signals.send_catch_log(parent_gone, why="its event pipe broke")

    def item_scraped(self, item: object, spider: Spider) -> None:
        if isinstance(item, FetchedPage):
            self.emit(
                {
                    "event": "capture",
                    "url": item.url,
                    "verdict": item.verdict,
                    "reason": item.reason,
                    "http_status": item.status,
                }
            )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = {
            key: value
            for key, value in self.stats.get_stats().items()
            if isinstance(value, int | float | str)
        }
        self.emit({"event": "closed", "reason": reason, "stats": stats})


def emit_event(crawler: Crawler, event: dict[str, Any]) -> None:
    """Emit ``event`` through the crawl's progress events, if they are on."""
    assert crawler.extensions is not None
    for ext in crawler.extensions.middlewares:
        if isinstance(ext, ProgressEvents):
            ext.emit(event)
            return
