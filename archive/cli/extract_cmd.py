"""``morgue extract``: extract archived pages from their WARC records, after the crawl."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import archive.defaults as defaults
from archive.captures.extraction_pass import (
    EXTRACT_PREFIX,
    ExtractOutcome,
    Selection,
    extract_archived,
    pending_captures,
)
from archive.captures.table import finish_run, start_run
from archive.db.engine import open_existing_database
from archive.exceptions import ArchiveError
from archive.warc.records import WarcWriter

from .options import DataDirOption, DbOption, OutputFormat, resolve_paths, split_values
from .render import print_json_lines, stderr_console

__all__ = ["register"]


def extract_command(
    ctx: typer.Context,
    all_captures: Annotated[
        bool,
        typer.Option("--all", help="Extract every capture again, not only those never extracted."),
    ] = False,
    verdict: Annotated[
        list[str] | None,
        typer.Option(
            "--verdict",
            metavar="VERDICT",
            help="Only captures with this verdict (repeatable, or a,b).",
            show_default=False,
        ),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", metavar="DOMAIN", help="Only pages of this host and its subdomains."
        ),
    ] = None,
    url_prefix: Annotated[
        str | None,
        typer.Option("--url-prefix", metavar="PREFIX", help="Only URLs starting with this."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", help="At most N captures.", min=1)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", metavar="N", help="Worker processes (default: one per CPU).", min=1
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds one page may take; past it its worker is killed and the page is "
            "recorded with an extraction error.",
            min=0.1,
            metavar="S",
        ),
    ] = defaults.EXTRACT_TIMEOUT,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", help="table: a summary; json: one line per capture."),
    ] = OutputFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Extract archived pages from their WARC records and judge them (soft 404s included).

    For crawls run with --extract later, and to re-extract an archive after the extractor
    improves (--all). Uses every core. Each result is stored as it comes, with a new WARC
    metadata record; the old one stays.

    Examples:

      morgue archive --extract later -i urls.txt && morgue extract

      morgue extract --all --domain example.org

      morgue extract --all --verdict ok --workers 4 --format json
    """
    paths = resolve_paths(ctx, data_dir, db)
    selection = Selection(
        all=all_captures,
        verdicts=split_values(verdict),
        domain=domain,
        url_prefix=url_prefix,
        limit=limit,
    )
    database = open_existing_database(paths.db_url)
    try:
        ids = pending_captures(database, selection)
        if not ids:
            stderr_console().print("nothing to extract")
            return
        run_id = start_run(database, "extract", {"captures": len(ids), "all": all_captures})
        # Built from the crawl's settings (archive.defaults), as a crawl's own writer is.
        writer = WarcWriter.from_settings(
            paths.warc_dir, {"WARC_IS_PART_OF": f"morgue-run-{run_id}"}, prefix=EXTRACT_PREFIX
        )
        outcomes: list[ExtractOutcome] = []
        started = time.perf_counter()
        status = "failed"
        try:
            stream = extract_archived(
                database, paths.warc_dir, ids, workers=workers, timeout=timeout, writer=writer
            )
            show = output is OutputFormat.table and sys.stderr.isatty()
            if show:
                outcomes = _with_progress(stream, len(ids))
            else:
                for outcome in stream:
                    outcomes.append(outcome)
                    if output is OutputFormat.json:
                        print_json_lines([asdict(outcome)])
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise typer.Exit(130) from None
        finally:
            writer.close()
            elapsed = time.perf_counter() - started
            finish_run(database, run_id, status, _stats(outcomes, elapsed))
    finally:
        database.close()
    if output is OutputFormat.table:
        _summary(outcomes, elapsed)
    unreadable = [o for o in outcomes if o.unreadable]
    if unreadable:
        raise ArchiveError(
            f"{len(unreadable)} capture(s) could not be read back from their WARC records and "
            f"kept their text, e.g. capture {unreadable[0].capture_id}: {unreadable[0].error} "
            "(morgue verify checks the whole archive)"
        )


def _with_progress(stream: object, total: int) -> list[ExtractOutcome]:
    outcomes: list[ExtractOutcome] = []
    with Progress(
        TextColumn("[bold]extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("extract", total=total)
        for outcome in stream:  # type: ignore[attr-defined]
            outcomes.append(outcome)
            bar.update(task, advance=1)
    return outcomes


def _stats(outcomes: list[ExtractOutcome], elapsed: float) -> dict[str, object]:
    verdicts = Counter(o.verdict for o in outcomes)
    return {
        "captures": len(outcomes),
        "errors": sum(1 for o in outcomes if o.error),
        "changed": sum(1 for o in outcomes if o.before != o.verdict),
        "verdicts": dict(verdicts),
        "seconds": round(elapsed, 3),
    }


def _summary(outcomes: list[ExtractOutcome], elapsed: float) -> None:
    console = Console()
    rate = len(outcomes) / elapsed if elapsed > 0 else 0.0
    verdicts = Counter(o.verdict for o in outcomes)
    shown = ", ".join(f"{n} {v}" for v, n in verdicts.most_common())
    console.print(f"{len(outcomes)} captures extracted in {elapsed:.1f} s ({rate:.1f}/s): {shown}")
    errors = [o for o in outcomes if o.error and not o.unreadable]
    if errors:
        console.print(f"{len(errors)} could not be extracted, e.g. capture {errors[0].capture_id}: "
                      f"{errors[0].error}")  # fmt: skip
    for o in outcomes:
        if o.before != o.verdict:
            console.print(
                f"  capture {o.capture_id}: {o.before} -> {o.verdict} ({o.reason}) {o.url}"
            )


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)
