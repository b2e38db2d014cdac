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

from archive.crawl_process import CrawlJob, CrawlProcess, CrawlResult, extraction_enabled
from archive.db import open_database
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput
from archive.heartbeat import beat
from archive.memento import check_timegate
from archive.outcomes import run_notes
from archive.politeness import delay_overrides
from archive.store import capture_to_json, captures_for_run, finish_run, start_run
from archive.urllist import parse_url_list
from archive.urls import validate_url
from archive.warc import check_writable

from .options import (
    ALLOW_PRIVATE,
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    Paths,
    SettingOption,
    parse_settings,
    resolve_paths,
)
from .render import captures_table, print_json_lines, stderr_console

__all__ = [
    "EXTRACT_LATER",
    "SOME_INPUT_SKIPPED",
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


#: Exit status when the URLs given were archived but some lines of the URL list were not usable.
SOME_INPUT_SKIPPED = 3


def read_url_list(
    urls: list[str], input_file: str | None, *, strict: bool = False
) -> tuple[list[str], int]:
    """URLs from the arguments and from a file (``-`` for stdin), validated, duplicates dropped.

    Returns the URLs and how many lines of the file were bad. Each bad line is reported on
    stderr as ``FILE:LINE: reason``; with ``strict`` any bad line refuses the whole list. A bad
    URL given as an argument is bad usage, as ever.
    """
    given = [validate_url(url) for url in urls]
    bad = 0
    if input_file is not None:
        name = "stdin" if input_file == "-" else input_file
        try:
            if input_file == "-":
                text = sys.stdin.read()
            else:
                text = Path(input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read URL list {input_file}: {exc}") from exc
        listed = parse_url_list(text)
        for entry in listed.bad:
            print(f"{name}:{entry.line}: {entry.reason}", file=sys.stderr)
        bad = len(listed.bad)
        if bad and strict:
            raise InvalidInput(f"{bad} bad line(s) in {name}; nothing archived (--strict)")
        if bad and not listed.urls and not given:
            raise InvalidInput(f"no valid URL in {name} ({bad} bad line(s)); nothing archived")
        if listed.skipped:
            print(
                f"morgue: {name}: {listed.skipped} bookmark(s) that are not web pages skipped",
                file=sys.stderr,
            )
        given += listed.urls
    if not given:
        raise InvalidInput("no URLs given: pass URLs as arguments or with -i FILE")
    return list(dict.fromkeys(given)), bad


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
    # The crawl process imports while this one opens the database and records the run.
    with CrawlProcess.take(extract=extraction_enabled(overrides)) as child:
        return _archive_in(child, paths, urls, overrides, kind=kind, progress=progress)


def _archive_in(
    child: CrawlProcess,
    paths: Paths,
    urls: list[str],
    overrides: Mapping[str, Any],
    *,
    kind: str,
    progress: bool,
) -> tuple[list[dict[str, Any]], CrawlResult]:
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
            **delay_overrides(urls, overrides),
            **overrides,
        }
        job = CrawlJob(
            "urls",
            {"urls": urls},
            settings,
            log_file=paths.log_dir / f"run-{run_id}.log",
        )
        result = _run_with_progress(child, job, len(urls)) if progress else child.run(job)
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


def _run_with_progress(child: CrawlProcess, job: CrawlJob, total: int) -> CrawlResult:
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

        return child.run(job, on_event)


def archive_command(
    ctx: typer.Context,
    urls: Annotated[
        list[str] | None,
        typer.Argument(metavar="URL", help="URLs to archive.", show_default=False),
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "-i",
            "--input",
            help="Read URLs from FILE ('-' for stdin): one per line, or a browser's bookmarks "
            "export (HTML). Bad lines are reported and skipped (exit status 3).",
            metavar="FILE",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Archive nothing if any line of the -i list is bad (exit status 2)."
        ),
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table for people, json for JSON Lines.")
    ] = OutputFormat.table,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds to wait for a server (default 30).",
            min=0.1,
        ),
    ] = None,
    no_recover: Annotated[
        bool,
        typer.Option("--no-recover", help="Do not look dead pages up in a web archive."),
    ] = False,
    timegate: Annotated[
        str | None,
        typer.Option(
            "--timegate",
            metavar="URL",
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
    allow_private: AllowPrivateOption = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Archive URLs now: fetch, write WARC, extract the article, judge liveness, store.

    One result per URL, in the order given. Exit status 0 when every URL was processed (a dead
    page is a result, not an error), 2 for bad usage or bad input (nothing archived), 3 when
    bad lines of an -i list were skipped and the other URLs archived (each bad line is
    reported as FILE:LINE: reason; --strict refuses the whole list instead), 1 when a fault
    stopped the run (a full disk, a database that cannot be written): one line on stderr names
    it. -i also reads a browser's bookmarks export.

    Examples:

      morgue archive https://example.org/news/story.html

      morgue archive --format json -i urls.txt > results.jsonl

      morgue archive --extract later -i urls.txt && morgue extract

      morgue archive -i bookmarks.html --strict

      morgue --data-dir ./news archive -s DOWNLOAD_DELAY=2 https://example.org/a
    """
    url_list, bad_lines = read_url_list(urls or [], input_file, strict=strict)
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
    if allow_private:
        overrides.update(ALLOW_PRIVATE)
    paths = resolve_paths(ctx, data_dir, db)
    show_progress = (
        output is OutputFormat.table and sys.stderr.isatty() and len(url_list) > PROGRESS_THRESHOLD
    )
    rows, result = archive_urls(paths, url_list, overrides, progress=show_progress)
    if output is OutputFormat.json:
        print_json_lines(rows)
    else:
        Console().print(captures_table(rows))
    # Failed Memento lookups and pages that may need a browser: on stderr, stdout is the rows.
    notes = run_notes(result.stats)
    if notes:
        print("\n".join([*notes, f"log: {result.log_file}"]), file=sys.stderr)
    if result.interrupted:
        stderr_console().print(
            f"interrupted: {len(rows)} of {len(url_list)} URLs archived", style="yellow"
        )
        raise typer.Exit(130)
    if bad_lines:
        # One line, unwrapped, like the FILE:LINE ones: something for grep and for a log.
        print(
            f"morgue: {bad_lines} bad line(s) of {input_file} skipped (see above); "
            f"{len(url_list)} URL(s) archived",
            file=sys.stderr,
        )
        raise typer.Exit(SOME_INPUT_SKIPPED)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive_command)
