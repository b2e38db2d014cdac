"""``morgue history URL``: every capture of a page over time, and what changed between them."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from archive.db.engine import open_existing_database
from archive.db.models import UNKNOWN_STATE
from archive.exceptions import InvalidInput
from archive.query.capture_query import Change, PageHistory, history_to_json, page_history
from archive.urls import validate_url

from .options import DataDirOption, DbOption, resolve_paths
from .render import Cell, Column, FittedTable, Kind, Verdict
from .shorten import shorten_url

__all__ = ["describe_change", "history_to_json", "register"]


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


def _short(value: Any, width: int = 40) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_change(change: Change) -> str:
    """A change in a few words, e.g. ``verdict ok → not_found`` or ``text 2,255 → 0 chars``."""
    if change.field == "text_chars":
        before, after = int(change.before or 0), int(change.after or 0)
        delta = after - before
        return f"text {before:,} → {after:,} chars ({delta:+,})"
    if change.field == "text":
        return "text changed (same length)"
    if change.field == "recovered_from":
        if change.after:
            return f"recovered from {change.after}"
        return "live copy again"
    if change.field == "http_status":
        return f"status {_short(change.before)} → {_short(change.after)}"
    if change.field == "title":
        return f"title {_short(change.before)!s} → {_short(change.after)!s}"
    return f"{change.field} {_short(change.before)} → {_short(change.after)}"


def _print_table(history: PageHistory) -> None:
    console = Console()
    captures = [entry.capture for entry in history.entries]
    state = history.state or UNKNOWN_STATE
    style = {"alive": "green", "dead_suspected": "yellow", "dead_confirmed": "red"}.get(state, "")
    url = history.page.url if history.page else history.url
    header = f"[bold]{escape(shorten_url(url, console.width))}[/]\n"
    header += f"page state: [{style}]{state}[/]" if style else f"page state: {state}"
    if history.dead_since:
        header += f" since {history.dead_since.strftime('%Y-%m-%d %H:%M')} UTC"
    header += (
        f"  ·  {len(captures)} capture(s), {captures[0].fetched_at:%Y-%m-%d}"
        f" to {captures[-1].fetched_at:%Y-%m-%d}"
    )
    console.print(header)
    columns = [
        Column("id", Kind.ID, justify="right", style="cyan"),
        Column("fetched (UTC)", drop=2),
        Column("verdict", Kind.VERDICT),
        Column("status", drop=1, justify="right"),
        Column("chars", drop=1, justify="right"),
        Column("title", Kind.TITLE, style="bold"),
        Column("changes since the capture before", Kind.TEXT),
    ]
    rows: list[list[Cell]] = []
    for entry in history.entries:
        c = entry.capture
        title = c.title or ""
        if c.recovered_from:
            title += f"\nrecovered from {c.recovered_from}"
        changes = [describe_change(change) for change in entry.changes]
        if not changes and c is captures[0]:
            changes = ["first capture"]
        rows.append(
            [
                str(c.id),
                c.fetched_at.strftime("%Y-%m-%d %H:%M"),
                Verdict(c.verdict, c.reason),
                str(c.http_status or "—"),
                f"{c.text_chars:,}",
                title,
                "\n".join(changes),
            ]
        )
    table = FittedTable(columns, rows)
    console.print(table)


def history_command(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Argument(metavar="URL", help="The page's URL (any form that normalises to it)."),
    ],
    output: Annotated[
        HistoryFormat,
        typer.Option("--format", help="table for people, json for JSON Lines."),
    ] = HistoryFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Every capture of a page, oldest first, with what changed from one to the next.

    The page's state (alive, dead_suspected, dead_confirmed, and since when it looks dead)
    comes first. Each capture shows its verdict, status, title, text length and whether it was
    recovered from a web archive; the last column lists what differs from the capture before it
    (verdict, status, title, text length, final URL, recovery). JSON Lines: one object per
    capture with the contract fields, `changes` ([{field, from, to}]), `page_state` and
    `dead_since`.

    Examples:

      morgue history https://example.org/news/story.html

      morgue history --format json https://example.org/news/story.html
    """
    target = validate_url(url)
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        history = page_history(database, target)
    finally:
        database.close()
    if not history.entries:
        raise InvalidInput(f"no capture of {url}")
    if output is HistoryFormat.json:
        for data in history_to_json(history):
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        _print_table(history)


def register(app: typer.Typer) -> None:
    app.command("history")(history_command)
