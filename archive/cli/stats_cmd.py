"""``morgue stats``: captures by verdict, domain and day, with small terminal charts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from archive.db.engine import open_existing_database
from archive.query.stats import ArchiveStats, capture_stats

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
from .options import DataDirOption, DbOption, resolve_paths
from .render import VERDICT_STYLES
from .shorten import ellipsize

__all__ = ["bar", "register"]

BAR_WIDTH = 30
_EIGHTHS = " ▏▎▍▌▋▊▉"


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


def bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``count`` against ``largest``, in eighths of a character."""
    if largest <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count / largest * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _chart(
    title: str, rows: Sequence[tuple[str, int, str]], width: int, note: str | None = None
) -> Table:
    """Label, count and bar per row, in ``width`` cells: the bar shrinks first, then labels."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=None,
        show_header=False,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    counts = [f"{count:,}" for _label, count, _style in rows]
    count_width = max((len(c) for c in counts), default=1)
    label_width = max((cell_len(label) for label, _count, _style in rows), default=1)
    bar_width = max(min(BAR_WIDTH, width - label_width - count_width - 2), 10)
    label_width = min(label_width, max(width - count_width - bar_width - 2, 8))
    table.add_column(no_wrap=True, width=label_width)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    largest = max((count for _label, count, _style in rows), default=0)
    for (label, count, style), shown in zip(rows, counts, strict=True):
        drawn = bar(count, largest, bar_width)
        table.add_row(
            escape(ellipsize(label, label_width)), shown, f"[{style}]{drawn}[/]" if style else drawn
        )
    if note:
        table.add_row(f"[dim]{escape(note)}[/]", "", "")
    return table


def _render(stats: ArchiveStats, width: int) -> Group:
    states = {"alive": "green", "dead_suspected": "yellow", "dead_confirmed": "red"}
    parts: list[Table | str] = [
        f"[bold]{stats.captures:,}[/] capture(s) of [bold]{stats.pages:,}[/] page(s)"
        + (f", {stats.first_day} to {stats.last_day} (UTC)" if stats.first_day else ""),
        "",
        _chart(
            "By verdict",
            [(v, n, VERDICT_STYLES.get(v, "")) for v, n in stats.by_verdict.items()],
            width,
        ),
        "",
        _chart(
            "Pages by state",
            [(s, n, states.get(s, "dim")) for s, n in stats.by_state.items()],
            width,
        ),
        "",
        _chart(
            "By domain",
            [(d, n, "cyan") for d, n in stats.by_domain],
            width,
            f"other domains: {stats.other_domains:,}" if stats.other_domains else None,
        ),
        "",
        _chart("By day", [(d, n, "blue") for d, n in stats.by_day], width),
    ]
    return Group(*parts)


def stats_command(
    ctx: typer.Context,
    verdict: VerdictOption = None,
    domain: DomainOption = None,
    url_prefix: UrlPrefixOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    state: StateOption = None,
    search: SearchOption = None,
    latest: LatestOption = False,
    top: Annotated[int, typer.Option("--top", min=1, metavar="N", help="Domains to list.")] = 10,
    days: Annotated[
        int, typer.Option("--days", min=1, metavar="N", help="Most recent days to chart.")
    ] = 30,
    output: Annotated[
        StatsFormat, typer.Option("--format", help="table (with charts) or json.")
    ] = StatsFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Count captures by verdict, domain and day (UTC), and pages by state, with bar charts.

    Takes the filters of `morgue query`, so the counts describe the captures it would list.
    `--days` charts the most recent days that have captures.

    Examples:

      morgue stats

      morgue stats --domain example.org --since 30d

      morgue stats --latest --format json | jq .by_verdict
    """
    q = build_query(FilterOptions(verdict, domain, url_prefix, since, until, state, search, latest))
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        stats = capture_stats(database, q, top=top, days=days)
    finally:
        database.close()
    if output is StatsFormat.json:
        sys.stdout.write(json.dumps(stats.to_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        console = Console()
        console.print(_render(stats, console.width))


def register(app: typer.Typer) -> None:
    app.command("stats")(stats_command)
