"""Stop a crawl on a fault: a WARC or database write that fails fails for every page after it.

Going on would fetch page after page that cannot be kept, log a traceback for each and end as if
nothing had happened. The first fault closes the spider with its reason (``warc_write_failed``,
``store_failed``) and leaves one line, naming the file or database and the OS error, in the
stats under ``crawl/error``: the progress events carry it to the CLI, which prints it, marks the
run ``failed`` and exits non-zero. Faults after the first are only counted.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

__all__ = ["STAT_ERROR", "STORE_FAILED", "WARC_WRITE_FAILED", "crawl_error", "stop_crawl"]

logger = logging.getLogger(__name__)

STAT_ERROR = "crawl/error"
WARC_WRITE_FAILED = "warc_write_failed"
STORE_FAILED = "store_failed"


def crawl_error(crawler: Crawler) -> str | None:
    """The fault that stopped the crawl, if one did."""
    assert crawler.stats is not None
    value = crawler.stats.get_value(STAT_ERROR)
    return str(value) if value is not None else None


def stop_crawl(crawler: Crawler, reason: str, message: str) -> None:
    """Close the spider with ``reason``, once; ``message`` is the one line the user reads.

    On the reactor thread.
    """
    assert crawler.stats is not None
    if crawl_error(crawler) is not None:
        return  # the first fault is the one reported
    crawler.stats.set_value(STAT_ERROR, message)
    logger.error("Stopping the crawl: %s", message)
    engine = crawler.engine
    if engine is None or engine.spider is None:
        return
    closing = deferred_from_coro(engine.close_spider_async(reason=reason))
    closing.addErrback(lambda failure: logger.error("Cannot stop the crawl: %s", failure.value))
