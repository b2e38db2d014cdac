"""The crawl process lives no longer than the CLI that started it, and overlapping crawls share
the work: kill -9 of the CLI, of the crawl process, a broken event pipe, two crawls at once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.captures.table import start_run
from archive.db.engine import open_database
from archive.db.models import Capture, Run
from archive.warc.records import OPEN_SUFFIX, read_record
from tests.conftest import FAST, ROOT, json_lines, run_morgue
from tests.corpus import CorpusSite
from tests.mockserver import MockServer
from tests.readers import reader, reader_env

pytestmark = pytest.mark.slow

WAIT = 120.0  # seconds any process is given to do what the test waits for (a slow machine)


class Gate:
    """Holds every article request after the first ``after`` until it is opened: however slow
    the machine, a crawl cannot get through the feed before the test has done its part."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.seen = 0
        self._open = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, path: str) -> None:
        if not path.startswith("/news/") or "/morgue-" in path:
            return
        with self._lock:
            self.seen += 1
            held = self.seen > self.after
        if held:
            self._open.wait(WAIT)

    def open(self) -> None:
        self._open.set()


def _articles(site: CorpusSite) -> int:
    """Article pages the site was asked for (not the soft-404 probes)."""
    return len([p for p in site.article_requests() if "/morgue-" not in p])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}


