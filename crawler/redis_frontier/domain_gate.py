"""Downloader middleware: a worker waits for its turn at a host, shared by all workers.

The delay is ``MORGUE_REDIS_DOMAIN_DELAY`` (default ``DOWNLOAD_DELAY``) between two fetches of
one host (``host:port``) by any worker (``archive.distributed.domain_slots``). The wait is an
``asyncio.sleep``: the reactor goes on with other hosts. If Redis does not answer, the request
goes on under Scrapy's own per-worker delay (the scheduler says Redis is down, once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Self

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from archive.distributed.domain_slots import DomainSlots
from archive.distributed.leases import QueueKeys
from archive.distributed.work_queue import connect

__all__ = ["DomainGate"]

logger = logging.getLogger(__name__)


class DomainGate:
    def __init__(self, slots: DomainSlots, crawler: Crawler) -> None:
        self.slots = slots
        self.crawler = crawler
        self._skip_until = 0.0  # after a Redis error: not asked again for a while

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("MORGUE_REDIS_URL")
        if not url:
            raise NotConfigured("not a distributed worker (MORGUE_REDIS_URL)")
        delay = settings.get("MORGUE_REDIS_DOMAIN_DELAY")
        delay_s = settings.getfloat("DOWNLOAD_DELAY") if delay in (None, "") else float(delay)
        if delay_s <= 0:
            raise NotConfigured("no delay between fetches of a host")
        keys = QueueKeys(settings.get("MORGUE_REDIS_PREFIX") or "morgue")
        return cls(DomainSlots(connect(url, timeout=2.0), keys, delay_s), crawler)

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).netloc
        while time.monotonic() >= self._skip_until:
            try:
                wait = self.slots.wait_s(host)
            except redis.RedisError:
                # Each call on the reactor thread would wait out the connection timeout.
                self._skip_until = time.monotonic() + 10.0
                return None
            finally:
                assert self.crawler.stats is not None
                self.crawler.stats.set_value("redis/gate_round_trips", self.slots.round_trips)
            if wait <= 0:
                return None
            await asyncio.sleep(wait)
        return None
