"""``morgue schedule ...`` and ``morgue scheduler``: crawls that run again and again."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from archive.db.engine import Database, open_database
from archive.distributed.enqueue import enqueue_crawl
from archive.durations import format_duration, parse_duration
from archive.exceptions import InvalidInput
from archive.runs.crawling import CrawlSpec
from archive.runs.schedule_runner import RunOutcome, Scheduler, run_due
from archive.runs.schedules import (
    ScheduleInfo,
    add_schedule,
    list_schedules,
    remove_schedule,
    schedules_without_request,
    set_crawl_request,
)

from .crawl_request import request_from_args
from .options import DataDirOption, DbOption, FormatOption, OutputFormat, resolve_paths
from .render import Cell, Column, FittedTable, Kind, print_json_lines

__all__ = ["register"]

schedule_app = typer.Typer(
    name="schedule",
    help="""Scheduled crawls: add, list, remove, run the due ones.

    The schedules live in the database; each runs `morgue crawl` with the arguments given
    after `--`, from `morgue schedule run-due` (cron, systemd) or `morgue scheduler`. With
    `--redis URL` among them, each run queues the crawl for `morgue worker`s instead.

    Examples:

      morgue schedule add courier --every 30m -- --feed https://example.org/rss
      morgue schedule list
      morgue schedule run-due
    """,
    no_args_is_help=True,
)


def _enqueue(redis_url: str, prefix: str, spec: CrawlSpec) -> str:
    """The runner's way to the workers (archive.runs stands below archive.distributed)."""
    return enqueue_crawl(redis_url, spec, prefix=prefix).crawl


def _fill_requests(ctx: typer.Context, database: Database) -> None:
    """Give schedules stored before requests were kept the request their arguments mean."""
    for name, args in schedules_without_request(database):
        try:
            set_crawl_request(database, name, request_from_args(ctx, args))
        except Exception as exc:  # arguments a newer morgue no longer takes: say which
            print(f"morgue: schedule {name}: cannot read its arguments: {exc}", file=sys.stderr)