def _captures(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM captures").fetchone()[0])
    except sqlite3.Error:
        return 0


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    """Child processes, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _kill_group(pid: int) -> None:
    """End whatever is left of a process group the test started (when the test failed)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    """Exited (a zombie nobody reaps counts as gone: it runs no code)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return status.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _assert_valid_warcs(warc_dir: Path) -> None:
    assert list(warc_dir.glob("*" + OPEN_SUFFIX)) == []
    for path in warc_dir.glob("*.warc.gz"):
        proc = subprocess.run(
            [reader("warcio"), "check", str(path)],
            capture_output=True,
            text=True,
            env=reader_env(),
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _responses_per_url(warc_dir: Path, prefix: str) -> Counter[str]:
    """Response records of each article URL over every WARC file (soft-404 probes, at
    ``.../morgue-RANDOM.html``, are not articles)."""
    found: Counter[str] = Counter()
    for path in warc_dir.glob("*.warc.gz"):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if (
                    record.rec_type == "response"
                    and uri.startswith(prefix)
                    and "/morgue-" not in uri
                ):
                    found[uri] += 1
    return found


def _stored(db_url: str, warc_dir: Path) -> tuple[list[Run], list[Capture]]:
    with open_database(db_url) as db, db.session(readonly=True) as session:
        runs = list(session.scalars(select(Run).order_by(Run.id)))
        captures = list(session.scalars(select(Capture)))
    for capture in captures:
        assert capture.warc_file and capture.warc_offset is not None
        record = read_record(warc_dir, (capture.warc_file, capture.warc_offset))
        assert record.target_uri == capture.url
    return runs, captures


def _start_crawl(
    data_dir: Path, feed: str, *extra: str, db: str | None = None
) -> subprocess.Popen[str]:
    db_args = ["--db", db] if db else []
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "--data-dir", str(data_dir), *db_args, "crawl",
         "--feed", feed, "--no-recover", "--format", "json", *FAST, *extra],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so that the test can end it all
    )  # fmt: skip


def test_kill_9_of_the_cli_stops_its_crawl_and_the_next_crawl_archives_only_the_rest(
    tmp_path: Path,
) -> None:
    n = 60
    db_path = tmp_path / "morgue.sqlite3"
    warc_dir = tmp_path / "warcs"
    gate = Gate(after=10)
    with CorpusSite(n, delay=0.1, on_request=gate) as site:
        feed = site.url("/feed.xml")
        later = ("--extract", "later")  # extraction has no part in this: off, for speed
        cli = _start_crawl(tmp_path, feed, *later, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
        try:
            _wait_for(lambda: _captures(db_path) >= 5, "the first captures")
            (child,) = _children(cli.pid)
            os.kill(cli.pid, signal.SIGKILL)
            gate.open()
            # The crawl process notices at once (SIGHUP from the kernel, its stdin closed)
            # and stops after the pages in flight; it does not go on to the end of the feed.
            _wait_for(lambda: _gone(child), "the crawl process to stop")
            cli.communicate()  # the crawl process wrote to the same stderr: read to its end
        finally:
            gate.open()
            _kill_group(cli.pid)
        assert _articles(site) < n
        _assert_valid_warcs(warc_dir)
        runs, first = _stored(f"sqlite:///{db_path}", warc_dir)
        assert [run.status for run in runs] == ["interrupted"]  # recorded by the crawl itself
        assert 5 <= len(first) < n
        # The next crawl archives only what is missing.
        proc = run_morgue("--data-dir", str(tmp_path), "crawl", "--feed", feed,
                          "--no-recover", "--format", "json", *later, *FAST)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json_lines(proc.stdout)) == n - len(first)
    runs, captures = _stored(f"sqlite:///{db_path}", warc_dir)
    assert [run.status for run in runs] == ["interrupted", "finished"]
    assert sorted(Counter(c.url for c in captures).values()) == [1] * n
    per_url = _responses_per_url(warc_dir, site.url("/news/"))
    assert len(per_url) == n and set(per_url.values()) == {1}
    _assert_valid_warcs(warc_dir)
    log = (tmp_path / "logs" / "run-1.log").read_text()
    assert "BrokenPipe" not in log and "Traceback" not in log
    assert "The process that started this crawl is gone" in log


def test_kill_9_of_the_crawl_process_fails_the_run_with_one_line(tmp_path: Path) -> None:
    # Small pages: the next run cuts the killed crawl's open WARC file back to its last whole
    # record, which hangs on records over 64 KiB until branch recovery's fix of
    # archive/integrity/resume.py:complete_length lands.
    count = 80
    db_path = tmp_path / "morgue.sqlite3"
    with MockServer() as server:
        feed = server.url(f"/news/many.xml?n={count}")
        cli = _start_crawl(tmp_path, feed)
        try:
            _wait_for(lambda: _captures(db_path) >= 10, "the first captures")
            (child,) = _children(cli.pid)
            workers = _descendants(child)
            assert workers, "no extraction processes"
            os.kill(child, signal.SIGKILL)
            out, err = cli.communicate(timeout=WAIT)
            # Its extraction processes (forkserver, workers) go with it: their pipes close.
            for pid in workers:
                _wait_for(lambda pid=pid: _gone(pid), f"extraction process {pid} to stop")
        finally:
            _kill_group(cli.pid)
        assert cli.returncode == 1
        assert out == ""
        (line,) = [x for x in err.splitlines() if x.count("\t") != 2]
        assert line.startswith("morgue: error: the crawl process was killed by signal 9; see ")
        assert "(run 1 failed after " in line
        runs, _ = _stored(f"sqlite:///{db_path}", tmp_path / "warcs")
        assert [run.status for run in runs] == ["failed"]
        proc = run_morgue("--data-dir", str(tmp_path), "crawl", "--feed", feed,
                          "--no-recover", "--format", "json", *FAST)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs, captures = _stored(f"sqlite:///{db_path}", tmp_path / "warcs")
    assert [run.status for run in runs] == ["failed", "finished"]
    assert sorted(Counter(c.url for c in captures).values()) == [1] * count
    _assert_valid_warcs(tmp_path / "warcs")


def _job(tmp_path: Path, feed: str, run_id: int, parent_pid: int) -> str:
    settings = {
        "WARC_DIR": str(tmp_path / "warcs"),
        "STORE_DB_URL": f"sqlite:///{tmp_path / 'morgue.sqlite3'}",
        "LIVENESS_DB_URL": f"sqlite:///{tmp_path / 'morgue.sqlite3'}",
        "STORE_RUN_ID": run_id,
        "MEMENTO_ENABLED": False,
        # A soft-404 probe would queue behind the request a Gate holds.
        "LIVENESS_PROBE_ENABLED": False,
        "PROGRESS_EVENTS_ENABLED": True,
        "CRAWL_PARENT_PID": parent_pid,
        "LOG_FILE": str(tmp_path / "crawl.log"),
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "EXTRACT_WORKERS": 1,
    }
    return json.dumps({"spider": "sources", "spider_args": {"feeds": [feed]}, "settings": settings})


def _crawl_process(job: str | None) -> subprocess.Popen[bytes]:
    """``python -m crawler.run`` given ``job``; given None, its stdin closed without one."""
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.run"],
        cwd=ROOT,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert child.stdin is not None
    if job is None:
        child.stdin.close()
    else:
        child.stdin.write(job.encode() + b"\n")
        child.stdin.flush()
    return child


def _end(child: subprocess.Popen[bytes]) -> None:
    """Whatever is left of a crawl process the test started, ended; its pipes closed."""
    _kill_group(child.pid)
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()


def test_a_crawl_whose_event_pipe_breaks_stops_and_records_its_run(tmp_path: Path) -> None:
    n = 40
    gate = Gate(after=5)
    with (
        CorpusSite(n, delay=0.3, on_request=gate) as site,
        open_database(f"sqlite:///{tmp_path / 'morgue.sqlite3'}") as db,
    ):
        run_id = start_run(db, "crawl", {})
        child = _crawl_process(_job(tmp_path, site.url("/feed.xml"), run_id, os.getpid()))
        try:
            assert child.stdout is not None
            captures = 0
            while captures < 3:  # read events until a few pages are in
                line = child.stdout.readline()
                assert line, "the crawl ended early"
                captures += json.loads(line).get("event") == "capture"
            # The reader goes away but this process (its parent) lives and keeps stdin open:
            # only the broken pipe, at the next event, tells the crawl that nobody follows it.
            child.stdout.close()
            gate.open()
            child.wait(timeout=WAIT)
        finally:
            gate.open()
            _end(child)
        fetched = _articles(site)
    assert fetched < n
    with db.session(readonly=True) as session:
        run = session.get(Run, run_id)
    assert run is not None and run.status == "interrupted"
    log = (tmp_path / "crawl.log").read_text()
    assert "gone (its event pipe broke)" in log
    assert "BrokenPipe" not in log and "Traceback" not in log
    _assert_valid_warcs(tmp_path / "warcs")


def test_a_crawl_whose_parent_died_before_it_started_fetches_nothing(tmp_path: Path) -> None:
    with CorpusSite(5) as site, open_database(f"sqlite:///{tmp_path / 'morgue.sqlite3'}") as db:
        run_id = start_run(db, "crawl", {})
        # This process is the parent, but the job names another: as if the CLI had died and the
        # crawl had been handed to init before it could ask for SIGHUP.
        child = _crawl_process(_job(tmp_path, site.url("/feed.xml"), run_id, os.getpid() + 1))
        try:
            child.wait(timeout=WAIT)
        finally:
            _end(child)
        requested = site.article_requests()
        with db.session(readonly=True) as session:
            run = session.get(Run, run_id)
    assert requested == []
    assert run is not None and run.status == "interrupted"
    assert "gone (it was gone before the crawl started)" in (tmp_path / "crawl.log").read_text()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_identical_crawls_started_together_archive_each_page_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    n = 60
    db_url = (
        f"sqlite:///{tmp_path / 'morgue.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    # The feed is answered once both crawls have asked for it: they surely overlap.
    both = threading.Barrier(2, timeout=WAIT)

    def on_request(path: str) -> None:
        if path == "/feed.xml":
            both.wait()

    with CorpusSite(n, on_request=on_request) as site:
        feed = site.url("/feed.xml")
        # Extraction has no part in who fetches what: off, for speed.
        crawls = [_start_crawl(tmp_path, feed, "--extract", "later", db=db_url) for _ in range(2)]
        try:
            results = [c.communicate(timeout=WAIT * 2) for c in crawls]
        finally:
            for c in crawls:
                _kill_group(c.pid)
        warc_dir = tmp_path / "warcs"
        per_url = _responses_per_url(warc_dir, site.url("/news/"))
    for crawl, (_, err) in zip(crawls, results, strict=True):
        assert crawl.returncode == 0, err
    runs, captures = _stored(db_url, warc_dir)
    assert [run.status for run in runs] == ["finished", "finished"]
    # Each page archived once in all: in the DB and in the WARC files.
    assert sorted(Counter(c.url for c in captures).values()) == [1] * n
    assert len(per_url) == n and set(per_url.values()) == {1}
    # Every entry of the feed is accounted for by each run: fetched, or left to the other.
    for run in runs:
        assert run.stats is not None
        summary = run.stats["summary"]
        assert summary["pages"] + summary["skipped_claimed"] + summary["skipped_archived"] == n
    assert sum(run.stats["summary"]["skipped_claimed"] for run in runs if run.stats) > 0
    assert any("left to another crawl" in err for _, err in results)
    _assert_valid_warcs(warc_dir)


def test_a_crawl_process_whose_caller_gives_up_before_the_job_leaves_nothing() -> None:
    # `morgue archive` starts its crawl process before it reads its arguments; on bad usage it
    # closes the pipe without a job, and the process (its extraction forkserver too) ends.
    child = _crawl_process(None)
    assert child.stdout is not None
    assert child.stdout.read() == b""
    assert child.wait(timeout=60) == 0
    child.stdout.close()

    def group_alive() -> bool:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 30
    while group_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not group_alive(), "a process of the crawl's group outlived it"
