"""``morgue worker`` (join a distributed crawl) and ``morgue workers`` (its state)."""

from __future__ import annotations

import json
import signal
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .options import (
    ALLOW_PRIVATE,
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    FormatOption,
    OutputFormat,
    RedisPrefixOption,
    SettingOption,
    parse_settings,
    resolve_paths,
)

__all__ = ["register"]

RequiredRedis = Annotated[
    str,
    typer.Option(
        "--redis",
        envvar="MORGUE_REDIS_URL",
        help="The Redis of the shared frontier: redis://HOST:6379/0.",
        metavar="URL",
    ),
]


def worker_command(
    ctx: typer.Context,
    redis: RequiredRedis,
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--worker-id",
            help="This worker's name, in its WARC file names and in `morgue workers` "
            "(default HOST.PID).",
            metavar="ID",
        ),
    ] = None,
    redis_prefix: RedisPrefixOption = "morgue",
    output: FormatOption = OutputFormat.table,
    allow_private: AllowPrivateOption = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Join a distributed crawl: fetch what the Redis queue gives, until stopped.

    Pages are archived in WARC files of this worker's own in DATA_DIR/warcs (the worker id in
    their names) and stored in the --db all workers share (PostgreSQL). Each request taken is
    leased: if this worker dies, another fetches it once the lease runs out. SIGTERM or Ctrl-C
    finishes what is in flight, closes the WARC files and hands back the rest; then the pages
    of this run that showed no article are judged again against the articles every worker has
    stored since (the second look). Queue work with `morgue crawl --redis` or
    `morgue archive --redis`; watch it with `morgue workers`.

    Examples:

      morgue worker --redis redis://q:6379/0 --db postgresql+psycopg://u@db/m

      morgue --data-dir /srv/morgue worker --redis redis://127.0.0.1:6379/0 --worker-id a1
    """
    from archive.distributed.worker_run import run_worker

    paths = resolve_paths(ctx, data_dir, db)
    # A worker has no seeds of its own to judge networks by: public addresses only, unless
    # --allow-private (or NETPOLICY_SEEDS) says otherwise.
    overrides = {**(ALLOW_PRIVATE if allow_private else {}), **parse_settings(setting)}

    def on_event(event: Any) -> None:
        if event.get("event") == "recovery":
            print(event.get("line", ""), file=sys.stderr)

    # SIGTERM (systemd's stop, sent to the whole unit) as Ctrl-C: the crawl process, which gets
    # it too, finishes what is in flight; this process waits for it and reports.
    signal.signal(signal.SIGTERM, _interrupt)
    summary = run_worker(
        paths, redis, worker=worker_id, prefix=redis_prefix, overrides=overrides, on_event=on_event
    )
    if output is OutputFormat.json:
        print(json.dumps(summary.to_json()))
    else:
        print(
            f"worker {summary.worker} {summary.status}: {summary.pages} pages "
            f"in {summary.duration_s:.0f} s (run {summary.run_id})"
        )
    if summary.status == "interrupted":
        raise typer.Exit(130)
    if summary.status == "failed":
        raise typer.Exit(1)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def workers_command(
    redis: RequiredRedis,
    redis_prefix: RedisPrefixOption = "morgue",
    output: FormatOption = OutputFormat.table,
) -> None:
    """The shared frontier: queue length, requests in flight, seen URLs, and each worker's
    pages, pages/s and last heartbeat.

    Examples:

      morgue workers --redis redis://q:6379/0

      morgue workers --redis redis://127.0.0.1:6379/0 --format json
    """
    from archive.distributed.status import frontier_status

    status = frontier_status(redis, prefix=redis_prefix)
    if output is OutputFormat.json:
        print(json.dumps(status.to_json()))
        return
    console = Console()
    console.print(
        f"queued {status.queued} · in flight {status.in_flight} · seen {status.seen} "
        f"({status.crawls} crawls) · dead {status.dead}",
        markup=False,
        highlight=False,
    )
    table = Table("worker", "state", "pages", "pages/s", "in flight", "last heartbeat")
    for worker in status.workers:
        table.add_row(
            worker.worker,
            worker.state,
            str(worker.pages),
            f"{worker.pages_per_s:.2f}",
            str(worker.in_flight),
            f"{worker.last_heartbeat} ({worker.heartbeat_age_s:.0f} s ago)",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
    app.command("workers")(workers_command)
