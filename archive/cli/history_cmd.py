"""``morgue history URL``: every capture of a page over time, and what changed between them."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archive.db import open_existing_database
from archive.exceptions import InvalidInput
from archive.query import Change, PageHistory, page_history
from archive.store import capture_to_json
from archive.urls import validate_url

from .options import DataDirOption, DbOption, resolve_paths
from .render import VERDICT_STYLES

__all__ = ["describe_change", "history_to_json", "register"]


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat().replace("+00:00", "Z"))


def history_to_json(history: PageHistory) -> list[dict[str, Any]]:
    """One object per capture, oldest first: the contract fields, ``changes``, the page state."""
    out = []
    for entry in history.entries:
        data = capture_to_json(entry.capture)
        data["changes"] = [change.to_json() for change in entry.changes]
        data["page_state"] = history.state
        data["dead_since"] = _iso(history.dead_since)
        out.append(data)
    return out


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


def _verdict(verdict: str, reason: str) -> str:
    style = VERDICT_STYLES.get(verdict, "")
    shown = f"[{style}]{verdict}[/]" if style else verdict
    if reason and not reason.startswith("http_"):
        shown += f" [dim]({escape(reason)})[/]"
    return shown


def _print_table(history: PageHistory) -> None:
    console = Console()
    captures = [entry.capture for entry in history.entries]
    state = history.state or "unknown"
    style = {"alive": "green", "dead_suspected": "yellow", "dead_confirmed": "red"}.get(state, "")
    header = f"[bold]{escape(history.page.url if history.page else history.url)}[/]\n"
    header += f"page state: [{style}]{state}[/]" if style else f"page state: {state}"
    if history.dead_since:
        header += f" since {history.dead_since.strftime('%Y-%m-%d %H:%M')} UTC"
    header += (
        f"  ·  {len(captures)} capture(s), {captures[0].fetched_at:%Y-%m-%d}"
        f" to {captures[-1].fetched_at:%Y-%m-%d}"
    )
    console.print(header)
    table = Table(header_style="bold")
    table.add_column("id", justify="right", style="cyan", no_wrap=True)
    table.add_column("fetched (UTC)", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("chars", justify="right", no_wrap=True)
    table.add_column("title", overflow="fold", ratio=1)
    table.add_column("changed since the capture before", overflow="fold", ratio=1)
    for entry in history.entries:
        c = entry.capture
        status = f"{c.http_status} " if c.http_status else ""
        title = escape(c.title or "")
        if c.recovered_from:
            title += f"\n[dim]recovered from {escape(c.recovered_from)}[/]"
        changes = [escape(describe_change(change)) for change in entry.changes]
        if not changes and c is captures[0]:
            changes = ["[dim]first capture[/]"]
        table.add_row(
            str(c.id),
            c.fetched_at.strftime("%Y-%m-%d %H:%M"),
            status + _verdict(c.verdict, c.reason),
            f"{c.text_chars:,}",
            title,
            "\n".join(changes),
        )
    console.print(table)


def history_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The page's URL (any form that normalises to it).")],
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

      morgue history --format json https://example.org/news/story.html | jq -c .changes
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
