"""A small, hand-written set of captures for the query, search, history and stats tests.

Every article below was written for these tests. ``fill(db)`` stores them through
``archive.captures.table`` (as the crawler does), sets page states directly, and returns the capture
ids by name, so a test can say exactly which rows a filter must return.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from archive.captures.record import CaptureRecord
from archive.captures.table import save_capture
from archive.db.engine import Database
from archive.db.models import Page
from archive.extraction.article import Extraction
from archive.urls import normalise_url
from archive.warc.records import RecordLocation

__all__ = ["CAPTURES", "STATES", "day", "fill"]


def day(d: int, hour: int = 12) -> datetime:
    return datetime(2024, 6, d, hour, 0, tzinfo=UTC)


# name: (url, fetched_at, verdict, reason, status, title, text)
CAPTURES: dict[str, tuple[str, datetime, str, str, int | None, str | None, str | None]] = {
    "budget": (
        "https://news.example/2024/council-budget",
        day(1),
        "ok",
        "http_200",
        200,
        "Council approves budget",
        "The town council approved next year's budget on Friday after a long debate about "
        "the road levy. Councillors voted five to two.",
    ),
    "flood": (
        "https://news.example/2024/river-flood",
        day(2),
        "ok",
        "http_200",
        200,
        "River flood warning issued",
        "Forecasters issued a flood warning for the valley as the river rose overnight. "
        "Sandbags are available at the fire station.",
    ),
    "flood_gone": (
        "https://news.example/2024/river-flood",
        day(10),
        "not_found",
        "http_404",
        404,
        "Page not found",
        None,
    ),
    "library": (
        "https://www.news.example/2024/library",
        day(3),
        "ok",
        "http_200",
        200,
        "Library reopens after renovation",
        "The public library reopened its doors with a new reading room, a café and a hall "
        "for school visits. Librarians expect more visitors in summer.",
    ),
    "school": (
        "https://other.example/story/school-bus",
        day(4),
        "soft_404",
        "error_stub",
        200,
        "Sorry, this page is not available",
        "The page you are looking for has been removed.",
    ),
    "blocked": (
        "https://blocked.example/a",
        day(5, 8),
        "blocked",
        "http_403",
        403,
        None,
        None,
    ),
    "market": (
        "https://sub.news.example/market",
        day(5, 23),
        "ok",
        "http_200",
        200,
        "Farmers market moves to the square",
        "The weekly farmers market will move to the town square from July. Stall holders "
        "welcomed the change; the budget for new awnings is modest.",
    ),
    "decoy": (
        "https://notnews.example/y",
        day(6),
        "ok",
        "http_200",
        200,
        "Weather this week",
        "Sunny days ahead with light winds and no rain in sight.",
    ),
}

STATES = {
    "https://news.example/2024/council-budget": ("alive", None),
    "https://news.example/2024/river-flood": ("dead_suspected", day(10)),
    "https://www.news.example/2024/library": ("alive", None),
    "https://other.example/story/school-bus": ("dead_confirmed", day(4)),
}


def _record(values: tuple[Any, ...], serial: int) -> CaptureRecord:
    url, fetched_at, verdict, reason, status, title, text = values
    extraction = None
    if title or text:
        extraction = Extraction(title=title, text=text, language="en", site_name="Example")
    return CaptureRecord(
        url=url,
        fetched_at=fetched_at,
        verdict=verdict,
        reason=reason,
        final_url=url if status else None,
        http_status=status,
        content_type="text/html; charset=utf-8" if status else None,
        response=RecordLocation(
            file="morgue-test.warc.gz",
            offset=serial * 1000,
            length=900,
            record_id=f"<urn:uuid:00000000-0000-0000-0000-{serial:012d}>",
            payload_digest=f"sha1:{serial:032d}",
        )
        if status
        else None,
        extraction=extraction,
    )


def fill(db: Database) -> dict[str, int]:
    """Store ``CAPTURES`` (in that order) and ``STATES``; capture ids by name."""
    ids = {
        name: save_capture(db, _record(values, serial))
        for serial, (name, values) in enumerate(CAPTURES.items(), start=1)
    }
    with db.session() as session:
        # The store derives states from the captures (tests/test_pagestate.py); here they are
        # set by hand, so that the filter is tested on states chosen for it.
        session.execute(update(Page).values(state=None, dead_since=None))
        for url, (state, dead_since) in STATES.items():
            session.execute(
                update(Page)
                .where(Page.url == normalise_url(url))
                .values(state=state, dead_since=dead_since)
            )
    return ids
