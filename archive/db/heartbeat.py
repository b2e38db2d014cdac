"""Which runs are alive: the heartbeat a crawl's process keeps in its ``runs`` row.

The process doing a run's work (the crawl process, or the CLI until that one starts) writes its
host and pid and, every ``HEARTBEAT_INTERVAL`` seconds, ``heartbeat_at`` and ``alive_until``
(``MISSED_BEATS`` intervals later). A ``running`` run is dead when ``alive_until`` has passed, on
whatever host it ran (clocks are assumed to agree, as NTP keeps them), or at once when its
process on this very host is gone. A dead run is recorded ``interrupted`` and its page claims
(archive.db.claims) are void.

Runs from before migration 0007 have no heartbeat: such a crawl run is judged by the pid its CLI
recorded in ``args``, on its own host only, as before.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.db.engine import Database
from archive.db.models import Claim, Run

__all__ = [
    "HEARTBEAT_INTERVAL",
    "MISSED_BEATS",
    "beat",
    "close_dead_runs",
    "live_runs",
    "pid_alive",
]

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 30.0  # seconds between two beats of a crawl process
MISSED_BEATS = 4  # beats a run may miss (a long pause, a busy database) before it is dead


def _now() -> datetime:
    return datetime.now(UTC)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed crawl process is handed to init, which may take its time to reap it: until then
    # it is a zombie, which signal 0 cannot tell from a live process.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # gone since; or no /proc (not Linux)
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])


def beat(
    db: Database,
    run_id: int,
    *,
    interval: float = HEARTBEAT_INTERVAL,
    pid: int | None = None,
    host: str | None = None,
) -> bool:
    """Renew a running run's heartbeat as this process's (or ``pid``'s); False if it is over."""
    now = _now()
    with db.session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(
                heartbeat_at=now,
                alive_until=now + timedelta(seconds=interval * MISSED_BEATS),
                host=host or socket.gethostname(),
                pid=pid or os.getpid(),
            )
        )
        return bool(getattr(result, "rowcount", 0))


def _is_dead(run: Run, now: datetime, host: str) -> bool:
    if run.alive_until is not None:
        if run.alive_until < now:
            return True
        return run.host == host and run.pid is not None and not pid_alive(run.pid)
    args = run.args or {}
    pid = args.get("pid")
    # Before heartbeats: a crawl's pid means something only on the host that recorded it.
    return (
        run.kind == "crawl"
        and args.get("host") == host
        and isinstance(pid, int)
        and (not pid_alive(pid))
    )


def live_runs(session: Session, run_ids: Iterable[int]) -> set[int]:
    """Those of ``run_ids`` that are running and not dead."""
    ids = set(run_ids)
    if not ids:
        return set()
    now, host = _now(), socket.gethostname()
    runs = session.scalars(select(Run).where(Run.id.in_(ids), Run.status == "running"))
    return {run.id for run in runs if not _is_dead(run, now, host)}


def close_dead_runs(session: Session) -> list[int]:
    """Record every dead ``running`` run as ``interrupted`` and void its claims; their ids."""
    now, host = _now(), socket.gethostname()
    dead = [
        run.id
        for run in session.scalars(select(Run).where(Run.status == "running"))
        if _is_dead(run, now, host)
    ]
    for run_id in dead:
        session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status="interrupted", finished_at=now)
        )
        session.execute(delete(Claim).where(Claim.run_id == run_id))
        logger.warning("Run %d was interrupted (its process is gone)", run_id)
    return dead
