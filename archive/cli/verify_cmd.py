"""``morgue verify``: check every WARC file and row against each other; ``--repair`` what can be."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from archive.db.engine import open_existing_database
from archive.integrity.verify import Finding, VerifyReport, verify_archive

from .options import DataDirOption, DbOption, OutputFormat, resolve_paths
from .render import print_json_lines, stderr_console

__all__ = ["register"]


def verify_command(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Close files dead processes left open, cut files back to their last whole "
            "record, index records written but never stored, mark rows whose record is gone. "
            "Deletes no row and no text.",
        ),
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", help="table for people, json for one JSON object per problem."),
    ] = OutputFormat.table,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Check every WARC file and capture row against each other; name each damaged one.

    Reads every byte of every WARC file (gzip members, block and payload digests), and checks
    that each capture and probe row finds its records at the offsets it names, that each
    revisit's original is in the archive, and that nothing written was left unstored. Exit
    status 0 when all is well, 1 when damage is found (or, with --repair, remains).

    Examples:

      morgue verify

      morgue verify --repair

      morgue verify --format json | jq -r .subject
    """
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    err = stderr_console()
    try:
        if sys.stderr.isatty():
            report = _with_progress(database, paths.warc_dir, repair, err)
        else:
            report = verify_archive(database, paths.warc_dir, repair=repair)
    finally:
        database.close()
    if output is OutputFormat.json:
        print_json_lines(f.to_json() for f in report.findings)
    elif report.findings:
        Console().print(_table(report.findings))
    err.print(_summary(report, repair), soft_wrap=True)
    if report.damaged:
        raise typer.Exit(1)


def _with_progress(database: object, warc_dir: object, repair: bool, err: Console) -> VerifyReport:
    with Progress(
        TextColumn("[bold]verifying"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("verify", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return verify_archive(database, warc_dir, repair=repair, progress=progress)  # type: ignore[arg-type]


def _table(findings: list[Finding]) -> Table:
    table = Table(header_style="bold")
    table.add_column("what", overflow="fold", style="cyan")
    table.add_column("problem", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    table.add_column("repaired", overflow="fold")
    for f in findings:
        style = "green" if f.repaired else "red"
        table.add_row(f.subject, f"[{style}]{f.problem}[/]", f.detail, f.repaired or "")
    return table


def _summary(report: VerifyReport, repair: bool) -> str:
    megabytes = report.bytes / 1e6
    rate = megabytes / report.seconds if report.seconds > 0 else 0.0
    checked = (
        f"checked {report.files} WARC file(s) ({megabytes:.1f} MB, {report.records} records), "
        f"{report.captures} capture(s) and {report.probes} probe(s) in {report.seconds:.1f} s "
        f"({rate:.1f} MB/s)"
    )
    notes = []
    if report.in_use:
        notes.append(f"{report.in_use} file(s) being written skipped")
    if report.known_missing:
        notes.append(f"{report.known_missing} capture(s) already marked as lost")
    repaired = len(report.findings) - len(report.damaged)
    if report.damaged:
        hint = "" if repair else " (morgue verify --repair repairs what it can)"
        verdict = f"{len(report.damaged)} problem(s) found{hint}"
    else:
        verdict = "no damage" if not repaired else "everything found was repaired"
    if repaired:
        verdict += f"; {repaired} repaired"
    return "; ".join([checked, *notes, verdict])


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
