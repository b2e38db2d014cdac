"""A crawl killed with SIGKILL: its WARC files are finalised on the next run, the DB points only at
records that exist, and running the crawl again archives nothing twice."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.captures.record import CaptureRecord
from archive.captures.table import save_capture, start_run
from archive.db.engine import open_database
from archive.db.models import Capture, Run
from archive.integrity.resume import finalise_stale_warcs, recover_interrupted
from archive.warc.records import OPEN_SUFFIX, RecordLocation, WarcWriter, read_record
from archive.warc.scan import complete_length
from tests.conftest import FAST, ROOT, json_lines, run_morgue
from tests.corpus import CorpusSite
from tests.mockserver import MockServer
from tests.readers import reader, reader_env
from tests.verified import assert_archive_verified


def _write_some(directory: Path, count: int) -> tuple[WarcWriter, list[int]]:
    writer = WarcWriter(directory, prefix="t")
    offsets = []
    for i in range(count):
        resp, _req = writer.write_exchange(
            f"https://courier.example/{i}",
            method="GET",
            request_headers=[("Host", "courier.example")],
            request_body=b"",
            status=200,
            response_headers=[("Content-Type", "text/html")],
            body=b"<html><body>%d</body></html>" % i,
        )
        offsets.append(resp.offset)
    return writer, offsets


def _torn_member() -> bytes:
    """The first half of a gzip member: what a write cut short leaves behind."""
    member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"x" * 4000)
    return member[: len(member) // 2]


def _check(path: Path) -> None:
    proc = subprocess.run(
        [reader("warcio"), "check", str(path)], capture_output=True, text=True, env=reader_env()
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stale_open_file_is_truncated_to_whole_records_and_closed(tmp_path: Path) -> None:
    writer, _ = _write_some(tmp_path, 3)
    name = writer.current_file
    assert name is not None
    open_path = tmp_path / (name + OPEN_SUFFIX)
    # The writer still holds the file: it is not touched.
    assert finalise_stale_warcs(tmp_path) == []
    whole = open_path.stat().st_size
    # Simulate the kill: a copy nobody holds, ending in a half-written record.
    stale = tmp_path / ("t-20000101000000000-00000-1~h.warc.gz" + OPEN_SUFFIX)
    stale.write_bytes(open_path.read_bytes() + _torn_member())
    writer.close()
    assert complete_length(stale) == whole
    (done,) = finalise_stale_warcs(tmp_path)
    final = tmp_path / done.name
    assert not stale.exists() and final.exists()
    assert (done.size_after, final.stat().st_size) == (whole, whole)
    assert done.size_before > whole
    _check(final)
    with open(final, "rb") as fh:
        kinds = [r.rec_type for r in ArchiveIterator(fh)]
    assert kinds == ["warcinfo"] + ["response", "request"] * 3


def test_recovery_marks_captures_that_point_past_the_cut(tmp_path: Path, db_url: str) -> None:
    writer, offsets = _write_some(tmp_path, 2)
    name = writer.current_file
    assert name is not None
    src = tmp_path / (name + OPEN_SUFFIX)
    keep = offsets[1]  # the second response is lost in the "crash"
    stale_name = "t-20000101000000000-00009-1~h.warc.gz"
    (tmp_path / (stale_name + OPEN_SUFFIX)).write_bytes(src.read_bytes()[: keep + 10])
    writer.close()
    with open_database(db_url) as db:
        # A pid no process has, on this host.
        run_id = start_run(db, "crawl", {"pid": 2**22 + 12345, "host": socket.gethostname()})
        for i, offset in enumerate(offsets):
            save_capture(
                db,
                CaptureRecord(
                    url=f"https://courier.example/{i}",
                    fetched_at=datetime.now(UTC),
                    verdict="ok",
                    reason="http_200",
                    http_status=200,
                    response=RecordLocation(stale_name, offset, 100, f"<urn:uuid:{i}>", None),
                    run_id=run_id,
                ),
            )
        recovery = recover_interrupted(db, tmp_path)
        assert [r.name for r in recovery.files] == [stale_name] and recovery.marked == 1
        with db.session(readonly=True) as session:
            rows = session.execute(select(Capture.url, Capture.record_error)).all()
            run = session.get(Run, run_id)
        # The row whose record was cut off is kept, and says so; the other reads back.
        assert sorted(rows)[0] == ("https://courier.example/0", None)
        assert sorted(rows)[1][0] == "https://courier.example/1"
        assert stale_name in (sorted(rows)[1][1] or "")
        assert run is not None and run.status == "interrupted" and run.reconciled_at is not None
    _check(tmp_path / stale_name)


def _captures(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM captures").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_mid_crawl_then_resume(tmp_path: Path) -> None:
    count = 150
    with MockServer() as server:
        feed = server.url(f"/news/many.xml?n={count}")
        args = ["--data-dir", str(tmp_path), "crawl", "--feed", feed, "--no-recover"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
        crawl = subprocess.Popen(
            [sys.executable, "-m", "archive", *args, *FAST],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the CLI, the crawler, the workers
        )
        db_path = tmp_path / "morgue.sqlite3"
        deadline = time.monotonic() + 60
        while _captures(db_path) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        before_kill = _captures(db_path)
        os.killpg(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=30)
        assert 20 <= before_kill < count, "the crawl was not killed mid-way"
        warc_dir = tmp_path / "warcs"
        stale = list(warc_dir.glob("*" + OPEN_SUFFIX))
        assert stale, "a killed crawl leaves its WARC file open"
        with open(stale[0], "ab") as fh:  # and perhaps a record cut short
            fh.write(_torn_member())
        proc = run_morgue(*args, "--format", "json", *FAST)
        assert proc.returncode == 0, proc.stderr
        resumed = json_lines(proc.stdout)
    # Nothing left open, every file valid.
    assert list(warc_dir.glob("*" + OPEN_SUFFIX)) == []
    for path in warc_dir.glob("*.warc.gz"):
        _check(path)
    with open_database(f"sqlite:///{db_path}") as db, db.session(readonly=True) as session:
        captures = session.scalars(select(Capture)).all()
        runs = session.scalars(select(Run).order_by(Run.id)).all()
    # Every URL archived exactly once over the two runs; the second run fetched only the rest.
    per_url = Counter(c.url for c in captures)
    assert len(per_url) == count and set(per_url.values()) == {1}
    assert len(resumed) == count - len([c for c in captures if c.run_id == runs[0].id])
    assert [r.status for r in runs] == ["interrupted", "finished"]
    # The DB points only at records that exist.
    for capture in captures:
        assert capture.warc_file and capture.warc_offset is not None
        record = read_record(warc_dir, (capture.warc_file, capture.warc_offset))
        assert record.rec_type in ("response", "revisit") and record.target_uri == capture.url
        size = (warc_dir / capture.warc_file).stat().st_size
        assert capture.warc_offset + (capture.warc_length or 0) <= size
    # No payload twice in the WARC files: pages the killed crawl had written but not stored
    # were indexed from their records, not fetched again.
    responses: Counter[str] = Counter()
    for path in warc_dir.glob("*.warc.gz"):
        with open(path, "rb") as fh:
            for r in ArchiveIterator(fh):
                uri = r.rec_headers.get_header("WARC-Target-URI") or ""
                # The soft-404 probes (/articles/morgue-RANDOM.html) are not articles.
                if r.rec_type == "response" and "/articles/" in uri and "/morgue-" not in uri:
                    responses[uri] += 1
    assert len(responses) == count and set(responses.values()) == {1}
    assert_archive_verified(tmp_path)


@pytest.mark.slow
def test_ctrl_c_finishes_in_flight_pages_and_records_the_run_interrupted(
    tmp_path: Path,
) -> None:
    with MockServer() as server:
        # Far more entries than can be fetched before Ctrl-C: pages downloaded while the
        # extraction workers boot all count as in flight, so a short feed could finish first.
        crawl = _slow_feed_crawl(server, tmp_path)
        db_path = tmp_path / "morgue.sqlite3"
        os.killpg(crawl.pid, signal.SIGINT)  # what a terminal sends the whole group on Ctrl-C
        out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 130, err
    rows = json_lines(out)
    assert 5 <= len(rows) < 200
    assert list((tmp_path / "warcs").glob("*" + OPEN_SUFFIX)) == []
    for path in (tmp_path / "warcs").glob("*.warc.gz"):
        _check(path)
    with open_database(f"sqlite:///{db_path}") as db, db.session(readonly=True) as session:
        (run,) = session.scalars(select(Run)).all()
        stored = session.scalars(select(Capture)).all()
    assert run.status == "interrupted"
    assert len(stored) == len(rows)
    assert_archive_verified(tmp_path)


def _slow_feed_crawl(
    server: MockServer, data: Path, *, ignore_sigint: bool = False
) -> subprocess.Popen[str]:
    """``morgue crawl`` of a 200-article feed, one page at a time, in a process group of its
    own; returned once five pages are stored (a Ctrl-C then falls mid-crawl)."""
    feed = server.url("/news/many.xml?n=200")
    slow = ["-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    # Started as nohup and some job runners start it: the CLI never sees a Ctrl-C.
    deaf = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    crawl = subprocess.Popen(
        [sys.executable, "-m", "archive", "--data-dir", str(data), "crawl",
         "--feed", feed, "--no-recover", "--format", "json", *FAST, *slow],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        preexec_fn=deaf,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _captures(data / "morgue.sqlite3") < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    return crawl


@pytest.mark.slow
def test_ctrl_c_twice_stops_at_once_with_every_warc_closed(tmp_path: Path) -> None:
    with MockServer() as server:
        crawl = _slow_feed_crawl(server, tmp_path)
        db_path = tmp_path / "morgue.sqlite3"
        os.killpg(crawl.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(crawl.pid, signal.SIGINT)  # impatient: stop now
        out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 130, err
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "forcing unclean shutdown" in logs  # the second Ctrl-C did stop it by force
    # Even so, no file is left open, each is valid, and every row points at a whole record.
    warc_dir = tmp_path / "warcs"
    assert list(warc_dir.glob("*" + OPEN_SUFFIX)) == []
    for path in warc_dir.glob("*.warc.gz"):
        _check(path)
    with open_database(f"sqlite:///{db_path}") as db, db.session(readonly=True) as session:
        (run,) = session.scalars(select(Run)).all()
        stored = session.scalars(select(Capture)).all()
    assert run.status == "interrupted"
    assert 5 <= len(stored) < 200 and len(json_lines(out)) == len(stored)
    for capture in stored:
        assert capture.warc_file and capture.warc_offset is not None
        record = read_record(warc_dir, (capture.warc_file, capture.warc_offset))
        assert record.target_uri == capture.url
    # Pages in flight were written and not stored: verify names them, --repair indexes them.
    check = run_morgue("--data-dir", str(tmp_path), "verify", "--format", "json")
    assert {f["problem"] for f in json_lines(check.stdout)} <= {"unstored"}
    repair = run_morgue("--data-dir", str(tmp_path), "verify", "--repair")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert_archive_verified(tmp_path)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_9_of_the_crawl_child_mid_site_crawl_of_real_pages(tmp_path: Path) -> None:
    """Real-size pages (records inflating past 64 KiB), the crawl process killed with SIGKILL
    half-way: the next crawl finishes, indexes what the dead one wrote and never stored (no
    page fetched twice, no revisit of a record without a row), and every file is valid."""
    count = 30
    # Each article takes 0.3 s and two are fetched at a time: 4.5 s of crawl, for the kill to
    # fall well before the end.
    with CorpusSite(count, delay=0.3) as site:
        args = ["--data-dir", str(tmp_path), "crawl", "--site", site.url("/"), "--no-recover",
                *FAST]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
        cli = subprocess.Popen(
            [sys.executable, "-m", "archive", *args, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        db_path = tmp_path / "morgue.sqlite3"
        deadline = time.monotonic() + 120
        # Killed once 8 pages are stored, or once half the articles are asked for: a loaded
        # machine can hold the stores back until the end of the crawl (the site's own count of
        # requests keeps the kill mid-way then; a count of stored pages alone once saw all 30).
        while (
            _captures(db_path) < 8
            and len(site.article_requests()) < count // 2
            and time.monotonic() < deadline
            and cli.poll() is None
        ):
            time.sleep(0.05)
        crawlers = [p for p in _children(cli.pid) if "crawler.run" in _cmdline(p)]
        assert crawlers, "no crawl process to kill"
        os.kill(crawlers[0], signal.SIGKILL)
        cli.communicate(timeout=60)
        killed_at = _captures(db_path)
        assert len(site.article_requests()) < count, "the crawl was not killed mid-way"
        assert killed_at < count + 1, "the crawl was not killed mid-way"
        warc_dir = tmp_path / "warcs"
        assert list(warc_dir.glob("*" + OPEN_SUFFIX)), "a killed crawl leaves its WARC file open"
        fetched_before = len(site.article_requests())

        proc = run_morgue(*args, "--format", "json", timeout=180)
        assert proc.returncode == 0, proc.stderr
        fetched_again = site.article_requests()[fetched_before:]
    assert list(warc_dir.glob("*" + OPEN_SUFFIX)) == []
    for path in warc_dir.glob("*.warc.gz"):
        _check(path)
        assert subprocess.run(["gzip", "-t", str(path)]).returncode == 0
    with open_database(f"sqlite:///{db_path}") as db, db.session(readonly=True) as session:
        captures = session.scalars(select(Capture)).all()
        runs = session.scalars(select(Run).order_by(Run.id)).all()
    assert [r.status for r in runs][-1] == "finished" and runs[0].status != "running"
    articles = Counter(c.url for c in captures if "/story-" in c.url)
    assert len(articles) == count and set(articles.values()) == {1}
    # What the dead run had fetched was not fetched again.
    first = {c.url for c in captures if c.run_id == runs[0].id}
    assert not {site.url(p) for p in fetched_again} & first
    ids = {c.warc_record_id for c in captures}
    for capture in captures:
        assert capture.warc_file and capture.warc_offset is not None
        record = read_record(warc_dir, (capture.warc_file, capture.warc_offset))
        if record.rec_type == "revisit":
            assert dict(record.warc_headers)["WARC-Refers-To"] in ids
        else:
            assert record.rec_type == "response" and record.content
    assert_archive_verified(tmp_path)


@pytest.mark.slow
def test_a_cli_that_ignores_ctrl_c_still_reports_its_crawl_interrupted(tmp_path: Path) -> None:
    # Started with SIGINT ignored (nohup, some job runners): the CLI never sees the Ctrl-C,
    # its crawl process does and stops; the run is interrupted, not finished.
    with MockServer() as server:
        crawl = _slow_feed_crawl(server, tmp_path, ignore_sigint=True)
        db_path = tmp_path / "morgue.sqlite3"
        os.killpg(crawl.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(crawl.pid, signal.SIGINT)
        _out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 130, err
    assert "crawl interrupted" in err
    with open_database(f"sqlite:///{db_path}") as db, db.session(readonly=True) as session:
        (run,) = session.scalars(select(Run)).all()
    assert run.status == "interrupted"
