"""Render pages in headless Chromium (``--browser``): archive what the browser fetched, store a
screenshot, and extract and judge the rendered DOM like any page.

After the verdict (priority 450): in ``auto`` mode only a page whose HTML has no article text
and scripts (the ``needs_browser`` evidence) is rendered; in ``always`` mode every 2xx HTML
page. The page's own response record stays the bytes that came over the wire; the browser's
downloads go in as request and response records (``crawler.browser_capture``), the screenshot
and the rendered DOM as ``resource`` records concurrent to that response record. A page the
browser cannot render (a timeout, a crash) keeps its HTML capture, with ``browser_failed`` in its
evidence. The browser is closed, every process of it, when the spider closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.exceptions import ExtractError
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.judging import is_html, judge_page
from archive.runs.chromium import find_chromium
from crawler.browser_capture import BrowserCapture
from crawler.browser_pool import BrowserFailed, BrowserPool, BrowserUnavailable
from crawler.extraction_workers import ExtractionWorkers, find_pool
from crawler.items import FetchedPage
from crawler.netpolicy import browser_guard
from crawler.robots import robots_guard
from crawler.warc_capture import find_capture
from pipelines.classify import page_fetch

__all__ = ["BROWSER_FAILED", "BROWSER_RENDERED", "BrowserPipeline"]

logger = logging.getLogger(__name__)

#: Evidence: the verdict and extraction are the rendered DOM's; the browser could not render it.
BROWSER_RENDERED = "browser_rendered"
BROWSER_FAILED = "browser_failed"


Guard = Callable[[str], Awaitable[str | None]]


def _all_of(*guards: Guard | None) -> Guard | None:
    """One guard that refuses what any of ``guards`` refuses (the first reason given)."""
    active = [guard for guard in guards if guard is not None]
    if not active:
        return None

    async def check(url: str) -> str | None:
        for guard in active:
            why = await guard(url)
            if why is not None:
                return why
        return None

    return check


class BrowserPipeline:
    def __init__(
        self,
        pool: BrowserPool,
        capture: BrowserCapture,
        workers: ExtractionWorkers | None,
        stats: StatsCollector,
        mode: str,
    ) -> None:
        self.pool = pool
        self.capture = capture
        self.workers = workers
        self.stats = stats
        self.mode = mode

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("BROWSER_ENABLED"):
            raise NotConfigured("BROWSER_ENABLED is off")
        assert crawler.stats is not None
        executable = find_chromium(settings.get("BROWSER_EXECUTABLE") or None)
        if executable is None:
            # The CLI refuses --browser without Chromium; a library caller gets HTML alone.
            logger.warning("No Chromium found: pages are archived without a browser")
            crawler.stats.set_value("browser/unavailable", 1)
            raise NotConfigured("no Chromium")
        warc = find_capture(crawler)
        if warc is None:
            raise NotConfigured("no WARC capture to write the browser's records to")
        pool = BrowserPool(
            executable,
            pages=settings.getint("BROWSER_PAGES"),
            timeout=settings.getfloat("BROWSER_TIMEOUT"),
            settle=settings.getfloat("BROWSER_SETTLE"),
            guard=_all_of(browser_guard(), robots_guard(crawler)),
            pdf=settings.getbool("BROWSER_PDF"),
        )
        mode = settings.get("BROWSER_MODE") or "always"
        # Read at each write: the requisites pipeline attaches the index of archived payloads.
        capture = BrowserCapture(warc.writer, lambda: warc.payloads)
        pipeline = cls(pool, capture, find_pool(crawler), crawler.stats, mode)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def _wanted(self, item: FetchedPage) -> bool:
        if item.recovered_from is not None or item.status is None:
            return False
        # The body is gone by now (extraction drops it): judge by the type, as for an HTML body.
        if not 200 <= item.status < 300 or not is_html(item.content_type, b"<html"):
            return False
        return self.mode != "auto" or NEEDS_BROWSER in item.evidence

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        if not self._wanted(item):
            return item
        url = item.final_url or item.url
        self.stats.inc_value("browser/pages")
        try:
            rendered = await self.pool.render(url)
        except (BrowserFailed, BrowserUnavailable) as exc:
            self.stats.inc_value("browser/failed")
            logger.warning("Browser could not render %s: %s", url, exc)
            item.evidence = [*item.evidence, BROWSER_FAILED]
            return item
        self.stats.set_value("browser/restarts", self.pool.restarts)
        written = await asyncio.to_thread(self.capture.write, url, rendered, item.response)
        self.stats.inc_value("browser/records_written", written.records)
        item.screenshot = written.screenshot
        await self._judge_rendered(item, rendered.dom, url)
        return item

    async def _judge_rendered(self, item: FetchedPage, dom: bytes, url: str) -> None:
        """Extract and judge the rendered DOM as the HTML was (archive.liveness.judging)."""
        if self.workers is None:
            return  # --extract later: the HTML's record is what `morgue extract` reads
        try:
            result = await self.workers.extract(dom, url, "text/html; charset=utf-8")
        except ExtractError as exc:
            logger.info("Rendered DOM of %s not extracted: %s", url, exc)
            return
        if result is None:
            return
        judgement = judge_page(page_fetch(item), result.extraction, result.facts)
        item.extraction, item.facts = judgement.extraction, result.facts
        item.links = list(result.links)
        item.verdict, item.reason = judgement.verdict, judgement.reason
        item.confidence = judgement.confidence
        item.evidence = [*judgement.evidence, BROWSER_RENDERED]
        item.extract_error = None
        self.stats.inc_value("browser/rendered")

    async def spider_closed(self, spider: Spider) -> None:
        await self.pool.close()
