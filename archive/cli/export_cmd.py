"""``morgue export``: the chosen captures as JSON Lines with their text, or as a WACZ package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from archive.db.engine import open_existing_database
from archive.exceptions import InvalidInput
from archive.export.jsonl import export_jsonl
from archive.export.wacz import export_wacz

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

__all__ = ["register"]


def export_command(
    ctx: typer.Context,
    jsonl: Annotated[
        str | None,
        typer.Option(
            "--jsonl",
            help="Write JSON Lines here (- for stdout): contract fields, page state and text.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    wacz: Annotated[
        Path | None,
        typer.Option(
            "--wacz",
            help="Write a WACZ package here (ReplayWeb.page opens it).",
            metavar="FILE",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str,
        typer.Option(
            "--title", metavar="TEXT", help="Title of the WACZ package and its page list."
        ),
    ] = "morgue export",
    verdict: VerdictOption = None,
    domain: DomainOption = None,
    url_prefix: UrlPrefixOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    state: StateOption = None,
    search: SearchOption = None,
    latest: LatestOption = False,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Export captures, chosen with the filters of `morgue query`, for other tools.

    --jsonl writes one JSON object per capture (newest first): the fields of `morgue query
    --format json`, then page_url, state, dead_since, canonical_url, content_type, description
    and the extracted text. --wacz copies the captures' WARC records (responses, redirect hops,
    metadata, the pages' requisites and screenshots, the originals of revisits) into a WACZ
    package with a pages.jsonl from the database, which ReplayWeb.page opens and `wacz
    validate` checks. Files appear only once complete.

    Examples:

      morgue export --jsonl articles.jsonl --verdict ok --since 30d

      morgue export --wacz council.wacz --search council --latest

      morgue export --jsonl - --domain example.org | jq -r .text
    """
    if (jsonl is None) == (wacz is None):
        raise InvalidInput("choose one of --jsonl FILE and --wacz FILE")
    q = build_query(FilterOptions(verdict, domain, url_prefix, since, until, state, search, latest))
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    err = Console(stderr=True, soft_wrap=True)
    try:
        if jsonl is not None:
            dest = None if jsonl == "-" else Path(jsonl)
            count = export_jsonl(database, q, dest)
            if dest is not None:
                err.print(f"Wrote {count} capture(s) to {dest}")
        else:
            assert wacz is not None
            result = export_wacz(database, q, paths.warc_dir, wacz, title=title)
            err.print(
                f"Wrote {result.pages} page(s), {result.records} WARC record(s) to {result.path}"
            )
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
