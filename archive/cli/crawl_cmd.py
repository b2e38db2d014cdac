"""``morgue crawl``: archive the articles that feeds, sitemaps and site crawls lead to."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.archiving import EXTRACT_LATER
from archive.crawl_process import CrawlJob, CrawlResult, run_crawl_process
from archive.db import Database, open_database
from archive.durations import format_duration, parse_duration, parse_since
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput
from archive.frontier import compile_patterns
from archive.heartbeat import beat
from archive.memento import check_timegate
from archive.outcomes import SourceOutcome, all_failed, memento_failures, run_notes
from archive.resume import Recovery, recover_interrupted
from archive.schedule import SCHEDULE_RUN_ENV, attach_run
from archive.sources import (
    link_discoveries,
    reconcile_published,
    sources_of_pages,
)
from archive.store import capture_to_json, finish_run, iter_captures_for_run, run_tally, start_run
from archive.urls import validate_url
from archive.warc import check_writable

from .options import (
    ALLOW_PRIVATE,
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    ExtractWhen,
    OutputFormat,
    Paths,
    SettingOption,
    parse_settings,
    resolve_paths,
)
from .render import VERDICT_STYLES, captures_table, print_json_lines, stderr_console

__all__ = ["CrawlSpec", "CrawlSummary", "crawl", "register"]

TABLE_ROWS = 50  # captures listed in table mode; the summary counts them all
LISTED_FAILURES = 20  # failed sources named one by one in the summary
#: Exit status of a crawl none of whose sources could be read.
EXIT_NO_SOURCE = 1


@dataclass(slots=True)
class CrawlSpec:
    """What to crawl, as given on the command line (validated)."""

    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    depth: int = 1
    max_pages: int | None = None
    since: str | None = None  # ISO datetime, UTC
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    recrawl_after: float | None = None  # seconds

    @property
    def roots(self) -> list[str]:
        """The sources as given: what "every source failed" is about."""
        return [*self.feeds, *self.sitemaps, *self.sites]

    def spider_args(self) -> dict[str, Any]:
        return {
            "feeds": self.feeds,
            "sitemaps": self.sitemaps,
            "sites": self.sites,
            "depth": self.depth,
            "max_pages": self.max_pages,
            "since": self.since,
            "allow": self.allow,
            "deny": self.deny,
            "recrawl_after": self.recrawl_after,
        }


@dataclass(slots=True)
class CrawlSummary:
    """The figures printed at the end of a crawl and kept in the run's stats."""

    run_id: int
    status: str
    pages: int
    verdicts: dict[str, int]
    recovered: int
    revisits: int
    skipped_archived: int
    entries: int
    new_entries: int
    errors: int
    duration_s: float
    skipped_claimed: int = 0  # pages left to another crawl running at the same time
    sources: list[SourceOutcome] = field(default_factory=list)  # each source tried, in order
    all_sources_failed: bool = False
    stats: dict[str, Any] = field(default_factory=dict)  # the crawl's, for run_notes
    log_file: str | None = None

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [outcome for outcome in self.sources if not outcome.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "pages": self.pages,
            "verdicts": self.verdicts,
            "recovered": self.recovered,
            "revisits": self.revisits,
            "skipped_archived": self.skipped_archived,
            "skipped_claimed": self.skipped_claimed,
            "entries": self.entries,
            "new_entries": self.new_entries,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "sources_read": sum(outcome.ok for outcome in self.sources),
            "failed_sources": [outcome.to_json() for outcome in self.failed_sources],
            "all_sources_failed": self.all_sources_failed,
            "memento_failed": memento_failures(self.stats),
            "needs_browser": int(self.stats.get("liveness/needs_browser") or 0),
            "log": self.log_file,
        }

    def line(self) -> str:
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(self.verdicts.items())) or "none"
        claimed = f"{self.skipped_claimed} left to another crawl, " if self.skipped_claimed else ""
        return (
            f"crawl {self.status}: {self.pages} pages ({verdicts}), {self.revisits} unchanged, "
            f"{self.skipped_archived} already archived, {claimed}{self.recovered} recovered, "
            f"{self.errors} errors in {format_duration(self.duration_s)} (run {self.run_id})"
        )

    def lines(self) -> list[str]:
        """``line()``, then each source that failed and what else went wrong, and the log."""
        out = [self.line()]
        failed = self.failed_sources
        if failed:
            if self.all_sources_failed:
                out.append(f"every source failed, nothing to crawl (exit status {EXIT_NO_SOURCE}):")
            else:
                out.append(f"{len(failed)} of {len(self.sources)} sources failed:")
            out.extend(f"  {outcome.line()}" for outcome in failed[:LISTED_FAILURES])
            if len(failed) > LISTED_FAILURES:
                out.append(f"  ... and {len(failed) - LISTED_FAILURES} more (see the log)")
        notes = run_notes(self.stats)
        out.extend(notes)
        if self.log_file and (failed or notes or self.errors):
            out.append(f"log: {self.log_file}")
        return out


