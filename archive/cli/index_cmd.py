"""``morgue index``: a CDXJ index of the data directory's WARC files, for pywb."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from archive.exceptions import WarcError
from archive.export.cdxj import write_cdxj_index

from .options import DataDirOption, DbOption, resolve_paths

__all__ = ["register"]


def index_command(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the index. [default: DATA_DIR/indexes/index.cdxj]",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    include_open: Annotated[
        bool,
        typer.Option(
            "--include-open",
            help="Index files still being written (*.warc.gz.open) too; the index names them "
            "with that suffix, so re-index once they are closed.",
        ),
    ] = False,
    include_probes: Annotated[
        bool,
        typer.Option(
            "--include-probes",
            help="Index the soft-404 probes too (the sibling URLs made not to exist that "
            "morgue fetches to learn a site's error page); they are left out by default.",
        ),
    ] = False,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Write a sorted CDXJ index (cdxj-indexer) of every WARC file in DATA_DIR/warcs.

    File names in the index are relative to DATA_DIR/warcs, so pywb replays the archive in
    place: a pywb config.yaml naming `index_paths: DATA_DIR/indexes/` and `archive_paths:
    DATA_DIR/warcs/` for a collection, then `wayback`, and the archive is browsable (README.md,
    "Replaying in pywb"). Run it again after new captures. A damaged record is left out and
    named, and the command then exits with status 1. The soft-404 probes stay in the WARC
    files but not in the index, unless --include-probes.

    Examples:

      morgue index

      morgue --data-dir ./newsroom index -o ./newsroom/indexes/index.cdxj
    """
    paths = resolve_paths(ctx, data_dir, db)
    dest = output or paths.data_dir / "indexes" / "index.cdxj"
    result = write_cdxj_index(
        paths.warc_dir, dest, include_open=include_open, include_probes=include_probes
    )
    if result.unreadable:
        shown = ", ".join(result.unreadable[:3]) + (", ..." if len(result.unreadable) > 3 else "")
        raise WarcError(
            f"indexed {result.lines} record(s) of {result.files} WARC file(s) into {dest}, but "
            f"{len(result.unreadable)} damaged record(s) could not be read: {shown} "
            "(morgue verify names them all)"
        )
    message = f"Indexed {result.files} WARC file(s), {result.lines} record(s), into {dest}"
    if result.probes_left_out:
        message += f"; {result.probes_left_out} probe record(s) left out (--include-probes)"
    Console(stderr=True, soft_wrap=True).print(message)


def register(app: typer.Typer) -> None:
    app.command("index")(index_command)
