from __future__ import annotations

import json
import multiprocessing
import traceback
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.captures.record import CaptureRecord, RedirectHop
from archive.captures.table import (
    CAPTURE_FIELDS,
    CONTRACT_FIELDS,
    capture_to_json,
    captures_for_run,
    captures_for_url,
    finish_run,
    get_capture,
    iter_captures_for_run,
    latest_capture,
    page_key,
    run_tally,
    save_capture,
    save_captures,
    start_run,
)
from archive.db.engine import Database, open_database
from archive.db.models import Capture, Page, Run
from archive.exceptions import DatabaseError, InvalidURL
from archive.extraction.article import Extraction
from archive.warc.records import RecordLocation

T0 = datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)


def make_record(url: str = "https://news.example/story", **changes: Any) -> CaptureRecord:
    rec = CaptureRecord(
        url=url,
        fetched_at=T0,
        verdict="ok",
        reason="http_200",
        final_url=url,
        http_status=200,
        content_type="text/html; charset=utf-8",
        response=RecordLocation(
            file="morgue-20240601120000-00000-host.warc.gz",
            offset=1234,
            length=5678,
            record_id="<urn:uuid:11111111-2222-3333-4444-555555555555>",
            payload_digest="sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        ),
        metadata=RecordLocation(
            file="morgue-20240601120000-00000-host.warc.gz",
            offset=6912,
            length=800,
            record_id="<urn:uuid:66666666-2222-3333-4444-555555555555>",
            payload_digest=None,
        ),
        extraction=Extraction(
            title="Council approves budget",
            author="Jane Reporter",
            published="2024-05-31",
            language="en",
            site_name="News Example",
            canonical_url=None,
            description="The council voted.",
            text="The council approved the budget on Friday.",
            authors=("Jane Reporter",),
            date_modified="2024-06-01T09:30:00+02:00",
            field_sources={"title": "json-ld", "published": "opengraph"},
        ),
    )
    return replace(rec, **changes)


def test_contract_fields_are_the_design_contract() -> None:
    assert CONTRACT_FIELDS == (
        "capture_id",
        "url",
        "final_url",
        "verdict",
        "reason",
        "http_status",
        "fetched_at",
        "title",
        "author",
        "published",
        "language",
        "site_name",
        "text_chars",
        "warc_file",
        "warc_offset",
        "warc_length",
        "warc_record_id",
        "payload_digest",
        "recovered_from",
    )


def test_round_trip(database: Database) -> None:
    run_id = start_run(database, "archive", {"urls": ["https://news.example/story"]})
    hop = RedirectHop(
        url="http://news.example/story",
        status=301,
        location="https://news.example/story",
        record=RecordLocation("r.warc.gz", 0, 300, "<urn:uuid:hop>", "sha1:HOP"),
    )
    rec = make_record(
        url="http://news.example/story", final_url="https://news.example/story", run_id=run_id
    )
    rec.redirects.append(hop)
    capture_id = save_capture(database, rec)

    got = get_capture(database, capture_id)
    assert got is not None
    assert got.id == capture_id
    assert got.page.url == "http://news.example/story"
    assert got.page.host == "news.example"
    assert got.run_id == run_id
    assert got.fetched_at == T0
    assert got.fetched_at.tzinfo is not None
    assert got.http_status == 200
    assert got.text == "The council approved the budget on Friday."
    assert got.text_chars == len(got.text)
    assert got.description == "The council voted."
    assert got.content_type == "text/html; charset=utf-8"
    assert got.warc_offset == 1234
    assert got.metadata_warc_offset == 6912
    assert got.metadata_record_id == "<urn:uuid:66666666-2222-3333-4444-555555555555>"
    assert got.redirects == [hop.to_json()]

    assert get_capture(database, capture_id + 1000) is None
    latest = latest_capture(database, "http://news.example/story")
    assert latest is not None and latest.id == capture_id
    # The final URL (after the redirect) finds it too.
    by_final = latest_capture(database, "https://news.example/story")
    assert by_final is not None and by_final.id == capture_id
    assert [c.id for c in captures_for_run(database, run_id)] == [capture_id]
    assert captures_for_run(database, run_id + 1) == []


def test_capture_to_json_has_exactly_the_contract(database: Database) -> None:
    capture_id = save_capture(database, make_record(recovered_from=None))
    capture = get_capture(database, capture_id)
    assert capture is not None
    data = capture_to_json(capture)
    assert tuple(data) == CAPTURE_FIELDS
    assert data == {
        "capture_id": capture_id,
        "url": "https://news.example/story",
        "final_url": "https://news.example/story",
        "verdict": "ok",
        "reason": "http_200",
        "http_status": 200,
        "fetched_at": "2024-06-01T12:00:00.250000Z",
        "title": "Council approves budget",
        "author": "Jane Reporter",
        "published": "2024-05-31",
        "language": "en",
        "site_name": "News Example",
        "text_chars": 42,
        "warc_file": "morgue-20240601120000-00000-host.warc.gz",
        "warc_offset": 1234,
        "warc_length": 5678,
        "warc_record_id": "<urn:uuid:11111111-2222-3333-4444-555555555555>",
        "payload_digest": "sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "recovered_from": None,
        "authors": ["Jane Reporter"],
        "date_modified": "2024-06-01T09:30:00+02:00",
        "field_sources": {"title": "json-ld", "published": "opengraph"},
    }
    assert json.loads(json.dumps(data)) == data
    parsed = datetime.fromisoformat(data["fetched_at"])
    assert parsed == T0


def test_unreachable_capture_without_response(database: Database) -> None:
    rec = make_record(
        url="https://gone.example/x",
        final_url=None,
        verdict="unreachable",
        reason="dns",
        http_status=None,
        content_type=None,
        response=None,
        metadata=None,
        extraction=None,
        error="DNS lookup failed",
    )
    capture = get_capture(database, save_capture(database, rec))
    assert capture is not None
    data = capture_to_json(capture)
    assert data["text_chars"] == 0
    assert data["warc_file"] is None and data["http_status"] is None
    assert capture.error == "DNS lookup failed"


def _page_count(db: Database) -> int:
    with db.session(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Page)) or 0


