"""Writing and reading captures: the only module that adds rows to the ``captures`` table (and
to ``links`` and ``requisites``, with the capture they belong to).

Other modules change columns of rows stored here, each saying so in its docstring:
``archive.captures.extraction_pass`` (the extraction, verdict, links and metadata-record pointer of
a capture extracted again), ``archive.sources.registry.reconcile_published`` (``published``), and
``archive.integrity.resume.mark_past_cut`` and ``archive.integrity.verify`` (``record_error``, and
the metadata-record pointer of a row whose metadata record a cut or damage took).

The page a capture belongs to is keyed by ``normalise_url(rec.url)``, with one exception: when the
capture is live (verdict ``ok``, not a recovered copy) and the page declares an http(s) canonical
URL on the same host as the requested or final URL, the normalised canonical URL is the key. So
``/article?page=1`` and ``/amp/article`` that both declare ``/article`` become one page, while a
dead article redirected to a home page (whose canonical is the home page) stays its own page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import urljoin

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, or_, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from archive.captures.record import CaptureRecord, RequisiteRecord
from archive.db.claims import release_claims
from archive.db.engine import Database
from archive.db.models import RUN_STATUSES, Capture, Link, Page, Requisite, Run
from archive.exceptions import DatabaseError, InvalidURL
from archive.extraction.article import Extraction
from archive.liveness.page_state import DEFAULT_RULE, Observation, StateRule, derive_state
from archive.liveness.site_samples import keep_site_samples
from archive.urls import normalise_url, url_host
from archive.warc.records import RecordLocation

__all__ = [
    "CAPTURE_FIELDS",
    "CONTRACT_FIELDS",
    "EXTRA_FIELDS",
    "RunTally",
    "capture_by_record_id",
    "capture_to_json",
    "captures_for_run",
    "captures_for_url",
    "csv_value",
    "finish_run",
    "get_capture",
    "iter_captures_for_run",
    "latest_capture",
    "page_key",
    "run_tally",
    "save_capture",
    "save_captures",
    "start_run",
    "update_page_state",
    "update_page_states",
]

logger = logging.getLogger(__name__)

CONTRACT_FIELDS: tuple[str, ...] = (
    "capture_id",
    "url",
    "final_url",
    "verdict",
    "reason",
    "http_status",
    "fetched_at",
    "title",
    "author",
    "published",
    "language",
    "site_name",
    "text_chars",
    "warc_file",
    "warc_offset",
    "warc_length",
    "warc_record_id",
    "payload_digest",
    "recovered_from",
)

#: Keys ``capture_to_json`` gives after the contract's: the news metadata of issue 7.
EXTRA_FIELDS: tuple[str, ...] = ("authors", "date_modified", "field_sources")
CAPTURE_FIELDS: tuple[str, ...] = CONTRACT_FIELDS + EXTRA_FIELDS

_T = TypeVar("_T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _clean(value: str | None) -> str | None:
    """Make web text storable: PostgreSQL rejects NUL characters, both backends lone surrogates."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value


