"""``morgue diff``: what changed in an article's text between two captures."""

from __future__ import annotations

import difflib
import textwrap
from typing import Annotated

import typer
from rich.console import Console

from archive.captures.table import captures_for_url
from archive.db.engine import open_existing_database
from archive.db.models import Capture
from archive.exceptions import InvalidInput
from archive.urls import validate_url

from .options import DataDirOption, DbOption, resolve_paths

__all__ = ["register", "text_diff"]

WRAP = 100  # diff wrapped paragraphs, not whole paragraphs that differ in one word


def _lines(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, WRAP) or [""])
    return lines


def text_diff(old: Capture, new: Capture, context: int = 3) -> list[str]:
    """A unified diff of two captures' extracted texts (empty when they are the same)."""

    def label(c: Capture) -> str:
        return f"capture {c.id} ({c.fetched_at:%Y-%m-%d %H:%M:%S} UTC)"

    return list(
        difflib.unified_diff(
            _lines(old.text or ""),
            _lines(new.text or ""),
            fromfile=label(old),
            tofile=label(new),
            n=context,
            lineterm="",
        )
    )


def _pick(captures: list[Capture], wanted: str, url: str) -> Capture:
    if not wanted.isdigit():
        raise InvalidInput(f"invalid capture id {wanted!r}")
    for capture in captures:
        if capture.id == int(wanted):
            return capture
    raise InvalidInput(f"capture {wanted} is not a capture of {url}")


def diff_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(metavar="URL", help="The article URL.")],
    capture_a: Annotated[
        str | None,
        typer.Argument(metavar="[OLD_ID]", help="Older capture id.", show_default=False),
    ] = None,
    capture_b: Annotated[
        str | None,
        typer.Argument(metavar="[NEW_ID]", help="Newer capture id.", show_default=False),
    ] = None,
    context: Annotated[
        int, typer.Option("--context", "-U", metavar="N", help="Lines of context.", min=0)
    ] = 3,
    data_dir: DataDirOption = None,
    db: DbOption = None,
) -> None:
    """Show how an article's text changed between two captures, as a unified diff.

    Without capture ids, compares the two newest captures that have text. Lines starting with
    - were removed, + added. Exit status 0 (same or different), 2 for bad input.

    Examples:

      morgue diff https://example.org/news/story.html

      morgue diff https://example.org/news/story.html 12 57
    """
    if (capture_a is None) != (capture_b is None):
        raise InvalidInput("give two capture ids, or none for the two newest captures")
    paths = resolve_paths(ctx, data_dir, db)
    database = open_existing_database(paths.db_url)
    try:
        captures = captures_for_url(database, validate_url(url))
    finally:
        database.close()
    if capture_a is not None and capture_b is not None:
        old, new = _pick(captures, capture_a, url), _pick(captures, capture_b, url)
    else:
        with_text = [c for c in captures if c.text and not c.recovered_from]
        if len(with_text) < 2:
            raise InvalidInput(f"{url} has {len(with_text)} capture(s) with text; a diff needs two")
        old, new = with_text[-2], with_text[-1]
    lines = text_diff(old, new, context)
    console = Console(highlight=False)
    if not lines:
        console.print(f"no change in the text between capture {old.id} and capture {new.id}")
        return
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        console.print(line, style=style, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
