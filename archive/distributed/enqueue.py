"""Hand a crawl or a list of URLs to the workers: its seeds queued in Redis, nothing fetched here.

Each call is a crawl of its own (a new crawl id, so a new seen set): its spec is kept in Redis
for the workers, and each seed (a feed, sitemap, site start page or URL) is one queue entry,
leased and acknowledged like any request, so a seed a dying worker held is not lost either.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archive.distributed.leases import QueueKeys, encode_entry
from archive.distributed.work_queue import WorkQueue, connect
from archive.exceptions import ArchiveError, InvalidInput
from archive.runs.crawling import CrawlSpec
from archive.urls import validate_url

__all__ = ["Enqueued", "enqueue_crawl", "enqueue_urls", "new_crawl_id", "redis_unreachable"]


@dataclass(slots=True)
class Enqueued:
    """What one enqueue call queued."""

    crawl: str
    redis: str
    seeds: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"crawl": self.crawl, "redis": self.redis, "queued": self.seeds}


def new_crawl_id() -> str:
    """Sortable by time, unique across machines."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def redis_unreachable(url: str, exc: Exception) -> ArchiveError:
    """The one error a face shows when Redis does not answer."""
    return ArchiveError(f"cannot reach Redis at {url}: {exc}")


def _enqueue(
    redis_url: str, prefix: str, spec: dict[str, Any], seeds: list[dict[str, str]]
) -> Enqueued:
    import redis

    crawl = new_crawl_id()
    queue = WorkQueue(connect(redis_url), QueueKeys(prefix))
    try:
        queue.register_crawl(crawl, spec)
        start_pages = sum(seed["kind"] == "site" for seed in seeds)
        if spec.get("max_pages") is not None and start_pages:
            # A site's start page is a page of the crawl too, as when it runs in one process.
            queue.count_pages(crawl, start_pages)
        for seed in seeds:
            queue.push_new(encode_entry(crawl, seed=seed), crawl, "")
    except redis.RedisError as exc:
        raise redis_unreachable(redis_url, exc) from exc
    finally:
        queue.client.close()
    return Enqueued(crawl, redis_url, seeds)


def enqueue_crawl(redis_url: str, spec: CrawlSpec, *, prefix: str = "morgue") -> Enqueued:
    """Queue a crawl of ``spec``'s feeds, sitemaps and sites for the workers."""
    seeds = [
        *({"kind": "feed", "url": url} for url in spec.feeds),
        *({"kind": "sitemap", "url": url} for url in spec.sitemaps),
        *({"kind": "site", "url": url} for url in spec.sites),
    ]
    return _enqueue(redis_url, prefix, spec.to_json(), seeds)


def enqueue_urls(redis_url: str, urls: Iterable[str], *, prefix: str = "morgue") -> Enqueued:
    """Queue URLs to archive, one capture each, for the workers."""
    valid = list(dict.fromkeys(validate_url(url) for url in urls))
    if not valid:
        raise InvalidInput("no URLs given")
    seeds = [{"kind": "url", "url": url} for url in valid]
    return _enqueue(redis_url, prefix, {"depth": 0}, seeds)
