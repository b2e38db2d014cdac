"""``morgue crawl``: archive the articles that feeds, sitemaps and site crawls lead to."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.runs.crawl_process import CrawlResult
from archive.runs.crawling import (
    EXIT_NO_SOURCE,
    CrawlSpec,
    CrawlSummary,
    run_crawl,
    run_rows,
)

from .crawl_request import crawl_request
from .options import (
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    ExtractOption,
    ExtractWhen,
    FormatOption,
    IgnoreRobotsOption,
    NoRecoverOption,
    OutputFormat,
    Paths,
    RedisOption,
    RedisPrefixOption,
    SettingOption,
    TimegateOption,
    TimeoutOption,
    resolve_paths,
)
from .render import VERDICT_STYLES, captures_table, print_json_lines, stderr_console

__all__ = ["crawl_with_progress", "register"]

TABLE_ROWS = 50  # captures listed in table mode; the summary counts them all


def crawl_with_progress(
    paths: Paths, spec: CrawlSpec, overrides: Mapping[str, Any], *, bar: bool
) -> tuple[CrawlSummary, CrawlResult]:
    """``run_crawl`` with a live display on stderr (``bar``) or one line per page there."""
    err = stderr_console()

    def on_recovery(event: Mapping[str, Any]) -> bool:
        if event.get("event") != "recovery":
            return False
        err.print(str(event.get("line")))
        return True

    if not bar:

        def on_line(event: Mapping[str, Any]) -> None:
            if not on_recovery(event) and event.get("event") == "capture":
                status = event.get("http_status") or "-"
                sys.stderr.write(f"{event.get('verdict')}\t{status}\t{event.get('url')}\n")
                sys.stderr.flush()

        return run_crawl(paths, spec, overrides, on_event=on_line)

    verdicts: Counter[str] = Counter()
    state = {"scheduled": 0, "pages": 0}
    started = time.monotonic()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]crawling[/] {task.fields[line]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as display:
        task = display.add_task("crawl", total=None, line="starting")

        def on_event(event: Mapping[str, Any]) -> None:
            if on_recovery(event):
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

        return run_crawl(paths, spec, overrides, on_event=on_event)


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
    output: FormatOption = OutputFormat.table,
    timeout: TimeoutOption = None,
    no_recover: NoRecoverOption = False,
    timegate: TimegateOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    extract: ExtractOption = ExtractWhen.now,
    allow_private: AllowPrivateOption = False,
    requisites: Annotated[
        bool,
        typer.Option(
            "--requisites",
            help="Also fetch and archive what each page loads: images, stylesheets and the "
            "url()s in them, fonts, scripts (deduplicated by payload across pages and runs).",
        ),
    ] = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
    redis: RedisOption = None,
    redis_prefix: RedisPrefixOption = "morgue",
) -> None:
    """Crawl feeds, sitemaps and sites; archive every article they lead to.

    Each article is fetched once: a page already archived is skipped unless --recrawl-after
    says it is due, and then fetched with If-None-Match/If-Modified-Since (an unchanged page is
    stored as a WARC revisit record). Entry dates, news sitemap titles and languages are kept.
    Progress is shown on a terminal, one line per page otherwise; a summary ends the run.
    With --format json, each capture also lists the "sources" that named its page. A page
    another crawl running at the same time has claimed is left to it. Exit status 1 when a
    fault stopped the crawl (a full disk, a database that cannot be written): one line on
    stderr names it. With --redis, the sources are queued for `morgue worker`s and nothing
    is fetched here (the fetch options then are the workers' own; --depth, --allow, --deny,
    --since, --recrawl-after and --max-pages apply to the crawl across all the workers).

    Examples:

      morgue crawl --feed https://example.org/rss.xml

      morgue crawl --sitemap https://example.org/robots.txt --since 2d

      morgue crawl --site https://example.org/ --depth 2 --deny '/tag/'

      morgue crawl --feed https://example.org/rss.xml --format json

      morgue crawl --feed https://example.org/rss.xml --requisites

      morgue crawl --redis redis://q:6379/0 --feed https://example.org/rss.xml
    """
    spec, overrides = crawl_request(
        {
            "feed": feed,
            "sitemap": sitemap,
            "site": site,
            "depth": depth,
            "max_pages": max_pages,
            "since": since,
            "allow": allow,
            "deny": deny,
            "recrawl_after": recrawl_after,
            "setting": setting,
            "timeout": timeout,
            "ignore_robots": ignore_robots,
            "no_recover": no_recover,
            "timegate": timegate,
            "extract": extract,
            "allow_private": allow_private,
            "requisites": requisites,
        }
    )
    if redis:
        from archive.distributed.enqueue import enqueue_crawl

        from .enqueued import print_enqueued

        print_enqueued(enqueue_crawl(redis, spec, prefix=redis_prefix), output)
        return
    paths = resolve_paths(ctx, data_dir, db)
    summary, result = crawl_with_progress(paths, spec, overrides, bar=sys.stderr.isatty())
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
