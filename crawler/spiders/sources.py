"""The ``sources`` spider: article URLs from feeds, sitemaps and site crawls, fetched once.

Feeds and sitemaps are read (and archived like any response); each entry they list is recorded
as a discovery and, unless it is archived already, fetched and handed to the same pipelines as
the ``urls`` spider. A site crawl follows links from its start pages to ``depth``, within the
same registered domain, through ``archive.policy.frontier.LinkFilter``. A URL already archived live
is skipped, or, once older than ``recrawl_after`` seconds, fetched again with ``If-None-Match`` and
``If-Modified-Since``: an unchanged payload becomes a revisit record (crawler.warc_capture).

Pages are claimed in the database before they are requested (archive.db.claims): a page another
live crawl holds is left to it (``sources/skipped_claimed``), so overlapping crawls share the
work and never archive a page twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

import archive.defaults as defaults
from archive.db.claims import claim_pages
from archive.db.engine import Database, open_database
from archive.exceptions import ArchiveError, InvalidURL
from archive.policy.frontier import LinkFilter, compile_patterns, registered_domain
from archive.runs.outcomes import SourceOutcome, describe_reason
from archive.sources.entries import SourceEntry
from archive.sources.feeds import read_feed
from archive.sources.registry import (
    PriorCapture,
    prior_captures,
    record_discoveries,
    register_source,
    with_validators,
)
from archive.sources.sitemaps import parse_sitemap, robots_sitemaps
from archive.urls import normalise_url
from archive.warc.records import read_record
from crawler.failures import failure_reason
from crawler.items import FetchedPage
from crawler.netpolicy import AddressRefused
from crawler.progress import emit_event
from crawler.spiders.archive_urls import page_from_failure, page_from_response, request_or_failure
from crawler.ticket import PageTicket, SourceRef
from crawler.warc_capture import NotArchived

__all__ = ["SourcesSpider"]

logger = logging.getLogger(__name__)


def _as_list(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value) if value.lstrip().startswith("[") else value.split()
    return list(value)


class SourcesSpider(Spider):
    name = "sources"

    def __init__(
        self,
        feeds: Sequence[str] | str | None = None,
        sitemaps: Sequence[str] | str | None = None,
        sites: Sequence[str] | str | None = None,
        depth: int | str = 1,
        max_pages: int | str | None = None,
        since: str | None = None,
        allow: Sequence[str] | str | None = None,
        deny: Sequence[str] | str | None = None,
        recrawl_after: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.feeds = _as_list(feeds)
        self.sitemaps = _as_list(sitemaps)
        self.sites = _as_list(sites)
        self.depth = int(depth)
        self.max_pages = int(max_pages) if max_pages not in (None, "") else None
        self.since = datetime.fromisoformat(since) if since else None
        if self.since is not None and self.since.tzinfo is None:
            self.since = self.since.replace(tzinfo=UTC)
        self.recrawl_after = float(recrawl_after) if recrawl_after not in (None, "") else None
        self.link_filter = LinkFilter(
            domains={registered_domain(url) for url in self.sites},
            allow=compile_patterns(_as_list(allow)),
            deny=compile_patterns(_as_list(deny)),
        )
        self.links = LinkExtractor(unique=True)
        self.seen: set[str] = set()  # normalised URLs requested (or skipped) in this crawl
        self.sources_seen: set[str] = set()  # feeds and sitemaps requested in this crawl
        self.max_sources = defaults.SOURCES_MAX_SITEMAPS
        self.max_url_length = 0  # URLLENGTH_LIMIT; 0 for none
        self.scheduled = 0
        self.db_url: str | None = None
        self.warc_dir: str | None = None
        self.run_id: int | None = None
        self.events = False
        self._db: Database | None = None
        self._source_ids: dict[tuple[str, str], int] = {}
        self.outcomes: list[SourceOutcome] = []  # each feed, sitemap and site start page tried

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.db_url = settings.get("STORE_DB_URL") if settings.getbool("STORE_ENABLED") else None
        spider.warc_dir = settings.get("WARC_DIR")
        spider.run_id = settings.getint("STORE_RUN_ID") or None
        spider.events = settings.getbool("PROGRESS_EVENTS_ENABLED")
        spider.link_filter.max_length = settings.getint("SOURCES_MAX_URL_LENGTH")
        spider.link_filter.max_repeats = settings.getint("SOURCES_MAX_SEGMENT_REPEATS")
        spider.link_filter.max_depth = settings.getint("SOURCES_MAX_PATH_DEPTH")
        spider.max_sources = settings.getint("SOURCES_MAX_SITEMAPS")
        spider.max_url_length = settings.getint("URLLENGTH_LIMIT")
        return spider

    def seed_urls(self) -> list[str]:
        """The feeds, sitemaps and sites this crawl was started from (crawler.netpolicy)."""
        return [*self.feeds, *self.sitemaps, *self.sites]

    # -- plumbing ----------------------------------------------------------------------------

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"sources/{key}", count)

    def _emit(self, name: str = "queue", /, **event: Any) -> None:
        """A progress event for the CLI, next to crawler.progress's (one JSON line on stdout)."""
        if self.events:
            emit_event(self.crawler, {"event": name, **event})

    def _report(self, outcome: SourceOutcome) -> None:
        """Record what became of one source: counted, logged, and sent to the CLI's summary."""
        self.outcomes.append(outcome)
        if outcome.ok:
            self._inc("read")
        else:
            self._inc("errors")
            self._inc(f"failed/{outcome.reason}")
            logger.warning(
                "Cannot read %s %s: %s%s",
                outcome.kind,
                outcome.url,
                describe_reason(outcome.reason or ""),
                f" ({outcome.detail})" if outcome.detail else "",
            )
        self._emit("source", **outcome.to_json())

    @staticmethod
    def _source(carrier: Request | Response, kind: str) -> SourceRef:
        """The source a request reads (as the user gave it, or as a source listed it)."""
        return PageTicket.of(carrier).source or SourceRef(kind, carrier.url, carrier.url)

    def _failed(self, response: Response, kind: str, reason: str, *, detail: str = "") -> None:
        source = self._source(response, kind)
        self._report(SourceOutcome(kind, source.url, source.root, reason, detail))

    def _read(self, response: Response, kind: str, entries: int, *, leads_to_pages: bool) -> None:
        source = self._source(response, kind)
        self._report(
            SourceOutcome(
                kind, source.url, source.root, entries=entries, leads_to_pages=leads_to_pages
            )
        )

    def _database(self) -> Database | None:
        if self._db is None and self.db_url:
            self._db = open_database(self.db_url)
        return self._db

    def closed(self, reason: str) -> None:
        if self._db is not None:
            self._db.close()

    # -- start -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request | FetchedPage]:
        for url in self.feeds:
            request = self._source_request(url, "feed", self.parse_feed)
            if request is not None:
                yield request
        for url in self.sitemaps:
            robots = url.rstrip("/").endswith("/robots.txt")
            request = self._source_request(
                url, "sitemap", self.parse_robots if robots else self.parse_sitemap
            )
            if request is not None:
                yield request
        for url in self.sites:
            self.seen.add(normalise_url(url))
        sites = await asyncio.to_thread(self._claim, self.sites)
        priors = await asyncio.to_thread(self._look_up, sites)
        for url in sites:
            # A start page is always fetched, where new articles appear; conditionally, when it
            # was archived before (an unchanged one becomes a revisit record).
            prior = priors.get(url)
            if prior is not None and self.warc_dir:
                prior = await asyncio.to_thread(with_validators, self._warc_path(), prior)
            start = self._page_request(url, depth=0, site=url, prior=prior)
            if start is not None:
                yield start

    def _claim(self, urls: list[str]) -> list[str]:
        """Those of ``urls`` this run may fetch: claimed for it, not held by another live run."""
        db = self._database()
        if db is None or self.run_id is None or not urls:
            return urls
        keys = {url: normalise_url(url) for url in urls}
        try:
            granted = claim_pages(db, self.run_id, keys.values())
        except ArchiveError as exc:
            # Without a claim the page may be another run's: left for the next crawl.
            self._inc("errors")
            logger.error("Cannot claim %d pages: %s", len(urls), exc)
            return []
        kept = [url for url in urls if keys[url] in granted]
        if len(kept) < len(urls):
            self._inc("skipped_claimed", len(urls) - len(kept))
        return kept

    def _look_up(self, urls: list[str]) -> dict[str, PriorCapture]:
        db = self._database()
        if db is None or not urls:
            return {}
        try:
            return prior_captures(db, urls)
        except ArchiveError as exc:
            logger.error("Cannot look up earlier captures: %s", exc)
            return {}

    def _source_request(
        self,
        url: str,
        kind: str,
        callback: Any,
        root: str | None = None,
        *,
        read: set[str] | None = None,
    ) -> Request | None:
        """A request for a feed or sitemap; None for one read already in this crawl (a sitemap
        index that lists itself, or two indexes that list each other, must not loop).
        ``root``: the source given by the user this one was found through; ``read``: the
        sources this crawl has read (``sources_seen_of``)."""
        sources_seen = self.sources_seen if read is None else read
        try:
            key = normalise_url(url)
        except InvalidURL:
            self._inc("filtered/invalid")
            return None
        if key in sources_seen:
            self._inc("skipped_sources_seen")
            return None
        if len(sources_seen) >= self.max_sources:
            self._inc("skipped_max_sources")
            logger.warning("Not reading %s: more than %d feeds and sitemaps", url, self.max_sources)
            return None
        sources_seen.add(key)
        try:
            return Request(
                url,
                callback=callback,
                errback=self.source_failed,
                dont_filter=True,
                meta=PageTicket(source=SourceRef(kind, url, root or url)).meta(),
            )
        except (ValueError, TypeError, UnicodeError):
            self._inc("filtered/invalid")
            return None

    def _page_request(
        self, url: str, *, depth: int, site: str | None, prior: PriorCapture | None
    ) -> Request | FetchedPage | None:
        """The request for an article page; its capture when none can be made (too long, or
        unusable: the page still gets its row); None past ``max_pages``."""
        if self.max_pages is not None and self.scheduled >= self.max_pages:
            self._inc("skipped_max_pages")
            return None
        self.scheduled += 1
        self._inc("scheduled")
        ticket = PageTicket(url=url, depth=depth, site=site, prior=prior)
        headers: dict[str, str] = {}
        if prior is not None:
            if prior.etag:
                headers["If-None-Match"] = prior.etag
            if prior.last_modified:
                headers["If-Modified-Since"] = prior.last_modified
            self._inc("recrawled")
        self._emit(scheduled=self.scheduled)
        return request_or_failure(
            url,
            self.max_url_length,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=True,
            headers=headers or None,
            meta=ticket.meta(),
        )

    # -- sources -----------------------------------------------------------------------------

    def _source_ok(self, response: Response, kind: str) -> bool:
        if response.status == 200:
            return True
        self._failed(response, kind, f"http_{response.status}")
        return False

    @staticmethod
    def _content_type(response: Response) -> str:
        value = response.headers.get(b"Content-Type") or b""
        ctype = value.decode("latin-1").split(";", 1)[0].strip()
        return f"served as {ctype}" if ctype else ""

    def _root(self, response: Response) -> str:
        source = PageTicket.of(response).source
        return source.root if source else response.url

    async def parse_feed(self, response: Response) -> AsyncIterator[Request | FetchedPage]:
        if not self._source_ok(response, "feed"):
            return
        self._inc("feeds_read")
        feed = await asyncio.to_thread(read_feed, response.body, response.url)
        if feed.entries:
            self._read(response, "feed", len(feed.entries), leads_to_pages=True)
        elif feed.is_feed:
            self._failed(response, "feed", "no_entries")
        else:
            self._failed(response, "feed", "not_a_feed", detail=self._content_type(response))
        async for request in self._follow(response, "feed", response.url, feed.entries):
            yield request

    async def parse_robots(self, response: Response) -> AsyncIterator[Request]:
        if not self._source_ok(response, "robots.txt"):
            return
        text = response.body.decode("utf-8", errors="replace")
        urls = robots_sitemaps(text, response.url)
        if urls:
            self._read(response, "robots.txt", len(urls), leads_to_pages=False)
        else:
            self._failed(response, "robots.txt", "no_sitemaps")
        for url in urls:
            request = self._source_request(
                url,
                "sitemap",
                self.parse_sitemap,
                root=self._root(response),
                read=self.sources_seen_of(response),
            )
            if request is not None:
                yield request

    async def parse_sitemap(self, response: Response) -> AsyncIterator[Request | FetchedPage]:
        if not self._source_ok(response, "sitemap"):
            return
        sitemap = await asyncio.to_thread(parse_sitemap, response.body, response.url)
        self._inc("sitemaps_read")
        if sitemap.kind == "unknown":
            self._failed(response, "sitemap", "not_a_sitemap", detail=self._content_type(response))
        elif not sitemap.entries:
            self._failed(response, "sitemap", "no_entries")
        else:
            index = sitemap.kind == "index"
            self._read(response, "sitemap", len(sitemap.entries), leads_to_pages=not index)
        if sitemap.kind == "index":
            for child in sitemap.entries:
                if self._too_old(child, self.since_of(response)):
                    self._inc("skipped_old_sitemaps")
                    continue
                request = self._source_request(
                    child.url,
                    "sitemap",
                    self.parse_sitemap,
                    root=self._root(response),
                    read=self.sources_seen_of(response),
                )
                if request is not None:
                    yield request
        elif sitemap.kind == "urlset":
            async for found in self._follow(response, "sitemap", response.url, sitemap.entries):
                yield found

    @staticmethod
    def _too_old(entry: SourceEntry, since: datetime | None) -> bool:
        return since is not None and entry.published is not None and entry.published < since

    async def _follow(
        self,
        response: Response,
        kind: str,
        source_url: str,
        entries: list[SourceEntry],
        depth: int = 0,
    ) -> AsyncIterator[Request | FetchedPage]:
        """Record ``entries`` (which ``response`` gave) as discoveries of a source and request
        those not archived yet."""
        since, recrawl_after = self.since_of(response), self.recrawl_after_of(response)
        kept = []
        for entry in entries:
            if self._too_old(entry, since):
                self._inc("skipped_old")
            else:
                kept.append(entry)
        self._inc("entries", len(kept))
        fresh: dict[str, SourceEntry] = {}
        seen = self.seen_of(response)
        for entry in kept:
            try:
                key = normalise_url(entry.url)
            except InvalidURL:
                self._inc("filtered/invalid")
                continue
            if key not in seen:
                seen.add(key)
                fresh.setdefault(entry.url, entry)
        priors = await asyncio.to_thread(self._store_and_look_up, kind, source_url, kept, fresh)
        site = source_url if kind == "site" else None
        wanted = []
        for url in fresh:
            prior = priors.get(url)
            if prior is not None and not self._due(prior, recrawl_after):
                self._inc("skipped_archived")
            else:
                wanted.append(url)
        wanted = self.within_max_pages(response, wanted)
        claimed = await asyncio.to_thread(self._claim, wanted)
        if claimed and self.run_id is not None:
            # Looked up again now that the pages are ours: a run that stored one and released
            # its claim just before must not have it fetched twice.
            priors = await asyncio.to_thread(self._look_up, claimed)
        for url in claimed:
            prior = priors.get(url)
            if prior is not None and not self._due(prior, recrawl_after):
                self._inc("skipped_archived")
                continue
            if prior is not None and self.warc_dir:
                prior = await asyncio.to_thread(with_validators, self._warc_path(), prior)
            request = self._page_request(url, depth=depth, site=site, prior=prior)
            if request is not None:
                yield request

    def _store_and_look_up(
        self,
        kind: str,
        source_url: str,
        entries: list[SourceEntry],
        fresh: dict[str, SourceEntry],
    ) -> dict[str, PriorCapture]:
        db = self._database()
        if db is None:
            return {}
        try:
            if entries:
                source_id = self._source_ids.get((kind, source_url))
                if source_id is None:  # once per crawl: a poll of the source
                    source_id = register_source(db, kind, source_url)
                    self._source_ids[(kind, source_url)] = source_id
                new = record_discoveries(db, source_id, entries, self.run_id)
                self._inc("new_entries", new)
            return prior_captures(db, list(fresh))
        except ArchiveError as exc:
            self._inc("errors")
            logger.error("Cannot record the entries of %s: %s", source_url, exc)
            return {}

    @staticmethod
    def _due(prior: PriorCapture, recrawl_after: float | None) -> bool:
        if recrawl_after is None:
            return False
        return prior.fetched_at <= datetime.now(UTC) - timedelta(seconds=recrawl_after)

    def _warc_path(self) -> Path:
        assert self.warc_dir is not None
        return Path(self.warc_dir)

    def source_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, NotArchived):
            return  # the crawl is stopping on a write error, reported once
        request: Request = failure.request  # type: ignore[attr-defined]
        source = self._source(request, "source")
        if isinstance(failure.value, AddressRefused) and request.url not in self.seed_urls():
            # A feed or sitemap listed by another on a network the crawl may not reach.
            self._inc("filtered/private_address")
            logger.info("Not reading %s: %s", request.url, failure.getErrorMessage())
            return
        reason, message = failure_reason(failure)
        self._report(SourceOutcome(source.kind, source.url, source.root, reason, message))

    # -- pages -------------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[FetchedPage | Request]:
        item = page_from_response(response)
        ticket = PageTicket.of(response)
        self._start_page_outcome(ticket, status=response.status)
        prior = ticket.prior
        page: Response = response
        if response.status == 304 and prior is not None and self.warc_dir:
            # Not modified: extract the article (and follow the links) of the payload the
            # earlier record holds.
            await asyncio.to_thread(self._fill_from_prior, item, prior)
            if item.body:
                page = HtmlResponse(response.url, body=item.body, request=response.request)
        yield item
        site, depth = ticket.site, ticket.depth
        if site is None or depth >= self.depth_of(response) or not isinstance(page, TextResponse):
            return
        entries = []
        link_filter = self.link_filter_of(response)
        for link in self.links.extract_links(page):
            reason = link_filter.reason(link.url)
            if reason is not None:
                self._inc(f"filtered/{reason}")
                continue
            entries.append(SourceEntry(url=link.url, title=link.text.strip() or None))
        async for request in self._follow(response, "site", site, entries, depth=depth + 1):
            yield request

    # What the crawl ``response`` belongs to asks for: this crawl's, here; a worker serves many
    # crawls and answers from the spec of each (crawler.spiders.worker).

    def depth_of(self, response: Response) -> int:
        """How deep the site crawl ``response`` belongs to goes."""
        return self.depth

    def seen_of(self, response: Response) -> set[str]:
        """The normalised URLs of the pages the crawl has requested (or skipped)."""
        return self.seen

    def sources_seen_of(self, response: Response) -> set[str]:
        """The normalised URLs of the feeds and sitemaps the crawl has requested."""
        return self.sources_seen

    def since_of(self, response: Response) -> datetime | None:
        """Entries published before this are left out."""
        return self.since

    def recrawl_after_of(self, response: Response) -> float | None:
        """Pages archived longer ago than this (seconds) are fetched again."""
        return self.recrawl_after

    def within_max_pages(self, response: Response, wanted: list[str]) -> list[str]:
        """As many of ``wanted`` as the crawl may still fetch."""
        if self.max_pages is not None:
            # Claim no more than this crawl may fetch: a claim keeps other crawls away.
            room = max(self.max_pages - self.scheduled, 0)
            if len(wanted) > room:
                self._inc("skipped_max_pages", len(wanted) - room)
                wanted = wanted[:room]
        return wanted

    def link_filter_of(self, response: Response) -> LinkFilter:
        """The links the site crawl ``response`` belongs to follows (a worker serves many)."""
        return self.link_filter

    def _fill_from_prior(self, item: FetchedPage, prior: PriorCapture) -> None:
        try:
            record = read_record(self._warc_path(), (prior.warc_file, prior.warc_offset))
        except ArchiveError as exc:
            logger.info("Cannot read the earlier capture of %s: %s", item.url, exc)
            return
        item.body = record.content
        headers = {k.lower(): v for k, v in record.http_headers}
        item.content_type = headers.get("content-type", item.content_type)

    def _start_page_outcome(
        self, ticket: PageTicket, *, status: int | None = None, failure: Failure | None = None
    ) -> None:
        """A site crawl's start page is its source: one that cannot be read is reported."""
        site = ticket.site
        if site is None or ticket.depth != 0:
            return
        if failure is not None:
            reason, message = failure_reason(failure)
            self._report(SourceOutcome("site", site, site, reason, message))
        elif status is not None and (200 <= status < 300 or status == 304):
            self._report(SourceOutcome("site", site, site))
        else:
            self._report(SourceOutcome("site", site, site, f"http_{status}"))

    def page_failed(self, failure: Failure) -> FetchedPage | None:
        if isinstance(failure.value, NotArchived):
            return None  # its records could not be written and the crawl is stopping: no row
        request: Request = failure.request  # type: ignore[attr-defined]
        ticket = PageTicket.of(request)
        self._start_page_outcome(ticket, failure=failure)
        page = page_from_failure(failure)
        if page.failure == "robots_txt" and ticket.depth > 0:
            # A link robots.txt rules out is simply not followed; it is no capture.
            self._inc("filtered/robots_txt")
            return None
        if page.failure == "private_address" and not page.redirects:
            # Nor is a link (a feed or sitemap entry, a link of a page) to a network the crawl
            # may not reach; a page that redirected there keeps its capture, with its hops.
            self._inc("filtered/private_address")
            return None
        return page
