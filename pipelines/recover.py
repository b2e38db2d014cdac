"""Recover dead pages from a web archive over Memento (RFC 7089).

For a capture judged dead (``archive.liveness.verdicts.is_dead``), ask the TimeGate for the closest
memento from before the page died, fetch it raw, check it is a real page and not an archived
error, and attach it to the item as a second capture with ``recovered_from`` set. Every request
goes through Scrapy, so the TimeGate's answer and the memento are archived in the WARC like any
response; the memento's record names the page it is a copy of (``WARC-Refers-To-Target-URI``).
The sequence is documented in ``archive.liveness.memento``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive.exceptions import ExtractError
from archive.liveness.judging import is_html, judge_page
from archive.liveness.memento import (
    MementoAnswer,
    accept_datetime,
    check_timegate,
    choose_before,
    choose_memento,
    closest_before,
    parse_link_header,
    raw_memento_url,
    timegate_url,
)
from archive.liveness.verdicts import is_dead
from crawler.extraction_workers import ExtractionWorkers, find_pool
from crawler.failures import exception_reason
from crawler.items import FetchedPage
from crawler.ticket import PageTicket
from pipelines.classify import page_fetch

__all__ = ["RecoverPipeline", "header_pairs"]

logger = logging.getLogger(__name__)

_NO_REDIRECT = {"dont_redirect": True, "handle_httpstatus_all": True}
# Answers of a web archive that say it failed or refused us, not that it has no copy: the
# lookup failed (counted and named in the summary), the page may well be archived.
_REFUSED = frozenset({401, 403, 407, 429})


class LookupFailed(Exception):
    """The web archive could not be asked: ``reason`` is a code of ``archive.runs.outcomes``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _archive_failure(status: int) -> str | None:
    return f"http_{status}" if status >= 500 or status in _REFUSED else None


def header_pairs(response: Response) -> list[tuple[str, str]]:
    return [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in response.headers.items()
        for value in values
    ]


class RecoverPipeline:
    def __init__(
        self,
        crawler: Crawler,
        timegate: str,
        pool: ExtractionWorkers | None,
        stats: StatsCollector,
    ) -> None:
        self.crawler = crawler
        self.timegate = timegate
        self.pool = pool
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("MEMENTO_ENABLED"):
            raise NotConfigured("MEMENTO_ENABLED is off")
        assert crawler.stats is not None
        timegate = check_timegate(settings.get("MEMENTO_TIMEGATE"))
        return cls(crawler, timegate, find_pool(crawler), crawler.stats)

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.recovered_from or not is_dead(item.verdict or "", item.reason or ""):
            return item
        self.stats.inc_value("memento/lookups")
        try:
            item.recovered = await self._recover(item)
        except LookupFailed as exc:
            self._failed(item.url, exc.reason, str(exc))
        except ExtractError as exc:
            self._failed(item.url, "extract_error", str(exc))
        except Exception as exc:  # a download failure of any kind: the page stays dead
            self._failed(item.url, *exception_reason(exc))
        if item.recovered is not None:
            self.stats.inc_value("memento/recovered")
        return item

    def _failed(self, url: str, reason: str, message: str) -> None:
        """Counted by reason (``memento/failed/REASON``): the crawl's summary names them."""
        self.stats.inc_value("memento/error")
        self.stats.inc_value(f"memento/failed/{reason}")
        logger.warning("Memento lookup failed for %s: %s (%s)", url, message, reason)

    async def _download(self, request: Request) -> Response:
        assert self.crawler.engine is not None
        return await self.crawler.engine.download_async(request)

    async def _recover(self, item: FetchedPage) -> FetchedPage | None:
        original = item.url
        dead_since = item.fetched_at
        asked = Request(
            timegate_url(self.timegate, original),
            headers={"Accept-Datetime": accept_datetime(choose_before(dead_since))},
            meta=dict(_NO_REDIRECT),
            dont_filter=True,
        )
        response = await self._download(asked)
        answer = MementoAnswer.from_response(
            response.status, header_pairs(response), url=response.url
        )
        if not answer.found:
            failure = _archive_failure(response.status)
            if failure is not None:
                raise LookupFailed(failure, f"the TimeGate answered HTTP {response.status}")
            self.stats.inc_value("memento/not_archived")
            return None
        chosen = choose_memento(answer, dead_since)
        if chosen is None and answer.timemap:
            timemap = await self._download(
                Request(answer.timemap, meta=dict(_NO_REDIRECT), dont_filter=True)
            )
            link = closest_before(parse_link_header(timemap.text), dead_since)
            chosen = link.url if link is not None else None
        chosen = chosen or answer.memento_url
        if chosen is None:
            return None
        raw_url = raw_memento_url(chosen)
        request = Request(
            raw_url,
            meta={**_NO_REDIRECT, **PageTicket(memento_of=original).meta()},
            dont_filter=True,
        )
        response = await self._download(request)
        memento = MementoAnswer.from_response(
            response.status, header_pairs(response), url=response.url
        )
        failure = _archive_failure(response.status)
        if not memento.is_memento and failure is not None:
            raise LookupFailed(failure, f"the archive answered HTTP {response.status}")
        if not memento.is_memento or response.status != 200:
            # An archived 404 or redirect, or a page of the archive's own: no recovery.
            self.stats.inc_value("memento/rejected")
            return None
        content_type = response.headers.get(b"Content-Type")
        page = FetchedPage(
            url=original,
            fetched_at=datetime.now(UTC),
            final_url=response.url,
            status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            response=PageTicket.of(response).record,
            recovered_from=response.url,
            memento_datetime=memento.memento_datetime,
            verdict="ok",
            reason="memento",
        )
        if self.pool is not None and is_html(page.content_type, response.body):
            result = await self.pool.extract(response.body, original, page.content_type)
            if result is not None:
                page.extraction, page.facts = result.extraction, result.facts
                page.links = list(result.links)
        # An archive keeps error pages too: a memento that is itself a soft 404 is no recovery.
        judgement = judge_page(page_fetch(page), page.extraction, page.facts)
        if judgement.verdict != "ok":
            self.stats.inc_value("memento/rejected")
            logger.info(
                "Memento %s of %s is itself dead (%s)", response.url, original, judgement.reason
            )
            return None
        page.verdict, page.reason = judgement.verdict, judgement.reason  # ok, "memento"
        page.confidence, page.evidence = judgement.confidence, list(judgement.evidence)
        page.extraction = judgement.extraction
        return page
