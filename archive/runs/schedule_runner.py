"""Running scheduled crawls: ``schedule run-due`` and the ``morgue scheduler`` loop.

Each due schedule runs the library's crawl (``archive.runs.crawling.run_crawl``, whose Scrapy crawl
runs in a child process) with the request the schedule keeps, while its runner holds the
schedule's lease (``archive.runs.schedules``), renewed by a heartbeat thread. The run is recorded in
``schedule_runs`` with its crawl's summary, and the schedule's next run time (and adaptive
interval) is set from it.

A schedule of ``morgue crawl --redis ...`` keeps the Redis in its request and is queued for the
workers instead (status ``enqueued``, the crawl id in its stats). Queuing is
``archive.distributed``'s, a layer above this one (its worker runs crawls through this layer): the
face that runs schedules hands its ``enqueue_crawl`` in as a ``CrawlEnqueuer``. Without one, such a
schedule fails its run rather than crawl in-process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.db.engine import Database
from archive.db.models import Run, Schedule, ScheduleRun
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput
from archive.paths import DataPaths
from archive.runs.crawling import (
    EXIT_NO_SOURCE,
    CrawlSpec,
    request_from_json,
    request_redis,
    run_crawl,
)
from archive.runs.schedules import (
    LEASE_TTL_S,
    acquire_lease,
    due_schedules,
    next_interval,
    release_lease,
    renew_lease,
)

__all__ = ["CrawlEnqueuer", "RunOutcome", "Scheduler", "run_due", "run_schedule"]

logger = logging.getLogger(__name__)

#: Failed sources of a scheduled run kept in its stats (the run's own summary has them all).
FAILED_SOURCES_KEPT = 5

#: Queues a crawl for the workers: (Redis URL, key prefix, spec) -> the crawl id it got.
CrawlEnqueuer = Callable[[str, str, CrawlSpec], str]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    name: str
    # finished, interrupted, failed, enqueued (for the workers), or skipped (another runner had it)
    status: str
    returncode: int | None
    stats: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "returncode": self.returncode,
            **self.stats,
        }


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_schedule(
    db: Database,
    name: str,
    data_dir: Path,
    *,
    lease_ttl_s: float = LEASE_TTL_S,
    on_start: Callable[[str], None] | None = None,
    enqueue: CrawlEnqueuer | None = None,
) -> RunOutcome:
    """Run one schedule now, in a child process (or queue it for the workers, with
    ``enqueue``), if its lease can be taken; record the run."""
    with db.session(readonly=True) as session:
        sched = session.scalars(select(Schedule).where(Schedule.name == name)).first()
    if sched is None:
        raise InvalidInput(f"no schedule named {name!r}")
    owner = _owner()
    if not acquire_lease(db, sched.id, owner, lease_ttl_s):
        return RunOutcome(name, "skipped", None, {})
    started = _now()
    try:
        with db.session() as session:
            row = ScheduleRun(schedule_id=sched.id, started_at=started, status="running")
            session.add(row)
            session.flush()
            schedule_run_id = row.id
        if on_start is not None:
            on_start(name)
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=_heartbeat, args=(db, sched.id, owner, lease_ttl_s, stop), daemon=True
        )
        heartbeat.start()
        try:
            redis = request_redis(sched.crawl_request or {})
            if redis is not None:
                returncode, queued = _enqueue(sched.crawl_request or {}, redis, enqueue, name)
            else:
                returncode = _crawl(db, sched.crawl_request, data_dir, schedule_run_id, name)
                queued = None
        finally:
            stop.set()
            heartbeat.join()
        return _record(db, sched.id, schedule_run_id, returncode, started, name, queued)
    finally:
        release_lease(db, sched.id, owner)


def _crawl(
    db: Database,
    request: dict[str, Any] | None,
    data_dir: Path,
    schedule_run_id: int,
    name: str,
) -> int:
    """Run a schedule's crawl; its exit status as ``morgue crawl`` would have it."""
    if request is None:
        # Stored before schedules kept their request, and not yet filled in by the CLI.
        logger.error("Schedule %s has no crawl request: run it once from the CLI", name)
        return 1
    spec, overrides = request_from_json(request)
    try:
        summary, result = run_crawl(
            DataPaths(data_dir, db.url), spec, overrides, schedule_run=schedule_run_id
        )
    except ArchiveError as exc:
        logger.error("Scheduled crawl %s failed: %s", name, exc)
        return 1
    if result.interrupted:
        return 130
    return EXIT_NO_SOURCE if summary.all_sources_failed else 0


def _enqueue(
    request: dict[str, Any],
    redis: tuple[str, str],
    enqueue: CrawlEnqueuer | None,
    name: str,
) -> tuple[int, dict[str, Any] | None]:
    """Queue a schedule's crawl for the workers: its exit status, and what it queued (or the
    error that kept it from being queued)."""
    if enqueue is None:
        # Never crawled in-process instead: the schedule says the workers do it.
        error = "this runner cannot queue crawls for workers"
        logger.error("Schedule %s: %s", name, error)
        return 1, {"error": error}
    spec, _ = request_from_json(request)  # the fetch settings are the workers' own
    url, prefix = redis
    try:
        crawl = enqueue(url, prefix, spec)
    except ArchiveError as exc:
        logger.error("Scheduled crawl %s could not be queued: %s", name, exc)
        return 1, {"error": str(exc)}
    return 0, {"crawl": crawl, "queued": len(spec.roots)}


