"""Give each fetched page its liveness verdict, with a reason, a confidence and the evidence.

The verdict is ``archive.liveness.judging.judge_page``'s, as in ``morgue extract``; this pipeline
gathers the evidence a crawl has about the page's host: its probe (a sibling URL that cannot exist,
see ``crawler.host_probes``), and the other URLs of the host redirected to the same page
(``archive.liveness.redirects``), noted as each response arrives and added to what the database
held, and, for a page that now shows no article, whether an earlier capture of it was one
(``archive.liveness.lost_article``), or whether it is its site's article page without an
article (``archive.liveness.site_template``: the site's live articles archived near it, and those
this crawl judged before it, ``crawler.recent_articles``). A "page not available" stub appended
to a live article comes back cut from its text: the host's error text, or a paragraph that
closes another article of the site.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import SQLAlchemyError

from archive.db.engine import Database, open_database
from archive.exceptions import ArchiveError
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.judging import (
    STUB_STRIPPED,
    Fetch,
    PageJudgement,
    judge_page,
    lost_its_article,
    wants_probe,
)
from archive.liveness.lost_article import prior_article
from archive.liveness.redirects import RedirectTargets, TargetKey, stored_redirects, target_key
from archive.liveness.site_samples import own_closings, site_samples, stored_closings
from archive.liveness.site_template import (
    SiteSample,
    is_site_sample,
    may_lack_site_article,
    site_host,
    site_stubs,
)
from crawler.extraction_workers import find_pool
from crawler.host_probes import HostProbes
from crawler.items import FetchedPage
from crawler.recent_articles import RecentArticles, merged
from crawler.ticket import PageTicket

__all__ = ["ClassifyPipeline", "page_fetch"]

logger = logging.getLogger(__name__)


def page_fetch(item: FetchedPage) -> Fetch:
    """What the fetch of an item's URL gave, as ``archive.liveness.judging`` reads it."""
    return Fetch(
        url=item.url,
        final_url=item.final_url,
        status=item.status,
        failure=item.failure,
        redirected=bool(item.redirects),
        recovered_from=item.recovered_from,
    )