def crawl(
    paths: Paths,
    spec: CrawlSpec,
    overrides: Mapping[str, Any],
    *,
    progress: str = "none",
) -> tuple[CrawlSummary, CrawlResult]:
    """Run one crawl in a child process; returns its summary (``run_rows`` gives its captures).

    ``progress``: ``bar`` for a live display on a terminal, ``lines`` for one log line per page
    on stderr, ``none`` for silence. A fault that stopped the crawl (a WARC or database write)
    raises ``ArchiveError`` with one line naming it, after the run is recorded ``failed``.
    """
    check_writable(Path(overrides.get("WARC_DIR") or paths.warc_dir))
    db = open_database(paths.db_url)
    started = time.monotonic()
    try:
        # What a crashed or killed run left: its files closed, its unstored pages indexed.
        recovery = recover_interrupted(db, paths.warc_dir)
        if recovery.did_something and progress != "none":
            stderr_console().print(_recovery_line(recovery))
        args = {
            **spec.spider_args(),
            "settings": dict(overrides),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        run_id = start_run(db, "crawl", args)
        beat(db, run_id)  # this process's until the crawl process takes the heartbeat over
        schedule_run = os.environ.get(SCHEDULE_RUN_ENV)
        if schedule_run and schedule_run.isdigit():
            attach_run(db, int(schedule_run), run_id)
        settings: dict[str, Any] = {
            "WARC_DIR": str(paths.warc_dir),
            "STORE_DB_URL": paths.db_url,
            "LIVENESS_DB_URL": paths.db_url,
            "STORE_RUN_ID": run_id,
            "WARC_IS_PART_OF": f"morgue-run-{run_id}",
            **overrides,
        }
        spider_args = spec.spider_args()
        job = CrawlJob(
            "sources", spider_args, settings, log_file=paths.log_dir / f"run-{run_id}.log"
        )
        sources: list[SourceOutcome] = []
        result = _run(job, progress, sources.append)
        failure = result.failure(job.log_file)
        duration = time.monotonic() - started
        if failure is None:
            summary = _summarise(db, run_id, result, duration, sources=sources, spec=spec)
            return summary, result
        raise ArchiveError(_record_failure(db, run_id, result, failure, duration))
    finally:
        db.close()


def _record_failure(
    db: Database, run_id: int, result: CrawlResult, failure: str, duration: float
) -> str:
    """Record a run that a fault stopped; returns the one line that tells the user.

    The disk that filled up may hold the database too: the run's own row is written first, in
    the smallest transaction there is, and the rest is left to the next crawl if it cannot be.
    """
    try:
        finish_run(db, run_id, "failed", result.stats)
    except DatabaseError as exc:
        return f"{failure}; and run {run_id} could not be recorded: {exc}"
    try:
        pages = _summarise(db, run_id, result, duration).pages
    except DatabaseError:
        # Its discoveries are linked to their pages by the next crawl; only the dates its
        # sources gave are not copied to its captures.
        pages = run_tally(db, run_id).pages
    return f"{failure} (run {run_id} failed after {pages} pages)"


def _summarise(
    db: Database,
    run_id: int,
    result: CrawlResult,
    duration: float,
    *,
    sources: list[SourceOutcome] | None = None,
    spec: CrawlSpec | None = None,
) -> CrawlSummary:
    """Link the run's discoveries, count what it stored and record how it ended."""
    link_discoveries(db)
    reconcile_published(db, run_id)
    tally = run_tally(db, run_id)
    stats = result.stats
    summary = CrawlSummary(
        run_id=run_id,
        status=result.status,
        pages=tally.pages,
        verdicts=tally.verdicts,
        recovered=tally.recovered,
        revisits=int(stats.get("warc/revisits_written", 0)),
        skipped_archived=int(stats.get("sources/skipped_archived", 0)),
        skipped_claimed=int(stats.get("sources/skipped_claimed", 0)),
        entries=int(stats.get("sources/entries", 0)),
        new_entries=int(stats.get("sources/new_entries", 0)),
        errors=int(stats.get("sources/errors", 0)) + int(stats.get("log_count/ERROR", 0)),
        duration_s=duration,
        sources=list(sources or []),
        all_sources_failed=(
            spec is not None
            and not result.interrupted
            and all_failed(list(sources or []), spec.roots)
        ),
        stats=stats,
        log_file=str(result.log_file) if result.log_file else None,
    )
    finish_run(db, run_id, summary.status, {**stats, "summary": summary.to_json()})
    return summary


def _recovery_line(recovery: Recovery) -> str:
    done = []
    if recovery.files:
        done.append(f"{len(recovery.files)} WARC file(s) closed")
    if recovery.interrupted:
        done.append(f"{len(recovery.interrupted)} run(s) marked interrupted")
    if recovery.indexed:
        done.append(f"{recovery.indexed} page(s) they had written but not stored indexed")
    if recovery.marked:
        done.append(f"{recovery.marked} capture(s) whose record was cut off marked")
    return "after an interrupted run: " + ", ".join(done)


def run_rows(db_url: str, run_id: int, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The contract rows of a run's captures, in storing order, read a chunk at a time.

    For after ``crawl``, which has brought the schema up to date: no migration check again.
    """
    db = open_database(db_url, migrate=False)
    try:
        for captures in iter_captures_for_run(db, run_id, limit=limit):
            listed = sources_of_pages(db, (c.page_id for c in captures))
            # The contract fields, then the sources that listed each page.
            for c in captures:
                yield {**capture_to_json(c), "sources": listed.get(c.page_id, [])}
    finally:
        db.close()


def _run(job: CrawlJob, progress: str, on_source: Callable[[SourceOutcome], None]) -> CrawlResult:
    def sources(event: Mapping[str, Any]) -> bool:
        """Collect a source's outcome for the summary; True when ``event`` was one."""
        if event.get("event") != "source":
            return False
        on_source(SourceOutcome.from_json(event))
        return True

    if progress == "bar":
        return _run_with_display(job, sources)
    if progress == "lines":
        err = sys.stderr

        def on_line(event: Mapping[str, Any]) -> None:
            if sources(event):
                return
            if event.get("event") == "capture":
                status = event.get("http_status") or "-"
                err.write(f"{event.get('verdict')}\t{status}\t{event.get('url')}\n")
                err.flush()

        return run_crawl_process(job, on_line)

    def quiet(event: Mapping[str, Any]) -> None:
        sources(event)

    return run_crawl_process(job, quiet)


def _run_with_display(job: CrawlJob, sources: Callable[[Mapping[str, Any]], bool]) -> CrawlResult:
    verdicts: Counter[str] = Counter()
    state = {"scheduled": 0, "pages": 0}
    started = time.monotonic()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]crawling[/] {task.fields[line]}"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as display:
        task = display.add_task("crawl", total=None, line="starting")

        def on_event(event: Mapping[str, Any]) -> None:
            if sources(event):
                return
            kind = event.get("event")
            if kind == "queue":
                state["scheduled"] = int(event.get("scheduled") or 0)
            elif kind == "capture":
                state["pages"] += 1
                verdicts[str(event.get("verdict"))] += 1
            else:
                return
            rate = state["pages"] / max(time.monotonic() - started, 0.001)
            counts = " ".join(
                f"[{VERDICT_STYLES.get(v, '')}]{v} {n}[/]" for v, n in sorted(verdicts.items())
            )
            queued = max(state["scheduled"] - state["pages"], 0)
            display.update(
                task,
                line=f"{state['pages']} pages {counts} · {queued} queued · {rate:.1f}/s",
            )

        return run_crawl_process(job, on_event)


def build_spec(
    feeds: list[str] | None,
    sitemaps: list[str] | None,
    sites: list[str] | None,
    *,
    depth: int = 1,
    max_pages: int | None = None,
    since: str | None = None,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
    recrawl_after: str | None = None,
) -> CrawlSpec:
    """Validate the command-line sources and options into a ``CrawlSpec``."""

    def urls(values: list[str] | None) -> list[str]:
        return list(dict.fromkeys(validate_url(v) for v in values or []))

    spec = CrawlSpec(
        feeds=urls(feeds),
        sitemaps=urls(sitemaps),
        sites=urls(sites),
        depth=depth,
        max_pages=max_pages,
        since=parse_since(since).isoformat() if since else None,
        allow=list(allow or []),
        deny=list(deny or []),
        recrawl_after=parse_duration(recrawl_after) if recrawl_after is not None else None,
    )
    if not (spec.feeds or spec.sitemaps or spec.sites):
        raise InvalidInput("no sources given: pass --feed URL, --sitemap URL or --site URL")
    compile_patterns(spec.allow)
    compile_patterns(spec.deny)
    return spec


def crawl_command(
    ctx: typer.Context,
    feed: Annotated[
        list[str] | None,
        typer.Option("--feed", help="RSS or Atom feed URL (repeatable).", metavar="URL"),
    ] = None,
    sitemap: Annotated[
        list[str] | None,
        typer.Option(
            "--sitemap",
            help="Sitemap, sitemap index (gzipped or not) or robots.txt URL (repeatable).",
            metavar="URL",
        ),
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="Start page of a site crawl (repeatable).", metavar="URL"),
    ] = None,
    depth: Annotated[
        int,
        typer.Option(
            "--depth", metavar="N", help="Links to follow from a --site start page.", min=0
        ),
    ] = 1,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", help="Fetch at most N article pages.", min=1, metavar="N"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only entries published since DATE (YYYY-MM-DD, ISO datetime, or 7d ago); "
            "entries without a date are kept.",
            metavar="DATE",
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Site crawl: follow only links matching RE.", metavar="RE"),
    ] = None,
    deny: Annotated[
        list[str] | None,
        typer.Option("--deny", help="Site crawl: never follow links matching RE.", metavar="RE"),
    ] = None,
    recrawl_after: Annotated[
        str | None,
        typer.Option(
            "--recrawl-after",
            help="Fetch again pages archived longer ago than DURATION (e.g. 6h, 7d); "
            "by default a page archived once is not fetched again.",
            metavar="DURATION",
        ),
    ] = None,
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
            help="Memento TimeGate for dead pages. [default: https://web.archive.org/web/]",
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
    """Crawl feeds, sitemaps and sites; archive every article they lead to.

    Each article is fetched once: a page already archived is skipped unless --recrawl-after
    says it is due, and then fetched with If-None-Match/If-Modified-Since (an unchanged page is
    stored as a WARC revisit record). Entry dates, news sitemap titles and languages are kept.
    Progress is shown on a terminal, one line per page otherwise; a summary ends the run.
    With --format json, each capture also lists the "sources" that named its page. A page
    another crawl running at the same time has claimed is left to it. Exit status 1 when a
    fault stopped the crawl (a full disk, a database that cannot be written): one line on
    stderr names it.

    Examples:

      morgue crawl --feed https://example.org/rss.xml

      morgue crawl --sitemap https://example.org/robots.txt --since 2d

      morgue crawl --site https://example.org/ --depth 2 --deny '/tag/'

      morgue crawl --feed https://example.org/rss.xml --format json
    """
    spec = build_spec(
        feed,
        sitemap,
        site,
        depth=depth,
        max_pages=max_pages,
        since=since,
        allow=allow,
        deny=deny,
        recrawl_after=recrawl_after,
    )
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
    progress = "bar" if sys.stderr.isatty() else "lines"
    summary, result = crawl(paths, spec, overrides, progress=progress)
    if output is OutputFormat.json:
        print_json_lines(run_rows(paths.db_url, summary.run_id))
        print("\n".join(summary.lines()), file=sys.stderr)
    else:
        console = Console()
        rows = list(run_rows(paths.db_url, summary.run_id, limit=TABLE_ROWS))
        if rows:
            console.print(captures_table(rows))
            stored = summary.pages + summary.recovered
            if stored > len(rows):
                console.print(f"... and {stored - len(rows)} more captures")
        for line in summary.lines():
            console.print(line, markup=False, highlight=False)
    if result.interrupted:
        raise typer.Exit(130)
    if summary.all_sources_failed:
        raise typer.Exit(EXIT_NO_SOURCE)


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl_command)
