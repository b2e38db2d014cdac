"""How captures look on a terminal: Rich tables for people, JSON Lines for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["VERDICT_STYLES", "captures_table", "print_json_lines", "stderr_console"]

VERDICT_STYLES = {
    "ok": "green",
    "not_found": "red",
    "soft_404": "magenta",
    "blocked": "yellow",
    "server_error": "red",
    "unreachable": "bright_black",
}


def stderr_console() -> Console:
    return Console(stderr=True)


def captures_table(
    rows: Iterable[Mapping[str, Any]], title: str | None = None, strip_prefix: str = ""
) -> Table:
    """One line per capture; ``strip_prefix`` shortens URLs that all share a site."""
    table = Table(title=title, header_style="bold")
    table.add_column("id", justify="right", style="cyan", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("status", justify="right", no_wrap=True)
    table.add_column("chars", justify="right", no_wrap=True)
    table.add_column("title", overflow="fold", ratio=1)
    table.add_column("url", overflow="fold", ratio=1)
    for row in rows:
        verdict = row.get("verdict") or ""
        reason = row.get("reason") or ""
        style = VERDICT_STYLES.get(verdict, "")
        shown = f"[{style}]{verdict}[/]" if style else verdict
        if reason and not reason.startswith("http_"):
            shown += f" [dim]({reason})[/]"
        url = row.get("url") or ""
        if strip_prefix and url.startswith(strip_prefix):
            url = url[len(strip_prefix) :] or "/"
        table.add_row(
            str(row.get("capture_id", "")),
            shown,
            str(row.get("http_status") or "—"),
            str(row.get("text_chars") or 0),
            row.get("title") or "",
            url,
        )
    return table


def print_json_lines(rows: Iterable[Mapping[str, Any]]) -> None:
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()
