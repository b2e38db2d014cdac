"""A feed or sitemap longer than a database statement may bind (issue 11, item 6).

Looking up which of a source's entries are archived already sends their URLs in ``IN (...)``
lists: whole, that is two variables per entry, past this SQLite build's limit (Debian's 250,000;
32,766 upstream) and PostgreSQL's 65,535. The look-up then failed, the crawl logged it and
fetched every entry again as if nothing had been archived, without recording the entries.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from archive.captures.record import CaptureRecord
from archive.captures.table import save_captures
from archive.db.engine import open_database
from archive.sources.registry import (
    SourceEntry,
    prior_captures,
    record_discoveries,
    register_source,
)
from archive.warc.records import RecordLocation
from tests.conftest import FAST, json_lines, run_morgue
from tests.static_site import Route, StaticSite

PAGE = b"<html><head><title>Story</title></head><body><p>A story.</p></body></html>"


def _variable_limit() -> int:
    with sqlite3.connect(":memory:") as conn:
        return int(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def test_a_crawl_skips_the_sitemap_entries_already_archived(tmp_path: Path) -> None:
    entries = 40
    with StaticSite() as site:
        ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
        urls = "".join(f"<url><loc>{site.base}/a/{i}.html</loc></url>" for i in range(entries))
        body = f'<?xml version="1.0"?><urlset xmlns="{ns}">{urls}</urlset>'.encode()
        site.routes["/sitemap.xml"] = Route(200, body, (("Content-Type", "application/xml"),))
        site.fallback_for = lambda path: Route(200, PAGE) if path.startswith("/a/") else Route(404)
        data = ["--data-dir", str(tmp_path / "data")]
        quick = ["--no-recover", "--extract", "later", *FAST]
        first = run_morgue(*data, "archive", *quick, *(site.url(f"/a/{i}.html") for i in range(3)))
        assert first.returncode == 0, first.stderr
        crawl = run_morgue(
            *data, "crawl", "--format", "json", "--sitemap", site.url("/sitemap.xml"),
            "--max-pages", "3", *quick,
        )  # fmt: skip
        assert crawl.returncode == 0, crawl.stderr
        fetched = [row["url"].removeprefix(site.base) for row in json_lines(crawl.stdout)]
        articles = [path for path in site.requests if path.startswith("/a/")]
    # The three archived entries were skipped; the next three were fetched, once each.
    assert sorted(fetched) == ["/a/3.html", "/a/4.html", "/a/5.html"]
    assert sorted(articles) == [f"/a/{i}.html" for i in range(6)]
    with sqlite3.connect(tmp_path / "data" / "morgue.sqlite3") as conn:
        (stats,) = conn.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        (discovered,) = conn.execute("SELECT count(*) FROM discoveries").fetchone()
    run = json.loads(stats)
    assert run["sources/skipped_archived"] == 3
    assert "sources/errors" not in run and "log_count/ERROR" not in run
    assert discovered == entries


def test_entries_over_the_databases_variable_limit(db_url: str) -> None:
    """Past each one's limit: this SQLite build's (two variables per entry), PostgreSQL's 65,535
    parameters a statement."""
    count = _variable_limit() // 2 + 5000 if db_url.startswith("sqlite") else 40_000
    db = open_database(db_url)
    try:
        source = register_source(db, "sitemap", "https://example.org/sitemap.xml")
        entries = [SourceEntry(f"https://example.org/a/{i}.html") for i in range(count)]
        assert record_discoveries(db, source, entries, None) == len(entries)
        assert record_discoveries(db, source, entries[:35_000], None) == 0
        archived = entries[-1].url  # in the last chunk of any size
        record = RecordLocation("a.warc.gz", 0, 10, "<urn:uuid:1>", None)
        at = datetime(2026, 1, 1, tzinfo=UTC)
        save_captures(db, [CaptureRecord(archived, at, "ok", "http_200", response=record)])
        found = prior_captures(db, [entry.url for entry in entries])
        assert list(found) == [archived] and found[archived].warc_file == "a.warc.gz"
    finally:
        db.close()
