"""Crawl sources in the database: feeds, sitemaps and sites, and the article URLs they list.

A crawl records each source it reads (``sources``) and each entry it finds there
(``discoveries``: the entry's date, news title and language). After the crawl, every discovery
is linked to the page its URL was filed under, and a capture whose page gave no publication date
takes the date its sources gave (``reconcile_published``: the one column of ``captures`` this
module writes). ``prior_captures`` tells a crawl which URLs are archived already, so that it
fetches only what is new (or due for a re-fetch).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from archive.db.engine import Database, one_of
from archive.db.models import Capture, Discovery, Page, Source
from archive.exceptions import InvalidURL, WarcError
from archive.sources.entries import SourceEntry
from archive.urls import normalise_url
from archive.warc.records import read_record

__all__ = [
    "SOURCE_KINDS",
    "PriorCapture",
    "SourceEntry",
    "link_discoveries",
    "prior_captures",
    "reconcile_published",
    "record_discoveries",
    "register_source",
    "sources_of_pages",
    "with_validators",
]

logger = logging.getLogger(__name__)

SOURCE_KINDS = ("feed", "sitemap", "site")


@dataclass(frozen=True, slots=True)
class PriorCapture:
    """The newest live capture of a URL: what a conditional re-fetch compares against."""

    url: str
    fetched_at: datetime
    http_status: int | None
    warc_file: str
    warc_offset: int
    warc_record_id: str | None
    payload_digest: str | None
    # Read from the WARC record by ``with_validators``:
    warc_date: str | None = None
    target_uri: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def with_validators(warc_dir: Path, prior: PriorCapture) -> PriorCapture:
    """``prior`` with the WARC date, target URI, ETag and Last-Modified of its record."""
    try:
        record = read_record(warc_dir, (prior.warc_file, prior.warc_offset))
    except WarcError as exc:
        logger.info("Cannot read the earlier capture of %s: %s", prior.url, exc)
        return prior
    warc = {k.lower(): v for k, v in record.warc_headers}
    http = {k.lower(): v for k, v in record.http_headers}
    return replace(
        prior,
        warc_date=warc.get("warc-date"),
        target_uri=warc.get("warc-target-uri"),
        etag=http.get("etag"),
        last_modified=http.get("last-modified"),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def register_source(db: Database, kind: str, url: str) -> int:
    """The id of the source row for ``kind``/``url``, created if new; counts one poll."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}")
    now = _now()
    with db.session() as session:
        stmt = (
            _insert(db.dialect)(Source)
            .values(kind=kind, url=url, first_seen_at=now, polls=0)
            .on_conflict_do_nothing(index_elements=["kind", "url"])
        )
        session.execute(stmt)
        session.execute(
            update(Source)
            .where(Source.kind == kind, Source.url == url)
            .values(last_polled_at=now, polls=Source.polls + 1)
        )
        found = session.scalar(select(Source.id).where(Source.kind == kind, Source.url == url))
        assert found is not None
        return found


# Core's view of the discoveries table, for statements run once with many parameter sets.
_DISCOVERIES = cast(Table, Discovery.__table__)


def record_discoveries(
    db: Database, source_id: int, entries: Iterable[SourceEntry], run_id: int | None
) -> int:
    """Upsert one discovery per entry; returns how many were new to this source.

    Any number of entries (a sitemap lists up to 50,000, a feed can list more): the known ones
    are looked up a chunk at a time, and all are written by one statement with many parameter
    sets.
    """
    batch = {entry.url: entry for entry in entries}
    if not batch:
        return 0
    now = _now()
    table = _DISCOVERIES
    with db.session() as session:
        known: set[str] = set()
        for listed in one_of(Discovery.url, batch, db.dialect):
            known.update(
                session.scalars(
                    select(Discovery.url).where(Discovery.source_id == source_id, listed)
                )
            )
        rows = [
            {
                "source_id": source_id,
                "url": url,
                "run_id": run_id,
                "first_seen_at": now,
                "last_seen_at": now,
                "published": entry.published,
                "title": entry.title,
                "language": entry.language,
            }
            for url, entry in batch.items()
        ]
        # One upsert for new and known entries alike: a known one keeps its first sighting and
        # run, and gains what it lacked (statements run with many parameter sets are batched
        # into multi-row INSERTs; UPDATEs would go one by one).
        insert = _insert(db.dialect)(table)
        upsert = insert.on_conflict_do_update(
            index_elements=["source_id", "url"],
            set_={
                "last_seen_at": insert.excluded.last_seen_at,
                "published": func.coalesce(table.c.published, insert.excluded.published),
                "title": func.coalesce(table.c.title, insert.excluded.title),
                "language": func.coalesce(table.c.language, insert.excluded.language),
            },
        )
        session.connection().execute(upsert, rows)
    return len(batch) - len(known)


