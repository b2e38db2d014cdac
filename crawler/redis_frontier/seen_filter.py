"""scrapy-redis's ``DUPEFILTER_CLASS`` for workers: the fingerprint a request is known by in its
crawl's seen set.

The set itself is written by the queue's push script (``archive.distributed.work_queue``), in
the same round trip that queues the request, so a request is marked seen exactly when it is
queued: a worker that dies in between cannot leave a URL seen and never fetched. A re-queued
lease, a retry and a redirect skip the set (they are the same work, not new work).
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.utils.request import RequestFingerprinterProtocol

__all__ = ["CrawlSeenFilter"]

logger = logging.getLogger(__name__)


class CrawlSeenFilter(BaseDupeFilter):
    def __init__(self, fingerprinter: RequestFingerprinterProtocol) -> None:
        self.fingerprinter = fingerprinter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.request_fingerprinter is not None
        return cls(crawler.request_fingerprinter)

    def fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def request_seen(self, request: Request) -> bool:
        return False  # decided in Redis, as the request is queued

    def log(self, request: Request, spider: object) -> None:
        logger.debug("Already queued in this crawl: %s", request.url)
