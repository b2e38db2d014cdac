"""When pages were last stored: what tells an unstored record (``archive.integrity.unstored``)
that the page it holds was stored again by another process after it was written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from archive.db.engine import Database
from archive.db.models import Capture, Page
from archive.exceptions import InvalidURL
from archive.urls import normalise_url

__all__ = ["last_stored"]

_BATCH = 500


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _key(url: str) -> str | None:
    try:
        return normalise_url(url)
    except InvalidURL:
        return None


def last_stored(db: Database, urls: list[str]) -> dict[str, datetime]:
    """When each URL (as requested, or its page's normalised URL) was last stored."""
    keys = sorted({k for k in (_key(u) for u in urls) if k})
    latest: dict[str, datetime] = {}
    with db.session(readonly=True) as session:
        for start in range(0, len(keys), _BATCH):
            rows = session.execute(
                select(Page.url, Page.last_captured_at).where(
                    Page.url.in_(keys[start : start + _BATCH]),
                    Page.last_captured_at.is_not(None),
                )
            )
            latest.update({url: _aware(when) for url, when in rows if when is not None})
        forms = sorted(set(urls))
        for start in range(0, len(forms), _BATCH):
            rows = session.execute(
                select(Capture.url, func.max(Capture.fetched_at))
                .where(Capture.url.in_(forms[start : start + _BATCH]))
                .group_by(Capture.url)
            )
            for url, when in rows:
                if when is not None and (url not in latest or _aware(when) > latest[url]):
                    latest[url] = _aware(when)
    return latest