@schedule_app.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the schedule.")],
    crawl_args: Annotated[
        list[str] | None,
        typer.Argument(help="Arguments of `morgue crawl`, after `--`.", show_default=False),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="Run every DURATION (30m, 1h, 1d).", metavar="DURATION"),
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Run at the times of a cron expression (UTC).", metavar="EXPR"),
    ] = None,
    adaptive: Annotated[
        bool,
        typer.Option(
            "--adaptive",
            help="Shorten the interval after runs that find new entries, lengthen it otherwise.",
        ),
    ] = False,
    min_interval: Annotated[
        str | None,
        typer.Option("--min-interval", help="Adaptive lower bound (default every/4).", metavar="D"),
    ] = None,
    max_interval: Annotated[
        str | None,
        typer.Option("--max-interval", help="Adaptive upper bound (default every*4).", metavar="D"),
    ] = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Add a scheduled crawl: the arguments after `--` are those of `morgue crawl`.

    A schedule with --every is due at once; run the due ones with `morgue schedule run-due`
    (from cron or a systemd timer) or keep `morgue scheduler` running.

    Examples:

      morgue schedule add courier --every 30m -- --feed https://example.org/rss

      morgue schedule add maps --cron "0 */6 * * *" -- --sitemap https://a.test

      morgue schedule add wire --every 1h --adaptive -- --feed https://a.example

      morgue schedule add spread --every 1h -- --redis redis://q:6379/0 --feed https://a.example
    """
    args = list(crawl_args or [])
    if not args:
        raise InvalidInput("no crawl arguments: add them after --, e.g. -- --feed URL")
    request = request_from_args(ctx, args)  # a mistake in them shows up now
    paths = resolve_paths(ctx, data_dir, db)
    database = open_database(paths.db_url)
    try:
        add_schedule(
            database,
            name,
            args,
            every_s=parse_duration(every) if every is not None else None,
            cron=cron,
            adaptive=adaptive,
            min_interval_s=parse_duration(min_interval) if min_interval else None,
            max_interval_s=parse_duration(max_interval) if max_interval else None,
            crawl_request=request,
        )
    finally:
        database.close()
    typer.echo(f"added schedule {name}")


def _when(info: ScheduleInfo) -> str:
    if info.cron:
        return f"cron {info.cron}"
    text = f"every {format_duration(info.every_s or 0)}"
    if info.adaptive and info.interval_s != info.every_s:
        text += f" (now {format_duration(info.interval_s or 0)})"
    elif info.adaptive:
        text += " (adaptive)"
    return text


def _last(info: ScheduleInfo) -> str:
    last = info.last_run
    if last is None:
        return "never"
    if last["status"] == "enqueued":
        return (
            f"{last['started_at'][:19].replace('T', ' ')} enqueued: crawl {last.get('crawl')}, "
            f"{last.get('queued', 0)} sources queued for the workers"
        )
    verdicts = ", ".join(f"{v} {n}" for v, n in sorted((last.get("verdicts") or {}).items()))
    return (
        f"{last['started_at'][:19].replace('T', ' ')} {last['status']}: "
        f"{last.get('pages', 0)} pages{f' ({verdicts})' if verdicts else ''}, "
        f"{last.get('errors', 0)} errors, {format_duration(float(last.get('duration_s') or 0))}"
        + _failed_sources(last.get("failed_sources") or [])
    )


def _failed_sources(failed: list[dict[str, Any]]) -> str:
    if not failed:
        return ""
    first = failed[0]
    more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
    return f"; failed: {first.get('kind')} {first.get('url')} ({first.get('reason')}){more}"


@schedule_app.command("list")
def list_command(
    ctx: typer.Context,
    output: FormatOption = OutputFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """List the schedules, when they run next and how their last run went.

    Examples:

      morgue schedule list

      morgue schedule list --format json
    """
    paths = resolve_paths(ctx, data_dir, db)
    database = open_database(paths.db_url)
    try:
        infos = list_schedules(database)
    finally:
        database.close()
    if output is OutputFormat.json:
        print_json_lines(info.to_json() for info in infos)
        return
    if not infos:
        Console(stderr=True).print("no schedules: add one with `morgue schedule add`")
        return
    columns = [
        Column("name", Kind.ID, style="cyan"),
        Column("when"),
        Column("next run (UTC)", drop=2),
        Column("runs", drop=1, justify="right"),
        Column("last run", Kind.TEXT),
        Column("crawl", Kind.TEXT),
    ]
    rows: list[list[Cell]] = []
    for info in infos:
        next_run = "running" if info.running else f"{info.next_run_at:%Y-%m-%d %H:%M:%S}"
        crawl_args = " ".join(info.crawl_args)
        rows.append([info.name, _when(info), next_run, str(info.runs), _last(info), crawl_args])
    table = FittedTable(columns, rows)
    Console().print(table)


@schedule_app.command("remove")
def remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The schedule to remove.")],
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Remove a schedule (its past runs go with it; the captures stay).

    Example:

      morgue schedule remove courier
    """
    paths = resolve_paths(ctx, data_dir, db)
    database = open_database(paths.db_url)
    try:
        remove_schedule(database, name)
    finally:
        database.close()
    typer.echo(f"removed schedule {name}")


def _print_outcomes(outcomes: list[RunOutcome], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json_lines(o.to_json() for o in outcomes)
        return
    for o in outcomes:
        if o.status == "enqueued":
            typer.echo(f"{o.name}: enqueued crawl {o.stats.get('crawl')} for the workers")
            continue
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted((o.stats.get("verdicts") or {}).items()))
        error = o.stats.get("error")
        typer.echo(
            f"{o.name}: {o.status}, {o.stats.get('pages', 0)} pages"
            f"{f' ({verdicts})' if verdicts else ''}, {o.stats.get('errors', 0)} errors"
            f"{f': {error}' if error else ''}"
        )


