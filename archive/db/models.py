"""The metadata database schema: pages, runs and captures.

A ``Page`` is one article URL (normalised, see ``archive.urls``); a ``Capture`` is one fetch of it,
pointing at the WARC records that hold the bytes. The migrations in ``archive/db/migrations`` are
written by hand to match these classes; ``tests/test_db.py`` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "PAGE_STATES",
    "RUN_STATUSES",
    "UNKNOWN_STATE",
    "Base",
    "Capture",
    "Claim",
    "Discovery",
    "JSONType",
    "Link",
    "Page",
    "Probe",
    "Requisite",
    "Run",
    "Schedule",
    "ScheduleRun",
    "SiteArticle",
    "Source",
    "UTCDateTime",
]

RUN_STATUSES = ("running", "finished", "interrupted", "failed")
PAGE_STATES = ("alive", "dead_suspected", "dead_confirmed")
#: How the CLI names a page without a state yet (nothing conclusive observed: pages.state null).
UNKNOWN_STATE = "unknown"

# Named constraints make later migrations (and SQLite batch mode) able to refer to them.
_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL so that stats and redirects can be queried with its operators.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    text and given back their ``UTC`` tzinfo when read. A naive value given to the database is
    taken to be UTC already (as ``datetime.utcnow()`` returns), not local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Page(Base):
    """One article URL, however many times it was captured."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    original_url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text, index=True)
    first_seen_at: Mapped[datetime]
    last_captured_at: Mapped[datetime | None]
    # Derived from the captures (archive.liveness.page_state) and kept here so that queries can
    # filter on it.
    state: Mapped[str | None] = mapped_column(String(16), index=True)
    dead_since: Mapped[datetime | None]

    captures: Mapped[list[Capture]] = relationship(back_populates="page")

    def __repr__(self) -> str:
        return f"Page(id={self.id!r}, url={self.url!r})"


class Run(Base):
    """One invocation of ``archive``, ``crawl``, ``recheck``...: what was asked, what came of it."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    args: Mapped[dict[str, Any] | None]
    stats: Mapped[dict[str, Any] | None]
    # When the records its WARC files hold were last reconciled with the DB
    # (archive.integrity.resume): set once a run that did not finish has had its unstored records
    # indexed.
    reconciled_at: Mapped[datetime | None]
    # The process doing the run's work renews these (archive.db.heartbeat): a ``running`` run past
    # ``alive_until``, or whose process on this host is gone, is dead, on any host.
    heartbeat_at: Mapped[datetime | None]
    alive_until: Mapped[datetime | None]
    host: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, kind={self.kind!r}, status={self.status!r})"


class Claim(Base):
    """A page a crawl has taken on: overlapping crawls leave it to the run that holds it.

    Keyed by a digest of the normalised URL (a URL may be longer than an index entry can be).
    A claim of a run that is no longer running, or is dead, is void (archive.db.claims).
    """

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    claimed_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Claim(url={self.url!r}, run_id={self.run_id!r})"


class Capture(Base):
    """One fetch of one URL, with its verdict, its extracted article and where its bytes live."""

    __tablename__ = "captures"
    __table_args__ = (
        Index("ix_captures_page_id_fetched_at", "page_id", "fetched_at"),
        # Hash indexes on PostgreSQL: btree entries are limited to ~2.7 kB, URLs are not.
        Index("ix_captures_url", "url", postgresql_using="hash"),
        Index("ix_captures_final_url", "final_url", postgresql_using="hash"),
        # Revisits name their original by record id; verification looks records up by it.
        Index("ix_captures_warc_record_id", "warc_record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(index=True)
    http_status: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)

    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    extract_error: Mapped[str | None] = mapped_column(Text)
    # Every author as a list (``author`` joins them), when the page was last modified, and where
    # each extracted field came from (``json-ld``, ``opengraph``, ``trafilatura``...).
    authors: Mapped[list[str] | None] = mapped_column(JSONType)
    date_modified: Mapped[str | None] = mapped_column(Text)
    field_sources: Mapped[dict[str, str] | None] = mapped_column(JSONType)

    error: Mapped[str | None] = mapped_column(Text)
    recovered_from: Mapped[str | None] = mapped_column(Text)
    redirects: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[str] | None] = mapped_column(JSONType)

    warc_file: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(Text)
    payload_digest: Mapped[str | None] = mapped_column(Text)
    metadata_warc_file: Mapped[str | None] = mapped_column(Text)
    metadata_warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    metadata_warc_length: Mapped[int | None] = mapped_column(BigInteger)
    metadata_record_id: Mapped[str | None] = mapped_column(Text)
    # The screenshot of a page rendered in a browser (--browser): a WARC resource record.
    screenshot_warc_file: Mapped[str | None] = mapped_column(Text)
    screenshot_warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    screenshot_warc_length: Mapped[int | None] = mapped_column(BigInteger)
    screenshot_record_id: Mapped[str | None] = mapped_column(Text)
    # Why the response record cannot be read back (the file is gone, cut short or damaged),
    # set by `morgue verify --repair` and resumption; None while it reads back whole.
    record_error: Mapped[str | None] = mapped_column(Text)

    page: Mapped[Page] = relationship(back_populates="captures")
    links: Mapped[list[Link]] = relationship(
        back_populates="capture", order_by="Link.position", cascade="all, delete-orphan"
    )
    requisites: Mapped[list[Requisite]] = relationship(
        back_populates="capture", order_by="Requisite.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"Capture(id={self.id!r}, url={self.url!r}, verdict={self.verdict!r})"


class Link(Base):
    """A link cited in the main text of a capture's article: its target and anchor text."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("captures.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)

    capture: Mapped[Capture] = relationship(back_populates="links")


