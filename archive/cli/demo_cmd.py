"""``morgue demo``: a newcomer's first run, offline, on a bundled sample news site."""

from __future__ import annotations

import shlex
import time
from collections import Counter
from typing import Any

import typer
from rich.console import Console

from archive.paths import DEFAULT_DATA_DIR, default_db_url

from .options import DataDirOption, DbOption, Paths, resolve_paths
from .render import captures_table
from .running import archive_with_progress

__all__ = ["DEMO_OVERRIDES", "register", "try_next"]

# The demo site is our own, on this machine: politeness delays are for other people's servers.
DEMO_OVERRIDES: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}


def demo_command(ctx: typer.Context, data_dir: DataDirOption = None, db: DbOption = None) -> None:
    """Serve a small sample news site on 127.0.0.1, archive it, and show what came out.

    No network needed. The site has articles, one article followed by a "page not available"
    stub, a page that is gone (404) and a redirect; the gone page is recovered from a small web
    archive that the demo serves too (a Memento TimeGate, as the Wayback Machine is).

    Example:

      morgue demo --data-dir /tmp/morgue-demo
    """
    from archive.demo.server import WEB_ARCHIVE, DemoSite  # only this command needs them

    paths = resolve_paths(ctx, data_dir, db)
    console = Console()
    with DemoSite() as site:
        urls = site.urls()
        base = site.base_url.rstrip("/")
        console.print(f"Serving the demo site at [bold]{base}[/] ({len(urls)} URLs)")
        started = time.perf_counter()
        # The dead page is recovered from the demo's own small web archive, not the internet.
        overrides = {**DEMO_OVERRIDES, "MEMENTO_TIMEGATE": base + WEB_ARCHIVE}
        rows = archive_with_progress(paths, urls, overrides, kind="demo", progress=True).rows()
        elapsed = time.perf_counter() - started
    console.print(captures_table(rows, title=f"Archived demo pages ({base})"))
    fetched = [row for row in rows if not row.get("recovered_from")]
    verdicts = Counter(row["verdict"] for row in fetched)
    summary = ", ".join(f"{count} {verdict}" for verdict, count in verdicts.most_common())
    recovered = len(rows) - len(fetched)
    if recovered:
        summary += f"; {recovered} recovered from the demo's web archive"
    warc_files = sorted({row["warc_file"] for row in rows if row.get("warc_file")})
    console.print(f"\n{len(fetched)} URLs in {elapsed:.1f} s: {summary}")
    console.print(f"WARC files:  {paths.warc_dir}/ ({', '.join(warc_files)})")
    console.print(f"Database:    {paths.db_url}")
    # Point at an article, not the front page.
    articles = [row for row in rows if row["verdict"] == "ok" and "/news/" in (row["url"] or "")]
    console.print("\nTry next:")
    for line in try_next(paths, articles[0]["capture_id"] if articles else None):
        console.print(f"  {line}", highlight=False, soft_wrap=True)


def try_next(paths: Paths, capture_id: int | None) -> list[str]:
    """Commands to run after the demo, on its archive: look, query, replay, then your own."""
    lines = []
    if paths.data_dir != DEFAULT_DATA_DIR.absolute():
        lines.append(f"export MORGUE_DATA_DIR={shlex.quote(str(paths.data_dir))}")
    if paths.db_url != default_db_url(paths.data_dir):
        lines.append(f"export MORGUE_DB_URL={shlex.quote(paths.db_url)}")
    commands: list[tuple[str, str]] = []
    if capture_id is not None:
        commands += [
            (f"morgue show {capture_id}", "one capture: verdict, confidence, evidence"),
            (f"morgue show --text {capture_id}", "its article text"),
            (f"morgue show --html {capture_id} > page.html", "its archived HTML"),
        ]
    commands += [
        ("morgue query --verdict not_found --verdict soft_404", "the dead pages"),
        ("morgue serve", "browse, search and replay it at http://127.0.0.1:8000"),
        ("morgue export --wacz demo.wacz", "replay it all in ReplayWeb.page"),
        ("morgue index", "or a CDXJ index for pywb (README)"),
        ("morgue archive URL...", "your own pages"),
        ("morgue crawl --feed https://example.org/rss.xml", "every article of a feed"),
    ]
    width = max(len(command) for command, _why in commands)
    return lines + [f"{command:<{width}}  # {why}" for command, why in commands]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
