"""The state of the shared frontier, for ``morgue workers``: queue, leases, seen sets, workers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archive.distributed.enqueue import redis_unreachable
from archive.distributed.leases import QueueKeys
from archive.distributed.work_queue import connect

__all__ = ["FrontierStatus", "WorkerStatus", "frontier_status"]


@dataclass(slots=True)
class WorkerStatus:
    worker: str
    host: str
    pid: int
    pages: int
    pages_per_s: float
    in_flight: int
    last_heartbeat: str  # ISO 8601 UTC
    heartbeat_age_s: float
    state: str  # "running", "stopped", or "silent" (no heartbeat for three intervals)

    def to_json(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "host": self.host,
            "pid": self.pid,
            "pages": self.pages,
            "pages_per_s": self.pages_per_s,
            "in_flight": self.in_flight,
            "last_heartbeat": self.last_heartbeat,
            "heartbeat_age_s": self.heartbeat_age_s,
            "state": self.state,
        }


@dataclass(slots=True)
class FrontierStatus:
    queued: int
    in_flight: int
    dead: int
    seen: int  # fingerprints in the seen sets of every crawl still kept
    crawls: int
    workers: list[WorkerStatus] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "in_flight": self.in_flight,
            "dead": self.dead,
            "seen": self.seen,
            "crawls": self.crawls,
            "workers": [worker.to_json() for worker in self.workers],
        }


def _worker(name: str, raw: str, in_flight: int, now: float) -> WorkerStatus:
    data = json.loads(raw)
    beat = float(data.get("beat", 0.0))
    age = max(now - beat, 0.0)
    state = str(data.get("state", "running"))
    if state == "running" and age > 3 * float(data.get("interval", 10.0)):
        state = "silent"
    return WorkerStatus(
        worker=name,
        host=str(data.get("host", "")),
        pid=int(data.get("pid", 0)),
        pages=int(data.get("pages", 0)),
        pages_per_s=round(float(data.get("pages_per_s", 0.0)), 2),
        in_flight=in_flight,
        last_heartbeat=datetime.fromtimestamp(beat, UTC).isoformat(timespec="seconds"),
        heartbeat_age_s=round(age, 1),
        state=state,
    )


def frontier_status(redis_url: str, *, prefix: str = "morgue") -> FrontierStatus:
    import redis

    keys = QueueKeys(prefix)
    client = connect(redis_url)
    try:
        # The client decodes answers (work_queue.connect): names and values are str.
        workers = {str(k): str(v) for k, v in client.hgetall(keys.workers).items()}
        crawls = [str(c) for c in client.hkeys(keys.crawls)]
        pipe = client.pipeline(transaction=False)
        pipe.get(keys.queued)
        pipe.llen(keys.dead)
        for name in workers:
            pipe.zcard(keys.leases(name))
        for crawl in crawls:
            pipe.scard(keys.seen(crawl))
        answers = pipe.execute()
    except redis.RedisError as exc:
        raise redis_unreachable(redis_url, exc) from exc
    finally:
        client.close()
    queued, dead = int(answers[0] or 0), int(answers[1])
    leases = [int(n) for n in answers[2 : 2 + len(workers)]]
    seen = sum(int(n) for n in answers[2 + len(workers) :])
    now = time.time()
    listed = [
        _worker(name, raw, held, now)
        for (name, raw), held in zip(workers.items(), leases, strict=True)
    ]
    listed.sort(key=lambda w: w.worker)
    return FrontierStatus(queued, sum(leases), dead, seen, len(crawls), listed)
