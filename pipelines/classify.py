"""Give each fetched page its liveness verdict, with a reason, a confidence and the evidence.

A status or a network failure decides most verdicts (``archive.liveness``). A page served with a
2xx status goes through the soft-404 rules (``archive.soft404``): redirects, the host's probe (a
sibling URL that cannot exist, see ``crawler.probes``), error stubs, and the page's structure.
A "page not available" stub appended to a live article is cut from its text here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from datetime import timedelta
from typing import Self

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector

from archive.browserhint import NEEDS_BROWSER
from archive.db import Database, open_database
from archive.liveness import verdict_for_failure, verdict_for_status
from archive.soft404 import (
    Baseline,
    Judgement,
    is_front_page,
    judge,
    known_stub_paragraphs,
    probe_key,
    strip_appended_stub,
)
from crawler.items import FetchedPage
from crawler.pool import find_pool
from crawler.probes import HostProbes

__all__ = ["ClassifyPipeline", "classify_page"]

logger = logging.getLogger(__name__)

# Distinct URLs of one host sent to the same place before that place counts as a catch-all.
SHARED_TARGET_MIN = 3


def classify_page(item: FetchedPage, baseline: Baseline | None) -> Judgement:
    """The verdict of one page; ``baseline`` is its host's probe, when there is one."""
    if item.status is None or item.failure is not None:
        # No usable answer; a body that came but overflowed when decoded (a decompression
        # bomb) keeps its status on the row, but is no page to judge.
        verdict = verdict_for_failure(item.failure or "error")
        return Judgement(verdict.verdict, verdict.reason, 1.0, ())
    status = verdict_for_status(item.status)
    if status.verdict != "ok" or not 200 <= item.status < 300:
        return Judgement(status.verdict, status.reason, 1.0, ())
    extraction = item.extraction
    judgement = judge(
        url=item.url,
        final_url=item.final_url,
        title=extraction.title if extraction else None,
        text=extraction.text if extraction else None,
        facts=item.facts,
        baseline=baseline,
    )
    if judgement.verdict == "ok":
        return Judgement("ok", status.reason, judgement.confidence, judgement.evidence)
    return judgement


class ClassifyPipeline:
    def __init__(
        self,
        crawler: Crawler,
        stats: StatsCollector,
        probes: HostProbes | None,
        db: Database | None,
    ) -> None:
        self.crawler = crawler
        self.stats = stats
        self.probes = probes
        self.db = db
        self._targets: dict[tuple[str, str], set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        assert crawler.stats is not None
        db_url = settings.get("LIVENESS_DB_URL")
        db = open_database(db_url) if db_url else None
        probes = None
        if settings.getbool("LIVENESS_PROBE_ENABLED"):
            probes = HostProbes(
                cls._downloader(crawler),
                find_pool(crawler),
                db,
                crawler.stats,
                timedelta(days=settings.getfloat("LIVENESS_PROBE_MAX_AGE")),
            )
        return cls(crawler, crawler.stats, probes, db)

    @staticmethod
    def _downloader(crawler: Crawler):  # type: ignore[no-untyped-def]
        async def download(request: Request) -> Response:
            assert crawler.engine is not None
            return await crawler.engine.download_async(request)

        return download

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        baseline = None
        if self._wants_probe(item):
            assert self.probes is not None
            baseline = await self.probes.baseline(item.final_url or item.url)
        judgement = classify_page(item, baseline)
        judgement = self._shared_target(item, judgement)
        item.verdict, item.reason = judgement.verdict, judgement.reason
        item.confidence, item.evidence = judgement.confidence, list(judgement.evidence)
        if judgement.verdict == "ok" and item.extraction is not None:
            self._strip_stub(item, baseline)
        self.stats.inc_value(f"liveness/verdict/{judgement.verdict}")
        if NEEDS_BROWSER in judgement.evidence:
            self.stats.inc_value(f"liveness/{NEEDS_BROWSER}")
        return item

    def _wants_probe(self, item: FetchedPage) -> bool:
        return (
            self.probes is not None
            and item.status is not None
            and item.failure is None
            and 200 <= item.status < 300
            and item.recovered_from is None
            and not is_front_page(item.url)
            and not is_front_page(item.final_url or item.url)
        )

    def _shared_target(self, item: FetchedPage, judgement: Judgement) -> Judgement:
        """Many URLs of one host redirected to one page: that page is a catch-all."""
        if judgement.verdict != "ok" or not item.redirects or not item.final_url:
            return judgement
        if is_front_page(item.url) or item.final_url == item.url:
            return judgement
        host, _ = probe_key(item.url)
        sources = self._targets[(host, item.final_url)]
        sources.add(item.url)
        if len(sources) < SHARED_TARGET_MIN:
            return judgement
        evidence = (*judgement.evidence, "shared_redirect_target")
        return Judgement("soft_404", "redirect_to_section", 0.8, evidence)

    def _strip_stub(self, item: FetchedPage, baseline: Baseline | None) -> None:
        assert item.extraction is not None
        known = known_stub_paragraphs([baseline]) if baseline is not None else []
        text, cut = strip_appended_stub(item.extraction.text, known)
        if cut:
            item.extraction = dataclasses.replace(item.extraction, text=text)
            item.evidence = [*item.evidence, "stub_stripped"]
            self.stats.inc_value("liveness/stub_stripped")
            logger.debug("Cut an appended stub from %s: %r", item.url, cut)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