def test_pages_are_deduplicated_by_normalised_url(database: Database) -> None:
    variants = [
        "https://news.example/story",
        "https://NEWS.example/story?utm_source=twitter&utm_medium=social",
        "https://news.example:443/story#comments",
        "HTTPS://news.example/story?fbclid=abc",
    ]
    ids = [
        save_capture(database, make_record(url=u, fetched_at=T0 + timedelta(minutes=i)))
        for i, u in enumerate(variants)
    ]
    save_capture(database, make_record(url="https://news.example/story?page=2"))
    save_capture(database, make_record(url="https://news.example/Story"))
    assert _page_count(database) == 3
    with database.session(readonly=True) as session:
        page = session.scalars(select(Page).where(Page.url == "https://news.example/story")).one()
        assert page.original_url == variants[0]
        assert page.first_seen_at == T0
        assert page.last_captured_at == T0 + timedelta(minutes=3)
        page_ids = session.scalars(select(Capture.page_id).where(Capture.id.in_(ids))).all()
        assert set(page_ids) == {page.id}
    # Each capture keeps the URL exactly as it was requested.
    capture = get_capture(database, ids[1])
    assert capture is not None and capture.url == variants[1]
    # Any variant finds the newest capture of the page.
    latest = latest_capture(database, "https://news.example/story?utm_campaign=x#top")
    assert latest is not None and latest.id == ids[-1]


def test_latest_capture_is_newest_by_fetch_time(database: Database) -> None:
    url = "https://news.example/story"
    newer = save_capture(database, make_record(url, fetched_at=T0 + timedelta(days=1)))
    older = save_capture(database, make_record(url, fetched_at=T0, verdict="not_found"))
    latest = latest_capture(database, url)
    assert latest is not None and latest.id == newer
    assert [c.id for c in captures_for_url(database, url)] == [older, newer]
    assert latest_capture(database, "https://news.example/other") is None
    with pytest.raises(InvalidURL):
        latest_capture(database, "ftp://news.example/story")


