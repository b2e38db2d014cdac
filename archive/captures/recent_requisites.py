"""Requisites fetched recently enough not to be fetched again: the freshness window.

A site's logo, stylesheets and fonts are the same on every article and from one day to the
next. Fetching them again for every run costs the publisher a request each and the archive a
revisit record each (about a kilobyte with its request record: on a news page with seventy
requisites, more than the page itself). Within ``REQUISITES_REFRESH_AFTER`` of a fetch that
archived a URL, a page that needs it gets a ``requisites`` row pointing at that earlier record
instead, as replay tools already do when they pick the closest capture of an image: the page
replays with it and ``morgue verify`` checks it like any other row. Past the window the URL is
fetched again (a revisit record when its bytes did not change), so that a requisite that does
change under one URL is seen again within the window.

Only rows that fetched something are looked at (not ``reused`` ones, which point at those), and
only answers worth keeping (2xx with a record): a requisite that failed is tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive.captures.record import RequisiteRecord
from archive.db.engine import Database
from archive.db.models import Requisite
from archive.exceptions import WarcError
from archive.warc.records import RecordLocation, read_record

__all__ = ["RecentRequisites"]

logger = logging.getLogger(__name__)

# URLs asked for in one query at most: a page's requisites fit in one or two.
_CHUNK = 200


class RecentRequisites:
    """Earlier fetches of requisite URLs, from the ``requisites`` table, within ``window``."""

    def __init__(self, db: Database, window: timedelta, warc_dir: Path) -> None:
        self.db = db
        self.window = window
        self.warc_dir = Path(warc_dir)

    def find(self, urls: Sequence[str], now: datetime) -> dict[str, RequisiteRecord]:
        """The newest fetch of each URL since ``now - window`` that archived a 2xx answer, as a
        ``reused`` record (its ``fetched_at`` the earlier fetch's); URLs not found are left out."""
        found: dict[str, RequisiteRecord] = {}
        if self.window <= timedelta(0):
            return found
        cutoff = now - self.window
        wanted = list(dict.fromkeys(urls))
        try:
            with self.db.session(readonly=True) as session:
                for start in range(0, len(wanted), _CHUNK):
                    stmt = (
                        select(Requisite)
                        .where(Requisite.url.in_(wanted[start : start + _CHUNK]))
                        .where(Requisite.reused.is_(False))
                        .where(Requisite.fetched_at >= cutoff)
                        .where(Requisite.http_status.between(200, 299))
                        .where(Requisite.error.is_(None))
                        .where(Requisite.warc_record_id.is_not(None))
                        .order_by(Requisite.fetched_at.desc(), Requisite.id.desc())
                    )
                    for row in session.scalars(stmt):
                        if row.url not in found:
                            found[row.url] = _record(row)
        except SQLAlchemyError as exc:
            # Without it the requisites are fetched again: more requests, nothing lost.
            logger.info("Cannot look up recent requisites: %s", exc)
            return {}
        return found

    def body(self, rec: RequisiteRecord) -> bytes | None:
        """The payload a found record holds (a stylesheet, whose own ``url()``s its page needs
        too), read back from the WARC file; a revisit's from the record it repeats. None when
        it cannot be read: the caller fetches the URL instead."""
        where = rec.record
        if rec.revisit:
            where = self._original(rec.payload_digest)
        if where is None:
            return None
        try:
            return read_record(self.warc_dir, where).content
        except WarcError as exc:
            logger.info("Cannot read back %s: %s", rec.url, exc)
            return None

    def _original(self, digest: str | None) -> RecordLocation | None:
        if digest is None:
            return None
        stmt = (
            select(Requisite)
            .where(Requisite.payload_digest == digest)
            .where(Requisite.revisit.is_(False))
            .where(Requisite.warc_file.is_not(None))
            .order_by(Requisite.id)
            .limit(1)
        )
        try:
            with self.db.session(readonly=True) as session:
                row = session.scalars(stmt).first()
                return _location(row) if row is not None else None
        except SQLAlchemyError as exc:
            logger.info("Cannot look up archived payloads: %s", exc)
            return None


def _location(row: Requisite) -> RecordLocation | None:
    if row.warc_file is None or row.warc_offset is None or row.warc_record_id is None:
        return None
    return RecordLocation(
        file=row.warc_file,
        offset=row.warc_offset,
        length=row.warc_length or 0,
        record_id=row.warc_record_id,
        payload_digest=row.payload_digest,
    )


def _record(row: Requisite) -> RequisiteRecord:
    return RequisiteRecord(
        url=row.url,
        kind=row.kind,
        fetched_at=row.fetched_at,
        http_status=row.http_status,
        content_type=row.content_type,
        size=row.size,
        payload_digest=row.payload_digest,
        record=_location(row),
        warc_date=row.warc_date,
        revisit=row.revisit,
        reused=True,
    )
