"""scrapy-redis's ``SCHEDULER_QUEUE_CLASS`` for workers: entries leased as they are popped.

scrapy-redis's queues delete a request as they pop it, so a worker killed mid-fetch loses it.
Here a pop moves the entry into this worker's lease set in the same script
(``archive.distributed.work_queue``); the scheduler acknowledges it once its response (or
failure) has been through the spider and every item it gave has been stored.

An entry holds a seed (turned into its request by the spider, ``seed_request``) or a request as
``Request.to_dict()`` wrote it. An entry that comes back after a lost lease is not fetched again
when its page is in the database already: the worker that died stored it before it could say so.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from scrapy import Request, Spider
from scrapy.statscollectors import StatsCollector
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import Base

from archive.distributed.leases import Entry, decode_entry, encode_entry
from crawler.redis_frontier.crawl_tag import META_CRAWL, META_LEASE
from crawler.redis_frontier.json_codec import plain, unplain
from crawler.redis_frontier.redis_link import FrontierLink

__all__ = ["LeaseQueue", "WorkerSpider"]

logger = logging.getLogger(__name__)

# Entries skipped (bad, or stored already) before pop gives up until the engine asks again.
_SKIPS_PER_POP = 16


class WorkerSpider(Protocol):
    def seed_request(self, kind: str, url: str, crawl: str) -> Request | None: ...

    def already_stored(self, request: Request) -> bool: ...


def plain_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The meta of a request to queue: this lease left out, and what is not plain JSON (a
    pending record write, a response head) dropped, as it belongs to one download only."""
    kept = {}
    for key, value in meta.items():
        if key == META_LEASE:
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            logger.debug("Not queuing meta[%r] (%s): not JSON", key, type(value).__name__)
            continue
        kept[key] = value
    return kept


class LeaseQueue(Base):  # type: ignore[misc]
    """Set up by ``LeaseScheduler.open``: ``link``, ``worker`` and ``stats`` come from it."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.link: FrontierLink | None = None
        self.worker = ""
        self.stats: StatsCollector | None = None
        self.wait_s = -1.0  # after an empty pop: seconds until a host's turn (-1: none queued)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"redis/{key}", count)

    def __len__(self) -> int:
        assert self.link is not None
        return int(self.link.call(self.link.queue.queued) or 0)

    def encode(self, request: Request, crawl: str, tries: int = 0) -> str:
        data = plain(request.to_dict(spider=self.spider))
        data["meta"] = plain_meta(dict(data.get("meta") or {}))
        return encode_entry(crawl, request=data, tries=tries)

    def push(self, request: Request) -> None:
        raise NotImplementedError("LeaseScheduler.enqueue_request queues requests")

    def clear(self) -> None:
        """Never: the queue is every worker's; one stopping must not flush it."""

    def pop(self, timeout: int = 0) -> Request | None:
        assert self.link is not None
        queue = self.link.queue
        self.wait_s = -1.0
        for _ in range(_SKIPS_PER_POP):
            popped = self.link.call(lambda: queue.pop(self.worker))
            if popped is None:
                return None  # Redis is down
            member, self.wait_s = popped
            if member is None:
                return None
            request = self._request(member)
            if request is not None:
                return request
        return None

    def ack(self, member: str) -> None:
        assert self.link is not None
        link = self.link
        link.write(lambda: link.queue.ack(self.worker, member))

    def _request(self, member: str) -> Request | None:
        try:
            entry = decode_entry(member)
            request = self._build(entry)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.error("Dropping a queue entry that is not a request (%s): %.200s", exc, member)
            self._inc("bad_entries")
            self.ack(member)
            return None
        if request is None:
            self._inc("seeds_unusable")
            self.ack(member)
            return None
        request.meta[META_CRAWL] = entry.crawl
        request.meta[META_LEASE] = member
        if entry.tries:
            self._inc("requeued_popped")
            spider: WorkerSpider = self.spider
            if spider.already_stored(request):
                # Stored by a worker that died before acknowledging it: done already.
                self._inc("skipped_stored")
                self.ack(member)
                return None
        return request

    def _build(self, entry: Entry) -> Request | None:
        if entry.seed is not None:
            spider: WorkerSpider = self.spider
            return spider.seed_request(entry.seed["kind"], entry.seed["url"], entry.crawl)
        if entry.request is None:
            raise ValueError("an entry with neither seed nor request")
        return request_from_dict(unplain(entry.request), spider=self.spider)
