"""`morgue crawl --requisites` end to end: a feed of the mock site's photo stories, crawled
three times into one archive.

The first crawl archives each page's images, stylesheets, fonts and scripts, a URL the pages
share once; the second (pages due again, freshness window off) writes every unchanged
requisite as a revisit record naming the first crawl's; the third (the default window) fetches
no requisite at all. Requisites are never pages, and the archive verifies.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.records import REQUISITE_OF
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.mockserver.assets import STORY_REQUISITES
from tests.verified import assert_archive_verified

pytestmark = pytest.mark.slow

STORIES = {"harbour-lights", "market-day"}


@dataclass
class Crawl:
    rows: list[dict[str, Any]]
    stderr: str
    warcs: set[str]  # the WARC files it wrote
    asked: list[str]  # the paths it asked of the server


@dataclass
class Crawls:
    server: MockServer
    data_dir: Path
    runs: list[Crawl]

    def requisites(self, capture_id: int) -> list[sqlite3.Row]:
        with sqlite3.connect(self.data_dir / "morgue.sqlite3") as conn:
            conn.row_factory = sqlite3.Row
            return list(
                conn.execute("SELECT * FROM requisites WHERE capture_id = ?", (capture_id,))
            )

    def records(self, run: Crawl) -> list[tuple[str, str, dict[str, str]]]:
        out = []
        for name in sorted(run.warcs):
            with open(self.data_dir / "warcs" / name, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    headers = dict(rec.rec_headers.headers)
                    out.append((rec.rec_type, headers.get("WARC-Target-URI", ""), headers))
        return out

    def story(self, run: Crawl, slug: str) -> dict[str, Any]:
        (row,) = [r for r in run.rows if r["url"] == self.server.url(f"/photo/{slug}.html")]
        return row


@pytest.fixture(scope="module")
def crawls(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Crawls:
    data = tmp_path_factory.mktemp("crawl-requisites") / "morgue-data"
    feed = mock_server.url("/photo/feed.xml")
    runs = []
    for extra in (
        (),
        ("--recrawl-after", "0", "-s", "REQUISITES_REFRESH_AFTER=0"),
        ("--recrawl-after", "0"),
    ):
        before_warcs = set(_warcs(data))
        before_asked = len(mock_server.requests())
        proc = run_morgue(
            "--data-dir", str(data), "crawl", "--feed", feed, "--requisites", "--format",
            "json", "--no-recover", *FAST, *extra,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        asked = [entry["path"] for entry in mock_server.requests()[before_asked:]]
        runs.append(
            Crawl(json_lines(proc.stdout), proc.stderr, set(_warcs(data)) - before_warcs, asked)
        )
    return Crawls(mock_server, data, runs)


def _warcs(data: Path) -> list[str]:
    return [p.name for p in (data / "warcs").glob("*.warc.gz")] if data.exists() else []


def _paths(server: MockServer, rows: list[sqlite3.Row]) -> list[str]:
    return sorted(str(r["url"]).removeprefix(server.base_url.rstrip("/")) for r in rows)


def test_a_crawl_links_each_page_to_its_requisites_and_fetches_a_shared_one_once(
    crawls: Crawls,
) -> None:
    first = crawls.runs[0]
    assert {row["verdict"] for row in first.rows} == {"ok"} and len(first.rows) == 3
    for slug in STORIES:
        rows = crawls.requisites(crawls.story(first, slug)["capture_id"])
        assert _paths(crawls.server, rows) == sorted(STORY_REQUISITES[slug])
        assert all(r["http_status"] == 200 and r["warc_record_id"] for r in rows)
    logo = crawls.server.url("/assets/img/logo.png")
    responses = [h for kind, uri, h in crawls.records(first) if kind == "response" and uri == logo]
    assert len(responses) == 1
    assert responses[0][REQUISITE_OF] in {crawls.server.url(f"/photo/{s}.html") for s in STORIES}
    assert first.asked.count("/assets/img/logo.png") == 1
    logo_rows = [
        r for slug in STORIES for r in crawls.requisites(crawls.story(first, slug)["capture_id"])
        if r["url"] == logo
    ]  # fmt: skip
    assert sorted(r["reused"] for r in logo_rows) == [0, 1]
    assert len({r["warc_record_id"] for r in logo_rows}) == 1
    # The summary names them; shared ones (the logo, the stylesheet...) count as already archived.
    assert "crawl finished: 3 pages" in first.stderr and " requisites (" in first.stderr


def test_requisites_are_no_pages(crawls: Crawls) -> None:
    for run in crawls.runs:
        assert sorted(row["url"].rsplit("/", 1)[1] for row in run.rows) == [
            "blocked.html",
            "harbour-lights.html",
            "market-day.html",
        ]
    proc = run_morgue("--data-dir", str(crawls.data_dir), "query", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert all("/assets/" not in row["url"] for row in json_lines(proc.stdout))


def test_a_second_crawl_writes_revisits_that_name_the_first_crawls_records(
    crawls: Crawls,
) -> None:
    first, second = crawls.runs[0], crawls.runs[1]
    originals = {
        r["url"]: r
        for row in first.rows
        for r in crawls.requisites(row["capture_id"])
        if not r["reused"]
    }
    records = crawls.records(second)
    revisits = {h["WARC-Record-ID"]: h for kind, _, h in records if kind == "revisit"}
    # A response record only for what came back other than before: the missing picture's 404.
    assert [uri.rsplit("/", 1)[1] for kind, uri, _ in records
            if kind == "response" and "/assets/" in uri] == ["pier.png"]  # fmt: skip
    for slug in STORIES:
        rows = crawls.requisites(crawls.story(second, slug)["capture_id"])
        assert _paths(crawls.server, rows) == sorted(STORY_REQUISITES[slug])
        for req in rows:
            assert req["revisit"] == 1, req["url"]
            if req["reused"]:
                continue
            record = revisits[req["warc_record_id"]]
            assert record[REQUISITE_OF] == crawls.server.url(f"/photo/{slug}.html")
            assert record["WARC-Refers-To"] == originals[req["url"]]["warc_record_id"]
            assert record["WARC-Payload-Digest"] == originals[req["url"]]["payload_digest"]


def test_within_the_window_a_crawl_fetches_no_requisite(crawls: Crawls) -> None:
    second, third = crawls.runs[1], crawls.runs[2]
    assert {path.split("?")[0] for path in third.asked} >= {f"/photo/{s}.html" for s in STORIES}
    # Only the blocked page's missing picture, which failed before: tried again.
    assert [p for p in third.asked if p.startswith("/assets/")] == ["/assets/missing/pier.png"]
    for slug in STORIES:
        rows = crawls.requisites(crawls.story(third, slug)["capture_id"])
        assert _paths(crawls.server, rows) == sorted(STORY_REQUISITES[slug])
        assert all(r["reused"] == 1 and r["warc_record_id"] for r in rows)
    # The rows point at the second crawl's records, the newest within the window.
    newest = {
        r["url"]: r["warc_record_id"]
        for row in second.rows
        for r in crawls.requisites(row["capture_id"])
        if not r["reused"]
    }
    for slug in STORIES:
        for req in crawls.requisites(crawls.story(third, slug)["capture_id"]):
            assert req["warc_record_id"] == newest[req["url"]]


def test_the_archive_verifies(crawls: Crawls) -> None:
    assert_archive_verified(crawls.data_dir)
