"""Page requisites end to end: `morgue archive` of the mock site's photo stories, three times.

The first run archives every image, stylesheet, font and script once (a URL two pages share is
fetched once). The second, within the freshness window (`REQUISITES_REFRESH_AFTER`), fetches
none of them: its rows point at the first run's records. The third, with the window off, finds
every payload archived and writes revisit records only. pywb, from `morgue index`, then
replays every requisite of each page as it was: no misses.
"""

from __future__ import annotations

import io
import sqlite3
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.records import REQUISITE_OF
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.mockserver.assets import STORY_REQUISITES
from tests.pywb_server import PywbServer
from tests.verified import assert_archive_verified

pytestmark = pytest.mark.slow

STORIES = ["/photo/harbour-lights.html", "/photo/market-day.html"]
PYWB_CONFIG = """\
collections:
  morgue:
    index_paths: ./morgue-data/indexes/
    archive_paths: ./morgue-data/warcs/
"""


@dataclass
class Runs:
    server: MockServer
    root: Path
    first: list[dict[str, Any]]
    second: list[dict[str, Any]]
    third: list[dict[str, Any]]
    second_asked: list[str]  # the paths the second run asked of the server
    # What the three runs asked: the server is the session's, other tests ask it too.
    asked: list[str]

    @property
    def data_dir(self) -> Path:
        return self.root / "morgue-data"

    def requisites(self, capture_id: int) -> list[sqlite3.Row]:
        with sqlite3.connect(self.data_dir / "morgue.sqlite3") as conn:
            conn.row_factory = sqlite3.Row
            return list(
                conn.execute(
                    "SELECT * FROM requisites WHERE capture_id = ? ORDER BY id", (capture_id,)
                )
            )

    def records(self) -> list[tuple[str, str, dict[str, str]]]:
        out = []
        for path in sorted((self.data_dir / "warcs").glob("*.warc.gz")):
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    headers = dict(rec.rec_headers.headers)
                    out.append((rec.rec_type, headers.get("WARC-Target-URI", ""), headers))
        return out


