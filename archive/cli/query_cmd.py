"""``morgue query``: find captures by verdict, domain, URL, time, page state or full text."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from archive.captures.table import CAPTURE_FIELDS, CONTRACT_FIELDS, capture_to_json, csv_value
from archive.db.engine import open_existing_database
from archive.db.models import UNKNOWN_STATE
from archive.exceptions import InvalidInput
from archive.query.capture_query import MARK_END, MARK_START, QueryRow, iter_query

from .filters import (
    DomainOption,
    FilterOptions,
    LatestOption,
    SearchOption,
    SinceOption,
    StateOption,
    UntilOption,
    UrlPrefixOption,
    VerdictOption,
    build_query,
)
from .options import DataDirOption, DbOption, resolve_paths, split_values
from .render import Cell, Column, FittedTable, Kind, Verdict

__all__ = ["EXTRA_FIELDS", "QueryFormat", "register", "row_fields"]

# Besides the contract's fields, ``--fields`` may name these.
EXTRA_FIELDS = (
    "page_url",
    "host",
    "state",
    "dead_since",
    "content_type",
    "canonical_url",
    "description",
    "error",
    "extract_error",
    "run_id",
    "confidence",
    "evidence",
    "rank",
    "snippet",
    "text",
)
TABLE_LIMIT = 100  # rows a table shows unless --limit says otherwise


class QueryFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _parse_fields(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """``a,b``: exactly these; ``+a,b``: the default ones and these."""
    if not value:
        return default
    add = value.startswith("+")
    names = split_values([value.removeprefix("+")])
    known = (*CONTRACT_FIELDS, *EXTRA_FIELDS)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; fields are {', '.join(known)}")
    if not names:
        raise InvalidInput("--fields needs at least one field name")
    return tuple(dict.fromkeys((*default, *names))) if add else names


def row_fields(row: QueryRow, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row, as JSON values."""
    base = capture_to_json(row.capture)
    capture = row.capture
    page = capture.page
    extra: dict[str, Any] = {
        "page_url": page.url,
        "host": page.host,
        "state": page.state,
        "dead_since": _iso(page.dead_since),
        "content_type": capture.content_type,
        "canonical_url": capture.canonical_url,
        "description": capture.description,
        "error": capture.error,
        "extract_error": capture.extract_error,
        "run_id": capture.run_id,
        "confidence": capture.confidence,
        "evidence": capture.evidence,
        "rank": None if row.rank is None else round(row.rank, 6),
        "snippet": _plain(row.snippet),
    }
    out: dict[str, Any] = {}
    for name in fields:
        if name == "text":
            out[name] = capture.text
        else:
            out[name] = base[name] if name in base else extra[name]
    return out


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat().replace("+00:00", "Z"))


def _plain(snippet: str | None) -> str | None:
    if snippet is None:
        return None
    return " ".join(snippet.replace(MARK_START, "").replace(MARK_END, "").split())


def highlighted(snippet: str | None) -> str:
    """A snippet as Rich markup: the matched words in bold yellow, everything else escaped."""
    if not snippet:
        return ""
    marked = escape(" ".join(snippet.split()))  # on one line, whatever the text's paragraphs
    return marked.replace(MARK_START, "[bold yellow]").replace(MARK_END, "[/]")


# -- output -------------------------------------------------------------------------------------


def _write_json(rows: Iterator[QueryRow], fields: tuple[str, ...] | None) -> int:
    count = 0
    out = sys.stdout
    for row in rows:
        data = capture_to_json(row.capture) if fields is None else row_fields(row, fields)
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


def _write_csv(rows: Iterator[QueryRow], fields: tuple[str, ...]) -> int:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for row in rows:
        values = row_fields(row, fields)
        writer.writerow([csv_value(values[name]) for name in fields])
        count += 1
    sys.stdout.flush()
    return count


_FIELD_KINDS = {
    "capture_id": Kind.ID,
    "verdict": Kind.VERDICT,
    "title": Kind.TITLE,
    "url": Kind.URL,
    "final_url": Kind.URL,
    "page_url": Kind.URL,
    "canonical_url": Kind.URL,
    "recovered_from": Kind.URL,
    "snippet": Kind.TEXT,
    "text": Kind.TEXT,
    "description": Kind.TEXT,
    "error": Kind.TEXT,
    "extract_error": Kind.TEXT,
    "evidence": Kind.TEXT,
}


