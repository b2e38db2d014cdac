"""``morgue archive``: fetch, archive, extract, classify and store a list of URLs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from archive.exceptions import InvalidInput
from archive.sources.url_list import parse_url_list
from archive.urls import validate_url

from .options import (
    PROGRESS_THRESHOLD,
    AllowPrivateOption,
    DataDirOption,
    DbOption,
    ExtractOption,
    ExtractWhen,
    FormatOption,
    IgnoreRobotsOption,
    NoRecoverOption,
    OutputFormat,
    RedisOption,
    RedisPrefixOption,
    SettingOption,
    TimegateOption,
    TimeoutOption,
    fetch_overrides,
    resolve_paths,
)
from .render import captures_table, print_json_lines, stderr_console
from .running import archive_with_progress

__all__ = ["SOME_INPUT_SKIPPED", "read_url_list", "register"]

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
    output: FormatOption = OutputFormat.table,
    timeout: TimeoutOption = None,
    no_recover: NoRecoverOption = False,
    timegate: TimegateOption = None,
    ignore_robots: IgnoreRobotsOption = False,
    extract: ExtractOption = ExtractWhen.now,
    allow_private: AllowPrivateOption = False,
    requisites: Annotated[
        bool | None,
        typer.Option(
            "--requisites/--no-requisites",
            help="Also fetch and archive what each page loads: images (srcset and <picture> "
            "too), stylesheets and the url()s in them, fonts, scripts. On by default; a payload "
            "already archived is stored once, then as revisit records.",
            show_default=False,
        ),
    ] = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Also load each page in headless Chromium (from the system: apt-get install "
            "chromium): what its scripts fetch is archived, the rendered page is extracted and "
            "judged, a screenshot is stored. '--browser auto': only pages whose HTML has no "
            "article text.",
        ),
    ] = False,
    setting: SettingOption = None,
    data_dir: DataDirOption = None,
    db: DbOption = None,
    redis: RedisOption = None,
    redis_prefix: RedisPrefixOption = "morgue",
) -> None:
    """Archive URLs now: fetch, write WARC, extract the article, judge liveness, store.

    One result per URL, in the order given. Exit status 0 when every URL was processed (a dead
    page is a result, not an error), 2 for bad usage or bad input (nothing archived), 3 when
    bad lines of an -i list were skipped and the other URLs archived (each bad line is
    reported as FILE:LINE: reason; --strict refuses the whole list instead), 1 when a fault
    stopped the run (a full disk, a database that cannot be written): one line on stderr names
    it. -i also reads a browser's bookmarks export. With --redis, the URLs are queued for
    `morgue worker`s and nothing is fetched here.

    Examples:

      morgue archive https://example.org/news/story.html

      morgue archive --no-requisites https://example.org/news/story.html

      morgue archive --browser https://example.org/news/app-story

      morgue archive --browser auto -i urls.txt

      morgue archive --format json -i urls.txt > results.jsonl

      morgue archive --extract later -i urls.txt && morgue extract

      morgue archive -i bookmarks.html --strict

      morgue --data-dir ./news archive -s DOWNLOAD_DELAY=2 https://example.org/a

      morgue archive --redis redis://q:6379/0 -i urls.txt
    """
    browser_mode, given = _browser_mode(browser, urls or [])
    url_list, bad_lines = read_url_list(given, input_file, strict=strict)
    if redis:
        from archive.distributed.enqueue import enqueue_urls

        from .enqueued import print_enqueued

        print_enqueued(enqueue_urls(redis, url_list, prefix=redis_prefix), output)
        return
    overrides = fetch_overrides(
        setting,
        timeout=timeout,
        ignore_robots=ignore_robots,
        no_recover=no_recover,
        timegate=timegate,
        extract=extract,
        allow_private=allow_private,
        requisites=requisites,
    )
    # On for ``archive`` unless turned off here or with -s REQUISITES_ENABLED=...
    overrides.setdefault("REQUISITES_ENABLED", True)
    if browser_mode is not None:
        overrides.update(_browser_settings(browser_mode))
    paths = resolve_paths(ctx, data_dir, db)
    show_progress = (
        output is OutputFormat.table and sys.stderr.isatty() and len(url_list) > PROGRESS_THRESHOLD
    )
    run = archive_with_progress(paths, url_list, overrides, progress=show_progress)
    rows = run.rows()
    if output is OutputFormat.json:
        print_json_lines(rows)
    else:
        Console().print(captures_table(rows))
    requisites_line = run.requisites_line()
    if requisites_line and output is OutputFormat.table:
        print(requisites_line, file=sys.stderr)
    # Failed Memento lookups and pages that may need a browser: on stderr, stdout is the rows.
    if run.notes:
        print("\n".join([*run.notes, f"log: {run.log_file}"]), file=sys.stderr)
    if run.interrupted:
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


def _browser_mode(browser: bool, urls: list[str]) -> tuple[str | None, list[str]]:
    """``--browser`` is a flag that ``auto`` may follow: Click reads that ``auto`` as one of the
    URL arguments (it is none: not http(s)), so it is taken back from them here."""
    if not browser:
        return None, urls
    if "auto" in urls:
        return "auto", [url for url in urls if url != "auto"]
    return "always", urls


def _browser_settings(mode: str) -> dict[str, object]:
    """Chromium for ``mode``; without one, ``always`` is bad usage and ``auto`` a warning."""
    from archive.runs.chromium import browser_settings, find_chromium

    executable = find_chromium()
    if executable is None:
        if mode == "always":
            raise InvalidInput(
                "--browser needs Chromium, and none is installed (Debian: apt-get install chromium)"
            )
        print(
            "morgue: warning: --browser auto: no Chromium installed, archiving HTML alone",
            file=sys.stderr,
        )
        return {}
    return browser_settings(mode, executable)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive_command)
