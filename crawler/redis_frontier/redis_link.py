"""The worker's link to Redis, which waits out an outage instead of losing work.

When Redis stops answering, the worker says so once (an error naming the server), stops taking
requests, and keeps, in order, what it could not write: the requests its pages led to and the
acknowledgements of finished ones. The heartbeat tries again; when Redis answers, what was kept
is written, the worker says it resumes, and takes requests again. A worker killed during the
outage loses only what it kept, and nothing of the crawl: the leases it held expire and their
requests are fetched again, leading to the same requests.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import redis

from archive.distributed.work_queue import WorkQueue

__all__ = ["FrontierLink"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FrontierLink:
    def __init__(self, queue: WorkQueue, url: str) -> None:
        self.queue = queue
        self.url = url
        self.down_since: float | None = None
        self.outages = 0
        self._kept: deque[Callable[[], object]] = deque()

    @property
    def up(self) -> bool:
        return self.down_since is None

    def _down(self, exc: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.outages += 1
            logger.error(
                "Redis at %s does not answer (%s): this worker takes no more requests until "
                "it does; what it must write is kept until then",
                self.url,
                exc,
            )

    def call(self, op: Callable[[], T]) -> T | None:
        """``op``'s answer; None while Redis is down (nothing to keep: a read, a pop)."""
        if self.down_since is not None:
            return None
        try:
            return op()
        except redis.RedisError as exc:
            self._down(exc)
            return None

    def write(self, op: Callable[[], object]) -> None:
        """Run ``op`` now, or once Redis answers again (after what was kept before it)."""
        if self.down_since is not None or self._kept:
            self._kept.append(op)
            return
        try:
            op()
        except redis.RedisError as exc:
            self._down(exc)
            self._kept.append(op)

    def reconnect(self) -> bool:
        """Write what was kept if Redis answers; True when the link is up."""
        if self.down_since is None and not self._kept:
            return True
        try:
            self.queue.client.ping()
            while self._kept:
                self._kept[0]()
                self._kept.popleft()
        except redis.RedisError as exc:
            self._down(exc)
            return False
        if self.down_since is not None:
            logger.warning(
                "Redis at %s answers again after %.0f s: resuming",
                self.url,
                time.monotonic() - self.down_since,
            )
            self.down_since = None
        return True
