"""Scheduled crawls: placeholder, filled in below."""

from __future__ import annotations

from archive.db import Database
from archive.models import ScheduleRun

__all__ = ["attach_run"]


def attach_run(db: Database, schedule_run_id: int, run_id: int) -> None:
    """Link a schedule's run to the crawl run it started."""
    with db.session() as session:
        row = session.get(ScheduleRun, schedule_run_id)
        if row is not None:
            row.run_id = run_id
