"""Records written but never stored become captures of the run that wrote them (issue 11,
case 4): each point where a crawl can die between writing a page and storing it, built with
the real writer, real corpus pages and a real database."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select

from archive.captures.record import CaptureRecord
from archive.captures.table import save_capture, start_run
from archive.db.engine import open_database
from archive.db.models import Capture, Run
from archive.integrity.resume import recover_interrupted
from archive.sources.registry import SourceEntry, record_discoveries, register_source
from archive.warc.records import OPEN_SUFFIX, RecordLocation, WarcWriter, read_record
from tests.corpus import corpus_pages

BASE = "http://127.0.0.1:9"
DEAD_PID = 2**22 + 4321  # no process has it


def _exchange(
    writer: WarcWriter, url: str, status: int, body: bytes, **headers: str
) -> RecordLocation:
    resp, _req = writer.write_exchange(
        url,
        method="GET",
        request_headers=[("Host", "127.0.0.1:9")],
        request_body=b"",
        status=status,
        response_headers=[("Content-Type", "text/html; charset=utf-8"), *headers.items()],
        body=body,
    )
    return resp


def test_each_kill_point_between_write_and_store(tmp_path: Path, db_url: str) -> None:
    pages = corpus_pages(limit=4)
    warc_dir = tmp_path / "warcs"
    with open_database(db_url) as db:
        run_id = start_run(db, "crawl", {"pid": DEAD_PID, "host": socket.gethostname(),
                                         "sites": [], "feeds": [f"{BASE}/feed.xml"]})  # fmt: skip
        urls = [f"{BASE}/news/story-{i}.html" for i in range(4)]
        source = register_source(db, "feed", f"{BASE}/feed.xml")
        record_discoveries(db, source, [SourceEntry(url=u) for u in urls], run_id)
        writer = WarcWriter(warc_dir, prefix="t", info={"isPartOf": f"morgue-run-{run_id}"})
        feed = _exchange(writer, f"{BASE}/feed.xml", 200, b"<rss></rss>")
        # 0: stored as usual.
        stored = _exchange(writer, urls[0], 200, pages[0].html)
        save_capture(db, CaptureRecord(url=urls[0], fetched_at=writer.now(), verdict="ok",
                                       reason="http_200", http_status=200, response=stored,
                                       run_id=run_id))  # fmt: skip
        # 1: killed after its metadata record, before its row.
        judged = _exchange(writer, urls[1], 200, pages[1].html)
        meta = writer.write_metadata(
            urls[1],
            {"url": urls[1], "final_url": urls[1], "fetched_at": "2026-12-01T10:00:00+00:00",
             "http_status": 200, "verdict": "soft_404", "reason": "error_stub",
             "confidence": 0.9, "evidence": ["error_title"], "redirects": [],
             "extraction": {"title": "Judged", "text": "Kept from the metadata record."},
             "extract_error": None, "recovered_from": None},
            refers_to=judged.record_id,
        )  # fmt: skip
        # 2: killed while extracting (no metadata record), after a retried 503.
        _exchange(writer, urls[2], 503, b"busy")
        fetched = _exchange(writer, urls[2], 200, pages[2].html)
        # 3: a redirect, then the page, both written, neither stored.
        hop = _exchange(writer, urls[3], 301, b"", Location="/news/moved-3.html")
        moved = _exchange(writer, f"{BASE}/news/moved-3.html", 200, pages[3].html)
        name = writer.current_file
        assert name is not None and writer._file is not None
        writer._file.close()  # killed: the file keeps its .open suffix, its lock is gone
        assert (warc_dir / (name + OPEN_SUFFIX)).exists()

        recovery = recover_interrupted(db, warc_dir)
        assert [f.name for f in recovery.files] == [name]
        assert recovery.interrupted == [run_id]
        assert (recovery.indexed, recovery.extracted) == (3, 2)
        with db.session(readonly=True) as session:
            rows = {c.url: c for c in session.scalars(select(Capture))}
            run = session.get(Run, run_id)
        assert set(rows) == set(urls)  # no row for the feed, nor for the 503 attempt
        assert all(c.run_id == run_id and c.record_error is None for c in rows.values())
        one = rows[urls[1]]
        assert (one.verdict, one.reason, one.confidence, one.evidence) == (
            "soft_404",
            "error_stub",
            0.9,
            ["error_title"],
        )
        assert one.text == "Kept from the metadata record." and one.title == "Judged"
        assert (one.warc_record_id, one.metadata_record_id) == (judged.record_id, meta.record_id)
        two = rows[urls[2]]
        assert two.warc_record_id == fetched.record_id and two.http_status == 200
        assert two.verdict == "ok" and two.text_chars > 500  # extracted from its record
        assert two.metadata_record_id is not None  # the extraction's own metadata record
        three = rows[urls[3]]
        assert three.final_url == f"{BASE}/news/moved-3.html"
        assert three.warc_record_id == moved.record_id and three.text_chars > 500
        assert [h["warc_record_id"] for h in three.redirects or []] == [hop.record_id]
        assert run is not None and run.status == "interrupted" and run.reconciled_at is not None
        for c in rows.values():
            assert c.warc_file and c.warc_offset is not None
            record = read_record(warc_dir, (c.warc_file, c.warc_offset))
            assert record.target_uri == (c.final_url or c.url)
        assert feed.record_id not in {c.warc_record_id for c in rows.values()}
        # Once done, resumption finds nothing more.
        again = recover_interrupted(db, warc_dir)
        assert not again.did_something


def test_extract_reads_a_revisit_from_the_record_it_refers_to(tmp_path: Path) -> None:
    """A revisit record holds no body: `morgue extract --all` (and the extraction of indexed
    captures) reads the original's, and so keeps the revisit's text."""
    from archive.captures.extraction_pass import extract_archived

    page = corpus_pages(limit=1)[0]
    url = f"{BASE}/news/story.html"
    with open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}") as db:
        writer = WarcWriter(tmp_path, prefix="t")
        original = _exchange(writer, url, 200, page.html)
        revisit, _ = writer.write_revisit(
            url, method="GET", request_headers=[], request_body=b"", status=200,
            response_headers=[("Content-Type", "text/html")], refers_to_uri=url,
            refers_to_date=writer.warc_date(), refers_to_id=original.record_id,
            digest=original.payload_digest,
        )  # fmt: skip
        writer.close()
        ids = [
            save_capture(
                db,
                CaptureRecord(
                    url=url,
                    fetched_at=writer.now(),
                    verdict="ok",
                    reason="http_200",
                    http_status=200,
                    content_type="text/html",
                    response=loc,
                ),
            )
            for loc in (original, revisit)
        ]
        outcomes = list(extract_archived(db, tmp_path, ids, workers=1))
        assert {o.capture_id: o.error for o in outcomes} == {ids[0]: None, ids[1]: None}
        chars = {o.capture_id: o.text_chars for o in outcomes}
        assert chars[ids[1]] == chars[ids[0]] > 500