def _fields_table(rows: list[QueryRow], fields: tuple[str, ...]) -> FittedTable:
    """The fields a user chose, one column each (a block per capture when they do not fit)."""
    columns = [
        Column(
            name,
            _FIELD_KINDS.get(name, Kind.SMALL),
            stack=name in ("title", "url"),
            style="cyan" if name == "capture_id" else "",
        )
        for name in fields
    ]
    cells: list[list[Cell]] = []
    for row in rows:
        values = row_fields(row, fields)
        line: list[Cell] = []
        for name in fields:
            value = values[name]
            if name == "snippet":
                line.append(Text.from_markup(highlighted(row.snippet)))
            elif name == "verdict":
                line.append(Verdict(str(value or "")))
            elif isinstance(value, list | dict):
                line.append(json.dumps(value, ensure_ascii=False))
            else:
                line.append("" if value is None else str(value))
        cells.append(line)
    return FittedTable(columns, cells)


def _table(rows: list[QueryRow], fields: tuple[str, ...] | None, search: bool) -> FittedTable:
    if fields is not None:
        return _fields_table(rows, fields)
    with_state = any(row.state for row in rows)
    columns = [
        Column("id", Kind.ID, justify="right", style="cyan"),
        Column("fetched (UTC)", drop=3),
        Column("verdict", Kind.VERDICT),
        Column("status", drop=1, justify="right"),
        Column("chars", drop=1, justify="right"),
        Column("title", Kind.TITLE, stack=True, style="bold"),
        Column("url", Kind.URL, stack=True, style="dim"),
    ]
    if with_state:
        columns.insert(3, Column("page state", drop=2))
    if search:
        columns.append(Column("match", Kind.TEXT, stack=True))
    cells: list[list[Cell]] = []
    for row in rows:
        c = row.capture
        line: list[Cell] = [
            str(c.id),
            c.fetched_at.strftime("%Y-%m-%d %H:%M"),
            Verdict(c.verdict, c.reason),
            str(c.http_status or "—"),
            f"{c.text_chars or 0:,}",
            c.title or "",
            c.url,
        ]
        if with_state:
            line.insert(3, row.state or UNKNOWN_STATE)
        if search:
            line.append(Text.from_markup(highlighted(row.snippet)))
        cells.append(line)
    return FittedTable(columns, cells)


# -- the command --------------------------------------------------------------------------------


def query_command(
    ctx: typer.Context,
    verdict: VerdictOption = None,
    domain: DomainOption = None,
    url_prefix: UrlPrefixOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    state: StateOption = None,
    search: SearchOption = None,
    latest: LatestOption = False,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            metavar="ORDER",
            help="newest (default), oldest, relevance (default with --search), url, domain, "
            "verdict, chars or title.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            help=f"At most N rows; 0 for all. Default: {TABLE_LIMIT} in a table, all otherwise.",
            show_default=False,
        ),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            metavar="FIELDS",
            help="Comma-separated fields to print (contract fields, or page_url, host, state, "
            "dead_since, rank, snippet, text...); +a,b adds to the default ones.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        QueryFormat,
        typer.Option("--format", help="table for people, json (JSON Lines) or csv for scripts."),
    ] = QueryFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Find captures: newest first, one row each.

    Filters combine (all must hold); a repeated filter means any of its values. With --latest,
    only the newest capture of each page is considered, so `--latest --verdict not_found` lists
    the pages that are gone now. JSON Lines objects carry the same fields as `morgue archive
    --format json`.

    Examples:

      morgue query --verdict soft_404 --verdict not_found --since 7d

      morgue query --latest --state dead_confirmed --format csv > dead.csv

      morgue query --search '"city council" budget -sport' --limit 20

      morgue query --url-prefix https://example.org/news/ --format json

      morgue query --search flood --fields capture_id,url,rank,snippet
    """
    filters = FilterOptions(verdict, domain, url_prefix, since, until, state, search, latest)
    default_fields = CAPTURE_FIELDS if output is not QueryFormat.table else None
    chosen = _parse_fields(fields, default_fields or ()) if fields else default_fields
    if limit is None:
        limit = TABLE_LIMIT if output is QueryFormat.table else 0
    needs_snippets = bool(search) and (
        output is QueryFormat.table if chosen is None else "snippet" in chosen
    )
    q = build_query(
        filters,
        sort=sort,
        limit=limit or None,
        with_text=bool(chosen and "text" in chosen),
        snippets=needs_snippets,
    )
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        rows = iter_query(database, q)
        if output is QueryFormat.json:
            _write_json(rows, None if fields is None else chosen)
        elif output is QueryFormat.csv:
            assert chosen is not None
            _write_csv(rows, chosen)
        else:
            found = list(rows)
            console = Console()
            if not found:
                Console(stderr=True).print("No captures match.")
                return
            console.print(_table(found, chosen, bool(search)))
            more = ""
            if limit and len(found) == limit:
                more = f" (the first {limit}; --limit 0 for all)"
            Console(stderr=True).print(f"{len(found)} capture(s){more}", style="dim")
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    app.command("query")(query_command)
