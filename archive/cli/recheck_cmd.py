"""``morgue recheck``: fetch archived pages again and record what became of them."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from archive.db.engine import open_database, open_existing_database
from archive.db.models import PAGE_STATES
from archive.durations import parse_duration
from archive.exceptions import InvalidInput
from archive.liveness.verdicts import check_verdicts
from archive.query.link_rot import page_states, pages_to_recheck
from archive.urls import validate_url

from .options import (
    PROGRESS_THRESHOLD,
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    FormatOption,
    IgnoreRobotsOption,
    NoRecoverOption,
    OutputFormat,
    SettingOption,
    TimegateOption,
    TimeoutOption,
    fetch_overrides,
    resolve_paths,
    split_values,
)
from .render import captures_table, print_json_lines, stderr_console
from .running import archive_with_progress

__all__ = ["register"]


def recheck_command(
    ctx: typer.Context,
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="URL",
            help="Archived pages to check again (default: every page the options select).",
            show_default=False,
        ),
    ] = None,
    verdict: Annotated[
        list[str] | None,
        typer.Option(
            "--verdict",
            metavar="VERDICT",
            help="Only pages whose newest capture has this verdict (repeatable, or a,b).",
            show_default=False,
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Only pages last checked longer ago than this (30m, 1h30m, 12h, 7d, 2w).",
            show_default=False,
        ),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain",
            metavar="DOMAIN",
            help="Only pages of this host and its subdomains.",
            show_default=False,
        ),
    ] = None,
    url_prefix: Annotated[
        str | None,
        typer.Option(
            "--url-prefix",
            metavar="PREFIX",
            help="Only pages whose URL starts with this.",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            metavar="STATE",
            help="Only pages in this state: alive, dead_suspected, dead_confirmed.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", help="Check at most N pages.", min=1),
    ] = None,
    output: FormatOption = OutputFormat.table,
    timeout: TimeoutOption = None,
    no_recover: NoRecoverOption = False,
    timegate: TimegateOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    allow_private: AllowPrivateOption = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Fetch archived pages again, record a new capture of each, and show their state.

    A page is alive, dead_suspected (one dead check) or dead_confirmed (dead in
    LIVENESS_DEAD_CHECKS checks at least LIVENESS_DEAD_SPAN days apart). JSON rows carry the
    contract fields plus "state" and "previous_verdict".

    Examples:

      morgue recheck --older-than 7d

      morgue recheck --verdict not_found --verdict soft_404 --format json

      morgue recheck --domain example.org --state dead_suspected

      morgue recheck --url-prefix https://example.org/news/2024/

      morgue recheck https://example.org/news/story.html
    """
    overrides = fetch_overrides(
        setting, timeout=timeout, ignore_robots=ignore_robots, no_recover=no_recover,
        timegate=timegate, allow_private=allow_private,
    )  # fmt: skip
    age = timedelta(seconds=parse_duration(older_than)) if older_than is not None else None
    check_verdicts(split_values(verdict))
    if state is not None and state not in PAGE_STATES:
        raise InvalidInput(f"invalid state {state!r}: use one of {', '.join(PAGE_STATES)}")
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        found = pages_to_recheck(
            database,
            verdicts=list(split_values(verdict)),
            older_than=age,
            domain=domain,
            state=state,
            url_prefix=url_prefix,
            urls=[validate_url(url) for url in urls or []],
            limit=limit,
        )
        previous = _previous_verdicts(database, found)
    finally:
        database.close()
    if not found:
        stderr_console().print("nothing to recheck")
        return
    show_progress = (
        output is OutputFormat.table and sys.stderr.isatty() and len(found) > PROGRESS_THRESHOLD
    )
    run = archive_with_progress(paths, found, overrides, kind="recheck", progress=show_progress)
    rows = run.rows()
    database = open_database(paths.db_url)
    try:
        states = page_states(database, [row["capture_id"] for row in rows])
    finally:
        database.close()
    for row in rows:
        row["state"] = states.get(row["capture_id"])
        row["previous_verdict"] = previous.get(row["url"]) if not row["recovered_from"] else None
    if output is OutputFormat.json:
        print_json_lines(rows)
    else:
        Console().print(captures_table(rows, title="Rechecked pages"))
        changed = [
            r for r in rows if r["previous_verdict"] and r["previous_verdict"] != r["verdict"]
        ]
        for row in changed:
            Console().print(
                f"{row['url']}: {row['previous_verdict']} -> {row['verdict']} (now {row['state']})"
            )
        Console().print(f"{len(found)} pages rechecked, {len(changed)} changed verdict")
    if run.interrupted:
        raise typer.Exit(130)


def _previous_verdicts(database: Any, urls: list[str]) -> dict[str, str]:
    from archive.captures.table import latest_capture

    found: dict[str, str] = {}
    for url in urls:
        capture = latest_capture(database, url)
        if capture is not None:
            found[url] = capture.verdict
    return found


def register(app: typer.Typer) -> None:
    app.command("recheck")(recheck_command)