def _archive(server: MockServer, data_dir: Path, *extra: str) -> tuple[list[Any], str]:
    urls = [server.url(path) for path in [*STORIES, "/photo/blocked.html"]]
    proc = run_morgue(
        "--data-dir", str(data_dir), "archive", "--format", "json", "--no-recover",
        "--timeout", "5", *FAST, *extra, *urls,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json_lines(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def runs(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("requisites")
    start = len(mock_server.requests())
    first, _ = _archive(mock_server, root / "morgue-data")
    before = len(mock_server.requests())
    second, _ = _archive(mock_server, root / "morgue-data")
    asked = [entry["path"] for entry in mock_server.requests()[before:]]
    third, _ = _archive(mock_server, root / "morgue-data", "-s", "REQUISITES_REFRESH_AFTER=0")
    every = [entry["path"] for entry in mock_server.requests()[start:]]
    return Runs(mock_server, root, first, second, third, asked, every)


def _path(server: MockServer, row: sqlite3.Row) -> str:
    return str(row["url"]).removeprefix(server.base_url.rstrip("/"))


def _paths(server: MockServer, rows: list[sqlite3.Row]) -> list[str]:
    return [_path(server, row) for row in rows]


def test_every_requisite_of_a_page_is_stored_with_it(runs: Runs) -> None:
    for path in STORIES:
        (row,) = [r for r in runs.first if r["url"] == runs.server.url(path)]
        assert row["verdict"] == "ok"
        rows = runs.requisites(row["capture_id"])
        slug = path.rsplit("/", 1)[1].removesuffix(".html")
        assert sorted(_paths(runs.server, rows)) == sorted(STORY_REQUISITES[slug])
        for req in rows:
            assert req["http_status"] == 200 and req["error"] is None
            assert req["warc_file"] and req["warc_record_id"] and req["payload_digest"]
            assert req["revisit"] == 0  # the first run: every payload is new
        kinds = {_path(runs.server, r).rsplit("/", 1)[1]: r["kind"] for r in rows}
        assert kinds["print.css"] == "stylesheet" and kinds["courier-serif.woff"] == "font"


def test_a_url_two_pages_share_is_fetched_once_per_run(runs: Runs) -> None:
    shared = runs.server.url("/assets/img/logo.png")
    responses = [
        headers for kind, uri, headers in runs.records() if kind == "response" and uri == shared
    ]
    assert len(responses) == 1  # the first run's; the third run wrote a revisit
    assert responses[0][REQUISITE_OF] in {runs.server.url(p) for p in STORIES}
    rows = [
        r for row in runs.first for r in runs.requisites(row["capture_id"]) if r["url"] == shared
    ]
    assert len(rows) == 2 and sum(r["reused"] for r in rows) == 1
    assert len({r["warc_record_id"] for r in rows}) == 1


def test_within_the_window_a_run_fetches_no_requisite_and_points_at_the_first(
    runs: Runs,
) -> None:
    firsts = {
        r["url"]: r
        for row in runs.first
        for r in runs.requisites(row["capture_id"])
        if not r["reused"] and r["http_status"] == 200
    }
    fetched_again = [p for p in runs.second_asked if p.startswith("/assets/")]
    # Only the missing picture of the blocked page: a requisite that failed is tried again.
    assert fetched_again == ["/assets/missing/pier.png"]
    for path in STORIES:
        (row,) = [r for r in runs.second if r["url"] == runs.server.url(path)]
        rows = runs.requisites(row["capture_id"])
        slug = path.rsplit("/", 1)[1].removesuffix(".html")
        # Every requisite still has its row, the stylesheet's url()s (read from the archive) too.
        assert sorted(_paths(runs.server, rows)) == sorted(STORY_REQUISITES[slug])
        for req in rows:
            original = firsts[req["url"]]
            assert req["reused"] == 1 and req["revisit"] == 0
            assert req["warc_record_id"] == original["warc_record_id"]
            assert req["warc_offset"] == original["warc_offset"]
            assert req["fetched_at"] == original["fetched_at"]  # when those bytes were fetched


def test_past_the_window_a_run_writes_revisits_that_name_the_first_records(runs: Runs) -> None:
    firsts = {
        r["url"]: r
        for row in runs.first
        for r in runs.requisites(row["capture_id"])
        if not r["reused"] and r["http_status"] == 200
    }
    revisits = {headers["WARC-Record-ID"]: headers for kind, _, headers in runs.records()
                if kind == "revisit"}  # fmt: skip
    for row in runs.third:
        for req in runs.requisites(row["capture_id"]):
            if req["http_status"] != 200:
                continue
            assert req["revisit"] == 1, req["url"]
            if req["reused"]:
                continue
            record = revisits[req["warc_record_id"]]
            original = firsts[req["url"]]
            assert record["WARC-Refers-To"] == original["warc_record_id"]
            assert record["WARC-Refers-To-Date"] == original["warc_date"]
            assert record["WARC-Payload-Digest"] == original["payload_digest"]


def test_robots_txt_and_missing_requisites_are_recorded_not_fetched(runs: Runs) -> None:
    (row,) = [r for r in runs.first if r["url"].endswith("/photo/blocked.html")]
    by_path = {_path(runs.server, r): r for r in runs.requisites(row["capture_id"])}
    banner = by_path["/private/banner.png"]
    assert banner["http_status"] is None and "robots.txt" in banner["error"]
    assert banner["warc_file"] is None
    assert by_path["/assets/missing/pier.png"]["http_status"] == 404
    assert "/private/banner.png" not in runs.asked


def test_requisites_are_no_pages(runs: Runs) -> None:
    assert len(runs.first) == len(runs.second) == len(runs.third) == 3
    assert all("/assets/" not in row["url"] for row in runs.first + runs.second + runs.third)


def test_the_archive_verifies(runs: Runs) -> None:
    assert_archive_verified(runs.data_dir)


def test_pywb_replays_every_requisite_of_each_page(runs: Runs) -> None:
    """Each page's requisites, asked of pywb at the time of the page's second capture (none
    fetched then: the first run's records) and third (revisit records, resolved to the first
    run's payloads): none missing, each as served."""
    proc = run_morgue("--data-dir", str(runs.data_dir), "index")
    assert proc.returncode == 0, proc.stderr
    (runs.root / "config.yaml").write_text(PYWB_CONFIG, encoding="utf-8")
    misses = []
    with PywbServer(runs.root) as pywb:
        for path, run in [(path, run) for path in STORIES for run in (runs.second, runs.third)]:
            (row,) = [r for r in run if r["url"] == runs.server.url(path)]
            stamp = "".join(ch for ch in row["fetched_at"] if ch.isdigit())[:14]
            slug = path.rsplit("/", 1)[1].removesuffix(".html")
            for needed in STORY_REQUISITES[slug]:
                url = runs.server.url(needed)
                with urllib.request.urlopen(url) as live:
                    expected = live.read()
                try:
                    replayed = _replay(pywb.port, stamp, url)
                except urllib.error.HTTPError as exc:
                    misses.append(f"{needed}: {exc.code}")
                    continue
                if replayed != expected:
                    misses.append(f"{needed}: other bytes")
    assert misses == []


def _replay(port: int, stamp: str, url: str) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/morgue/{stamp}id_/{url}",
        headers={"Accept-Encoding": "identity"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return bytes(resp.read())


def test_the_table_says_how_many_requisites_and_how_many_were_archived_before(
    mock_server: MockServer, tmp_path: Path
) -> None:
    url = mock_server.url(STORIES[0])
    args = ["--data-dir", str(tmp_path / "d"), "archive", "--no-recover", *FAST, url]
    first = run_morgue(*args)
    assert first.returncode == 0, first.stderr
    assert "1 page, 13 requisites (0 already archived)" in first.stderr
    again = run_morgue(*args)
    assert "1 page, 13 requisites (13 already archived)" in again.stderr


def test_no_requisites_fetches_the_pages_alone(mock_server: MockServer, tmp_path: Path) -> None:
    rows, stderr = _archive(mock_server, tmp_path / "d", "--no-requisites")
    assert len(rows) == 3
    with sqlite3.connect(tmp_path / "d" / "morgue.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM requisites").fetchone() == (0,)
    assert "requisites" not in stderr


def test_a_bad_freshness_window_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    data = tmp_path / "d"
    proc = run_morgue(
        "--data-dir", str(data), "archive", "-s", "REQUISITES_REFRESH_AFTER=soon",
        "http://127.0.0.1:9/story.html",
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "morgue: error: REQUISITES_REFRESH_AFTER: invalid duration 'soon': "
        "expected e.g. 90s, 30m, 1h30m, 7d"
    ]
    assert not data.exists()


def test_the_wacz_export_holds_every_requisite_and_each_revisits_original(
    runs: Runs, tmp_path: Path
) -> None:
    """Exported alone, the second run's pages (their rows point at the first run's records) and
    the third's (revisit records) carry what they need to replay without the data dir."""
    dest = tmp_path / "stories.wacz"
    since = min(row["fetched_at"] for row in runs.second)
    proc = run_morgue(
        "--data-dir", str(runs.data_dir), "export", "--wacz", str(dest),
        "--url-prefix", runs.server.url("/photo/"), "--since", since,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = []
    with zipfile.ZipFile(dest) as wacz:
        for name in wacz.namelist():
            if name.startswith("archive/") and name.endswith(".warc.gz"):
                for rec in ArchiveIterator(io.BytesIO(wacz.read(name))):
                    records.append((rec.rec_type, dict(rec.rec_headers.headers)))
    responses = {h["WARC-Target-URI"] for kind, h in records if kind == "response"}
    ids = {h["WARC-Record-ID"] for _, h in records}
    for slug in ("harbour-lights", "market-day"):
        for path in STORY_REQUISITES[slug]:
            assert runs.server.url(path) in responses, path
    revisits = [h for kind, h in records if kind == "revisit"]
    assert revisits  # the third run's pages, and their requisites
    assert all(h["WARC-Refers-To"] in ids for h in revisits)
