"""Counts over the archive: captures by verdict, domain and day, pages by state.

Every count takes the same ``CaptureQuery`` filters as ``morgue query`` (its sort and limit are
ignored), so ``morgue stats --domain example.org --since 30d`` describes exactly the captures
``morgue query`` would list with those options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, func, select

from archive.db.engine import Database
from archive.db.models import UNKNOWN_STATE, Capture, Page
from archive.query.capture_query import CaptureQuery, filtered_ids

__all__ = ["ArchiveStats", "capture_stats"]


@dataclass(slots=True)
class ArchiveStats:
    captures: int = 0
    pages: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)  # pages; UNKNOWN_STATE when not set
    by_domain: list[tuple[str, int]] = field(default_factory=list)  # most captures first
    other_domains: int = 0  # captures of the domains past the top ones
    by_day: list[tuple[str, int]] = field(default_factory=list)  # oldest day first (UTC)
    first_day: str | None = None
    last_day: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "captures": self.captures,
            "pages": self.pages,
            "by_verdict": self.by_verdict,
            "by_state": self.by_state,
            "by_domain": [{"domain": d, "captures": n} for d, n in self.by_domain],
            "other_domains": self.other_domains,
            "by_day": [{"day": d, "captures": n} for d, n in self.by_day],
            "first_day": self.first_day,
            "last_day": self.last_day,
        }


def _day(db: Database) -> ColumnElement[str]:
    """The UTC day of ``fetched_at`` as ``YYYY-MM-DD`` text."""
    if db.dialect == "postgresql":
        return func.to_char(func.timezone("UTC", Capture.fetched_at), "YYYY-MM-DD", type_=String)
    # SQLite stores UTC text, "YYYY-MM-DD HH:MM:SS.ffffff".
    return func.substr(Capture.fetched_at, 1, 10, type_=String)


def capture_stats(
    db: Database, q: CaptureQuery | None = None, *, top: int = 10, days: int = 30
) -> ArchiveStats:
    """Counts for the captures ``q`` finds: ``top`` domains, the last ``days`` days with any."""
    stats = ArchiveStats()
    with db.session(readonly=True) as session:
        ids = filtered_ids(db, q or CaptureQuery(), session).subquery()
        chosen = Capture.id.in_(select(ids.c.id))
        for verdict, count in session.execute(
            select(Capture.verdict, func.count()).where(chosen).group_by(Capture.verdict)
        ):
            stats.by_verdict[verdict] = int(count)
        stats.by_verdict = dict(sorted(stats.by_verdict.items(), key=lambda kv: (-kv[1], kv[0])))
        stats.captures = sum(stats.by_verdict.values())
        page_ids = select(Capture.page_id).where(chosen).distinct().subquery()
        for state, count in session.execute(
            select(Page.state, func.count())
            .where(Page.id.in_(select(page_ids.c.page_id)))
            .group_by(Page.state)
        ):
            key = state or UNKNOWN_STATE
            stats.by_state[key] = stats.by_state.get(key, 0) + int(count)
        stats.pages = sum(stats.by_state.values())
        domains = [
            (str(host), int(count))
            for host, count in session.execute(
                select(Page.host, func.count())
                .select_from(Capture)
                .join(Capture.page)
                .where(chosen)
                .group_by(Page.host)
                .order_by(func.count().desc(), Page.host)
            )
        ]
        stats.by_domain = domains[:top]
        stats.other_domains = sum(count for _host, count in domains[top:])
        day = _day(db).label("day")
        per_day = [
            (str(d), int(count))
            for d, count in session.execute(
                select(day, func.count()).where(chosen).group_by(day).order_by(day.desc())
            )
        ]
    if per_day:
        stats.first_day, stats.last_day = per_day[-1][0], per_day[0][0]
    stats.by_day = list(reversed(per_day[:days]))
    return stats
