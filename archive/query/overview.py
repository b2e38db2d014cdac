"""What a dashboard shows of an archive: verdict counts, dying pages, runs, where a page was listed.

Each function is one small read, cheap on a large archive (an index serves it): the web UI
calls several per page view. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from archive.db.engine import Database
from archive.db.models import Capture, Discovery, Page, Run, Source

__all__ = [
    "DeadPage",
    "DeadTimeline",
    "Listing",
    "dead_pages",
    "dead_per_domain",
    "get_page",
    "page_listings",
    "recent_runs",
    "soft404_reasons",
    "verdict_counts",
]

DYING_STATES = ("dead_suspected", "dead_confirmed")


@dataclass(frozen=True, slots=True)
class DeadPage:
    page_id: int
    url: str
    host: str
    state: str
    dead_since: datetime | None


@dataclass(frozen=True, slots=True)
class DeadTimeline:
    """Pages that died per week (the Monday that starts it) for the hosts with the most."""

    weeks: list[date]
    hosts: dict[str, list[int]]  # host -> one count per week, in ``weeks`` order


@dataclass(frozen=True, slots=True)
class Listing:
    """A feed, sitemap or site page that listed a page."""

    kind: str
    source_url: str
    first_seen_at: datetime
    last_seen_at: datetime
    title: str | None


def verdict_counts(db: Database) -> dict[str, int]:
    """Captures per verdict, most first."""
    with db.session(readonly=True) as session:
        rows = session.execute(select(Capture.verdict, func.count()).group_by(Capture.verdict))
        counts = {str(verdict): int(count) for verdict, count in rows}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def dead_pages(
    db: Database,
    *,
    states: tuple[str, ...] = DYING_STATES,
    since: datetime | None = None,
    limit: int = 50,
) -> list[DeadPage]:
    """Pages in one of ``states``, most recently dead first (dead at or after ``since``)."""
    stmt = select(Page.id, Page.url, Page.host, Page.state, Page.dead_since).where(
        Page.state.in_(states)
    )
    if since is not None:
        stmt = stmt.where(Page.dead_since >= since)
    stmt = stmt.order_by(Page.dead_since.desc(), Page.id.desc()).limit(limit)
    with db.session(readonly=True) as session:
        return [
            DeadPage(int(page_id), str(url), str(host), str(state), dead_since)
            for page_id, url, host, state, dead_since in session.execute(stmt)
        ]


def _monday(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def dead_per_domain(
    db: Database, *, weeks: int = 12, top: int = 6, now: datetime | None = None
) -> DeadTimeline:
    """How many pages died each of the last ``weeks`` weeks, for the ``top`` hosts with most."""
    end = _monday(now or datetime.now(UTC))
    first = end - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    stmt = select(Page.host, Page.dead_since).where(
        Page.state.in_(DYING_STATES), Page.dead_since >= start
    )
    with db.session(readonly=True) as session:
        rows = [(str(host), dead_since) for host, dead_since in session.execute(stmt)]
    week_list = [first + timedelta(weeks=i) for i in range(weeks)]
    index = {week: i for i, week in enumerate(week_list)}
    per_host: dict[str, list[int]] = {}
    for host, dead_since in rows:
        slot = index.get(_monday(dead_since)) if dead_since is not None else None
        if slot is not None:
            per_host.setdefault(host, [0] * weeks)[slot] += 1
    ranked = sorted(per_host.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:top]
    return DeadTimeline(week_list, dict(ranked))


def soft404_reasons(db: Database) -> list[tuple[str, int]]:
    """Why captures were judged soft 404s: each reason with its count, most first."""
    stmt = (
        select(Capture.reason, func.count())
        .where(Capture.verdict == "soft_404")
        .group_by(Capture.reason)
    )
    with db.session(readonly=True) as session:
        rows = [(str(reason), int(count)) for reason, count in session.execute(stmt)]
    return sorted(rows, key=lambda kv: (-kv[1], kv[0]))


def get_page(db: Database, page_id: int) -> Page | None:
    with db.session(readonly=True) as session:
        return session.get(Page, page_id)


def page_listings(db: Database, page_id: int) -> list[Listing]:
    """The sources that listed the page, the most recently seen first."""
    stmt = (
        select(
            Source.kind,
            Source.url,
            Discovery.first_seen_at,
            Discovery.last_seen_at,
            Discovery.title,
        )
        .join(Source, Source.id == Discovery.source_id)
        .where(Discovery.page_id == page_id)
        .order_by(Discovery.last_seen_at.desc())
    )
    with db.session(readonly=True) as session:
        return [Listing(*row) for row in session.execute(stmt)]


def recent_runs(db: Database, limit: int = 50) -> list[Run]:
    """The newest runs first."""
    stmt = select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
    with db.session(readonly=True) as session:
        return list(session.scalars(stmt))
