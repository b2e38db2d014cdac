"""Querying captures: filters, full-text search, sorting, on SQLite and PostgreSQL alike.

``CaptureQuery`` says what to find; ``iter_query`` streams the matching captures as ``QueryRow``
objects (the capture, its page's state, and for a search its rank and a highlighted snippet).
The SQL is built with SQLAlchemy; only full-text search differs between the two backends
(``archive.query.fulltext``).

Filter meanings:

- ``verdicts``, ``states``: any of the given values (``states`` is the page's ``pages.state``);
- ``domains``: the page's host is one of them or a subdomain of one (``example.org`` matches
  ``www.example.org``);
- ``url_prefix``: the requested URL or the page's normalised URL starts with it;
- ``since`` (inclusive) and ``until`` (exclusive) bound ``fetched_at``; ``parse_time`` turns a
  command-line date into these bounds;
- ``latest``: only the newest capture of each page, *then* the other filters (so
  ``latest`` with verdict ``not_found`` lists the pages whose newest capture says not found).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased, contains_eager, defer, joinedload
from sqlalchemy.sql import table

from archive.captures.table import capture_to_json
from archive.db.engine import Database
from archive.db.models import PAGE_STATES, Capture, Page
from archive.db.search_index import FTS_TABLE, PG_SEARCH_COLUMN, PG_SEARCH_CONFIG
from archive.durations import parse_duration
from archive.exceptions import InvalidInput, InvalidURL
from archive.liveness.verdicts import check_verdicts
from archive.query.fulltext import parse_search
from archive.query.fulltext import to_fts5 as _to_fts5
from archive.query.fulltext import to_tsquery as _to_tsquery
from archive.urls import normalise_url, url_host

__all__ = [
    "MARK_END",
    "MARK_START",
    "SORTS",
    "CaptureQuery",
    "Change",
    "HistoryEntry",
    "PageHistory",
    "QueryRow",
    "count_captures",
    "filtered_ids",
    "history_to_json",
    "iter_query",
    "page_history",
    "parse_time",
    "run_query",
]

SORTS = ("newest", "oldest", "relevance", "url", "domain", "verdict", "chars", "title")
# Around each highlighted word of a snippet: control characters no page text contains.
MARK_START = "\x02"
MARK_END = "\x03"
_SNIPPET_WORDS = 16
_BATCH = 500
# Title matches count four times as much as text matches in SQLite's bm25.
_BM25 = f"bm25({FTS_TABLE}, 4.0, 1.0)"


@dataclass(frozen=True, slots=True)
class CaptureQuery:
    """What ``morgue query`` asks for. Empty tuples and None mean "no filter"."""

    verdicts: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    url_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    states: tuple[str, ...] = ()
    search: str | None = None
    latest: bool = False
    sort: str | None = None  # None: relevance for a search, else newest
    limit: int | None = None
    offset: int = 0  # rows of the ordered result to skip first (a page of a listing)
    with_text: bool = False  # load ``captures.text`` (big) too
    snippets: bool = False  # compute highlighted snippets for a search

    def __post_init__(self) -> None:
        check_verdicts(self.verdicts)
        for state in self.states:
            if state not in PAGE_STATES:
                raise InvalidInput(f"unknown state {state!r}; expected one of {_or(PAGE_STATES)}")
        if self.sort is not None and self.sort not in SORTS:
            raise InvalidInput(f"unknown sort {self.sort!r}; expected one of {_or(SORTS)}")
        if self.sort == "relevance" and not self.search:
            raise InvalidInput("--sort relevance needs --search")
        if self.limit is not None and self.limit < 0:
            raise InvalidInput("--limit must be 0 or more")
        if self.offset < 0:
            raise InvalidInput("the offset must be 0 or more")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("--since must be before --until")
        for domain in self.domains:
            _domain(domain)
        if self.search is not None:
            parse_search(self.search)  # raises InvalidSearch now, not halfway through output

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.search else "newest")


@dataclass(slots=True)
class QueryRow:
    """One capture found, with its page's state and, for a search, rank and snippet."""

    capture: Capture
    rank: float | None = None
    snippet: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str | None:
        return self.capture.page.state

    @property
    def dead_since(self) -> datetime | None:
        return self.capture.page.dead_since


def _or(values: Sequence[str]) -> str:
    return ", ".join(values)


# -- times --------------------------------------------------------------------------------------


