"""A URL that cannot be archived still gets its row, with a verdict and a reason (issue 11, item 6).

Before: a URL over 2,083 characters vanished (Scrapy's UrlLengthMiddleware drops such requests
with a log line), and a URL that Scrapy cannot make a request of stopped the whole crawl. The
decompression bomb (stored ``ok`` with no text) is in tests/test_archive_e2e.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archive.exceptions import InvalidURL
from archive.urls import normalise_url, validate_url
from tests.conftest import FAST, json_lines, run_morgue
from tests.static_site import Route, StaticSite

PAGE = b"<html><head><title>Story</title></head><body><p>A story.</p></body></html>"
QUICK = ["--no-recover", "--extract", "later", *FAST]
# Passes morgue's URL check, but urllib (in Scrapy) reads "][::1" as a broken IPv6 address.
UNUSABLE = "http://][::1/story.html"


def _long(site: StaticSite, length: int = 2100) -> str:
    url = site.url("/story.html?q=")
    return url + "x" * (length - len(url))


@pytest.mark.slow
def test_archive_gives_every_url_its_row(tmp_path: Path) -> None:
    with StaticSite(fallback=Route(200, PAGE)) as site:
        urls = [_long(site), UNUSABLE, site.url("/story.html"), _long(site, 2083)]
        proc = run_morgue(
            "--data-dir", str(tmp_path / "data"), "archive", "--format", "json", *QUICK, *urls
        )
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [row["url"] for row in rows] == urls
    verdicts = [(row["verdict"], row["reason"], row["http_status"]) for row in rows]
    assert verdicts == [
        ("unreachable", "too_long", None),
        ("unreachable", "invalid_url", None),
        ("ok", "http_200", 200),
        ("ok", "http_200", 200),  # 2,083 characters: at the limit, still fetched
    ]
    with sqlite3.connect(tmp_path / "data" / "morgue.sqlite3") as conn:
        errors = dict(conn.execute("SELECT url, error FROM captures").fetchall())
    assert "URLLENGTH_LIMIT" in errors[urls[0]]
    assert "IPv6" in errors[UNUSABLE]


@pytest.mark.slow
def test_feed_entries_that_cannot_be_fetched_get_their_rows(tmp_path: Path) -> None:
    with StaticSite(fallback=Route(200, PAGE)) as site:
        items = [site.url("/a.html"), _long(site), UNUSABLE, site.url("/b.html")]
        entries = "".join(
            f"<item><title>{i}</title><link>{u}</link></item>" for i, u in enumerate(items)
        )
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{entries}</channel></rss>'
        site.routes["/feed.xml"] = Route(
            200, feed.encode(), (("Content-Type", "application/rss+xml"),)
        )
        proc = run_morgue(
            "--data-dir", str(tmp_path / "data"), "crawl", "--format", "json", *QUICK,
            "--feed", site.url("/feed.xml"),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {row["url"]: (row["verdict"], row["reason"]) for row in json_lines(proc.stdout)}
    assert rows == {
        items[0]: ("ok", "http_200"),
        items[1]: ("unreachable", "too_long"),
        items[2]: ("unreachable", "invalid_url"),
        items[3]: ("ok", "http_200"),
    }
    with sqlite3.connect(tmp_path / "data" / "morgue.sqlite3") as conn:
        (stats,) = conn.execute("SELECT stats FROM runs").fetchone()
    assert json.loads(stats)["sources/scheduled"] == 4


@pytest.mark.parametrize("url", ["http://example.org/caf\udce9.html", "https://ex\udcffample.org/"])
def test_undecodable_bytes_are_an_invalid_url(url: str) -> None:
    # What a URL list or argument in another encoding than UTF-8 becomes in Python: no request
    # could be made of it, nor a row name it. A one-line error (exit 2) at the door.
    with pytest.raises(InvalidURL, match="not UTF-8"):
        validate_url(url)
    with pytest.raises(InvalidURL):
        normalise_url(url)


def test_an_undecodable_argument_is_bad_input(tmp_path: Path) -> None:
    proc = run_morgue("--data-dir", str(tmp_path), "archive", "http://example.org/caf\udce9.html")
    assert proc.returncode == 2
    assert proc.stderr.startswith("morgue: error: invalid URL") and "not UTF-8" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
