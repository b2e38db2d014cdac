"""Page claims: overlapping crawls share the work, and no page is archived twice by them.

Before a crawl requests pages it claims them, a batch at a time, and fetches only those it got:
a page held by another live run is left to it. A claim of a run that is no longer running, or
is dead by its heartbeat (archive.db.heartbeat), is void and taken over. A run's claims are released
when it ends (``finish_run``). A claim is taken before the crawl's last look at what is already
archived, so a page another run stored and released just before is seen as archived then.

Claims are rows of the shared database, so crawls on other hosts that store in it (PostgreSQL)
share the work the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.db.engine import Database
from archive.db.heartbeat import live_runs
from archive.db.models import Claim

__all__ = ["claim_key", "claim_pages", "release_claims"]

_CHUNK = 500  # URLs per statement: SQLite allows 32,766 variables, older builds 999


def claim_key(url: str) -> str:
    """The key of a normalised URL in the claims table."""
    return hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()


def claim_pages(db: Database, run_id: int, urls: Iterable[str]) -> set[str]:
    """Claim normalised ``urls`` for ``run_id``; returns those it now holds."""
    keys = {claim_key(url): url for url in urls}
    granted: set[str] = set()
    items = list(keys.items())
    for start in range(0, len(items), _CHUNK):
        chunk = dict(items[start : start + _CHUNK])
        with db.session() as session:
            granted.update(chunk[key] for key in _claim(session, run_id, chunk))
    return granted


def _claim(session: Session, run_id: int, chunk: dict[str, str]) -> list[str]:
    now = datetime.now(UTC)
    # In key order: two transactions inserting overlapping keys then wait for each other in
    # the same order, rather than deadlock (PostgreSQL).
    rows = [
        {"key": k, "url": u, "run_id": run_id, "claimed_at": now} for k, u in sorted(chunk.items())
    ]
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        session.execute(dialect_insert(Claim).values(rows).on_conflict_do_nothing())
    else:  # pragma: no cover - the two backends morgue supports both have ON CONFLICT
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(insert(Claim).values(row))
            except IntegrityError:
                pass
    held = session.execute(
        select(Claim.key, Claim.run_id).where(Claim.key.in_(list(chunk)), Claim.run_id != run_id)
    ).all()
    live = live_runs(session, {holder for _, holder in held})
    for holder in {holder for _, holder in held if holder not in live}:
        # Conditional on the holder: of two runs taking over the same void claim, one wins.
        session.execute(
            update(Claim)
            .where(Claim.key.in_([k for k, h in held if h == holder]), Claim.run_id == holder)
            .values(run_id=run_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return list(
        session.scalars(select(Claim.key).where(Claim.key.in_(list(chunk)), Claim.run_id == run_id))
    )


def release_claims(session: Session, run_id: int) -> None:
    """Drop the claims of a run that has ended."""
    session.execute(delete(Claim).where(Claim.run_id == run_id))
