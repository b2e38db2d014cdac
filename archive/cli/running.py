"""Runs of the library shown on a terminal: a progress bar over ``run_archive``'s events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive.runs.archiving import ArchiveRun, run_archive

from .options import Paths
from .render import stderr_console

__all__ = ["archive_with_progress"]


def archive_with_progress(
    paths: Paths,
    urls: list[str],
    overrides: Mapping[str, Any],
    *,
    kind: str = "archive",
    progress: bool = False,
) -> ArchiveRun:
    """``run_archive``, with a progress bar on stderr when ``progress``."""
    if not progress:
        return run_archive(paths, urls, overrides, kind=kind)
    with Progress(
        TextColumn("[bold]archiving"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("archive", total=len(urls), last="")

        def on_event(event: Mapping[str, Any]) -> None:
            if event.get("event") == "capture":
                bar.update(task, advance=1, last=f"{event.get('verdict')} {event.get('url')}")

        return run_archive(paths, urls, overrides, kind=kind, on_event=on_event)