def _clean_json(value: _T) -> _T:
    if isinstance(value, str):
        return _clean(value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [_clean_json(v) for v in value]  # type: ignore[return-value]
    return value


# -- runs ---------------------------------------------------------------------------------------


def start_run(db: Database, kind: str, args: dict[str, Any]) -> int:
    """Record the start of a run (``archive``, ``crawl``, ``recheck``...); returns its id."""
    if not kind:
        raise ValueError("a run needs a kind")
    with db.session() as session:
        run = Run(kind=kind, status="running", started_at=_utcnow(), args=_clean_json(args))
        session.add(run)
        session.flush()
        logger.debug("Started run %d (%s)", run.id, kind)
        return run.id


def finish_run(db: Database, run_id: int, status: str, stats: dict[str, Any]) -> None:
    """Record how a run ended: ``finished``, ``interrupted`` or ``failed``, with its stats."""
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; expected one of {RUN_STATUSES}")
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise DatabaseError(f"no run with id {run_id}")
        run.status = status
        run.finished_at = _utcnow()
        run.stats = _clean_json(stats)
        release_claims(session, run_id)
    logger.debug("Finished run %d: %s", run_id, status)


# -- writing captures ---------------------------------------------------------------------------


def page_key(rec: CaptureRecord) -> str:
    """The normalised URL under which ``rec`` is filed (see the module docstring)."""
    key = normalise_url(rec.url)
    ext = rec.extraction
    if ext is None or not ext.canonical_url or rec.verdict != "ok" or rec.recovered_from:
        return key
    try:
        canonical = normalise_url(urljoin(rec.final_url or rec.url, ext.canonical_url.strip()))
        hosts = {url_host(rec.url)}
        if rec.final_url:
            hosts.add(url_host(rec.final_url))
    except InvalidURL:
        return key
    return canonical if url_host(canonical) in hosts else key


def _page_ids(session: Session, batch: list[CaptureRecord]) -> list[int]:
    """The page row of each record, created where missing; safe against concurrent writers.

    Three statements for the whole batch: read the pages that exist, insert the others (the
    first record of each supplies its original URL and first-seen time), read those back.
    """
    keys = [page_key(rec) for rec in batch]
    found: dict[str, int] = {
        url: page
        for url, page in session.execute(select(Page.url, Page.id).where(Page.url.in_(set(keys))))
    }
    new: dict[str, dict[str, Any]] = {}
    for key, rec in zip(keys, batch, strict=True):
        if key not in found and key not in new:
            new[key] = {
                "url": key,
                "original_url": _clean(rec.url.strip()) or key,
                "host": url_host(key),
                "first_seen_at": rec.fetched_at,
            }
    if new:
        dialect = session.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
            stmt = insert(Page).values(list(new.values()))
            session.execute(stmt.on_conflict_do_nothing(index_elements=["url"]))
        else:
            for values in new.values():
                try:
                    with session.begin_nested():
                        session.execute(sa_insert(Page).values(values))
                except IntegrityError:
                    pass  # another writer created it first; read theirs below
        found.update(
            (url, page)
            for url, page in session.execute(
                select(Page.url, Page.id).where(Page.url.in_(list(new)))
            )
        )
    missing = [key for key in keys if key not in found]
    if missing:  # pragma: no cover - only if a row vanished between the two statements
        raise DatabaseError(f"could not create the page row for {missing[0]}")
    return [found[key] for key in keys]


def extraction_columns(ext: Extraction | None) -> dict[str, Any]:
    """The capture columns an extraction fills (all None when there is none)."""
    text = _clean(ext.text) if ext else None
    return {
        "title": _clean(ext.title) if ext else None,
        "author": _clean(ext.author) if ext else None,
        "published": _clean(ext.published) if ext else None,
        "language": _clean(ext.language) if ext else None,
        "site_name": _clean(ext.site_name) if ext else None,
        "canonical_url": _clean(ext.canonical_url) if ext else None,
        "description": _clean(ext.description) if ext else None,
        "text": text,
        "text_chars": len(text) if text else 0,
        "authors": _clean_json(list(ext.authors)) if ext and ext.authors else None,
        "date_modified": _clean(ext.date_modified) if ext else None,
        "field_sources": (
            _clean_json(dict(ext.field_sources)) if ext and ext.field_sources else None
        ),
    }


def _capture_row(rec: CaptureRecord, page_id: int) -> Capture:
    ext = rec.extraction
    resp = rec.response
    meta = rec.metadata
    return Capture(
        page_id=page_id,
        run_id=rec.run_id,
        url=_clean(rec.url),
        final_url=_clean(rec.final_url),
        fetched_at=rec.fetched_at,
        http_status=rec.http_status,
        verdict=rec.verdict,
        reason=_clean(rec.reason),
        content_type=_clean(rec.content_type),
        **extraction_columns(ext),
        extract_error=_clean(rec.extract_error),
        error=_clean(rec.error),
        recovered_from=_clean(rec.recovered_from),
        redirects=_clean_json([hop.to_json() for hop in rec.redirects]),
        confidence=rec.confidence,
        evidence=_clean_json(list(rec.evidence)) or None,
        warc_file=resp.file if resp else None,
        warc_offset=resp.offset if resp else None,
        warc_length=resp.length if resp else None,
        warc_record_id=resp.record_id if resp else None,
        payload_digest=resp.payload_digest if resp else None,
        metadata_warc_file=meta.file if meta else None,
        metadata_warc_offset=meta.offset if meta else None,
        metadata_warc_length=meta.length if meta else None,
        metadata_record_id=meta.record_id if meta else None,
        **_screenshot_columns(rec.screenshot),
    )


def _screenshot_columns(shot: RecordLocation | None) -> dict[str, Any]:
    return {
        "screenshot_warc_file": shot.file if shot else None,
        "screenshot_warc_offset": shot.offset if shot else None,
        "screenshot_warc_length": shot.length if shot else None,
        "screenshot_record_id": shot.record_id if shot else None,
    }


def _requisite_row(req: RequisiteRecord) -> Requisite:
    loc = req.record
    return Requisite(
        url=_clean(req.url) or req.url,
        kind=req.kind,
        fetched_at=req.fetched_at,
        http_status=req.http_status,
        content_type=_clean(req.content_type),
        size=req.size,
        payload_digest=req.payload_digest,
        revisit=req.revisit,
        reused=req.reused,
        error=_clean(req.error),
        warc_file=loc.file if loc else None,
        warc_offset=loc.offset if loc else None,
        warc_length=loc.length if loc else None,
        warc_record_id=loc.record_id if loc else None,
        warc_date=req.warc_date,
    )


# Core's view of the pages table, for UPDATEs run once with many parameter sets.
_PAGES = cast(Table, Page.__table__)


def _save_batch(session: Session, batch: list[CaptureRecord], rule: StateRule) -> list[int]:
    page_ids = _page_ids(session, batch)
    rows = []
    for rec, page_id in zip(batch, page_ids, strict=True):
        row = _capture_row(rec, page_id)
        row.links = [
            Link(position=i, url=_clean(url) or url, text=_clean(text))
            for i, (url, text) in enumerate(rec.links)
        ]
        row.requisites = [_requisite_row(req) for req in rec.requisites]
        rows.append(row)
    session.add_all(rows)
    session.flush()  # one multi-row INSERT per table
    keep_site_samples(
        session,
        [
            (
                row.id,
                rec.final_url or rec.url,
                rec.fetched_at,
                rec.site_template,
                row.text,
                rec.site_chrome,
            )
            for rec, row in zip(batch, rows, strict=True)
            if rec.site_template
        ],
    )
    latest: dict[int, datetime] = {}
    for row in rows:
        if row.page_id not in latest or latest[row.page_id] < row.fetched_at:
            latest[row.page_id] = row.fetched_at
    pages = _PAGES
    session.connection().execute(
        update(pages)
        .where(pages.c.id == bindparam("b_page"))
        .where(
            or_(pages.c.last_captured_at.is_(None), pages.c.last_captured_at < bindparam("b_at"))
        )
        .values(last_captured_at=bindparam("b_at")),
        [{"b_page": page, "b_at": at} for page, at in latest.items()],
    )
    update_page_states(session, list(latest), rule)
    return [row.id for row in rows]


def update_page_state(session: Session, page_id: int, rule: StateRule = DEFAULT_RULE) -> None:
    """Derive a page's state from its captures again (``archive.liveness.page_state``)."""
    update_page_states(session, [page_id], rule)


def update_page_states(
    session: Session, page_ids: list[int], rule: StateRule = DEFAULT_RULE
) -> None:
    """Derive the state of each page from its captures again, in two statements."""
    if not page_ids:
        return
    observed: dict[int, list[Observation]] = {page: [] for page in page_ids}
    rows = session.execute(
        select(
            Capture.page_id, Capture.fetched_at, Capture.verdict, Capture.reason,
            Capture.recovered_from,
        ).where(Capture.page_id.in_(page_ids))
    )  # fmt: skip
    for page, at, verdict, reason, recovered in rows:
        observed[page].append(Observation(at, verdict, reason, recovered is not None))
    pages = _PAGES
    values = []
    for page, observations in observed.items():
        state, dead_since = derive_state(observations, rule)
        values.append({"b_page": page, "b_state": state, "b_dead": dead_since})
    session.connection().execute(
        update(pages)
        .where(pages.c.id == bindparam("b_page"))
        .values(state=bindparam("b_state"), dead_since=bindparam("b_dead")),
        values,
    )


def save_capture(db: Database, rec: CaptureRecord, rule: StateRule = DEFAULT_RULE) -> int:
    """Store one capture (creating its page if new); returns the capture id."""
    return save_captures(db, [rec], rule)[0]


def save_captures(
    db: Database, recs: Iterable[CaptureRecord], rule: StateRule = DEFAULT_RULE
) -> list[int]:
    """Store a batch of captures in one transaction: all of them or, on an error, none.

    Each page's state is derived again from its captures, by ``rule``.
    """
    batch = list(recs)
    if not batch:
        return []
    with db.session() as session:
        ids = _save_batch(session, batch, rule)
    logger.debug("Saved %d captures", len(ids))
    return ids


# -- reading captures ---------------------------------------------------------------------------


def _matching_url(url: str) -> ColumnElement[bool]:
    """Captures of ``url``: its page by normalised URL, or requested/final URL as given."""
    given = url.strip()
    key = normalise_url(given)
    page_ids = select(Page.id).where(Page.url == key)
    return or_(Capture.page_id.in_(page_ids), Capture.url == given, Capture.final_url == given)


def _captures(db: Database, stmt: Select[Capture]) -> list[Capture]:
    with db.session(readonly=True) as session:
        return list(session.scalars(stmt.options(joinedload(Capture.page))).unique())


def get_capture(db: Database, capture_id: int) -> Capture | None:
    """The capture with this id (with its ``page`` loaded), or None."""
    with db.session(readonly=True) as session:
        return session.get(Capture, capture_id, options=[joinedload(Capture.page)])


def capture_by_record_id(db: Database, record_id: str) -> Capture | None:
    """The capture whose response (or revisit) record has this WARC-Record-ID."""
    stmt = select(Capture).where(Capture.warc_record_id == record_id).limit(1)
    found = _captures(db, stmt)
    return found[0] if found else None


def latest_capture(db: Database, url: str) -> Capture | None:
    """The newest capture of ``url``; raises ``InvalidURL`` for a URL morgue cannot store."""
    stmt = (
        select(Capture)
        .where(_matching_url(url))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    found = _captures(db, stmt)
    return found[0] if found else None


def captures_for_url(db: Database, url: str) -> list[Capture]:
    """Every capture of ``url``, oldest first (for ``morgue history``)."""
    stmt = select(Capture).where(_matching_url(url)).order_by(Capture.fetched_at, Capture.id)
    return _captures(db, stmt)


def captures_for_run(db: Database, run_id: int) -> list[Capture]:
    """The captures a run stored, in the order it stored them."""
    return _captures(db, select(Capture).where(Capture.run_id == run_id).order_by(Capture.id))


def iter_captures_for_run(
    db: Database, run_id: int, *, chunk: int = 500, limit: int | None = None
) -> Iterator[list[Capture]]:
    """The captures of a run in storing order, ``chunk`` at a time, each chunk read on its own.

    For runs of any size: memory holds one chunk, not the run (a scheduled crawl can store
    hundreds of thousands of pages, with their texts).
    """
    after, left = 0, limit
    while left is None or left > 0:
        size = chunk if left is None else min(chunk, left)
        stmt = (
            select(Capture)
            .where(Capture.run_id == run_id, Capture.id > after)
            .order_by(Capture.id)
            .limit(size)
        )
        batch = _captures(db, stmt)
        if not batch:
            return
        yield batch
        after = batch[-1].id
        if left is not None:
            left -= len(batch)
        if len(batch) < size:
            return


@dataclass(frozen=True, slots=True)
class RunTally:
    """What a run stored, counted in the database: pages fetched (recovered copies apart)."""

    pages: int
    verdicts: dict[str, int]
    recovered: int


def run_tally(db: Database, run_id: int) -> RunTally:
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Capture.verdict, Capture.recovered_from.is_not(None), func.count())
            .where(Capture.run_id == run_id)
            .group_by(Capture.verdict, Capture.recovered_from.is_not(None))
        ).all()
    verdicts: dict[str, int] = {}
    recovered = 0
    for verdict, is_copy, count in rows:
        if is_copy:
            recovered += count
        else:
            verdicts[verdict] = verdicts.get(verdict, 0) + count
    return RunTally(sum(verdicts.values()), verdicts, recovered)


