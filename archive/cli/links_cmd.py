"""``morgue links``: the links an archived article cites, and whether they still work."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from archive.db.engine import open_existing_database
from archive.exceptions import InvalidInput
from archive.query.link_rot import cited_links
from archive.urls import validate_url

from .options import (
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    FormatOption,
    IgnoreRobotsOption,
    OutputFormat,
    SettingOption,
    TimegateOption,
    TimeoutOption,
    fetch_overrides,
    resolve_paths,
)
from .render import Cell, Column, FittedTable, Kind, Verdict, print_json_lines
from .running import archive_with_progress

__all__ = ["register"]


def links_command(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(metavar="URL", help="An archived article's URL.", show_default=False)
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Fetch (and archive) every cited link now.")
    ] = False,
    recover: Annotated[
        bool,
        typer.Option("--recover", help="With --check: look dead links up in a web archive."),
    ] = False,
    output: FormatOption = OutputFormat.table,
    timeout: TimeoutOption = None,
    timegate: TimegateOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    allow_private: AllowPrivateOption = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """List the links cited in an archived article's text; --check says which are dead.

    The links are those of the article's main text (not its menus or sidebars), from its newest
    capture. --check archives each linked page like `morgue archive` would and gives it a
    verdict; --recover also fetches a copy of each dead one from a web archive.

    Examples:

      morgue links https://example.org/news/my-story.html

      morgue links --check https://example.org/news/my-story.html

      morgue links --check --recover https://example.org/news/my-story.html
    """
    url = validate_url(url)
    overrides = fetch_overrides(
        setting, timeout=timeout, ignore_robots=ignore_robots, no_recover=not recover,
        timegate=timegate, allow_private=allow_private,
    )  # fmt: skip
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        capture, links = cited_links(database, url)
    finally:
        database.close()
    if capture is None:
        raise InvalidInput(f"no capture of {url} in the archive (archive it first)")
    rows: list[dict[str, Any]] = [
        {
            "source_capture_id": capture.id,
            "position": link.position,
            "url": link.url,
            "text": link.text,
        }
        for link in links
    ]
    if check and rows:
        # The links were found in a page: they may reach the networks the article is on.
        overrides.setdefault("NETPOLICY_SEEDS", [capture.url])
        urls = [r["url"] for r in rows]
        results = archive_with_progress(paths, urls, overrides, kind="links").rows()
        by_url: dict[str, dict[str, Any]] = {}
        recovered: dict[str, dict[str, Any]] = {}
        for result in results:
            (recovered if result["recovered_from"] else by_url).setdefault(result["url"], result)
        for row in rows:
            found = by_url.get(row["url"], {})
            row.update(
                verdict=found.get("verdict"),
                reason=found.get("reason"),
                http_status=found.get("http_status"),
                capture_id=found.get("capture_id"),
                recovered_from=recovered.get(row["url"], {}).get("recovered_from"),
            )
    if output is OutputFormat.json:
        print_json_lines(rows)
        return
    console = Console()
    console.print(_table(rows, check, title=f"Links cited by {capture.url} (capture {capture.id})"))
    if not rows:
        console.print("no links in the article's text")
    elif check:
        dead = [r for r in rows if r.get("verdict") not in ("ok", None)]
        console.print(f"{len(rows)} links, {len(dead)} not ok")


def _table(rows: list[dict[str, Any]], check: bool, title: str) -> FittedTable:
    columns = [
        Column("#", Kind.ID, justify="right", style="cyan"),
        Column("text", Kind.TITLE, stack=True),
        Column("url", Kind.URL, stack=True),
    ]
    if check:
        columns += [Column("verdict", Kind.VERDICT), Column("recovered", Kind.URL, drop=2)]
    cells: list[list[Cell]] = []
    for row in rows:
        line: list[Cell] = [str(row["position"] + 1), row["text"] or "", row["url"]]
        if check:
            line += [
                Verdict(row.get("verdict") or "—", row.get("reason")),
                row.get("recovered_from") or "",
            ]
        cells.append(line)
    return FittedTable(columns, cells, title=title)


def register(app: typer.Typer) -> None:
    app.command("links")(links_command)