class Requisite(Base):
    """An image, stylesheet, font or script a capture's page loads, fetched with it.

    Not a page: no verdict, no extraction. ``revisit`` is set when its payload was already
    archived (by this crawl or an earlier one) and a ``revisit`` record was written in its
    place; ``reused`` when this crawl had already fetched the URL for another page, and the row
    points at that fetch's record. ``error`` says why nothing was fetched (robots.txt, a
    private address, too big, a failed download).
    """

    __tablename__ = "requisites"
    __table_args__ = (
        # Deduplication looks payloads up by digest, across runs.
        Index("ix_requisites_payload_digest", "payload_digest"),
        # The freshness window looks earlier fetches up by URL (hashed: URLs can be long).
        Index("ix_requisites_url", "url", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("captures.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # archive.captures.requisite_urls.KINDS
    fetched_at: Mapped[datetime]
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)  # payload bytes as received
    payload_digest: Mapped[str | None] = mapped_column(Text)
    revisit: Mapped[bool] = mapped_column(Boolean, default=False)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    warc_file: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(Text)
    #: The WARC-Date of the record (what a revisit of this payload refers to).
    warc_date: Mapped[str | None] = mapped_column(Text)

    capture: Mapped[Capture] = relationship(back_populates="requisites")

    def __repr__(self) -> str:
        return f"Requisite(id={self.id!r}, url={self.url!r}, revisit={self.revisit!r})"


class Probe(Base):
    """What a host answered for a URL that cannot exist: the soft-404 baseline of a path prefix.

    ``result`` holds the probe page's extraction and facts as JSON (``archive.liveness.soft404``); a
    probe is reused for the same host and prefix until it expires (``LIVENESS_PROBE_MAX_AGE``).
    """

    __tablename__ = "probes"
    __table_args__ = (Index("ix_probes_host_prefix_probed_at", "host", "prefix", "probed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text)
    probe_url: Mapped[str] = mapped_column(Text)
    probed_at: Mapped[datetime]
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    warc_file: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"Probe(id={self.id!r}, host={self.host!r}, prefix={self.prefix!r})"


class SiteArticle(Base):
    """A live article of a site, kept as a sample of the site's article template: its markup's
    fingerprint (``archive.liveness.site_template``). The newest of each host are kept."""

    __tablename__ = "site_articles"
    __table_args__ = (Index("ix_site_articles_host_fetched_at", "host", "fetched_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("captures.id", ondelete="CASCADE"), unique=True
    )
    host: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    template: Mapped[list[int]] = mapped_column(JSONType)
    #: The last paragraphs of its text: where a site appends its stubs and its furniture.
    closing: Mapped[list[str] | None] = mapped_column(JSONType)
    #: Its page's text outside the story (menus, forms, boxes), zlib-compressed UTF-8: what the
    #: site shows around every article.
    chrome: Mapped[bytes | None] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"SiteArticle(id={self.id!r}, host={self.host!r}, capture_id={self.capture_id!r})"


class Source(Base):
    """A feed, a sitemap or a site that crawls read article URLs from."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("kind", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # feed, sitemap, site
    url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_polled_at: Mapped[datetime | None]
    polls: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"Source(id={self.id!r}, kind={self.kind!r}, url={self.url!r})"


class Discovery(Base):
    """An article URL as a source listed it: the entry's date, title and language.

    ``page_id`` is filled in once the URL has a capture (the page may be filed under the
    article's canonical URL, so it is taken from the capture, not computed from ``url``).
    """

    __tablename__ = "discoveries"
    __table_args__ = (
        UniqueConstraint("source_id", "url"),
        Index("ix_discoveries_url", "url", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    page_id: Mapped[int | None] = mapped_column(
        ForeignKey("pages.id", ondelete="SET NULL"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    published: Mapped[datetime | None]  # the entry's date (feed) or news:publication_date
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"Discovery(id={self.id!r}, url={self.url!r})"


class Schedule(Base):
    """A crawl to run again and again: its arguments, its interval and who is running it now.

    ``lease_owner``/``lease_until`` are the lock that keeps one schedule from running twice at
    once: a runner takes it with a conditional UPDATE and renews it while its crawl runs.
    """

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    crawl_args: Mapped[list[str]] = mapped_column(JSONType)
    #: The crawl as the library runs it (archive.runs.crawling.request_json); None for schedules
    #: stored before it was kept, until the CLI fills it in from ``crawl_args``.
    crawl_request: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    every_s: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(Text)
    adaptive: Mapped[bool] = mapped_column(Boolean, default=False)
    min_interval_s: Mapped[int | None] = mapped_column(Integer)
    max_interval_s: Mapped[int | None] = mapped_column(Integer)
    interval_s: Mapped[int | None] = mapped_column(Integer)  # current (adaptive) interval
    created_at: Mapped[datetime]
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Schedule(id={self.id!r}, name={self.name!r})"


class ScheduleRun(Base):
    """One run of a schedule: when, how it ended, and its crawl's figures."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        Index("ix_schedule_runs_schedule_id_started_at", "schedule_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    returncode: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict[str, Any] | None]

    def __repr__(self) -> str:
        return f"ScheduleRun(id={self.id!r}, schedule_id={self.schedule_id!r})"
