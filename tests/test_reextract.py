"""Deferred extraction: `morgue archive --extract later`, then `morgue extract` from the WARCs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FAST, json_lines, run_morgue
from tests.liveness_pages import STUB_HTML, article_html, error_html
from tests.mockserver import MockServer
from tests.readers import reader, reader_env
from tests.static_site import Route, StaticSite

pytestmark = pytest.mark.slow

PATHS = ("/news/2025/late-bus.html", "/news/2025/stub.html", "/news/2025/removed.html")


def test_archive_now_extract_later(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    site = StaticSite(
        routes={
            PATHS[0]: Route(body=article_html("Late bus stays")),
            PATHS[1]: Route(body=article_html("Bridge reopens", inside=STUB_HTML)),
            PATHS[2]: Route(body=error_html("Page not found", "This article was removed.")),
        }
    )
    with site:
        urls = [site.url(p) for p in PATHS]
        fetched = run_morgue(*data, "archive", "--extract", "later", "--format", "json",
                             "--no-recover", *FAST, *urls)  # fmt: skip
        probes = [p for p in site.requests if "/morgue-" in p]
    assert fetched.returncode == 0, fetched.stderr
    rows = json_lines(fetched.stdout)
    # Judged by status only, nothing extracted, no probe sent.
    assert [(r["verdict"], r["text_chars"], r["title"]) for r in rows] == [("ok", 0, None)] * 3
    assert probes == []

    extracted = run_morgue(*data, "extract", "--format", "json")
    assert extracted.returncode == 0, extracted.stderr
    outcomes = {o["url"]: o for o in json_lines(extracted.stdout)}
    assert {u: (o["before"], o["verdict"], o["reason"]) for u, o in outcomes.items()} == {
        urls[0]: ("ok", "ok", "http_200"),
        urls[1]: ("ok", "ok", "http_200"),
        urls[2]: ("ok", "soft_404", "error_stub"),
    }
    db = sqlite3.connect(tmp_path / "data" / "morgue.sqlite3")
    text, meta_file, evidence = db.execute(
        "SELECT text, metadata_warc_file, evidence FROM captures WHERE url = ?", (urls[1],)
    ).fetchone()
    assert text.endswith("residents' petition.") and "not available" not in text
    assert "stub_stripped" in json.loads(evidence)
    assert meta_file.startswith("morgue-extract-")
    assert db.execute("SELECT count(*) FROM links").fetchone()[0] == 4  # two per article
    state = db.execute("SELECT state FROM pages WHERE url = ?", (urls[2],)).fetchone()[0]
    assert state == "dead_suspected"
    runs = db.execute("SELECT kind, status FROM runs ORDER BY id").fetchall()
    assert runs == [("archive", "finished"), ("extract", "finished")]
    db.close()

    # The new metadata records are valid WARC, readable by an independent reader.
    warcs = sorted((tmp_path / "data" / "warcs").glob("morgue-extract-*.warc.gz"))
    check = subprocess.run([reader("warcio"), "check", "-v", *map(str, warcs)],
                           capture_output=True, text=True, env=reader_env())  # fmt: skip
    assert warcs and check.returncode == 0, check.stdout + check.stderr
    shown = json.loads(run_morgue(*data, "show", "--json", urls[2]).stdout)
    assert shown["verdict"] == "soft_404"

    again = run_morgue(*data, "extract")
    assert again.returncode == 0 and "nothing to extract" in again.stderr
    everything = run_morgue(*data, "extract", "--all", "--workers", "1")
    assert everything.returncode == 0, everything.stderr
    assert "3 captures extracted" in everything.stdout
    assert "ok -> soft_404" not in everything.stdout  # nothing changed the second time


def test_extract_without_a_database_is_one_line(tmp_path: Path) -> None:
    proc = run_morgue("--data-dir", str(tmp_path / "none"), "extract")
    assert proc.returncode == 2 and proc.stderr.startswith("morgue: error: no morgue database")
    assert not (tmp_path / "none").exists()


def test_extract_kills_a_runaway_page_and_goes_on(mock_server: MockServer, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    # The long read takes seconds to extract, the ordinary article milliseconds.
    urls = [mock_server.url("/long-read.html"), mock_server.url("/articles/beta.html")]
    fetched = run_morgue(*data, "archive", "--extract", "later", "--no-recover", *FAST, *urls)
    assert fetched.returncode == 0, fetched.stderr
    extracted = run_morgue(*data, "extract", "--timeout", "0.5", "--workers", "1",
                           "--format", "json")  # fmt: skip
    assert extracted.returncode == 0, extracted.stderr
    outcomes = {o["url"]: o for o in json_lines(extracted.stdout)}
    assert set(outcomes) == set(urls)
    long_read, article = outcomes[urls[0]], outcomes[urls[1]]
    assert long_read["text_chars"] == 0 and "exceeded 0.5 s" in (long_read["error"] or "")
    # One worker: the one killed was replaced, and the next page was extracted by its successor.
    assert article["text_chars"] > 0 and article["error"] is None
