"""Scheduled crawls: stored in the DB, run when due, each in its own process, never twice at once.

A schedule holds the arguments of a ``morgue crawl`` and when to run it (``every_s`` seconds or a
cron expression). ``run_due`` and ``Scheduler`` start ``morgue crawl`` as a child process for
each due schedule (a Twisted reactor runs once per process). The lock is a lease on the
schedule's row, taken with a conditional UPDATE (works the same on SQLite and PostgreSQL) and
renewed while the crawl runs, so a runner that dies leaves a lease that expires. Each run is
recorded in ``schedule_runs`` with its crawl's summary.

With ``adaptive``, the interval halves after a run that found new entries and grows by half after
one that found none, within ``min_interval_s`` and ``max_interval_s``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from archive.db import Database
from archive.exceptions import DatabaseError, InvalidInput
from archive.models import Run, Schedule, ScheduleRun

__all__ = [
    "SCHEDULE_RUN_ENV",
    "RunOutcome",
    "ScheduleInfo",
    "Scheduler",
    "acquire_lease",
    "add_schedule",
    "attach_run",
    "due_schedules",
    "list_schedules",
    "next_interval",
    "release_lease",
    "remove_schedule",
    "run_due",
    "run_schedule",
]

logger = logging.getLogger(__name__)

SCHEDULE_RUN_ENV = "MORGUE_SCHEDULE_RUN_ID"  # tells `morgue crawl` which schedule run it is
LEASE_TTL_S = 300.0
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_FORBIDDEN_ARGS = ("--data-dir", "--db")
ADAPT_SHRINK = 0.5
ADAPT_GROW = 1.5


def _now() -> datetime:
    return datetime.now(UTC)


# -- defining schedules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """A schedule as ``schedule list`` shows it, with its last run."""

    name: str
    crawl_args: list[str]
    every_s: int | None
    cron: str | None
    adaptive: bool
    interval_s: int | None
    next_run_at: datetime
    running: bool
    last_run: dict[str, Any] | None
    runs: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "crawl_args": self.crawl_args,
            "every_s": self.every_s,
            "cron": self.cron,
            "adaptive": self.adaptive,
            "interval_s": self.interval_s,
            "next_run_at": self.next_run_at.isoformat().replace("+00:00", "Z"),
            "running": self.running,
            "runs": self.runs,
            "last_run": self.last_run,
        }


def _check_args(crawl_args: Sequence[str]) -> list[str]:
    for arg in crawl_args:
        if arg.split("=", 1)[0] in _FORBIDDEN_ARGS:
            raise InvalidInput(
                f"{arg.split('=', 1)[0]} belongs before `schedule add`, not in the crawl arguments"
            )
    return list(crawl_args)


def add_schedule(
    db: Database,
    name: str,
    crawl_args: Sequence[str],
    *,
    every_s: float | None = None,
    cron: str | None = None,
    adaptive: bool = False,
    min_interval_s: float | None = None,
    max_interval_s: float | None = None,
    now: datetime | None = None,
) -> None:
    """Store a new schedule; it is due at once (``every``) or at the next cron time."""
    if not _NAME_RE.match(name):
        raise InvalidInput(
            f"invalid schedule name {name!r}: letters, digits, '.', '_' and '-', up to 100"
        )
    if (every_s is None) == (cron is None):
        raise InvalidInput("give exactly one of --every and --cron")
    if every_s is not None and every_s < 1:
        raise InvalidInput("--every must be at least 1s")
    if cron is not None and not croniter.is_valid(cron):
        raise InvalidInput(f"invalid cron expression {cron!r}")
    if adaptive and every_s is None:
        raise InvalidInput("--adaptive needs --every (a cron schedule has fixed times)")
    now = now or _now()
    interval = int(every_s) if every_s is not None else None
    low = high = None
    if adaptive and interval is not None:
        low = int(min_interval_s) if min_interval_s is not None else max(interval // 4, 1)
        high = int(max_interval_s) if max_interval_s is not None else interval * 4
        if not low <= interval <= high:
            raise InvalidInput("the interval must lie between --min-interval and --max-interval")
    first = now if cron is None else croniter(cron, now).get_next(datetime)
    try:
        with db.session() as session:
            session.add(
                Schedule(
                    name=name,
                    crawl_args=_check_args(crawl_args),
                    every_s=interval,
                    cron=cron,
                    adaptive=adaptive,
                    min_interval_s=low,
                    max_interval_s=high,
                    interval_s=interval,
                    created_at=now,
                    next_run_at=first,
                )
            )
    except DatabaseError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise InvalidInput(f"a schedule named {name!r} exists already") from None
        raise


def remove_schedule(db: Database, name: str) -> None:
    with db.session() as session:
        result = session.execute(delete(Schedule).where(Schedule.name == name))
        if not getattr(result, "rowcount", 0):
            raise InvalidInput(f"no schedule named {name!r}")


def _run_json(row: ScheduleRun) -> dict[str, Any]:
    return {
        "started_at": row.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": row.finished_at.isoformat().replace("+00:00", "Z")
        if row.finished_at
        else None,
        "status": row.status,
        "run_id": row.run_id,
        **(row.stats or {}),
    }


def list_schedules(db: Database, now: datetime | None = None) -> list[ScheduleInfo]:
    now = now or _now()
    infos = []
    with db.session(readonly=True) as session:
        for sched in session.scalars(select(Schedule).order_by(Schedule.name)):
            last = session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.schedule_id == sched.id)
                .order_by(ScheduleRun.started_at.desc(), ScheduleRun.id.desc())
                .limit(1)
            ).first()
            count = len(
                session.scalars(
                    select(ScheduleRun.id).where(ScheduleRun.schedule_id == sched.id)
                ).all()
            )
            infos.append(
                ScheduleInfo(
                    name=sched.name,
                    crawl_args=list(sched.crawl_args),
                    every_s=sched.every_s,
                    cron=sched.cron,
                    adaptive=sched.adaptive,
                    interval_s=sched.interval_s,
                    next_run_at=sched.next_run_at,
                    running=sched.lease_until is not None and sched.lease_until > now,
                    last_run=_run_json(last) if last is not None else None,
                    runs=count,
                )
            )
    return infos


# -- the lease ----------------------------------------------------------------------------------


def acquire_lease(db: Database, schedule_id: int, owner: str, ttl_s: float = LEASE_TTL_S) -> bool:
    """Take the schedule's lease unless someone holds a live one; True when taken."""
    now = _now()
    with db.session() as session:
        result = session.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id)
            .where(or_(Schedule.lease_until.is_(None), Schedule.lease_until < now))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def renew_lease(db: Database, schedule_id: int, owner: str, ttl_s: float = LEASE_TTL_S) -> bool:
    with db.session() as session:
        result = session.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id, Schedule.lease_owner == owner)
            .values(lease_until=_now() + timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def release_lease(db: Database, schedule_id: int, owner: str) -> None:
    with db.session() as session:
        session.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id, Schedule.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def due_schedules(db: Database, now: datetime | None = None) -> list[tuple[int, str]]:
    """(id, name) of the schedules due now whose lease is free, soonest first."""
    now = now or _now()
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Schedule.id, Schedule.name)
            .where(Schedule.next_run_at <= now)
            .where(or_(Schedule.lease_until.is_(None), Schedule.lease_until < now))
            .order_by(Schedule.next_run_at)
        ).all()
    return [(int(i), str(n)) for i, n in rows]


