"""robots.txt, obeyed by every request, including those that wait for the file to arrive.

Scrapy 2.19's ``RobotsTxtMiddleware`` lets all requests to a host that arrive while its
robots.txt is downloading await one shared Deferred through ``Deferred.asFuture``, whose
callback hands ``None`` on to the next one: only the first waiter sees the rules, and the others
are let through as if the host had no robots.txt. Here each waiter gets a Deferred of its own,
relayed from the shared one without consuming its result.

``robots_guard`` applies the same rules to the requests a headless browser makes while it
renders a page (``crawler.browser_pool``), which do not go through Scrapy's downloader: each
host's robots.txt is fetched (and archived) through the engine, once per crawl, as for pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

__all__ = ["ObeyingRobotsTxtMiddleware", "robots_guard"]


def _relay(shared: Deferred[Any]) -> Deferred[Any]:
    own: Deferred[Any] = Deferred()

    def forward(result: Any) -> Any:
        own.callback(result)
        return result  # left in place for the next waiter

    shared.addCallback(forward)
    return own


class ObeyingRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            return await maybe_deferred_to_future(_relay(pending))
        return await super().robot_parser(request)


def robots_guard(crawler: Crawler) -> Callable[[str], Awaitable[str | None]] | None:
    """An async check of a URL against its host's robots.txt, giving why it is refused or None;
    None when the crawl does not obey robots.txt (``ROBOTSTXT_OBEY``, ``--ignore-robots``)."""
    if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
        return None
    found: list[RobotsTxtMiddleware] = []

    def middleware() -> RobotsTxtMiddleware | None:
        # The downloader is built with the engine, after the pipelines: looked up at first use.
        if not found and crawler.engine is not None:
            chain = crawler.engine.downloader.middleware.middlewares
            found.extend(mw for mw in chain if isinstance(mw, RobotsTxtMiddleware))
        return found[0] if found else None

    async def check(url: str) -> str | None:
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        mw = middleware()
        if mw is None:
            return None
        try:
            await mw.process_request(Request(url))
        except IgnoreRequest:
            if crawler.stats is not None:
                crawler.stats.inc_value("browser/robots_txt")
            return "forbidden by robots.txt"
        return None

    return check