def test_canonical_url_keys_the_page_when_trustworthy() -> None:
    ext = Extraction(title="t", canonical_url="https://news.example/story", text="x")
    amp = make_record("https://news.example/amp/story?utm_source=a", extraction=ext)
    assert page_key(amp) == "https://news.example/story"
    relative = make_record(
        "https://news.example/amp/story", extraction=replace(ext, canonical_url="/story")
    )
    assert page_key(relative) == "https://news.example/story"
    via_final = make_record(
        "https://old.example/s",
        final_url="https://news.example/amp/story",
        extraction=ext,
    )
    assert page_key(via_final) == "https://news.example/story"
    other_host = make_record(
        "https://news.example/amp/story",
        extraction=replace(ext, canonical_url="https://spam.example/story"),
    )
    assert page_key(other_host) == "https://news.example/amp/story"
    # A dead article redirected home must not be filed under the home page.
    home = make_record(
        "https://news.example/dead",
        verdict="soft_404",
        reason="redirect_to_home",
        final_url="https://news.example/",
        extraction=replace(ext, canonical_url="https://news.example/"),
    )
    assert page_key(home) == "https://news.example/dead"
    recovered = make_record(
        "https://news.example/dead",
        recovered_from="http://web.archive.org/web/2020/https://news.example/dead",
        extraction=replace(ext, canonical_url="https://news.example/elsewhere"),
    )
    assert page_key(recovered) == "https://news.example/dead"
    bad = make_record("https://news.example/a", extraction=replace(ext, canonical_url="mailto:x"))
    assert page_key(bad) == "https://news.example/a"


def test_canonical_page_shared_and_found(database: Database) -> None:
    ext = Extraction(title="t", canonical_url="https://news.example/story", text="x")
    first = save_capture(database, make_record("https://news.example/amp/story", extraction=ext))
    second = save_capture(database, make_record("https://news.example/story"))
    assert _page_count(database) == 1
    found = latest_capture(database, "https://news.example/amp/story")
    assert found is not None and found.id == first
    found = latest_capture(database, "https://news.example/story")
    assert found is not None and found.id == second


def test_batch_is_one_transaction(database: Database) -> None:
    good = make_record("https://news.example/a")
    bad = make_record("not-a-url")
    with pytest.raises(InvalidURL):
        save_captures(database, [good, bad])
    assert _page_count(database) == 0
    ids = save_captures(database, [good, make_record("https://news.example/b")])
    assert len(ids) == 2 and ids[0] < ids[1]
    assert save_captures(database, []) == []


def test_a_batch_files_each_capture_under_its_page_with_its_state(database: Database) -> None:
    # What a busy crawl commits at once: a page met twice, another page, and pages that exist.
    save_captures(database, [make_record("https://news.example/old", verdict="not_found",
                                         reason="http_404", fetched_at=T0)])  # fmt: skip
    batch = [
        make_record("https://news.example/a", fetched_at=T0 + timedelta(days=1)),
        make_record("https://news.example/old", verdict="not_found", reason="http_404",
                    fetched_at=T0 + timedelta(days=9)),
        make_record("https://news.example/a?utm_source=feed", verdict="not_found",
                    reason="http_404", fetched_at=T0 + timedelta(days=2)),
        make_record("https://news.example/b", fetched_at=T0 + timedelta(days=3)),
    ]  # fmt: skip
    ids = save_captures(database, batch)
    assert len(ids) == 4 and ids == sorted(ids)
    with database.session(readonly=True) as session:
        captures = {c.id: c for c in session.scalars(select(Capture))}
        pages = {p.url: p for p in session.scalars(select(Page))}
        page_of = {cid: captures[cid].page.url for cid in ids}
        assert set(pages) == {"https://news.example/a", "https://news.example/b",
                              "https://news.example/old"}  # fmt: skip
        assert list(page_of.values()) == [
            "https://news.example/a", "https://news.example/old",
            "https://news.example/a", "https://news.example/b",
        ]  # fmt: skip
        a, old, b = (pages[u] for u in ("https://news.example/a", "https://news.example/old",
                                         "https://news.example/b"))  # fmt: skip
        # The newest capture of each page, and the state all its captures give.
        assert _utc(a.last_captured_at) == T0 + timedelta(days=2)
        assert (a.state, _utc(a.dead_since)) == ("dead_suspected", T0 + timedelta(days=2))
        assert (old.state, _utc(old.dead_since)) == ("dead_confirmed", T0)
        assert (b.state, b.dead_since) == ("alive", None)
        assert _utc(a.first_seen_at) == T0 + timedelta(days=1)


