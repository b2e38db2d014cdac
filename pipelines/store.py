"""Store each capture: a WARC metadata record with verdict and extraction, then a DB row.

The row is written only after its records are on disk, so the DB never points at a record that
does not exist. Both writes run on one store thread, off the reactor: a busy database must not
stall downloads. The thread stores every item waiting when it is free in one transaction, so
under load the commits (and SQLite's write lock) are shared by many captures, while a lone
capture waits for nobody. An item is done once its row is committed.

A database that cannot be written (a full disk, a lost server) stops the crawl (crawler.faults);
a capture whose metadata record cannot be written (the WARC writer stopped) is stored without
it, since its response record is whole.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import InterfaceError, OperationalError

from archive.captures.record import CaptureRecord
from archive.captures.table import save_captures
from archive.db.engine import Database, error_line, open_database
from archive.exceptions import DatabaseError, WarcError
from archive.liveness.judging import metadata_record
from archive.liveness.page_state import DEFAULT_RULE, StateRule
from archive.liveness.site_template import is_site_sample
from crawler.faults import STORE_FAILED, stop_crawl
from crawler.items import FetchedPage
from crawler.warc_capture import WarcCapture, find_capture

__all__ = ["StorePipeline", "metadata_payload"]

logger = logging.getLogger(__name__)


def metadata_payload(item: FetchedPage) -> dict[str, Any]:
    """What the WARC metadata record says about a capture (``archive.liveness.judging``'s
    schema)."""
    return metadata_record(
        pass_name="crawl",
        url=item.url,
        final_url=item.final_url,
        fetched_at=item.fetched_at,
        http_status=item.status,
        verdict=item.verdict or "unreachable",
        reason=item.reason or "error",
        confidence=item.confidence,
        evidence=item.evidence,
        extraction=item.extraction,
        extract_error=item.extract_error,
        error=item.error,
        redirects=[hop.to_json() for hop in item.redirects],
        recovered_from=item.recovered_from,
        memento_datetime=item.memento_datetime,
    )


class _Batcher:
    """One thread that stores items, as many at a time as are waiting, in submission order.

    ``prepare`` turns an item into its capture records (writing their WARC metadata records),
    once; ``save`` commits the records of a batch in one transaction. When a batch fails, its
    items are saved one by one, so that one bad capture costs no other its row.
    """

    def __init__(
        self,
        prepare: Callable[[FetchedPage], list[CaptureRecord]],
        save: Callable[[list[CaptureRecord]], None],
        max_batch: int,
    ) -> None:
        self._prepare, self._save = prepare, save
        self._max_batch = max(1, max_batch)
        self._queue: queue.Queue[tuple[FetchedPage, Future[None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="store", daemon=True)
        self._thread.start()

    def submit(self, item: FetchedPage) -> Future[None]:
        future: Future[None] = Future()
        self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Store what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._flush(batch)

    def _flush(self, batch: list[tuple[FetchedPage, Future[None]]]) -> None:
        ready: list[tuple[list[CaptureRecord], Future[None]]] = []
        for item, future in batch:
            try:
                ready.append((self._prepare(item), future))
            except Exception as exc:
                future.set_exception(exc)
        if len(ready) > 1:
            try:
                self._save([record for records, _ in ready for record in records])
            except Exception:
                logger.warning("Storing %d captures at once failed; storing them one by one",
                               len(ready))  # fmt: skip
            else:
                for _, future in ready:
                    future.set_result(None)
                return
        for records, future in ready:
            try:
                self._save(records)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)


class StorePipeline:
    def __init__(
        self,
        db: Database,
        capture: WarcCapture | None,
        stats: StatsCollector,
        run_id: int | None,
        rule: StateRule = DEFAULT_RULE,
        max_batch: int = 100,
        crawler: Crawler | None = None,
        die_before_commit: str = "",
    ) -> None:
        self.rule = rule
        self.die_before_commit = die_before_commit
        self.db = db
        self.capture = capture
        self.stats = stats
        self.run_id = run_id
        self.crawler = crawler
        self._failed = False  # the database could not be written: nothing more is tried
        self._batcher = _Batcher(self._records, self._save, max_batch)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("STORE_ENABLED"):
            raise NotConfigured("STORE_ENABLED is off")
        url = settings.get("STORE_DB_URL")
        if not url:
            raise NotConfigured("STORE_DB_URL is not set")
        run_id = settings.getint("STORE_RUN_ID") or None
        # A page's state follows the liveness rule's settings (archive.liveness.page_state).
        rule = StateRule.from_settings(settings)
        return cls(
            open_database(url),
            find_capture(crawler),
            crawler.stats,
            run_id,
            rule,
            max_batch=settings.getint("STORE_MAX_BATCH"),
            crawler=crawler,
            die_before_commit=settings.get("STORE_TEST_DIE_BEFORE_COMMIT") or "",
        )

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        if self._failed:
            self.stats.inc_value("store/not_stored")
            raise DropItem("not stored: the database cannot be written", log_level="DEBUG")
        try:
            await asyncio.wrap_future(self._batcher.submit(item))
        except Exception as exc:
            self._store_failed(item, exc)
            raise DropItem(f"not stored: {exc}", log_level="DEBUG") from None
        return item

    def _store_failed(self, item: FetchedPage, exc: Exception) -> None:
        """One line per fault, no traceback: a database that cannot be written stops the crawl,
        a capture it refuses (one bad value) costs that capture only."""
        self.stats.inc_value("store/errors")
        cause = exc.__cause__ if isinstance(exc, DatabaseError) else exc
        if not isinstance(cause, OperationalError | InterfaceError | OSError):
            logger.error("Cannot store the capture of %s: %s", item.url, exc)
            logger.debug("Storing %s failed", item.url, exc_info=exc)
            return
        self._failed = True
        self.stats.inc_value("store/not_stored")
        message = f"cannot store captures in {self.db.safe_url}: {error_line(cause)}"
        if self.crawler is not None:
            stop_crawl(self.crawler, STORE_FAILED, message)
        else:
            logger.error("%s", message)

    def _records(self, item: FetchedPage) -> list[CaptureRecord]:
        records = [self._record(item)]
        records[0].requisites = list(item.requisites)
        if item.recovered is not None:
            records.append(self._record(item.recovered))
        return records

    def _save(self, records: list[CaptureRecord]) -> None:
        if self.die_before_commit and any(self.die_before_commit in r.url for r in records):
            # A test seam: the page's records are written, its row is not; the process group
            # dies as a worker does at a kill -9 or a power cut, at the one moment a timed
            # kill could only hit by luck.
            logger.warning("STORE_TEST_DIE_BEFORE_COMMIT: killing the process group")
            os.killpg(os.getpgrp(), signal.SIGKILL)
        save_captures(self.db, records, self.rule)
        self.stats.inc_value("store/captures", len(records))
        self.stats.inc_value("store/commits")

    def _record(self, item: FetchedPage) -> CaptureRecord:
        metadata = None
        if self.capture is not None:
            try:
                metadata = self.capture.write_metadata(
                    item.final_url or item.url, metadata_payload(item), item.response
                )
            except WarcError:
                # The writer stopped (and the crawl with it, reported once): the response
                # record is whole, so the capture is kept, without its metadata record.
                self.stats.inc_value("store/metadata_not_written")
        return CaptureRecord(
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
            screenshot=item.screenshot,
            site_template=(template := self._site_template(item)),
            site_chrome=item.chrome if template else None,
        )

    @staticmethod
    def _site_template(item: FetchedPage) -> tuple[int, ...]:
        """The page's template, when the page is a live article of its site."""
        if item.facts is None or item.extraction is None:
            return ()
        text = item.extraction.text
        sample = is_site_sample(item.verdict or "", item.evidence, text, item.recovered_from)
        return item.facts.template if sample else ()

    def close_spider(self) -> None:
        self._batcher.close()
        self.db.close()