@schedule_app.command("run-due")
def run_due_command(
    ctx: typer.Context,
    output: FormatOption = OutputFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Run the schedules that are due now, each crawl in its own process, and wait for them.

    Meant for cron or a systemd timer. A schedule that another runner is running is skipped;
    one with `--redis` is queued for the workers (status "enqueued") and not waited for.

    Example (crontab):

      */5 * * * * morgue --data-dir /srv/morgue schedule run-due
    """
    paths = resolve_paths(ctx, data_dir, db)
    database = open_database(paths.db_url)
    try:
        _fill_requests(ctx, database)
        outcomes = run_due(database, paths.data_dir, enqueue=_enqueue)
        ran = [o for o in outcomes if o.status != "skipped"]
        upcoming = list_schedules(database) if not ran else []
    finally:
        database.close()
    _print_outcomes(ran, output)
    if not ran:
        # Silence would look like a runner that did nothing by mistake: say why (on stderr).
        err = Console(stderr=True, soft_wrap=True)
        for o in outcomes:
            err.print(f"{o.name}: running elsewhere, skipped")
        waiting = [info for info in upcoming if not info.running]
        if not upcoming:
            err.print("no schedules: add one with `morgue schedule add`")
        elif waiting:
            soonest = min(waiting, key=lambda info: info.next_run_at)
            err.print(
                f"nothing due; next: {soonest.name} at {soonest.next_run_at:%Y-%m-%d %H:%M:%S} UTC"
            )


def scheduler_command(
    ctx: typer.Context,
    tick: Annotated[
        float,
        typer.Option(
            "--tick", metavar="SECONDS", help="Seconds between looks for due schedules.", min=0.1
        ),
    ] = 30.0,
    time_limit: Annotated[
        str | None,
        typer.Option(
            "--time-limit",
            help="Stop starting crawls after DURATION and exit once they end (default: never).",
            metavar="DURATION",
        ),
    ] = None,
    max_parallel: Annotated[
        int,
        typer.Option("--max-parallel", metavar="N", help="Crawls running at once at most.", min=1),
    ] = 4,
    max_runs: Annotated[
        int | None,
        typer.Option(
            "--max-runs",
            metavar="N",
            help="Stop starting crawls after N and exit once they end.",
            min=1,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Run schedules as they fall due, until stopped (Ctrl-C lets running crawls finish).

    Each crawl runs in its own process; a schedule never runs twice at once, even with several
    schedulers on one database.

    Examples:

      morgue --data-dir /srv/morgue scheduler

      morgue scheduler --tick 5 --time-limit 1h

      morgue scheduler --max-runs 3
    """
    limit = parse_duration(time_limit) if time_limit is not None else None
    paths = resolve_paths(ctx, data_dir, db)
    database = open_database(paths.db_url)
    err = sys.stderr

    started_runs = 0

    def started(name: str) -> None:
        nonlocal started_runs
        err.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} started {name}\n")
        err.flush()
        started_runs += 1
        if max_runs is not None and started_runs >= max_runs:
            scheduler.stopping.set()  # this run is the last: let it finish, start no more

    def finished(outcome: RunOutcome) -> None:
        stats = outcome.stats
        if outcome.status == "enqueued":
            what = f"crawl {stats.get('crawl')} queued for the workers"
        else:
            what = f"{stats.get('pages', 0)} pages, {stats.get('errors', 0)} errors"
            what += f": {stats['error']}" if stats.get("error") else ""
        err.write(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} {outcome.name} {outcome.status}: {what}\n"
        )
        err.flush()

    _fill_requests(ctx, database)
    scheduler = Scheduler(
        database,
        paths.data_dir,
        tick_s=tick,
        max_parallel=max_parallel,
        on_outcome=finished,
        on_start=started,
        enqueue=_enqueue,
    )
    try:
        scheduler.run(limit)
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app)
    app.command("scheduler")(scheduler_command)
