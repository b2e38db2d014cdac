"""Fetch each archived page's requisites (images, stylesheets, fonts, scripts) beside its
extraction, and hand them to the store with the page.

Two halves around the page's own work: ``RequisitesPipeline`` (before extraction, which drops
the body) starts fetching what the page's markup names; ``RequisitesCollect`` (just before the
store) waits for it and puts the records on the item, so the store writes them with the capture
they belong to. A page that needs nothing waits for nothing. Off unless ``REQUISITES_ENABLED``
(``morgue archive`` turns it on, ``morgue crawl --requisites`` too).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive.captures.payload_index import PayloadIndex
from archive.captures.recent_requisites import RecentRequisites
from archive.captures.record import RequisiteRecord
from archive.db.engine import Database, open_database
from archive.durations import parse_duration
from archive.exceptions import InvalidInput
from archive.liveness.judging import is_html
from crawler.items import FetchedPage
from crawler.requisite_fetcher import RequisiteFetcher
from crawler.warc_capture import find_capture

__all__ = ["RequisitesCollect", "RequisitesPipeline", "refresh_after"]

logger = logging.getLogger(__name__)


class RequisitesPipeline:
    def __init__(self, fetcher: RequisiteFetcher, db: Database | None = None) -> None:
        self.fetcher = fetcher
        self.db = db

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("REQUISITES_ENABLED"):
            raise NotConfigured("REQUISITES_ENABLED is off")
        assert crawler.stats is not None
        capture = find_capture(crawler)
        db_url = settings.get("REQUISITES_DB_URL")
        db = open_database(db_url) if db_url else None
        recent = None
        if capture is not None:
            # Payloads archived by earlier runs are found in the DB: written as revisits.
            capture.payloads = PayloadIndex(db)
            window = refresh_after(settings.get("REQUISITES_REFRESH_AFTER"))
            if db is not None and window > timedelta(0):
                recent = RecentRequisites(db, window, capture.writer.directory)

        async def download(request: Request) -> Response:
            assert crawler.engine is not None
            return await crawler.engine.download_async(request)

        fetcher = RequisiteFetcher(
            download, crawler.stats, settings.getint("REQUISITES_MAX_PER_PAGE"), recent
        )
        return cls(fetcher, db)

    def process_item(self, item: FetchedPage) -> FetchedPage:
        body = item.body
        if (
            body
            and item.status is not None
            and 200 <= item.status < 300
            and item.recovered_from is None
            and is_html(item.content_type, body)
        ):
            item.requisites_pending = asyncio.ensure_future(
                self.fetcher.fetch_page(item.final_url or item.url, body)
            )
        return item

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()


def refresh_after(value: object) -> timedelta:
    """``REQUISITES_REFRESH_AFTER``: a duration (``1d``, ``12h``, seconds); 0 or empty: none."""
    if value is None or value == "":
        return timedelta(0)
    try:
        seconds = parse_duration(str(value))
    except InvalidInput as exc:
        raise ValueError(f"REQUISITES_REFRESH_AFTER: {exc}") from None
    return timedelta(seconds=seconds)


class RequisitesCollect:
    """Wait for a page's requisites before it is stored (priority just below the store's)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("REQUISITES_ENABLED"):
            raise NotConfigured("REQUISITES_ENABLED is off")
        assert crawler.stats is not None
        return cls(crawler.stats)

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        pending, item.requisites_pending = item.requisites_pending, None
        if pending is None:
            return item
        try:
            records: list[RequisiteRecord] = await pending
        except Exception as exc:  # the page is archived whatever became of its requisites
            logger.warning("Requisites of %s not fetched: %s", item.url, exc)
            self.stats.inc_value("requisites/page_errors")
            return item
        item.requisites = records
        self.stats.inc_value("requisites/count", len(records))
        already = sum(1 for r in records if r.revisit or r.reused)
        self.stats.inc_value("requisites/already_archived", already)
        return item
