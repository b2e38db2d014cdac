"""Dead pages come back from a web archive: `morgue archive` against a real local pywb TimeGate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.records import read_record
from tests.conftest import FAST, json_lines, run_morgue
from tests.liveness_pages import error_html
from tests.memento_fixture import MementoArchive
from tests.mockserver import MockServer

pytestmark = pytest.mark.slow

ARCHIVED_HTML = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour ferry returns after winter</title>
<meta property="og:type" content="article"></head>
<body><article><h1>Harbour ferry returns after winter</h1>
<p>The small passenger ferry that links the old harbour with the island resumed its daily
crossings on Monday, after four months laid up for a new engine and a repainted hull.</p>
<p>Its captain said the first crossing carried eleven passengers, two bicycles and a crate of
seedlings bound for the island's community garden, which opens for the season next week.</p>
<p>Timetables are posted at both landings, and the first boat leaves at seven each morning.</p>
</article></body></html>"""


def test_a_dead_page_is_recovered_from_the_archive(mock_server: MockServer, tmp_path: Path) -> None:
    dead = mock_server.url("/status/410")
    never_archived = mock_server.url("/status/404")
    when = datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC)
    with MementoArchive(tmp_path / "pywb", [(dead, when, 200, ARCHIVED_HTML)]) as archive:
        data = tmp_path / "data"
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", *FAST,
                          "--timegate", archive.timegate, dead, never_archived)  # fmt: skip
        base = archive.base
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    # The dead capture, then its recovered copy; the URL never archived stays dead, alone.
    assert [(r["url"], r["verdict"]) for r in rows] == [
        (dead, "not_found"), (dead, "ok"), (never_archived, "not_found"),
    ]  # fmt: skip
    gone, copy = rows[0], rows[1]
    assert gone["recovered_from"] is None
    assert copy["recovered_from"] and "id_/" in copy["recovered_from"]
    assert copy["recovered_from"].startswith(base)
    assert copy["title"] == "Harbour ferry returns after winter"
    assert (
        "crate of seedlings"
        in run_morgue("--data-dir", str(data), "show", "--text", str(copy["capture_id"])).stdout
    )
    record = read_record(data / "warcs", (copy["warc_file"], copy["warc_offset"]))
    assert record.target_uri == copy["recovered_from"]
    assert ("WARC-Refers-To-Target-URI", dead) in record.warc_headers
    assert ("WARC-Refers-To-Date", "2024-03-05T06:07:08Z") in record.warc_headers
    assert record.content == ARCHIVED_HTML


def test_a_page_whose_host_is_gone_is_recovered(tmp_path: Path) -> None:
    # The name no longer resolves (.invalid never does, and the tests' network guard answers
    # every name but localhost as unknown): unreachable by DNS counts as dead.
    gone = "http://valley-courier.invalid/news/2024/03/harbour-ferry.html"
    when = datetime(2024, 3, 5, 6, 7, 8, tzinfo=UTC)
    with MementoArchive(tmp_path / "pywb", [(gone, when, 200, ARCHIVED_HTML)]) as archive:
        proc = run_morgue("--data-dir", str(tmp_path / "d"), "archive", "--format", "json",
                          *FAST, "--timegate", archive.timegate, gone)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [(r["verdict"], r["reason"], r["http_status"]) for r in rows] == [
        ("unreachable", "dns", None), ("ok", "memento", 200),
    ]  # fmt: skip
    assert rows[0]["warc_file"] is None and rows[0]["recovered_from"] is None
    assert rows[1]["url"] == gone and rows[1]["title"] == "Harbour ferry returns after winter"
    assert rows[1]["recovered_from"].endswith("id_/" + gone)


def test_no_recover_leaves_the_dead_page_alone(mock_server: MockServer, tmp_path: Path) -> None:
    dead = mock_server.url("/status/410")
    when = datetime(2024, 3, 5, tzinfo=UTC)
    with MementoArchive(tmp_path / "pywb", [(dead, when, 200, ARCHIVED_HTML)]) as archive:
        proc = run_morgue("--data-dir", str(tmp_path / "d"), "archive", "--format", "json",
                          *FAST, "--no-recover", "--timegate", archive.timegate, dead)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r["verdict"] for r in json_lines(proc.stdout)] == ["not_found"]
    rows = json_lines(proc.stdout)
    assert rows[0]["recovered_from"] is None


def test_an_archived_error_page_is_not_a_recovery(mock_server: MockServer, tmp_path: Path) -> None:
    dead = mock_server.url("/status/404")
    when = datetime(2023, 1, 1, tzinfo=UTC)
    error = b"<html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"
    with MementoArchive(tmp_path / "pywb", [(dead, when, 404, error)]) as archive:
        proc = run_morgue("--data-dir", str(tmp_path / "d"), "archive", "--format", "json",
                          *FAST, "--timegate", archive.timegate, dead)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r["verdict"] for r in json_lines(proc.stdout)] == ["not_found"]


def test_an_archived_soft_404_is_not_a_recovery(mock_server: MockServer, tmp_path: Path) -> None:
    # The archive caught the page after it died: a "page not found" stub served with 200.
    dead = mock_server.url("/status/410")
    when = datetime(2023, 6, 1, tzinfo=UTC)
    stub = error_html("Page not found", "Sorry, this article is no longer available.")
    with MementoArchive(tmp_path / "pywb", [(dead, when, 200, stub)]) as archive:
        proc = run_morgue("--data-dir", str(tmp_path / "d"), "archive", "--format", "json",
                          *FAST, "--timegate", archive.timegate, dead)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [(r["verdict"], r["recovered_from"]) for r in rows] == [("not_found", None)]
    # It was fetched and archived (the evidence), then judged dead and not used.
    fetched = []
    for path in (tmp_path / "d" / "warcs").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "response" and "id_/" in uri:
                    fetched.append(record.content_stream().read())
    assert fetched == [stub]


def test_a_bad_timegate_is_bad_usage(tmp_path: Path) -> None:
    proc = run_morgue("--data-dir", str(tmp_path / "d"), "archive", "--timegate", "not a url",
                      "http://127.0.0.1:9/x")  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("morgue: error:") and proc.stdout == ""
    assert not (tmp_path / "d").exists()
