"""``morgue show``: one capture, its extracted text, or its archived body read from the WARC."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from archive.captures.table import capture_to_json, get_capture, latest_capture
from archive.db.engine import open_existing_database
from archive.db.models import Capture
from archive.exceptions import InvalidInput
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.query.reader import archived_record
from archive.urls import validate_url

from .options import DataDirOption, DbOption, resolve_paths

__all__ = ["capture_details", "register"]


def capture_details(capture: Capture) -> dict[str, Any]:
    """The contract fields, then everything else the DB knows about the capture."""
    details = capture_to_json(capture)
    details.update(
        {
            # Why the verdict: how sure the rules were, and the signals that fired.
            "confidence": capture.confidence,
            "evidence": list(capture.evidence or []),
            "canonical_url": capture.canonical_url,
            "description": capture.description,
            "content_type": capture.content_type,
            "extract_error": capture.extract_error,
            "error": capture.error,
            "redirects": capture.redirects or [],
            "metadata_record_id": capture.metadata_record_id,
            "run_id": capture.run_id,
            "record_error": capture.record_error,
            "screenshot_record_id": capture.screenshot_record_id,
        }
    )
    return details


def show_command(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(metavar="URL|ID", help="A capture id, or a URL (its newest capture)."),
    ],
    text: Annotated[bool, typer.Option("--text", help="Print the extracted article text.")] = False,
    html: Annotated[
        bool, typer.Option("--html", help="Print the archived body, read back from the WARC file.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the capture as one JSON object.")
    ] = False,
    screenshot: Annotated[
        bool,
        typer.Option(
            "--screenshot",
            help="The screenshot of a page archived with --browser (PNG): to stdout when it is "
            "redirected, else to morgue-screenshot-ID.png, whose name is printed.",
        ),
    ] = False,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Show one capture: its metadata, its extracted text, or its archived HTML.

    Examples:

      morgue show 42

      morgue show --text https://example.org/news/story.html

      morgue show --html 42 > page.html

      morgue show --screenshot 42 > page.png
    """
    if sum((text, html, as_json, screenshot)) > 1:
        raise InvalidInput("choose one of --text, --html, --json and --screenshot")
    url = None if target.isdigit() else validate_url(target)
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        if url is None:
            capture = get_capture(database, int(target))
            if capture is None:
                raise InvalidInput(f"no capture with id {target}")
        else:
            capture = latest_capture(database, url)
            if capture is None:
                raise InvalidInput(f"no capture of {target}")
        if as_json:
            sys.stdout.write(json.dumps(capture_details(capture), ensure_ascii=False) + "\n")
        elif text:
            sys.stdout.write((capture.text or "") + "\n")
        elif html:
            record = archived_record(database, paths.warc_dir, capture)
            sys.stdout.write(record.html())
        elif screenshot:
            _write_screenshot(capture, paths.warc_dir)
        else:
            _print_details(capture_details(capture))
            if NEEDS_BROWSER in (capture.evidence or []):
                Console().print(f"no text found: the page may need a browser ({NEEDS_BROWSER})")
    finally:
        database.close()


def _write_screenshot(capture: Capture, warc_dir: Path) -> None:
    from archive.warc.records import read_record

    if capture.screenshot_warc_file is None or capture.screenshot_warc_offset is None:
        raise InvalidInput(
            f"capture {capture.id} has no screenshot (morgue archive --browser takes one)"
        )
    png = read_record(warc_dir, (capture.screenshot_warc_file, capture.screenshot_warc_offset))
    if sys.stdout.isatty():
        dest = Path(f"morgue-screenshot-{capture.id}.png")
        dest.write_bytes(png.payload)
        print(dest)
    else:
        sys.stdout.buffer.write(png.payload)
        sys.stdout.flush()


_EXPLAINS = ["confidence", "evidence"]


def _print_details(details: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    # People read the verdict's explanation next to it; JSON keeps the contract's order.
    keys = [k for k in details if k not in _EXPLAINS]
    at = keys.index("reason") + 1
    keys[at:at] = _EXPLAINS
    for key in keys:
        value = details[key]
        if key == "redirects":
            value = " → ".join(f"{hop['status']} {hop['url']}" for hop in value) or None
        elif key == "authors":
            value = "; ".join(value) or None
        elif key == "evidence":
            value = ", ".join(value) or None
        elif key == "field_sources":
            value = ", ".join(f"{name}: {source}" for name, source in value.items()) or None
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("show")(show_command)