# -- running ------------------------------------------------------------------------------------


def next_interval(sched: Schedule, new_entries: int) -> int | None:
    """The interval after a run: adapted to what the run found, within the bounds."""
    if not sched.adaptive or sched.interval_s is None:
        return sched.interval_s
    low = sched.min_interval_s or 1
    high = sched.max_interval_s or sched.interval_s
    factor = ADAPT_SHRINK if new_entries > 0 else ADAPT_GROW
    return int(min(max(round(sched.interval_s * factor), low), high))


def attach_run(db: Database, schedule_run_id: int, run_id: int) -> None:
    """Link a schedule's run to the crawl run it started (called by ``morgue crawl``)."""
    with db.session() as session:
        row = session.get(ScheduleRun, schedule_run_id)
        if row is not None:
            row.run_id = run_id


@dataclass(frozen=True, slots=True)
class RunOutcome:
    name: str
    status: str  # finished, interrupted, failed, or skipped (another runner had it)
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


def _crawl_command(crawl_args: Sequence[str]) -> list[str]:
    # The data dir and DB URL go in the environment: a password in a URL stays out of `ps`.
    return [sys.executable, "-m", "archive", "crawl", *crawl_args, "--format", "json"]


def run_schedule(
    db: Database,
    name: str,
    data_dir: Path,
    *,
    lease_ttl_s: float = LEASE_TTL_S,
    on_start: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run one schedule now, in a child process, if its lease can be taken; record the run."""
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
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"schedule-{name}-{schedule_run_id}.log"
        env = {
            **os.environ,
            SCHEDULE_RUN_ENV: str(schedule_run_id),
            "MORGUE_DATA_DIR": str(data_dir),
            "MORGUE_DB_URL": db.url,
        }
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=_heartbeat, args=(db, sched.id, owner, lease_ttl_s, stop), daemon=True
        )
        heartbeat.start()
        try:
            with open(log_path, "ab") as log:
                proc = subprocess.run(
                    _crawl_command(sched.crawl_args),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    env=env,
                    check=False,
                )
        finally:
            stop.set()
            heartbeat.join()
        return _record(db, sched.id, schedule_run_id, proc.returncode, started, name)
    finally:
        release_lease(db, sched.id, owner)


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
) -> RunOutcome:
    finished = _now()
    with db.session() as session:
        row = session.get(ScheduleRun, schedule_run_id)
        sched = session.get(Schedule, schedule_id)
        assert row is not None
        run = session.get(Run, row.run_id) if row.run_id is not None else None
        summary = dict((run.stats or {}).get("summary") or {}) if run is not None else {}
        if returncode == 0:
            status = run.status if run is not None else "failed"
        else:
            status = "interrupted" if returncode in (130, -2) else "failed"
        stats = {
            "pages": summary.get("pages", 0),
            "verdicts": summary.get("verdicts", {}),
            "new_entries": summary.get("new_entries", 0),
            "errors": summary.get("errors", 0) + (0 if returncode == 0 else 1),
            "duration_s": round((finished - started).total_seconds(), 3),
        }
        row.finished_at = finished
        row.status = status
        row.returncode = returncode
        row.stats = stats
        if sched is not None:
            sched.last_run_at = started
            sched.interval_s = next_interval(sched, int(stats["new_entries"]))
            if sched.cron:
                sched.next_run_at = croniter(sched.cron, finished).get_next(datetime)
            else:
                sched.next_run_at = started + timedelta(seconds=sched.interval_s or 0)
                if sched.next_run_at < finished:
                    sched.next_run_at = finished  # overran its interval: due again now
    return RunOutcome(name, status, returncode, stats)


def run_due(
    db: Database, data_dir: Path, *, now: datetime | None = None, lease_ttl_s: float = LEASE_TTL_S
) -> list[RunOutcome]:
    """Run every due schedule, in parallel (one process each), and wait for them all."""
    due = due_schedules(db, now)
    outcomes: list[RunOutcome] = []
    lock = threading.Lock()

    def one(name: str) -> None:
        outcome = run_schedule(db, name, data_dir, lease_ttl_s=lease_ttl_s)
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
    ) -> None:
        self.db = db
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
                self.db, name, self.data_dir, lease_ttl_s=self.lease_ttl_s, on_start=self.on_start
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
