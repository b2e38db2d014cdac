"""Link-rot monitoring queries: which archived pages to check again, and what an article cites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from archive.captures.table import latest_capture
from archive.db.engine import Database, one_of
from archive.db.models import PAGE_STATES, Capture, Link, Page
from archive.exceptions import InvalidInput
from archive.liveness.verdicts import check_verdicts

__all__ = ["cited_links", "page_states", "pages_to_recheck"]


def pages_to_recheck(
    db: Database,
    *,
    verdicts: list[str] | None = None,
    older_than: timedelta | None = None,
    domain: str | None = None,
    state: str | None = None,
    url_prefix: str | None = None,
    urls: Sequence[str] = (),
    limit: int | None = None,
    now: datetime | None = None,
) -> list[str]:
    """URLs of pages whose newest live-web capture matches, least recently checked first.

    The URL fetched again is the one last requested (as given, not normalised), so that a
    recheck asks the server exactly what the first capture did. ``urls`` limits the recheck to
    those pages (any form of their URL); one that is not in the archive is bad input.
    """
    if state is not None and state not in PAGE_STATES:
        raise InvalidInput(f"invalid state {state!r}: use one of {', '.join(PAGE_STATES)}")
    check_verdicts(verdicts or ())
    page_ids: list[int] = []
    for url in urls:
        known = latest_capture(db, url)
        if known is None:
            raise InvalidInput(f"no capture of {url} in the archive (archive it first)")
        page_ids.append(known.page_id)
    newest = (
        select(Capture.page_id, func.max(Capture.fetched_at).label("at"))
        .where(Capture.recovered_from.is_(None))
        .group_by(Capture.page_id)
        .subquery()
    )
    stmt = (
        select(Capture.url, Capture.fetched_at, Capture.id)
        .join(newest, (Capture.page_id == newest.c.page_id) & (Capture.fetched_at == newest.c.at))
        .join(Page, Page.id == Capture.page_id)
        .where(Capture.recovered_from.is_(None))
    )
    if verdicts:
        stmt = stmt.where(Capture.verdict.in_(verdicts))
    if older_than is not None:
        stmt = stmt.where(Capture.fetched_at < (now or datetime.now(UTC)) - older_than)
    if domain:
        host = domain.lower().strip().lstrip(".")
        stmt = stmt.where((Page.host == host) | Page.host.endswith("." + host))
    if state is not None:
        stmt = stmt.where(Page.state == state)
    if url_prefix:
        stmt = stmt.where(Capture.url.startswith(url_prefix, autoescape=True))
    if urls:
        stmt = stmt.where(Capture.page_id.in_(page_ids))
    stmt = stmt.order_by(Capture.fetched_at, Capture.id)
    with db.session(readonly=True) as session:
        urls = [url for url, _at, _id in session.execute(stmt)]
    urls = list(dict.fromkeys(urls))
    return urls[:limit] if limit else urls


def cited_links(db: Database, url: str) -> tuple[Capture | None, list[Link]]:
    """The newest capture of ``url`` that has cited links, and those links in page order.

    Falls back to the newest capture (with no links) when none has any.
    """
    newest = latest_capture(db, url)
    if newest is None:
        return None, []
    stmt = (
        select(Capture)
        .where(Capture.page_id == newest.page_id, Capture.links.any())
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    with db.session(readonly=True) as session:
        capture = session.scalars(stmt).first()
        if capture is None:
            return newest, []
        links = list(capture.links)
        session.expunge_all()
    return capture, links


def page_states(db: Database, capture_ids: list[int]) -> dict[int, str | None]:
    """The current state of the page of each capture."""
    states: dict[int, str | None] = {}
    with db.session(readonly=True) as session:
        for listed in one_of(Capture.id, capture_ids, db.dialect):
            stmt = (
                select(Capture.id, Page.state).join(Page, Page.id == Capture.page_id).where(listed)
            )
            states.update((capture_id, state) for capture_id, state in session.execute(stmt))
    return states