def _iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def capture_to_json(capture: Capture) -> dict[str, Any]:
    """The capture as the JSON object of the CLI contract: ``CONTRACT_FIELDS`` exactly as the
    contract has them, in order, then ``EXTRA_FIELDS`` (``authors`` is a list, ``[]`` when no
    author is known; ``field_sources`` maps a field to where it was found)."""
    return {
        "capture_id": capture.id,
        "url": capture.url,
        "final_url": capture.final_url,
        "verdict": capture.verdict,
        "reason": capture.reason,
        "http_status": capture.http_status,
        "fetched_at": _iso_utc(capture.fetched_at),
        "title": capture.title,
        "author": capture.author,
        "published": capture.published,
        "language": capture.language,
        "site_name": capture.site_name,
        "text_chars": capture.text_chars,
        "warc_file": capture.warc_file,
        "warc_offset": capture.warc_offset,
        "warc_length": capture.warc_length,
        "warc_record_id": capture.warc_record_id,
        "payload_digest": capture.payload_digest,
        "recovered_from": capture.recovered_from,
        "authors": list(capture.authors or []),
        "date_modified": capture.date_modified,
        "field_sources": dict(capture.field_sources or {}),
    }


def csv_value(value: Any) -> Any:
    """A JSON value as a CSV cell: null as empty, lists and objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value