def _utc(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def test_runs(database: Database) -> None:
    run_id = start_run(database, "crawl", {"feed": ["https://news.example/rss"], "depth": 2})
    with database.session(readonly=True) as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.status == "running" and run.finished_at is None
        assert run.args == {"feed": ["https://news.example/rss"], "depth": 2}
    finish_run(database, run_id, "interrupted", {"pages": 3, "verdicts": {"ok": 3}})
    with database.session(readonly=True) as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.status == "interrupted"
        assert run.stats == {"pages": 3, "verdicts": {"ok": 3}}
        assert run.finished_at is not None and run.finished_at.utcoffset() == timedelta(0)
        assert run.finished_at >= run.started_at
    with pytest.raises(ValueError, match="unknown run status"):
        finish_run(database, run_id, "done", {})
    with pytest.raises(DatabaseError, match="no run"):
        finish_run(database, run_id + 99, "failed", {})


def test_a_run_is_read_back_a_chunk_at_a_time_and_counted(database: Database) -> None:
    run = start_run(database, "crawl", {})
    other = start_run(database, "crawl", {})
    recs = [
        make_record(f"https://news.example/{i}", run_id=run, verdict=v, reason=r)
        for i, (v, r) in enumerate(
            [("ok", "http_200"), ("not_found", "http_404"), ("ok", "http_200"),
             ("soft_404", "error_stub"), ("ok", "http_200")]
        )
    ]  # fmt: skip
    recs.append(make_record("https://news.example/1", run_id=run, recovered_from="https://wb/1"))
    ids = save_captures(database, recs)
    save_captures(database, [make_record("https://news.example/x", run_id=other)])
    chunks = list(iter_captures_for_run(database, run, chunk=2))
    assert [len(c) for c in chunks] == [2, 2, 2]
    assert [c.id for chunk in chunks for c in chunk] == ids
    assert [c.id for chunk in iter_captures_for_run(database, run, chunk=2, limit=3)
            for c in chunk] == ids[:3]  # fmt: skip
    tally = run_tally(database, run)
    assert tally.pages == 5 and tally.recovered == 1
    assert tally.verdicts == {"ok": 3, "not_found": 1, "soft_404": 1}


def test_odd_text_is_stored(database: Database) -> None:
    """Binary junk served as HTML must not stop the crawl: NULs and lone surrogates are cleaned."""
    ext = Extraction(title="bad\x00title", text="a\x00b\udcffc")
    capture = get_capture(
        database, save_capture(database, make_record("https://news.example/bin", extraction=ext))
    )
    assert capture is not None
    assert capture.title == "badtitle"
    assert capture.text is not None and capture.text.startswith("ab")
    assert capture.text_chars == len(capture.text)


def test_fetched_at_in_other_zone_round_trips(database: Database) -> None:
    local = datetime(2024, 6, 1, 14, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    capture = get_capture(database, save_capture(database, make_record(fetched_at=local)))
    assert capture is not None
    assert capture.fetched_at == T0
    assert capture.fetched_at.utcoffset() == timedelta(0)
    assert capture_to_json(capture)["fetched_at"] == "2024-06-01T12:00:00.250000Z"


# -- two real processes writing to one SQLite file ----------------------------------------------

WRITES_PER_PROCESS = 100


def _writer(url: str, worker: int, barrier: Any, error_file: str) -> None:
    """Child process: open the (possibly brand-new) database at the same moment as its sibling,
    then write captures one transaction at a time, reading in between as a crawl would."""
    try:
        barrier.wait(60)
        db = open_database(url)
        run_id = start_run(db, "crawl", {"worker": worker})
        for i in range(WRITES_PER_PROCESS):
            # Half the pages are shared, so both processes race to create the same page rows.
            path = f"shared/{i % 10}" if i % 2 else f"w{worker}/{i}"
            rec = make_record(
                f"https://news.example/{path}?utm_source=w{worker}",
                fetched_at=datetime.now(UTC),
                run_id=run_id,
            )
            latest_capture(db, rec.url)
            save_capture(db, rec)
        finish_run(db, run_id, "finished", {"written": WRITES_PER_PROCESS})
        db.close()
    except BaseException:
        Path(error_file).write_text(traceback.format_exc())
        raise


def test_two_processes_write_one_sqlite_file(sqlite_url: str, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    errors = [tmp_path / f"error-{n}.txt" for n in range(2)]
    procs = [
        ctx.Process(target=_writer, args=(sqlite_url, n, barrier, str(errors[n]))) for n in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    for proc, error in zip(procs, errors, strict=True):
        message = error.read_text() if error.exists() else ""
        assert proc.exitcode == 0, message
        assert "database is locked" not in message
    with open_database(sqlite_url) as db, db.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 2 * WRITES_PER_PROCESS
        # 5 shared pages (odd i modulo 10) + 50 own pages (even i) per worker.
        assert session.scalar(select(func.count()).select_from(Page)) == 5 + 2 * 50
        statuses = session.scalars(select(Run.status)).all()
        assert statuses == ["finished", "finished"]
