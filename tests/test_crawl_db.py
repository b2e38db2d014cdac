"""The crawl's database side (archive/sources/registry.py), on SQLite and PostgreSQL: sources and
discoveries, which URLs are archived already, linking discoveries to pages, reconciled dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from archive.captures.record import CaptureRecord
from archive.captures.table import save_capture, start_run
from archive.db.engine import Database
from archive.db.models import Capture, Discovery, Source
from archive.extraction.article import Extraction
from archive.sources.registry import (
    SourceEntry,
    link_discoveries,
    prior_captures,
    reconcile_published,
    record_discoveries,
    register_source,
)
from archive.warc.records import RecordLocation

T0 = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)


def _capture(
    db: Database,
    url: str,
    *,
    verdict: str = "ok",
    published: str | None = None,
    canonical: str | None = None,
    run_id: int | None = None,
    fetched_at: datetime | None = None,
) -> int:
    return save_capture(
        db,
        CaptureRecord(
            url=url,
            fetched_at=fetched_at or datetime.now(UTC),
            verdict=verdict,
            reason="http_200" if verdict == "ok" else "http_404",
            http_status=200 if verdict == "ok" else 404,
            response=RecordLocation("f.warc.gz", 10, 20, "<urn:uuid:1>", "sha1:AAAA"),
            extraction=Extraction(
                title="T", text="Some text.", published=published, canonical_url=canonical
            ),
            run_id=run_id,
        ),
    )


def test_sources_and_discoveries_are_upserted(database: Database) -> None:
    source = register_source(database, "feed", "https://c.example/rss")
    assert register_source(database, "feed", "https://c.example/rss") == source
    entries = [
        SourceEntry("https://c.example/a", published=T0, title="A", language="en"),
        SourceEntry("https://c.example/b"),
    ]
    assert record_discoveries(database, source, entries, None) == 2
    later = [SourceEntry("https://c.example/b", published=T0 + timedelta(hours=1), title="B")]
    assert record_discoveries(database, source, later + entries[:1], None) == 0
    with database.session(readonly=True) as session:
        (row,) = session.scalars(select(Source)).all()
        assert row.polls == 2 and row.last_polled_at is not None
        found = {d.url: d for d in session.scalars(select(Discovery))}
    assert len(found) == 2
    # A later sighting fills in what the first lacked, and keeps what it had.
    assert found["https://c.example/b"].title == "B"
    assert found["https://c.example/b"].published == T0 + timedelta(hours=1)
    assert found["https://c.example/a"].published == T0
    assert found["https://c.example/b"].last_seen_at >= found["https://c.example/b"].first_seen_at


def test_prior_captures_match_normalised_and_canonical_urls(database: Database) -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    _capture(database, "https://c.example/a", fetched_at=old)
    newer = _capture(database, "https://c.example/a?utm_source=x")
    _capture(database, "https://c.example/gone", verdict="not_found")
    # An AMP URL that declares the article's canonical URL is filed under it.
    _capture(database, "https://c.example/amp/b", canonical="https://c.example/b")
    found = prior_captures(
        database,
        [
            "https://c.example/a?utm_medium=rss",
            "https://c.example/gone",
            "https://c.example/b",
            "https://c.example/amp/b",
            "https://c.example/new",
            "not a url",
        ],
    )
    assert set(found) == {
        "https://c.example/a?utm_medium=rss",
        "https://c.example/b",
        "https://c.example/amp/b",
    }
    with database.session(readonly=True) as session:
        newest = session.get(Capture, newer)
        assert newest is not None
    assert found["https://c.example/a?utm_medium=rss"].fetched_at == newest.fetched_at
    assert found["https://c.example/b"].payload_digest == "sha1:AAAA"


def test_discoveries_are_linked_and_dates_reconciled(database: Database) -> None:
    run_id = start_run(database, "crawl", {})
    source = register_source(database, "sitemap", "https://c.example/news.xml")
    record_discoveries(
        database,
        source,
        [
            SourceEntry("https://c.example/undated", published=T0),
            SourceEntry("https://c.example/dated?utm_source=sm", published=T0),
            SourceEntry("https://c.example/amp/c", published=T0),
            SourceEntry("https://c.example/never-fetched", published=T0),
        ],
        run_id,
    )
    undated = _capture(database, "https://c.example/undated", run_id=run_id)
    dated = _capture(database, "https://c.example/dated", published="2026-11-01", run_id=run_id)
    amp = _capture(
        database, "https://c.example/amp/c", canonical="https://c.example/c", run_id=run_id
    )
    assert link_discoveries(database) == 3
    assert link_discoveries(database) == 0
    assert reconcile_published(database, run_id) == 2
    with database.session(readonly=True) as session:
        links = {d.url: d.page_id for d in session.scalars(select(Discovery))}
        captures = {c.id: c for c in session.scalars(select(Capture))}
    assert links["https://c.example/never-fetched"] is None
    assert links["https://c.example/amp/c"] == captures[amp].page_id  # the canonical page
    assert captures[undated].published == "2026-11-20"  # from the sitemap
    assert captures[dated].published == "2026-11-01"  # the page's own date wins
    assert captures[amp].published == "2026-11-20"
