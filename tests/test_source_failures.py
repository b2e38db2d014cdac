"""Failures a newcomer must see in the summary, not only in the log (issue 12, items 2 and 3).

A feed or sitemap that cannot be read is named in the crawl's summary with its reason, the
summary names the log, and a crawl none of whose sources could be read exits with status 1.
Failed Memento lookups are counted by reason, and pages that may need a browser are counted
too, in ``morgue crawl``'s summary and on ``morgue archive``'s stderr. Every test runs the CLI
as a user does, against real corpus pages on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from archive.cli.schedule_cmd import _failed_sources
from archive.db.engine import open_database
from archive.db.models import Run
from archive.runs.outcomes import SourceOutcome, all_failed, failed_roots, run_notes
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusSite, corpus_pages

HTML = "text/html; charset=utf-8"
EMPTY_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet desk</title>'
    b"<link>http://127.0.0.1/</link></channel></rss>"
)
GONE = "/news/2026/11/withdrawn-story.html"  # listed by a feed, answered with 404
SHELL = "/news/2026/11/app-story.html"  # the corpus's page that needs JavaScript


def _rss(urls: list[str]) -> bytes:
    items = "".join(f"<item><title>t</title><link>{escape(u)}</link></item>" for u in urls)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}'
            "</channel></rss>").encode()  # fmt: skip


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    shell = corpus_pages(kind="js_shell")[0].html
    routes = {
        "/empty.xml": (200, "application/rss+xml", EMPTY_FEED),
        "/about.html": (200, HTML, b"<html><body><h1>About us</h1><p>We report.</p></body></html>"),
        SHELL: (200, HTML, shell),
    }
    with CorpusSite(2, extra=routes) as corpus:
        # robots.txt of a section that names a sitemap it does not have.
        corpus.extra["/desk/robots.txt"] = (
            200, "text/plain", f"Sitemap: {corpus.base}/desk/sitemap.xml\n".encode()
        )  # fmt: skip
        corpus.extra["/mixed.xml"] = (
            200, "application/rss+xml", _rss([corpus.url(GONE), corpus.url(SHELL)])
        )  # fmt: skip
        yield corpus


def crawl(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_morgue("--data-dir", str(data), "crawl", "--format", "json", *FAST, *args)


def summary_of(data: Path, run_id: int = 1) -> dict[str, object]:
    with open_database(f"sqlite:///{data / 'morgue.sqlite3'}") as db, db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None and run.stats is not None
        summary: dict[str, object] = run.stats["summary"]
        return summary


@pytest.mark.slow
def test_a_crawl_whose_sources_all_fail_names_each_reason_and_exits_1(
    tmp_path: Path, site: CorpusSite
) -> None:
    refused = f"http://127.0.0.1:{closed_port()}/feed.xml"
    proc = crawl(
        tmp_path / "data",
        "--no-recover",
        "--feed", site.url("/missing.xml"),  # 404
        "--sitemap", site.url("/about.html"),  # an HTML page given as a sitemap
        "--feed", site.url("/empty.xml"),  # a feed without entries
        "--feed", refused,  # nothing listens there
        "--sitemap", site.url("/desk/robots.txt"),  # its sitemap is a 404
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""  # no captures: nothing on stdout
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("crawl finished: 0 pages")
    assert lines[1] == "every source failed, nothing to crawl (exit status 1):"
    listed = lines[2:7]  # in the order the answers came
    reasons = {line.rsplit("(", 1)[-1].rstrip(")") for line in listed}
    assert reasons == {"http_404", "not_a_sitemap", "no_entries", "connection_refused"}
    assert f"  feed {site.url('/missing.xml')}: HTTP 404 (http_404)" in listed
    assert f"  feed {site.url('/empty.xml')}: no entries (no_entries)" in listed
    assert f"  sitemap {site.url('/desk/sitemap.xml')}: HTTP 404 (http_404)" in listed
    assert any(line.startswith(f"  feed {refused}: connection refused") for line in listed)
    assert any(
        line.startswith(f"  sitemap {site.url('/about.html')}: not a sitemap") for line in listed
    )
    log = tmp_path / "data" / "logs" / "run-1.log"
    assert lines[-1] == f"log: {log}"
    assert log.is_file()
    summary = summary_of(tmp_path / "data")
    assert summary["all_sources_failed"] is True
    failed = summary["failed_sources"]
    assert isinstance(failed, list) and len(failed) == 5
    assert {f["reason"] for f in failed} == reasons
    # robots.txt was read; the sitemap it names was not: the root failed through its child.
    nested = next(f for f in failed if f["url"].endswith("/desk/sitemap.xml"))
    assert nested["root"] == site.url("/desk/robots.txt")

    # The table format says the same on stdout, and exits 1 too.
    table = run_morgue(
        "--data-dir", str(tmp_path / "t"), "crawl", "--no-recover", *FAST,
        "--feed", site.url("/missing.xml"),
    )  # fmt: skip
    assert table.returncode == 1
    assert f"  feed {site.url('/missing.xml')}: HTTP 404 (http_404)" in table.stdout.splitlines()


@pytest.mark.slow
def test_a_partial_failure_exits_0_and_the_summary_names_it(
    tmp_path: Path, site: CorpusSite
) -> None:
    timegate = f"http://127.0.0.1:{closed_port()}/web/"
    proc = crawl(
        tmp_path / "data",
        "--timegate", timegate,
        "--feed", site.url("/feed.xml"),  # two live articles
        "--feed", site.url("/missing.xml"),  # 404
        "--feed", site.url("/mixed.xml"),  # a gone article and a page that needs JavaScript
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {row["url"]: row for row in json_lines(proc.stdout)}
    assert rows[site.url(GONE)]["verdict"] == "not_found"
    assert rows[site.url(SHELL)]["verdict"] == "ok"
    assert rows[site.url(SHELL)]["text_chars"] == 0
    lines = proc.stderr.splitlines()
    summary_at = next(i for i, line in enumerate(lines) if line.startswith("crawl finished"))
    assert lines[summary_at + 1 :] == [
        "1 of 3 sources failed:",
        f"  feed {site.url('/missing.xml')}: HTTP 404 (http_404)",
        "1 Memento lookup failed, their dead pages not recovered: "
        "connection refused (connection_refused) 1",
        "1 page with no text found: it may need a browser (needs_browser)",
        f"log: {tmp_path / 'data' / 'logs' / 'run-1.log'}",
    ]
    summary = summary_of(tmp_path / "data")
    assert summary["all_sources_failed"] is False
    assert summary["sources_read"] == 2
    assert summary["memento_failed"] == {"connection_refused": 1}
    assert summary["needs_browser"] == 1

    # show: the one hint line for the page that needs a browser, none for an article.
    shown = run_morgue("--data-dir", str(tmp_path / "data"), "show", site.url(SHELL))
    assert "no text found: the page may need a browser" in shown.stdout
    article = run_morgue("--data-dir", str(tmp_path / "data"), "show", site.url(0))
    assert article.returncode == 0
    assert "may need a browser" not in article.stdout
    details = json.loads(
        run_morgue("--data-dir", str(tmp_path / "data"), "query", "--format", "json",
                   "--fields", "url,verdict,evidence", "--url-prefix", site.url(SHELL)).stdout
    )  # fmt: skip
    assert details["verdict"] == "ok" and "needs_browser" in details["evidence"]


@pytest.mark.slow
def test_archive_reports_failed_memento_lookups_and_browser_pages_on_stderr(
    tmp_path: Path, site: CorpusSite
) -> None:
    timegate = f"http://127.0.0.1:{closed_port()}/web/"
    proc = run_morgue(
        "--data-dir", str(tmp_path / "data"), "archive", "--format", "json", *FAST,
        "--no-requisites",  # the corpus pages' images are on their publishers' hosts
        "--timegate", timegate, site.url(GONE), site.url(SHELL), site.url(0),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # a dead page is a result
    rows = json_lines(proc.stdout)  # stdout holds the rows, nothing else
    assert [row["verdict"] for row in rows] == ["not_found", "ok", "ok"]
    assert proc.stderr.splitlines() == [
        "1 Memento lookup failed, their dead pages not recovered: "
        "connection refused (connection_refused) 1",
        "1 page with no text found: it may need a browser (needs_browser)",
        f"log: {tmp_path / 'data' / 'logs' / 'run-1.log'}",
    ]


# -- the rule behind "every source failed" ------------------------------------------------------


def test_a_root_fails_when_nothing_under_it_listed_an_article() -> None:
    robots = SourceOutcome("robots.txt", "r", "r", entries=1, leads_to_pages=False)
    child_bad = SourceOutcome("sitemap", "s1", "r", "http_404")
    child_good = SourceOutcome("sitemap", "s2", "r", entries=3)
    feed_bad = SourceOutcome("feed", "f", "f", "no_entries")
    assert failed_roots([robots, child_bad]) == {"r"}
    assert failed_roots([robots, child_bad, child_good]) == set()
    assert all_failed([robots, child_bad, feed_bad], ["r", "f"])
    assert not all_failed([robots, child_bad, child_good, feed_bad], ["r", "f"])
    # Read, but every entry too old for --since: nothing failed.
    assert not all_failed([robots], ["r"])
    # An interrupted crawl may not have tried a root at all: it did not fail.
    assert not all_failed([feed_bad], ["r", "f"])
    assert not all_failed([], [])


def test_run_notes_word_the_counts() -> None:
    stats = {"memento/failed/timeout": 2, "memento/failed/http_503": 1, "memento/lookups": 5}
    assert run_notes(stats) == [
        "3 Memento lookups failed, their dead pages not recovered: "
        "HTTP 503 (http_503) 1, timed out (timeout) 2"
    ]
    assert run_notes({"liveness/needs_browser": 2}) == [
        "2 pages with no text found: they may need a browser (needs_browser)"
    ]
    assert run_notes({}) == []


@pytest.mark.slow
def test_schedule_list_shows_the_source_a_scheduled_crawl_could_not_read(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    refused = f"http://127.0.0.1:{closed_port()}/rss.xml"
    added = run_morgue(
        "--data-dir", data, "schedule", "add", "wire", "--every", "1h",
        "--", "--feed", refused, "--no-recover", *FAST,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    due = run_morgue("--data-dir", data, "schedule", "run-due", "--format", "json")
    (ran,) = json_lines(due.stdout)
    assert ran["status"] == "failed"  # the crawl exited 1: no source could be read
    listed = run_morgue("--data-dir", data, "schedule", "list", "--format", "json")
    (info,) = json_lines(listed.stdout)
    assert info["last_run"]["failed_sources"] == [
        {"kind": "feed", "url": refused, "reason": "connection_refused"}
    ]
    # The table's "last run" column ends with it (its width is the tables' business).
    assert _failed_sources(info["last_run"]["failed_sources"]) == (
        f"; failed: feed {refused} (connection_refused)"
    )