def _heartbeat(
    db: Database, schedule_id: int, owner: str, ttl_s: float, stop: threading.Event
) -> None:
    while not stop.wait(ttl_s / 3):
        try:
            renew_lease(db, schedule_id, owner, ttl_s)
        except DatabaseError as exc:  # pragma: no cover - the lease then simply expires
            logger.warning("Cannot renew the lease of schedule %d: %s", schedule_id, exc)


def _record(
    db: Database,
    schedule_id: int,
    schedule_run_id: int,
    returncode: int,
    started: datetime,
    name: str,
    queued: dict[str, Any] | None = None,
) -> RunOutcome:
    finished = _now()
    with db.session() as session:
        row = session.get(ScheduleRun, schedule_run_id)
        sched = session.get(Schedule, schedule_id)
        assert row is not None
        run = session.get(Run, row.run_id) if row.run_id is not None else None
        summary = dict((run.stats or {}).get("summary") or {}) if run is not None else {}
        if queued is not None and returncode == 0:
            status = "enqueued"
        elif returncode == 0:
            status = run.status if run is not None else "failed"
        else:
            status = "interrupted" if returncode in (130, -2) else "failed"
        stats = {
            "pages": summary.get("pages", 0),
            "verdicts": summary.get("verdicts", {}),
            "new_entries": summary.get("new_entries", 0),
            "errors": summary.get("errors", 0) + (0 if returncode == 0 else 1),
            "duration_s": round((finished - started).total_seconds(), 3),
            # So that `schedule list` shows a source that keeps failing, and why.
            "failed_sources": [
                {key: failed.get(key) for key in ("kind", "url", "reason")}
                for failed in (summary.get("failed_sources") or [])[:FAILED_SOURCES_KEPT]
            ],
            **(queued or {}),
        }
        row.finished_at = finished
        row.status = status
        row.returncode = returncode
        row.stats = stats
        if sched is not None:
            sched.last_run_at = started
            if queued is None:  # what a queued crawl finds is not known here: interval kept
                sched.interval_s = next_interval(sched, int(stats["new_entries"]))
            if sched.cron:
                from croniter import croniter  # slow to import: see archive.runs.schedules

                sched.next_run_at = croniter(sched.cron, finished).get_next(datetime)
            else:
                sched.next_run_at = started + timedelta(seconds=sched.interval_s or 0)
                if sched.next_run_at < finished:
                    sched.next_run_at = finished  # overran its interval: due again now
    return RunOutcome(name, status, returncode, stats)


def run_due(
    db: Database,
    data_dir: Path,
    *,
    now: datetime | None = None,
    lease_ttl_s: float = LEASE_TTL_S,
    enqueue: CrawlEnqueuer | None = None,
) -> list[RunOutcome]:
    """Run every due schedule, in parallel (one process each), and wait for them all."""
    due = due_schedules(db, now)
    outcomes: list[RunOutcome] = []
    lock = threading.Lock()

    def one(name: str) -> None:
        outcome = run_schedule(db, name, data_dir, lease_ttl_s=lease_ttl_s, enqueue=enqueue)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(name,)) for _, name in due]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes, key=lambda o: o.name)


class Scheduler:
    """The long-running loop of ``morgue scheduler``: start due schedules every ``tick_s``."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        *,
        tick_s: float = 30.0,
        max_parallel: int = 4,
        lease_ttl_s: float = LEASE_TTL_S,
        on_outcome: Callable[[RunOutcome], None] | None = None,
        on_start: Callable[[str], None] | None = None,
        enqueue: CrawlEnqueuer | None = None,
    ) -> None:
        self.db = db
        self.enqueue = enqueue
        self.data_dir = data_dir
        self.tick_s = tick_s
        self.max_parallel = max_parallel
        self.lease_ttl_s = lease_ttl_s
        self.on_outcome = on_outcome
        self.on_start = on_start
        self.running: dict[str, threading.Thread] = {}
        self.stopping = threading.Event()

    def tick(self) -> None:
        for name, thread in list(self.running.items()):
            if not thread.is_alive():
                del self.running[name]
        for _, name in due_schedules(self.db):
            if name in self.running or len(self.running) >= self.max_parallel:
                continue
            thread = threading.Thread(target=self._run, args=(name,), daemon=True)
            self.running[name] = thread
            thread.start()

    def _run(self, name: str) -> None:
        try:
            outcome = run_schedule(
                self.db,
                name,
                self.data_dir,
                lease_ttl_s=self.lease_ttl_s,
                on_start=self.on_start,
                enqueue=self.enqueue,
            )
        except Exception as exc:  # a schedule removed meanwhile, a DB hiccup: log, go on
            logger.error("Schedule %s failed to run: %s", name, exc)
            return
        if self.on_outcome is not None and outcome.status != "skipped":
            self.on_outcome(outcome)

    def run(self, time_limit_s: float | None = None) -> None:
        """Tick until stopped (or ``time_limit_s`` passed); then wait for running crawls."""
        deadline = time.monotonic() + time_limit_s if time_limit_s is not None else None
        try:
            while not self.stopping.is_set():
                self.tick()
                wait = self.tick_s
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                self.stopping.wait(wait)
        finally:
            for thread in list(self.running.values()):
                thread.join()
