"""Store each capture: a WARC metadata record with verdict and extraction, then a DB row.

The row is written only after its records are on disk, so the DB never points at a record that
does not exist. Both writes run in a worker thread: a busy database must not stall downloads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.capture import CaptureRecord
from archive.db import Database, open_database
from archive.pagestate import DEFAULT_RULE, StateRule
from archive.store import save_capture
from crawler.capture import WarcCapture, find_capture
from crawler.items import FetchedPage

__all__ = ["StorePipeline", "metadata_payload"]

logger = logging.getLogger(__name__)


def metadata_payload(item: FetchedPage) -> dict[str, Any]:
    """What the WARC metadata record says about a capture."""
    return {
        "software": "morgue",
        "url": item.url,
        "final_url": item.final_url,
        "fetched_at": item.fetched_at.isoformat(),
        "http_status": item.status,
        "verdict": item.verdict,
        "reason": item.reason,
        "error": item.error,
        "redirects": [hop.to_json() for hop in item.redirects],
        "confidence": item.confidence,
        "evidence": item.evidence,
        "recovered_from": item.recovered_from,
        "memento_datetime": item.memento_datetime.isoformat() if item.memento_datetime else None,
        "extraction": item.extraction.to_json() if item.extraction else None,
        "extract_error": item.extract_error,
    }


class StorePipeline:
    def __init__(
        self,
        db: Database,
        capture: WarcCapture | None,
        stats: StatsCollector,
        run_id: int | None,
        rule: StateRule = DEFAULT_RULE,
    ) -> None:
        self.rule = rule
        self.db = db
        self.capture = capture
        self.stats = stats
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("STORE_ENABLED"):
            raise NotConfigured("STORE_ENABLED is off")
        url = settings.get("STORE_DB_URL")
        if not url:
            raise NotConfigured("STORE_DB_URL is not set")
        run_id = settings.getint("STORE_RUN_ID") or None
        # A page's state follows the liveness rule's settings (archive.pagestate).
        rule = StateRule(
            checks=settings.getint("LIVENESS_DEAD_CHECKS"),
            span=timedelta(days=settings.getfloat("LIVENESS_DEAD_SPAN")),
        )
        return cls(open_database(url), find_capture(crawler), crawler.stats, run_id, rule)

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        await asyncio.to_thread(self._store, item)
        return item

    def _store(self, item: FetchedPage) -> None:
        self._store_one(item)
        if item.recovered is not None:
            self._store_one(item.recovered)

    def _store_one(self, item: FetchedPage) -> None:
        metadata = None
        if self.capture is not None:
            metadata = self.capture.write_metadata(
                item.final_url or item.url, metadata_payload(item), item.response
            )
        record = CaptureRecord(
            url=item.url,
            fetched_at=item.fetched_at,
            verdict=item.verdict or "unreachable",
            reason=item.reason or "error",
            final_url=item.final_url,
            http_status=item.status,
            content_type=item.content_type,
            redirects=item.redirects,
            response=item.response,
            metadata=metadata,
            extraction=item.extraction,
            extract_error=item.extract_error,
            error=item.error,
            run_id=self.run_id,
            recovered_from=item.recovered_from,
            confidence=item.confidence,
            evidence=list(item.evidence),
            links=[(link.url, link.text) for link in item.links],
        )
        save_capture(self.db, record, self.rule)
        self.stats.inc_value("store/captures")

    def close_spider(self) -> None:
        self.db.close()
