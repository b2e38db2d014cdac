"""How results look on a terminal: tables that fit its width for people, JSON Lines for scripts.

Every command that prints a table builds a ``FittedTable`` (archive/cli/tablefit.py), so one
policy decides what gives way in a narrow terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console

from .tablefit import VERDICT_STYLES, Cell, Column, FittedTable, Kind, Verdict

__all__ = [
    "CAPTURE_COLUMNS",
    "VERDICT_STYLES",
    "Cell",
    "Column",
    "FittedTable",
    "Kind",
    "Verdict",
    "capture_cells",
    "captures_table",
    "print_json_lines",
    "stderr_console",
]

#: The columns of a list of captures (``morgue archive``, ``crawl``, ``recheck``, ``demo``).
CAPTURE_COLUMNS = (
    Column("id", Kind.ID, justify="right", style="cyan"),
    Column("verdict", Kind.VERDICT),
    Column("status", drop=1, justify="right"),
    Column("chars", drop=1, justify="right"),
    Column("title", Kind.TITLE, stack=True, style="bold"),
    Column("url", Kind.URL, stack=True, style="dim"),
)


def stderr_console() -> Console:
    return Console(stderr=True)


def capture_cells(row: Mapping[str, Any]) -> list[Any]:
    """A contract row as the cells of ``CAPTURE_COLUMNS``."""
    return [
        str(row.get("capture_id", "")),
        Verdict(row.get("verdict") or "", row.get("reason")),
        str(row.get("http_status") or "—"),
        f"{row.get('text_chars') or 0:,}",
        row.get("title") or "",
        row.get("url") or "",
    ]


def captures_table(rows: Iterable[Mapping[str, Any]], title: str | None = None) -> FittedTable:
    """One line per capture (two, title over URL, in a narrow terminal)."""
    return FittedTable(CAPTURE_COLUMNS, (capture_cells(row) for row in rows), title=title)


def print_json_lines(rows: Iterable[Mapping[str, Any]]) -> None:
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()
