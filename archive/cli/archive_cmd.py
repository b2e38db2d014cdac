"""``morgue archive``: fetch, archive, extract, classify and store a list of URLs."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive.crawl_process import CrawlJob, CrawlResult, run_crawl_process
from archive.db import open_database
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput
from archive.heartbeat import beat
from archive.memento import check_timegate
from archive.store import capture_to_json, captures_for_run, finish_run, start_run
from archive.urls import validate_url
from archive.warc import check_writable

from .options import DataDirOption, DbOption, Paths, SettingOption, parse_settings, resolve_paths
from .render import captures_table, print_json_lines, stderr_console

__all__ = [
    "EXTRACT_LATER",
    "ExtractWhen",
    "OutputFormat",
    "archive_urls",
    "read_url_list",
    "register",
]

PROGRESS_THRESHOLD = 3  # show a progress bar for more URLs than this, on a terminal


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class ExtractWhen(StrEnum):
    now = "now"
    later = "later"


#: What ``--extract later`` means: archive and judge by status only, extract with `morgue extract`.
EXTRACT_LATER: dict[str, Any] = {"EXTRACT_ENABLED": False, "LIVENESS_PROBE_ENABLED": False}


def read_url_list(urls: list[str], input_file: str | None) -> list[str]:
    """URLs from the arguments and from a file (``-`` for stdin), validated, duplicates dropped."""
    given = list(urls)
    if input_file is not None:
        try:
            if input_file == "-":
                text = sys.stdin.read()
            else:
                text = Path(input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read URL list {input_file}: {exc}") from exc
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                given.append(line)
    if not given:
        raise InvalidInput("no URLs given: pass URLs as arguments or with -i FILE")
    return list(dict.fromkeys(validate_url(url) for url in given))


def archive_urls(
    paths: Paths,
    urls: list[str],
    overrides: Mapping[str, Any],
    *,
    kind: str = "archive",
    progress: bool = False,
) -> tuple[list[dict[str, Any]], CrawlResult]:
    """Archive ``urls`` in a crawl process; return one contract row per URL, in input order.

    A fault that stopped the crawl (a WARC or database write) raises ``ArchiveError`` with one
    line naming it, after the run is recorded ``failed``.
    """
    check_writable(Path(overrides.get("WARC_DIR") or paths.warc_dir))
    db = open_database(paths.db_url)
    rows: list[dict[str, Any]] = []
    try:
        run_id = start_run(db, kind, {"urls": len(urls), "settings": dict(overrides)})
        beat(db, run_id)  # this process's until the crawl process takes the heartbeat over
        settings: dict[str, Any] = {
            "WARC_DIR": str(paths.warc_dir),
            "STORE_DB_URL": paths.db_url,
            "LIVENESS_DB_URL": paths.db_url,
            "STORE_RUN_ID": run_id,
            "WARC_IS_PART_OF": f"morgue-run-{run_id}",
            **overrides,
        }
        job = CrawlJob(
            "urls",
            {"urls": urls},
            settings,
            log_file=paths.log_dir / f"run-{run_id}.log",
        )
        result = _run_with_progress(job, len(urls)) if progress else run_crawl_process(job)
        failure = result.failure(job.log_file)
        try:
            finish_run(db, run_id, result.status, result.stats)
            captures = captures_for_run(db, run_id)
        except DatabaseError as exc:
            if failure is None:
                raise
            failure = f"{failure}; and the run could not be recorded: {exc}"
            captures = []
        rows_by_url: dict[str, dict[str, Any]] = {}
        recovered: dict[str, dict[str, Any]] = {}
        for capture in captures:
            target = recovered if capture.recovered_from else rows_by_url
            target.setdefault(capture.url, capture_to_json(capture))
        # One result per URL, in input order; a copy recovered from a web archive follows the
        # dead capture it stands in for, as a capture of its own with recovered_from set.
        for url in urls:
            rows.extend(row for row in (rows_by_url.get(url), recovered.get(url)) if row)
    finally:
        db.close()
    if failure is not None:
        archived = len(rows_by_url)
        raise ArchiveError(
            f"{failure} (run {run_id} failed: {archived} of {len(urls)} URLs archived)"
        )
    return rows, result


def _run_with_progress(job: CrawlJob, total: int) -> CrawlResult:
    with Progress(
        TextColumn("[bold]archiving"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("archive", total=total, last="")

        def on_event(event: Mapping[str, Any]) -> None:
            if event.get("event") == "capture":
                bar.update(task, advance=1, last=f"{event.get('verdict')} {event.get('url')}")

        return run_crawl_process(job, on_event)


def archive_command(
    ctx: typer.Context,
    urls: Annotated[
        list[str] | None, typer.Argument(help="URLs to archive.", show_default=False)
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "-i",
            "--input",
            help="Read URLs from FILE, one per line ('-' for stdin).",
            metavar="FILE",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table for people, json for JSON Lines.")
    ] = OutputFormat.table,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for a server (default 30).", min=0.1),
    ] = None,
    no_recover: Annotated[
        bool,
        typer.Option("--no-recover", help="Do not look dead pages up in a web archive."),
    ] = False,
    timegate: Annotated[
        str | None,
        typer.Option(
            "--timegate",
            envvar="MORGUE_TIMEGATE",
            help="Memento TimeGate for dead pages; the page URL is appended to it. "
            "[default: https://web.archive.org/web/]",
            show_default=False,
        ),
    ] = None,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Fetch pages that robots.txt disallows.")
    ] = False,
    extract: Annotated[
        ExtractWhen,
        typer.Option(
            "--extract",
            help="now: extract while fetching; later: archive and judge by status only, "
            "then run `morgue extract`.",
        ),
    ] = ExtractWhen.now,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Archive URLs now: fetch, write WARC, extract the article, judge liveness, store.

    One result per URL, in the order given. Exit status 0 when every URL was processed (a dead
    page is a result, not an error), 2 for bad usage or bad input, 1 when a fault stopped the
    run (a full disk, a database that cannot be written): one line on stderr names it.

    Examples:

      morgue archive https://example.org/news/story.html

      morgue archive --format json -i urls.txt > results.jsonl

      morgue archive --extract later -i urls.txt && morgue extract

      morgue --data-dir ./archive archive -s DOWNLOAD_DELAY=2 https://example.org/a
    """
    url_list = read_url_list(urls or [], input_file)
    overrides: dict[str, Any] = parse_settings(setting)
    if timeout is not None:
        overrides["DOWNLOAD_TIMEOUT"] = timeout
    if ignore_robots:
        overrides["ROBOTSTXT_OBEY"] = False
    if no_recover:
        overrides["MEMENTO_ENABLED"] = False
    if timegate is not None:
        overrides["MEMENTO_TIMEGATE"] = check_timegate(timegate)
    if extract is ExtractWhen.later:
        overrides.update(EXTRACT_LATER)
    paths = resolve_paths(ctx, data_dir, db)
    show_progress = (
        output is OutputFormat.table and sys.stderr.isatty() and len(url_list) > PROGRESS_THRESHOLD
    )
    rows, result = archive_urls(paths, url_list, overrides, progress=show_progress)
    if output is OutputFormat.json:
        print_json_lines(rows)
    else:
        Console().print(captures_table(rows))
    if result.interrupted:
        stderr_console().print(
            f"interrupted: {len(rows)} of {len(url_list)} URLs archived", style="yellow"
        )
        raise typer.Exit(130)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive_command)