def parse_time(value: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A command-line time as an aware UTC datetime.

    Accepts an ISO date (``2024-06-01``), an ISO date and time (``2024-06-01T12:00``, naive
    means UTC, ``Z`` and offsets are honoured) or an age in the one duration grammar
    (``archive.durations``: ``36h``, ``1h30m``, ``7d``, ``2w``: that long before now). With
    ``end=True`` a bare date means the end of that day, so that ``--until 2024-06-01`` includes
    the whole of June 1st.
    """
    raw = value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime.combine(day, time(0), tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        try:
            age = parse_duration(raw)
        except InvalidInput:
            raise InvalidInput(
                f"invalid time {value!r}: expected a date (2024-06-01), a date and time "
                "(2024-06-01T12:00Z) or an age (7d, 36h, 1h30m)"
            ) from None
        return (now or datetime.now(UTC)) - timedelta(seconds=age)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _domain(value: str) -> str:
    raw = value.strip().lower()
    if "://" not in raw:
        raw = f"http://{raw}"
    try:
        host = url_host(raw)
    except (InvalidURL, AssertionError, ValueError):
        raise InvalidInput(f"invalid domain {value!r}") from None
    if not host:
        raise InvalidInput(f"invalid domain {value!r}")
    return host


# -- building the statement ---------------------------------------------------------------------


def _pages_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """``captures.page_id IN (pages matching ...)``: lets the planner start from the pages."""
    return Capture.page_id.in_(select(Page.id).where(*conditions))


def _hosts(session: Session, domains: Sequence[str]) -> list[str]:
    """The hosts in the archive that are one of ``domains`` or a subdomain of one.

    Looked up first, on their own: a suffix match cannot use an index, and nested in the
    captures query it leads planners (PostgreSQL's especially) into rescanning pages per row.
    """
    wanted = [_domain(d) for d in domains]
    matching = or_(
        *(or_(Page.host == h, Page.host.endswith(f".{h}", autoescape=True)) for h in wanted)
    )
    return list(session.scalars(select(Page.host).where(matching).distinct()))


def _filters(q: CaptureQuery, session: Session) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.verdicts:
        where.append(Capture.verdict.in_(q.verdicts))
    if q.states:
        where.append(_pages_where(Page.state.in_(q.states)))
    if q.domains:
        where.append(_pages_where(Page.host.in_(_hosts(session, q.domains))))
    if q.url_prefix:
        prefix = q.url_prefix.strip()
        where.append(
            or_(
                Capture.url.startswith(prefix, autoescape=True),
                _pages_where(Page.url.startswith(prefix, autoescape=True)),
            )
        )
    if q.since is not None:
        where.append(Capture.fetched_at >= q.since)
    if q.until is not None:
        where.append(Capture.fetched_at < q.until)
    if q.latest:
        newer = aliased(Capture)
        newest_id = (
            select(newer.id)
            .where(newer.page_id == Capture.page_id)
            .order_by(newer.fetched_at.desc(), newer.id.desc())
            .limit(1)
            .correlate(Capture)
            .scalar_subquery()
        )
        where.append(Capture.id == newest_id)
    return where


def _fts_subquery(search: str) -> Any:
    """The FTS5 match as a subquery of (capture_id, score); a lower score is a better match."""
    return (
        select(
            literal_column("rowid").label("capture_id"),
            literal_column(_BM25, Float).label("score"),
        )
        .select_from(table(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=search))
        .subquery("fts")
    )


def _pg_tsquery(search: str) -> ColumnElement[Any]:
    return func.to_tsquery(
        literal_column(f"'{PG_SEARCH_CONFIG}'::regconfig"), bindparam("pg_query", search)
    )


def _id_statement(db: Database, q: CaptureQuery, session: Session) -> Select[Any]:
    """``SELECT capture id, rank`` of what ``q`` finds, ordered and limited (rank: None if no
    search). Narrow on purpose: sorting ids is cheap, sorting whole rows is not; the rows are
    loaded afterwards, a batch at a time."""
    newest = (Capture.fetched_at.desc(), Capture.id.desc())
    filters = _filters(q, session)
    sort = q.effective_sort
    stmt: Select[Any]
    if q.search:
        node = parse_search(q.search)
        if db.dialect == "sqlite":
            fts = _fts_subquery(_to_fts5(node))
            rank: ColumnElement[Any] = (-fts.c.score).label("rank")
            if not filters and sort == "relevance":
                # Search alone: FTS5 ranks on its own, no join needed.
                stmt = select(fts.c.capture_id, rank).order_by(fts.c.score, fts.c.capture_id.desc())
                return _window(stmt, q)
            stmt = select(Capture.id, rank).join(fts, fts.c.capture_id == Capture.id)
        elif db.dialect == "postgresql":
            vector: ColumnElement[Any] = literal_column(f"captures.{PG_SEARCH_COLUMN}")
            tsquery = _pg_tsquery(_to_tsquery(node))
            rank = func.ts_rank(vector, tsquery, 1).label("rank")
            stmt = select(Capture.id, rank).where(vector.op("@@")(tsquery))
        else:
            raise InvalidInput(f"full-text search is not available on {db.dialect}")
    else:
        rank = cast(null(), Float).label("rank")
        stmt = select(Capture.id, rank)
    stmt = stmt.where(*filters)
    if sort == "relevance":
        stmt = stmt.order_by(rank.desc(), *newest)
    elif sort == "oldest":
        stmt = stmt.order_by(Capture.fetched_at, Capture.id)
    elif sort == "domain":
        stmt = stmt.join(Capture.page).order_by(Page.host, *newest)
    elif sort in ("url", "verdict", "title"):
        stmt = stmt.order_by(getattr(Capture, sort), *newest)
    elif sort == "chars":
        stmt = stmt.order_by(Capture.text_chars.desc(), *newest)
    else:
        stmt = stmt.order_by(*newest)
    return _window(stmt, q)


def _window(stmt: Select[Any], q: CaptureQuery) -> Select[Any]:
    """The rows ``q`` asks for of an ordered statement: ``offset`` skipped, ``limit`` kept."""
    if q.offset:
        stmt = stmt.offset(q.offset)
    return stmt.limit(q.limit) if q.limit else stmt


def filtered_ids(db: Database, q: CaptureQuery, session: Session) -> Select[Any]:
    """A ``SELECT captures.id`` of the captures ``q`` finds (no order, no limit), to nest in
    statements run in ``session``."""
    stmt: Select[Any] = select(Capture.id)
    if q.search:
        node = parse_search(q.search)
        if db.dialect == "sqlite":
            fts = _fts_subquery(_to_fts5(node))
            stmt = stmt.join(fts, fts.c.capture_id == Capture.id)
        else:
            vector: ColumnElement[Any] = literal_column(f"captures.{PG_SEARCH_COLUMN}")
            stmt = stmt.where(vector.op("@@")(_pg_tsquery(_to_tsquery(node))))
    return stmt.where(*_filters(q, session))


# -- running ------------------------------------------------------------------------------------


def _snippets(session: Session, db: Database, search: str, ids: list[int]) -> dict[int, str]:
    """Highlighted snippets of the given captures, for the words of ``search``."""
    if not ids:
        return {}
    node = parse_search(search)
    if db.dialect == "sqlite":
        sql = text(
            f"SELECT rowid, snippet({FTS_TABLE}, -1, :start, :end, '…', {_SNIPPET_WORDS}) "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        params: dict[str, Any] = {
            "start": MARK_START,
            "end": MARK_END,
            "fts_query": _to_fts5(node),
            "ids": ids,
        }
        return {int(r[0]): str(r[1]) for r in session.execute(sql, params)}
    options = (
        f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords={_SNIPPET_WORDS + 4}, '
        f'MinWords={_SNIPPET_WORDS // 2}, MaxFragments=1, FragmentDelimiter=" … "'
    )
    tsquery = _pg_tsquery(_to_tsquery(node))
    config: ColumnElement[Any] = literal_column(f"'{PG_SEARCH_CONFIG}'::regconfig")

    def headline(column: Any) -> Any:
        return func.ts_headline(config, func.coalesce(column, ""), tsquery, options)

    stmt = select(Capture.id, headline(Capture.text), headline(Capture.title)).where(
        Capture.id.in_(ids)
    )
    found: dict[int, str] = {}
    for capture_id, in_text, in_title in session.execute(stmt):
        # Like SQLite's snippet(-1): the column where the words were found.
        found[capture_id] = in_text if MARK_START in (in_text or "") else (in_title or in_text)
    return found


def _load(session: Session, q: CaptureQuery, ids: list[int]) -> dict[int, Capture]:
    stmt = (
        select(Capture)
        .join(Capture.page)
        .options(contains_eager(Capture.page))
        .where(Capture.id.in_(ids))
    )
    if not q.with_text:
        stmt = stmt.options(defer(Capture.text))
    return {capture.id: capture for capture in session.scalars(stmt)}


def iter_query(db: Database, q: CaptureQuery) -> Iterator[QueryRow]:
    """The captures ``q`` finds, in order, streamed (the read session stays open meanwhile).

    First the ids (and ranks) in order, then the rows ``_BATCH`` at a time.
    """
    with db.session(readonly=True) as session:
        found = [(int(r[0]), r[1]) for r in session.execute(_id_statement(db, q, session))]
        for start in range(0, len(found), _BATCH):
            batch = found[start : start + _BATCH]
            ids = [capture_id for capture_id, _rank in batch]
            captures = _load(session, q, ids)
            snippets = _snippets(session, db, q.search, ids) if q.search and q.snippets else {}
            for capture_id, rank in batch:
                yield QueryRow(
                    captures[capture_id],
                    rank=float(rank) if rank is not None else None,
                    snippet=snippets.get(capture_id),
                )


def run_query(db: Database, q: CaptureQuery) -> list[QueryRow]:
    """``iter_query`` as a list."""
    return list(iter_query(db, q))


def count_captures(db: Database, q: CaptureQuery) -> int:
    """How many captures ``q`` finds, ignoring its limit."""
    with db.session(readonly=True) as session:
        inner = filtered_ids(db, q, session).subquery()
        return int(session.scalar(select(func.count()).select_from(inner)) or 0)


# -- history of one URL -------------------------------------------------------------------------

_COMPARED = ("verdict", "http_status", "title", "text_chars", "final_url", "recovered_from")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between a capture and the capture before it."""

    field: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "from": self.before, "to": self.after}


@dataclass(slots=True)
class HistoryEntry:
    capture: Capture
    changes: list[Change]


@dataclass(slots=True)
class PageHistory:
    """Every capture of a URL, oldest first, each with what changed since the one before."""

    url: str
    page: Page | None  # the page of the newest capture
    entries: list[HistoryEntry]

    @property
    def state(self) -> str | None:
        return self.page.state if self.page else None

    @property
    def dead_since(self) -> datetime | None:
        return self.page.dead_since if self.page else None


def _changes(before: Capture, after: Capture) -> list[Change]:
    changes: list[Change] = []
    for name in _COMPARED:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(Change(name, old, new))
    if before.verdict == after.verdict and before.reason != after.reason:
        changes.append(Change("reason", before.reason, after.reason))
    if before.text_chars == after.text_chars and (before.text or "") != (after.text or ""):
        changes.append(Change("text", None, None))  # same length, other words
    return changes


def page_history(db: Database, url: str) -> PageHistory:
    """Every capture of ``url`` (its page, or the URL as requested or landed on), oldest first.

    Raises ``InvalidURL`` for a URL morgue cannot store.
    """
    given = url.strip()
    key = normalise_url(given)
    with db.session(readonly=True) as session:
        # The same captures as archive.captures.table.captures_for_url (the page by its normalised
        # URL, or the URL as requested or landed on), with the page id looked up first so that
        # PostgreSQL can combine three index scans instead of scanning every capture.
        page_ids = list(session.scalars(select(Page.id).where(Page.url == key)))
        stmt = (
            select(Capture)
            .options(joinedload(Capture.page))
            .where(
                or_(Capture.page_id.in_(page_ids), Capture.url == given, Capture.final_url == given)
            )
            .order_by(Capture.fetched_at, Capture.id)
        )
        captures = list(session.scalars(stmt).unique())
    entries: list[HistoryEntry] = []
    for i, capture in enumerate(captures):
        entries.append(HistoryEntry(capture, _changes(captures[i - 1], capture) if i else []))
    page = captures[-1].page if captures else None
    return PageHistory(url, page, entries)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def history_to_json(history: PageHistory) -> list[dict[str, Any]]:
    """One object per capture, oldest first: the contract fields, ``changes``, the page state
    (what ``morgue history --format json`` prints and the web API answers)."""
    out = []
    for entry in history.entries:
        data = capture_to_json(entry.capture)
        data["changes"] = [change.to_json() for change in entry.changes]
        data["page_state"] = history.state
        data["dead_since"] = _iso(history.dead_since)
        out.append(data)
    return out