class ClassifyPipeline:
    def __init__(
        self,
        crawler: Crawler,
        stats: StatsCollector,
        probes: HostProbes | None,
        db: Database | None,
        sample_window: timedelta,
    ) -> None:
        self.crawler = crawler
        self.sample_window = sample_window
        self.stats = stats
        self.probes = probes
        self.db = db
        self.targets = RedirectTargets()
        self.recent = RecentArticles()
        # The stored closing paragraphs of each site, read once per crawl (``stored_closings``):
        # what the crawl adds is in ``recent``.
        self.closings: dict[str, list[tuple[frozenset[str], str, list[str]]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        assert crawler.stats is not None
        db_url = settings.get("LIVENESS_DB_URL")
        db = open_database(db_url) if db_url else None
        probes = None
        # Evidence about the host is of its time: probes and the site's article samples alike.
        max_age = timedelta(days=settings.getfloat("LIVENESS_PROBE_MAX_AGE"))
        if settings.getbool("LIVENESS_PROBE_ENABLED"):
            probes = HostProbes(
                cls._downloader(crawler), find_pool(crawler), db, crawler.stats, max_age
            )
        pipeline = cls(crawler, crawler.stats, probes, db, max_age)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

    @staticmethod
    def _downloader(crawler: Crawler):  # type: ignore[no-untyped-def]
        async def download(request: Request) -> Response:
            assert crawler.engine is not None
            return await crawler.engine.download_async(request)

        return download

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        """Note a page reached by redirects as its response arrives: responses arrive in the
        order of their ``fetched_at``, so a page judged later sees every page fetched before it,
        however long their extraction took."""
        ticket = PageTicket.of(request)
        if (
            ticket.probe
            or ticket.requisite_of is not None
            or ticket.source is not None
            or ticket.memento_of is not None
        ):
            return  # not a page of the crawl: no capture of it is stored
        fetch = Fetch(
            url=ticket.url or request.url,
            final_url=response.url,
            status=response.status,
            redirected=bool(ticket.hops),
        )
        key = target_key(fetch)
        if key is not None:
            self.targets.add(key, fetch.url, ticket.fetched_at or datetime.now(UTC))

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        fetch = page_fetch(item)
        baseline = None
        if self.probes is not None and wants_probe(fetch):
            baseline = await self.probes.baseline(item.final_url or item.url)
        key = target_key(fetch)
        shared = False
        if key is not None:
            await self._load_targets(key)
            shared = self.targets.shared(key, item.url, item.fetched_at)
        closings = await self._site_closings(item)

        def judged(**history: Any) -> PageJudgement:
            # Every judgement of this page reads the same evidence; only the history differs.
            return judge_page(
                fetch,
                item.extraction,
                item.facts,
                baseline=baseline,
                shared_target=shared,
                site_closings=closings,
                **history,
            )

        judgement = judged()
        lost = judgement.verdict == "ok" and lost_its_article(judgement.evidence)
        if lost and await self._held_article(item):
            judgement = judged(held_article=True)
        elif (
            judgement.verdict == "ok"
            and item.facts is not None
            and item.recovered_from is None
            and may_lack_site_article(item.final_url or item.url, item.facts, judgement.evidence)
        ):
            samples = await self._site_samples(item)
            if samples:
                # Against the samples' texts and chrome (up to 8 x 13,000 characters): off the
                # reactor thread, like the look-ups.
                judgement = await asyncio.to_thread(judged, site_samples=samples)
                if judgement.verdict != "ok":
                    self.stats.inc_value("liveness/lacks_site_article")
        item.verdict, item.reason = judgement.verdict, judgement.reason
        item.confidence, item.evidence = judgement.confidence, list(judgement.evidence)
        item.extraction = judgement.extraction
        self._note_article(item)
        self.stats.inc_value(f"liveness/verdict/{judgement.verdict}")
        if NEEDS_BROWSER in judgement.evidence:
            self.stats.inc_value(f"liveness/{NEEDS_BROWSER}")
        if STUB_STRIPPED in judgement.evidence:
            self.stats.inc_value("liveness/stub_stripped")
            logger.debug("Cut an appended stub from %s", item.url)
        return item

    def _note_article(self, item: FetchedPage) -> None:
        """Keep a live article in memory as a sample of its site's until the store commits it."""
        text = item.extraction.text if item.extraction else None
        if item.facts is None or not text:
            return
        if is_site_sample(item.verdict or "", item.evidence, text, item.recovered_from):
            sample = SiteSample(item.facts.template, text, item.url, item.chrome or "")
            self.recent.add(sample, item.final_url)

    async def _held_article(self, item: FetchedPage) -> bool:
        """Whether the archive holds an earlier capture of the page that was a live article."""
        if self.db is None or item.recovered_from is not None:
            return False
        db, before = self.db, item.fetched_at

        def look_up() -> bool:
            with db.session(readonly=True) as session:
                return prior_article(session, item.url, before) is not None

        try:
            return await asyncio.to_thread(look_up)
        except (ArchiveError, SQLAlchemyError, OSError) as exc:
            logger.info("Cannot read the earlier captures of %s: %s", item.url, exc)
            return False

    async def _site_samples(self, item: FetchedPage) -> list[SiteSample]:
        """The templates of the live articles of the page's site archived near its fetch."""
        if self.db is None or item.recovered_from is not None:
            return []
        db, url, near = self.db, item.final_url or item.url, item.fetched_at
        within = self.sample_window

        def look_up() -> list[SiteSample]:
            with db.session(readonly=True) as session:
                return site_samples(session, url, item.url, near, within)

        try:
            stored = await asyncio.to_thread(look_up)
        except (ArchiveError, SQLAlchemyError, OSError) as exc:
            logger.info("Cannot read the site's articles for %s: %s", url, exc)
            stored = []
        return merged(self.recent.near(url, item.url), stored)

    async def _site_closings(self, item: FetchedPage) -> list[str]:
        """The closing paragraphs of the live articles of the page's site archived near its
        fetch (read once per site and crawl) and of those this crawl judged: cut from the end
        of its text like its host's error text."""
        fetch = page_fetch(item)
        if self.db is None or not fetch.served or item.recovered_from is not None:
            return []
        if item.extraction is None or not item.extraction.text:
            return []
        db, url, near = self.db, item.final_url or item.url, item.fetched_at
        within = self.sample_window
        site = site_host(url)
        if site is None:
            return []
        if site not in self.closings:

            def look_up() -> list[tuple[frozenset[str], str, list[str]]]:
                with db.session(readonly=True) as session:
                    return stored_closings(session, url, near, within)

            try:
                self.closings[site] = await asyncio.to_thread(look_up)
            except (ArchiveError, SQLAlchemyError, OSError) as exc:
                logger.info("Cannot read the site's articles for %s: %s", url, exc)
                self.closings[site] = []
        stored = own_closings(self.closings[site], url, item.url)
        found = {**stored, **self.recent.closings(url, item.url)}
        return site_stubs(found.values(), item.extraction.text)

    async def _load_targets(self, key: TargetKey) -> None:
        """Add the archive's earlier captures redirected to ``key``'s page, once per crawl."""
        if self.db is None or self.targets.loaded(key):
            return
        try:
            rows = await asyncio.to_thread(self._stored_redirects, self.db, key[1])
        except (ArchiveError, SQLAlchemyError, OSError) as exc:
            # Without them the page is judged on this crawl's evidence alone.
            logger.info("Cannot read the captures redirected to %s: %s", key[1], exc)
            rows = []
        self.targets.load(key, rows)

    @staticmethod
    def _stored_redirects(db: Database, target: str) -> list[tuple[Fetch, datetime]]:
        with db.session(readonly=True) as session:
            return stored_redirects(session, target)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
