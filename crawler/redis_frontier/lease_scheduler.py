"""scrapy-redis's ``Scheduler`` for workers: leased pops, acknowledgements, a heartbeat.

- ``enqueue_request``: a request a callback yielded is queued in its crawl unless the crawl has
  seen it (``CrawlSeenFilter``'s fingerprint, checked in the push script, whatever the request's
  ``dont_filter``: our spiders set it against their own in-memory filters, and across workers
  the seen set is the filter), or, for an article page, has queued its ``max_pages`` already
  (counted in the same script). A follow-up of a leased request (a redirect, Scrapy's retry of a
  failed fetch, bounded by ``RETRY_TIMES``) replaces the lease it came from in one script.
- ``next_request``: the next entry, leased to this worker for ``MORGUE_REDIS_LEASE`` seconds,
  from a host whose turn has come: ``MORGUE_REDIS_DOMAIN_DELAY`` (default ``DOWNLOAD_DELAY``)
  between two pops of a host by all workers, the politeness that holds across them (each
  worker keeps Scrapy's own per-domain concurrency and delay, and robots.txt middleware).
- acknowledgement: when the scraper is done with a request's response or failure, that is
  when the spider's callback has run and every item it gave has been through the pipelines
  (the store pipeline returns once its row is committed). Scrapy has no signal for that
  moment, so the scraper's ``_scrape`` is wrapped; tests/test_workers.py fails if a Scrapy
  release changes it.
- every ``MORGUE_REDIS_HEARTBEAT`` seconds: what an outage kept is written, this worker's leases
  are renewed and its status written (``morgue workers``), and every worker's expired leases are
  re-queued (``MORGUE_REDIS_MAX_TRIES`` times at most, then the dead list).
- the spider never closes for want of requests (other workers may queue more); stopping (SIGTERM,
  Ctrl-C) finishes what is in flight, then hands back the leases still held without counting a try.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any, Self, cast

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from archive.distributed.leases import QueueKeys, decode_entry
from archive.distributed.work_queue import WorkQueue, connect
from crawler.redis_frontier import json_codec
from crawler.redis_frontier.crawl_tag import META_CRAWL, META_LEASE
from crawler.redis_frontier.lease_queue import LeaseQueue
from crawler.redis_frontier.redis_link import FrontierLink
from crawler.redis_frontier.seen_filter import CrawlSeenFilter
from crawler.ticket import PageTicket

__all__ = ["LeaseScheduler", "domain_delay"]

logger = logging.getLogger(__name__)


def domain_delay(settings: Settings) -> float:
    """Seconds between two fetches of a host by all workers together."""
    delay = settings.get("MORGUE_REDIS_DOMAIN_DELAY")
    if delay in (None, ""):
        return settings.getfloat("DOWNLOAD_DELAY")
    return float(delay)


class LeaseScheduler(Scheduler):  # type: ignore[misc]
    def __init__(
        self,
        crawler: Crawler,
        link: FrontierLink,
        worker: str,
        seen: CrawlSeenFilter,
        heartbeat_s: float,
    ) -> None:
        super().__init__(
            server=link.queue.client,
            persist=True,
            queue_key=link.queue.keys.queued,
            queue_cls="crawler.redis_frontier.lease_queue.LeaseQueue",
            dupefilter=seen,
            serializer=json_codec,
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.link = link
        self.worker = worker
        self.seen = seen
        self.heartbeat_s = heartbeat_s
        self.pages = 0
        self.started = time.time()
        self._rate_mark = (time.monotonic(), 0)
        self.pages_per_s = 0.0
        self.stopping = False
        self._beats: LoopingCall | None = None
        self._wake: Any = None  # a pending reactor.callLater that wakes the engine
        self._specs: dict[str, dict[str, Any]] = {}
        # The leases this worker knows it holds: popped, not yet acknowledged or replaced.
        self.held: set[str] = set()
        self._outages_checked = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("MORGUE_REDIS_URL")
        if not url:
            raise ValueError("LeaseScheduler needs MORGUE_REDIS_URL")
        worker = settings.get("MORGUE_REDIS_WORKER_ID") or f"{socket.gethostname()}.{os.getpid()}"
        heartbeat_s = settings.getfloat("MORGUE_REDIS_HEARTBEAT")
        # Calls run on the reactor thread: a short timeout, so an outage stalls it briefly.
        queue = WorkQueue(
            connect(url, timeout=min(2.0, heartbeat_s)),
            QueueKeys(settings.get("MORGUE_REDIS_PREFIX") or "morgue"),
            lease_s=settings.getfloat("MORGUE_REDIS_LEASE"),
            max_tries=settings.getint("MORGUE_REDIS_MAX_TRIES"),
            seen_ttl_s=settings.getint("MORGUE_REDIS_SEEN_TTL"),
            seen_cap=settings.getint("MORGUE_REDIS_SEEN_CAP"),
            delay_s=domain_delay(settings),
        )
        scheduler = cls(
            crawler,
            FrontierLink(queue, url),
            worker,
            CrawlSeenFilter.from_crawler(crawler),
            heartbeat_s,
        )
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.item_scraped, signal=signals.item_scraped)
        return scheduler

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(f"redis/{key}", count)

    # -- scrapy's scheduler interface --------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = LeaseQueue(self.server, spider, self.queue_key, self.serializer)
        self.queue.link, self.queue.worker, self.queue.stats = self.link, self.worker, self.stats
        spider.crawl_spec = self.crawl_spec  # type: ignore[attr-defined]
        # Leases held under this id by a process that died: their tries count.
        back = self.link.call(lambda: self.link.queue.release(self.worker, count_try=True))
        if back and back[0]:
            logger.info("Re-queued %d requests this worker held before it restarted", back[0])
        self._wrap_scraper()
        self._beats = LoopingCall(self.beat)
        self._beats.start(self.heartbeat_s, now=True)
        logger.info("Worker %s takes requests from Redis at %s", self.worker, self.link.url)

    def close(self, reason: str) -> None:
        self.stopping = True
        if self._beats is not None and self._beats.running:
            self._beats.stop()
        self.link.reconnect()
        back = self.link.call(lambda: self.link.queue.release(self.worker, count_try=False))
        if back and back[0]:
            logger.info("Handed back %d requests not finished", back[0])
        self.link.call(lambda: self.link.queue.renew(self.worker, self._status("stopped")))
        self._count_round_trips()
        self.link.queue.client.close()

    def _count_round_trips(self) -> None:
        if self.stats is not None:
            self.stats.set_value("redis/round_trips", self.link.queue.round_trips)

    def has_pending_requests(self) -> bool:
        return False  # asked at every turn of the engine: Redis is asked at pop time instead

    def enqueue_request(self, request: Request) -> bool:
        queue: LeaseQueue = self.queue
        replaced = request.meta.get(META_LEASE)
        crawl = str(request.meta.get(META_CRAWL) or "")
        if replaced:
            tries = decode_entry(replaced).tries
            entry = queue.encode(request, crawl, tries)
            self.held.discard(replaced)
            self.link.write(lambda: self.link.queue.push_follow_up(self.worker, replaced, entry))
            self._inc("follow_ups")
            return True
        entry = queue.encode(request, crawl)
        fingerprint = self.seen.fingerprint(request)
        answer: list[int] = []
        max_pages = self._max_pages(request, crawl)

        def push() -> None:
            answer.append(self.link.queue.push_new(entry, crawl, fingerprint, max_pages=max_pages))

        self.link.write(push)
        if answer and answer[0] == 0:
            self.seen.log(request, self.spider)
            self._inc("filtered_seen")
            return False
        if answer and answer[0] == -2:
            if self.stats is not None:
                self.stats.inc_value("sources/skipped_max_pages")
            return False
        if answer and answer[0] < 0:
            logger.warning("The seen set of crawl %s is full: not queuing %s", crawl, request.url)
            self._inc("seen_full")
            return False
        self._inc("enqueued")
        return True

    def _max_pages(self, request: Request, crawl: str) -> int | None:
        """The crawl's ``max_pages`` when ``request`` fetches one of its article pages (not a
        feed or sitemap): counted in the push script, across workers."""
        ticket = PageTicket.of(request)
        if not crawl or ticket.url is None or ticket.source is not None:
            return None
        cap = self.crawl_spec(crawl).get("max_pages")
        return int(cap) if cap is not None else None

    def next_request(self) -> Request | None:
        if self.stopping:
            return None
        queue: LeaseQueue = self.queue
        request: Request | None = queue.pop()
        if request is not None:
            self.held.add(request.meta[META_LEASE])
            self._inc("dequeued")
        elif queue.wait_s > 0:
            # Work is queued, but no host's turn has come: ask again when the first one's does,
            # rather than at the engine's next heartbeat (5 s).
            self._wake_in(queue.wait_s)
        return request

    def _wake_in(self, seconds: float) -> None:
        from twisted.internet import reactor

        if self._wake is not None and self._wake.active():
            return
        self._wake = cast(Any, reactor).callLater(seconds, self._wake_engine)

    def _wake_engine(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is not None and not self.stopping:
            slot.nextcall.schedule()

    # -- acknowledgements --------------------------------------------------------------------

    def _wrap_scraper(self) -> None:
        engine = self.crawler.engine
        assert engine is not None
        scraper = engine.scraper
        scrape = scraper._scrape

        async def scrape_then_ack(result: Response | Failure, request: Request) -> None:
            try:
                await scrape(result, request)
            finally:
                self.done(request)

        scraper._scrape = scrape_then_ack  # type: ignore[method-assign]

    def done(self, request: Request) -> None:
        member = request.meta.get(META_LEASE)
        if member:
            self.held.discard(member)
            self.queue.ack(member)
            self._inc("acked")

    def item_scraped(self, item: Any, response: Any, spider: Spider) -> None:
        self.pages += 1

    # -- heartbeat ---------------------------------------------------------------------------

    def _status(self, state: str) -> dict[str, Any]:
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "pages": self.pages,
            "pages_per_s": self.pages_per_s,
            "started": self.started,
            "beat": time.time(),
            "interval": self.heartbeat_s,
            "state": state,
        }

    def beat(self) -> None:
        mark, pages = self._rate_mark
        now = time.monotonic()
        if now > mark:
            self.pages_per_s = round((self.pages - pages) / (now - mark), 3)
        self._rate_mark = (now, self.pages)
        self._count_round_trips()
        if not self.link.reconnect():
            return
        queue = self.link.queue
        if self.link.outages != self._outages_checked:
            # A call failed since the last check: a pop may have leased an entry to this worker
            # without its answer arriving. The renewal below would keep such a lease for ever.
            handed = self.link.call(lambda: queue.hand_back_unknown(self.worker, self.held))
            if handed is not None:
                self._outages_checked = self.link.outages
                if handed:
                    logger.warning(
                        "Handed back %d requests leased to this worker by a call whose answer "
                        "was lost",
                        handed,
                    )
                    self._inc("handed_back_unknown", handed)
        self.link.call(lambda: queue.renew(self.worker, self._status("running")))
        moved = self.link.call(queue.requeue_expired)
        if moved:
            requeued, dead = moved
            if requeued or dead:
                logger.warning(
                    "Re-queued %d requests whose lease ran out; %d out of tries", requeued, dead
                )
            self._inc("requeued_expired", requeued)
            self._inc("dead", dead)
        if self.link.up:
            # Wake the engine now rather than at its own next heartbeat (5 s): another worker
            # may have queued work since it last found the queue empty.
            self._wake_engine()

    def spider_idle(self, spider: Spider) -> None:
        if not self.stopping:
            raise DontCloseSpider("a worker waits for requests")

    def crawl_spec(self, crawl: str) -> dict[str, Any]:
        """The spec a crawl was enqueued with (cached: it never changes)."""
        spec = self._specs.get(crawl)
        if spec is None:
            spec = self.link.call(lambda: self.link.queue.crawl_spec(crawl))
            if spec is None:
                return {}
            self._specs[crawl] = spec
        return spec