def _keys(urls: Sequence[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for url in urls:
        try:
            keys[url] = normalise_url(url)
        except InvalidURL:
            continue
    return keys


def prior_captures(db: Database, urls: Sequence[str]) -> dict[str, PriorCapture]:
    """For each URL already archived live (verdict ``ok``, not a recovered copy, with a WARC
    record), its newest such capture. A URL matches its page (normalised URL) or a capture that
    requested it."""
    keys = _keys(urls)
    if not keys:
        return {}
    found: dict[str, PriorCapture] = {}
    newest: dict[str, tuple[tuple[datetime, int], PriorCapture]] = {}
    # The page's URL and the requested URL, each looked up on its own index (an OR of the two
    # across the join would scan the captures, once per chunk).
    conditions = [
        *one_of(Page.url, set(keys.values()), db.dialect),
        *one_of(Capture.url, keys, db.dialect),
    ]
    with db.session(readonly=True) as session:
        for condition in conditions:
            rows = session.execute(
                select(Capture, Page.url)
                .join(Page, Capture.page_id == Page.id)
                .where(
                    condition,
                    Capture.verdict == "ok",
                    Capture.recovered_from.is_(None),
                    Capture.warc_file.is_not(None),
                    # A capture whose record is gone archived nothing: fetch the page again.
                    Capture.record_error.is_(None),
                )
            ).all()
            for capture, page_url in rows:
                prior = PriorCapture(
                    url=capture.url,
                    fetched_at=capture.fetched_at,
                    http_status=capture.http_status,
                    warc_file=capture.warc_file or "",
                    warc_offset=capture.warc_offset or 0,
                    warc_record_id=capture.warc_record_id,
                    payload_digest=capture.payload_digest,
                )
                # The newest capture wins, whichever statement found it.
                order = (capture.fetched_at, capture.id)
                for name in (page_url, capture.url):
                    if name not in newest or newest[name][0] < order:
                        newest[name] = (order, prior)
    by_key = {name: prior for name, (_, prior) in newest.items()}
    for url, key in keys.items():
        prior_capture = by_key.get(url) or by_key.get(key)
        if prior_capture is not None:
            found[url] = prior_capture
    return found


def sources_of_pages(db: Database, page_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """For each page, the sources that listed it: kind, URL, and the entry's date, title and
    language, oldest sighting first."""
    wanted = sorted(set(page_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    if not wanted:
        return found
    rows: list[Any] = []
    with db.session(readonly=True) as session:
        for listed in one_of(Discovery.page_id, wanted, db.dialect):
            rows.extend(
                session.execute(
                    select(Discovery, Source.kind, Source.url)
                    .join(Source, Discovery.source_id == Source.id)
                    .where(listed)
                ).all()
            )
    # Oldest sighting first, as one query ordered them.
    rows.sort(key=lambda row: (row[0].first_seen_at, row[0].id))
    for discovery, kind, source_url in rows:
        assert discovery.page_id is not None
        found.setdefault(discovery.page_id, []).append(
            {
                "kind": kind,
                "source": source_url,
                "url": discovery.url,
                "published": discovery.published.isoformat().replace("+00:00", "Z")
                if discovery.published
                else None,
                "title": discovery.title,
                "language": discovery.language,
            }
        )
    return found


def link_discoveries(db: Database, batch: int = 500) -> int:
    """Point each unlinked discovery at its page: the page of the newest capture that requested
    its URL, or else the page filed under its normalised URL. Returns how many were linked."""
    newest = (
        select(Capture.page_id)
        .where(Capture.url == Discovery.url)
        .order_by(Capture.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    linked = 0
    with db.session() as session:
        result = session.execute(
            update(Discovery)
            .where(Discovery.page_id.is_(None))
            .where(select(Capture.id).where(Capture.url == Discovery.url).exists())
            .values(page_id=newest)
            .execution_options(synchronize_session=False)
        )
        linked += int(getattr(result, "rowcount", 0) or 0)
        last_id = 0
        while True:
            rows = session.execute(
                select(Discovery.id, Discovery.url)
                .where(Discovery.page_id.is_(None), Discovery.id > last_id)
                .order_by(Discovery.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last_id = rows[-1][0]
            keys = _keys([url for _, url in rows])
            found = session.execute(
                select(Page.url, Page.id).where(Page.url.in_(set(keys.values())))
            ).all()
            pages = {page_url: page_id for page_url, page_id in found}
            for discovery_id, url in rows:
                page_id = pages.get(keys.get(url, ""))
                if page_id is not None:
                    session.execute(
                        update(Discovery)
                        .where(Discovery.id == discovery_id)
                        .values(page_id=page_id)
                    )
                    linked += 1
    return linked


def reconcile_published(db: Database, run_id: int) -> int:
    """Give a live capture of ``run_id`` whose page shows no date the earliest date its sources
    gave (news sitemap publication date or feed entry date). Returns how many were dated."""
    dated = 0
    with db.session() as session:
        rows = session.execute(
            select(Capture.id, func.min(Discovery.published))
            .join(Discovery, Discovery.page_id == Capture.page_id)
            .where(
                Capture.run_id == run_id,
                Capture.published.is_(None),
                Capture.verdict == "ok",
                Discovery.published.is_not(None),
            )
            .group_by(Capture.id)
        ).all()
        for capture_id, published in rows:
            if published is None:
                continue
            when = published if published.tzinfo else published.replace(tzinfo=UTC)
            session.execute(
                update(Capture)
                .where(Capture.id == capture_id)
                .values(published=when.astimezone(UTC).date().isoformat())
            )
            dated += 1
    return dated
