"""Scheduled crawls in the DB: defining them, listing them, and the lease that guards a run.

A schedule holds the arguments of a ``morgue crawl`` and when to run it (``every_s`` seconds or a
cron expression); ``archive.runs.schedule_runner`` runs the due ones. The lock is a lease on the
schedule's row, taken with a conditional UPDATE (works the same on SQLite and PostgreSQL) and
renewed while the crawl runs, so a runner that dies leaves a lease that expires. Each run is
recorded in ``schedule_runs`` with its crawl's summary.

With ``adaptive``, the interval halves after a run that found new entries and grows by half after
one that found none, within ``min_interval_s`` and ``max_interval_s``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from archive.db.engine import Database
from archive.db.models import Schedule, ScheduleRun
from archive.exceptions import DatabaseError, InvalidInput

__all__ = [
    "LEASE_TTL_S",
    "ScheduleInfo",
    "acquire_lease",
    "add_schedule",
    "attach_run",
    "due_schedules",
    "list_schedules",
    "next_interval",
    "release_lease",
    "remove_schedule",
    "renew_lease",
    "schedules_without_request",
    "set_crawl_request",
]

logger = logging.getLogger(__name__)

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


def schedules_without_request(db: Database) -> list[tuple[str, list[str]]]:
    """Schedules stored before their crawl request was kept: (name, crawl arguments)."""
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Schedule.name, Schedule.crawl_args).where(Schedule.crawl_request.is_(None))
        ).all()
    return [(name, list(args)) for name, args in rows]


def set_crawl_request(db: Database, name: str, crawl_request: Mapping[str, Any]) -> None:
    """Keep the crawl request of a schedule stored before requests were kept."""
    with db.session() as session:
        sched = session.scalars(select(Schedule).where(Schedule.name == name)).first()
        if sched is not None:
            sched.crawl_request = dict(crawl_request)


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
    crawl_request: Mapping[str, Any] | None = None,
) -> None:
    """Store a new schedule; it is due at once (``every``) or at the next cron time.

    ``crawl_args`` are the arguments as the user gave them (shown by ``schedule list``);
    ``crawl_request`` is the crawl they stand for (``archive.runs.crawling.request_json``), which
    the scheduler runs.
    """
    if not _NAME_RE.match(name):
        raise InvalidInput(
            f"invalid schedule name {name!r}: letters, digits, '.', '_' and '-', up to 100"
        )
    if (every_s is None) == (cron is None):
        raise InvalidInput("give exactly one of --every and --cron")
    if every_s is not None and every_s < 1:
        raise InvalidInput("--every must be at least 1s")
    from croniter import croniter  # imported here: it runs `file` on the Python binary

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
            # Left unset, not None, when there is none: SQL NULL, which JSON None is not.
            extra = {"crawl_request": dict(crawl_request)} if crawl_request is not None else {}
            session.add(
                Schedule(
                    **extra,
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


# -- after a run -----------------------------------------------------------------------------


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
