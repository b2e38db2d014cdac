"""``morgue demo``: a newcomer's first run, offline, on a bundled sample news site."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import typer
from rich.console import Console

from .archive_cmd import archive_urls
from .options import DataDirOption, DbOption, resolve_paths
from .render import captures_table

__all__ = ["DEMO_OVERRIDES", "register"]

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
        rows, _result = archive_urls(paths, urls, overrides, kind="demo", progress=True)
        elapsed = time.perf_counter() - started
    console.print(captures_table(rows, title=f"Archived demo pages ({base})", strip_prefix=base))
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
    first = articles[0] if articles else None
    console.print("\nTry next:")
    data = f"--data-dir {paths.data_dir}"
    if first is not None:
        console.print(f"  morgue {data} show {first['capture_id']}          # one capture")
        console.print(f"  morgue {data} show --text {first['capture_id']}   # its article text")
        console.print(f"  morgue {data} show --html {first['capture_id']}   # the archived page")
    console.print(f"  morgue {data} archive --format json URL...  # your own pages")
    console.print(f"  warcio check -v {paths.warc_dir}/*.warc.gz  # check the WARCs")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
