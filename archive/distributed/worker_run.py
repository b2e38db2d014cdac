"""One worker of a distributed crawl: a crawl process whose frontier is the shared Redis.

The worker is a crawl like any other (a child process, a run row with a heartbeat, its own WARC
files in its data dir, captures stored in the shared database), with the Redis scheduler of
``crawler/redis_frontier`` in place of Scrapy's memory queue and the ``worker`` spider, which
starts from nothing and takes what the queue gives it until it is stopped. What a killed worker
left in this data dir (a ``.open`` WARC file no live process holds) is finalised first.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.captures.second_look import after_run
from archive.captures.table import finish_run, run_tally, start_run
from archive.db.engine import open_database
from archive.db.heartbeat import beat
from archive.distributed.enqueue import redis_unreachable
from archive.distributed.work_queue import connect
from archive.paths import DataPaths
from archive.runs.crawl_process import CrawlResult, run_crawl_process, run_job
from archive.runs.crawling import recover_first
from archive.runs.events import EventHandler
from archive.sources.registry import link_discoveries
from archive.warc.records import check_writable

__all__ = ["WorkerSummary", "check_redis", "default_worker_id", "run_worker", "worker_settings"]


def default_worker_id() -> str:
    """Host name and process id: unique across the machines of one deployment."""
    return f"{socket.gethostname()}.{os.getpid()}"


@dataclass(slots=True)
class WorkerSummary:
    worker: str
    run_id: int
    status: str
    pages: int
    duration_s: float
    stats: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "run_id": self.run_id,
            "status": self.status,
            "pages": self.pages,
            "duration_s": round(self.duration_s, 2),
        }


def worker_settings(redis_url: str, worker: str, prefix: str) -> dict[str, Any]:
    """The Scrapy settings that make a crawl process a worker on the Redis at ``redis_url``."""
    return {
        "MORGUE_REDIS_URL": redis_url,
        "MORGUE_REDIS_PREFIX": prefix,
        "MORGUE_REDIS_WORKER_ID": worker,
        # scrapy-redis's scheduler, given its queue class, serializer and dupefilter by
        # LeaseScheduler itself (they only work together).
        "SCHEDULER": "crawler.redis_frontier.lease_scheduler.LeaseScheduler",
        # The worker id in the IIPC file name of each WARC file this worker writes.
        "WARC_HOSTNAME": worker,
        "WARC_IS_PART_OF": f"morgue-worker-{worker}",
        # Its final stats reach the run row through the closing event.
        "PROGRESS_EVENTS_ENABLED": True,
    }


def check_redis(redis_url: str) -> None:
    """``ArchiveError`` naming the server unless the Redis at ``redis_url`` answers."""
    import redis

    client = connect(redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise redis_unreachable(redis_url, exc) from exc
    finally:
        client.close()


def run_worker(
    paths: DataPaths,
    redis_url: str,
    *,
    worker: str | None = None,
    prefix: str = "morgue",
    overrides: Mapping[str, Any] | None = None,
    on_event: EventHandler | None = None,
) -> WorkerSummary:
    """Work for the shared crawl until stopped (SIGTERM, Ctrl-C): in-flight pages finish, the
    WARC files close, the leases still held go back to the queue; then the run's pages that
    showed no article are judged again against their sites' samples (the second look)."""
    worker = worker or default_worker_id()
    check_redis(redis_url)
    check_writable(Path(paths.warc_dir))
    db = open_database(paths.db_url)
    started = time.monotonic()
    try:
        recover_first(db, paths.warc_dir, on_event)
        args = {
            "worker": worker,
            "redis": redis_url,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        run_id = start_run(db, "worker", args)
        beat(db, run_id)
        settings = {**worker_settings(redis_url, worker, prefix), **dict(overrides or {})}
        job = run_job("worker", {}, paths, run_id, settings)
        result: CrawlResult = run_crawl_process(job, on_event)
        if result.failure(job.log_file) is None:
            # Stopped as asked: its pages judged before their site had samples (which other
            # workers may have stored since) get the look a crawl's pages get when it ends.
            after_run(db, paths.warc_dir, run_id, settings)
        link_discoveries(db)
        pages = run_tally(db, run_id).pages
        finish_run(db, run_id, result.status, dict(result.stats))
        return WorkerSummary(
            worker, run_id, result.status, pages, time.monotonic() - started, dict(result.stats)
        )
    finally:
        db.close()
