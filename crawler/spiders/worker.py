"""The ``worker`` spider of ``morgue worker``: the ``sources`` spider fed by the shared queue.

It starts from nothing: its requests come from Redis (``crawler.redis_frontier``), as seeds
that ``morgue crawl --redis`` or ``morgue archive --redis`` queued, or as requests another
worker's page led to. Each belongs to a crawl whose spec was queued with it, applied as a single
crawl applies its own: depth and link rules, ``since`` (entries published before it left out),
``recrawl_after`` (pages archived longer ago fetched again; conditionally when the earlier record
is in this worker's data dir) and ``max_pages`` (counted in Redis as pages are queued, across
the workers).
The database claims of a single crawl are left out: across workers, the crawl's seen set in
Redis is what keeps a page from being fetched twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response

from archive.policy.frontier import LinkFilter, compile_patterns, registered_domain
from archive.sources.registry import prior_captures
from archive.urls import normalise_url
from crawler.items import FetchedPage
from crawler.redis_frontier.crawl_tag import META_CRAWL
from crawler.spiders.sources import SourcesSpider
from crawler.ticket import PageTicket

__all__ = ["WorkerSpider"]

#: Crawls whose seen pages a worker remembers (each set as big as its crawl).
_CRAWLS_KEPT = 64


class WorkerSpider(SourcesSpider):
    name = "worker"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Set by the scheduler (crawler.redis_frontier.lease_scheduler) as it opens.
        self.crawl_spec: Callable[[str], dict[str, Any]] = lambda crawl: {}
        self._filters: dict[str, LinkFilter] = {}
        # Per crawl, the pages and sources this worker has requested for it: a page one crawl
        # read is new to the next (--recrawl-after), and SOURCES_MAX_SITEMAPS bounds one crawl,
        # not the worker's life. The crawls served last are kept, the oldest forgotten.
        self._seen: OrderedDict[str, tuple[set[str], set[str]]] = OrderedDict()

    async def start(self) -> AsyncIterator[Request | FetchedPage]:
        return
        yield  # an async generator that yields nothing: the queue gives the requests

    def seed_urls(self) -> list[str]:
        return []

    def _claim(self, urls: list[str]) -> list[str]:
        return urls

    def seed_request(self, kind: str, url: str, crawl: str) -> Request | None:
        """The request a queued seed stands for (None: a URL no request can be made of)."""
        if kind in ("feed", "sitemap"):
            read = self._seen_sets(crawl)[1]
            # Read again if it comes back after a lost lease, though this worker read it.
            read.discard(normalise_url(url))
            robots = kind == "sitemap" and url.rstrip("/").endswith("/robots.txt")
            callback = self.parse_feed if kind == "feed" else self.parse_sitemap
            return self._source_request(
                url, kind, self.parse_robots if robots else callback, read=read
            )
        site = url if kind == "site" else None
        request = self._page_request(url, depth=0, site=site, prior=None)
        if isinstance(request, FetchedPage):
            return None
        return request

    def already_stored(self, request: Request) -> bool:
        """Whether the page ``request`` fetches has a capture already (feeds are read again)."""
        ticket = PageTicket.of(request)
        db = self._database()
        if ticket.source is not None or ticket.url is None or db is None:
            return False
        newest = prior_captures(db, [ticket.url]).get(ticket.url)
        if newest is None:
            return False
        # A page fetched again (--recrawl-after) is done once a capture newer than the one it
        # was fetched again after is stored.
        return ticket.prior is None or newest.fetched_at > ticket.prior.fetched_at

    def _spec(self, response: Response) -> dict[str, Any]:
        crawl = response.meta.get(META_CRAWL)
        return self.crawl_spec(str(crawl)) if crawl else {}

    def _seen_sets(self, crawl: str) -> tuple[set[str], set[str]]:
        sets = self._seen.get(crawl)
        if sets is None:
            sets = self._seen[crawl] = (set(), set())
            while len(self._seen) > _CRAWLS_KEPT:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(crawl)
        return sets

    def seen_of(self, response: Response) -> set[str]:
        return self._seen_sets(str(response.meta.get(META_CRAWL) or ""))[0]

    def sources_seen_of(self, response: Response) -> set[str]:
        return self._seen_sets(str(response.meta.get(META_CRAWL) or ""))[1]

    def since_of(self, response: Response) -> datetime | None:
        since = self._spec(response).get("since")
        if not since:
            return None
        moment = datetime.fromisoformat(str(since))
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def recrawl_after_of(self, response: Response) -> float | None:
        after = self._spec(response).get("recrawl_after")
        return float(after) if after is not None else None

    def within_max_pages(self, response: Response, wanted: list[str]) -> list[str]:
        # Counted as each page is queued, in Redis (crawler.redis_frontier.lease_scheduler):
        # here only this worker's pages are known, and some of them the crawl has seen.
        return wanted

    def depth_of(self, response: Response) -> int:
        return int(self._spec(response).get("depth", self.depth))

    def link_filter_of(self, response: Response) -> LinkFilter:
        crawl = str(response.meta.get(META_CRAWL) or "")
        cached = self._filters.get(crawl)
        if cached is None:
            spec = self._spec(response)
            cached = LinkFilter(
                domains={registered_domain(url) for url in spec.get("sites", [])},
                allow=compile_patterns(list(spec.get("allow", []))),
                deny=compile_patterns(list(spec.get("deny", []))),
            )
            base = self.link_filter
            cached.max_length = base.max_length
            cached.max_repeats = base.max_repeats
            cached.max_depth = base.max_depth
            self._filters[crawl] = cached
        return cached
