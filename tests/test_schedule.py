"""Scheduled crawls: definitions, the lease, ``schedule run-due``, ``morgue scheduler``, and a
scheduled crawl writing the same SQLite file as a one-off ``morgue archive``."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archive.db.engine import Database, open_database
from archive.db.models import Capture, Run, Schedule, ScheduleRun
from archive.exceptions import InvalidInput
from archive.runs.crawling import CrawlSpec, build_spec, request_json, request_redis
from archive.runs.schedule_runner import run_due
from archive.runs.schedules import (
    acquire_lease,
    add_schedule,
    due_schedules,
    list_schedules,
    next_interval,
    release_lease,
    remove_schedule,
)
from tests.conftest import FAST, ROOT, json_lines, run_morgue
from tests.mockserver import MockServer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _schedule_id(db: Database, name: str) -> int:
    with db.session(readonly=True) as session:
        found = session.scalar(select(Schedule.id).where(Schedule.name == name))
    assert found is not None
    return found


def test_add_list_remove(database: Database) -> None:
    add_schedule(database, "wire", ["--feed", "https://x.example/f"], every_s=1800, now=NOW)
    add_schedule(database, "nightly", ["--site", "https://x.example/"], cron="0 3 * * *", now=NOW)
    infos = {i.name: i for i in list_schedules(database, now=NOW)}
    assert infos["wire"].next_run_at == NOW  # an --every schedule is due at once
    assert infos["nightly"].next_run_at == datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    assert infos["wire"].crawl_args == ["--feed", "https://x.example/f"]
    assert infos["wire"].last_run is None and infos["wire"].runs == 0
    assert [name for _, name in due_schedules(database, NOW)] == ["wire"]
    with pytest.raises(InvalidInput, match="exists already"):
        add_schedule(database, "wire", ["--feed", "https://x.example/g"], every_s=60)
    remove_schedule(database, "wire")
    assert [i.name for i in list_schedules(database)] == ["nightly"]
    with pytest.raises(InvalidInput, match="no schedule"):
        remove_schedule(database, "wire")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every_s": 60, "cron": "* * * * *"}, "exactly one"),
        ({}, "exactly one"),
        ({"cron": "every day"}, "invalid cron"),
        ({"cron": "0 3 * * *", "adaptive": True}, "needs --every"),
        ({"every_s": 60, "adaptive": True, "min_interval_s": 120}, "between"),
        ({"every_s": 0.5}, "at least 1s"),
    ],
)
def test_bad_schedules(database: Database, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        add_schedule(database, "x", ["--feed", "https://x.example/f"], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="belongs before"):
        add_schedule(database, "y", ["--db", "sqlite:///other"], every_s=60)
    with pytest.raises(InvalidInput, match="invalid schedule name"):
        add_schedule(database, "no spaces", ["--feed", "https://x.example/f"], every_s=60)


def test_lease_is_exclusive_until_released_or_expired(database: Database) -> None:
    add_schedule(database, "wire", ["--feed", "https://x.example/f"], every_s=60)
    sid = _schedule_id(database, "wire")
    assert acquire_lease(database, sid, "runner-a", ttl_s=60)
    assert not acquire_lease(database, sid, "runner-b", ttl_s=60)
    assert due_schedules(database) == []  # leased: not offered to another runner
    release_lease(database, sid, "runner-b")  # not the holder: no effect
    assert not acquire_lease(database, sid, "runner-b", ttl_s=60)
    release_lease(database, sid, "runner-a")
    assert acquire_lease(database, sid, "runner-b", ttl_s=60)
    with database.session() as session:  # runner-b died; its lease ran out
        session.execute(
            update(Schedule)
            .where(Schedule.id == sid)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert acquire_lease(database, sid, "runner-c", ttl_s=60)


def test_adaptive_interval_stays_within_bounds() -> None:
    sched = Schedule(adaptive=True, interval_s=600, min_interval_s=200, max_interval_s=1500)
    assert next_interval(sched, new_entries=3) == 300
    sched.interval_s = 300
    assert next_interval(sched, new_entries=3) == 200  # not below the lower bound
    sched.interval_s = 1200
    assert next_interval(sched, new_entries=0) == 1500  # not above the upper bound
    fixed = Schedule(adaptive=False, interval_s=600)
    assert next_interval(fixed, new_entries=0) == 600


# -- real processes -----------------------------------------------------------------------------


def _add(data_dir: Path, name: str, every: str, *crawl: str, db: str | None = None) -> None:
    db_args = ("--db", db) if db else ()
    proc = run_morgue(
        "--data-dir", str(data_dir), *db_args, "schedule", "add", name, "--every", every,
        "--", *crawl, "--no-recover", *FAST,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "archive", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    )


@pytest.mark.slow
def test_run_due_records_runs_and_never_runs_a_schedule_twice_at_once(
    tmp_path: Path, db_url: str, mock_server: MockServer
) -> None:
    _add(tmp_path, "courier", "1h", "--feed", mock_server.url("/news/feed.xml"), db=db_url)
    # Two runners at the same moment (cron on two hosts): one runs the crawl, one skips it.
    runners = [
        _spawn("--data-dir", str(tmp_path), "--db", db_url, "schedule", "run-due",
               "--format", "json")
        for _ in range(2)
    ]  # fmt: skip
    outputs = [runner.communicate(timeout=180) for runner in runners]
    assert [r.returncode for r in runners] == [0, 0], outputs
    ran = [row for out, _ in outputs for row in json_lines(out)]
    assert len(ran) == 1
    assert ran[0]["name"] == "courier" and ran[0]["status"] == "finished"
    assert ran[0]["pages"] == 5 and ran[0]["verdicts"] == {"ok": 5}
    with open_database(db_url) as db, db.session(readonly=True) as session:
        (row,) = session.scalars(select(ScheduleRun)).all()
        assert row.status == "finished" and row.returncode == 0 and row.run_id is not None
        run = session.get(Run, row.run_id)
        assert run is not None and run.kind == "crawl" and run.status == "finished"
        assert len(session.scalars(select(Capture)).all()) == 5
        sched = session.scalars(select(Schedule)).one()
        assert sched.lease_owner is None  # released
        assert sched.next_run_at > datetime.now(UTC) + timedelta(minutes=50)
    listed = run_morgue(
        "--data-dir", str(tmp_path), "--db", db_url, "schedule", "list", "--format", "json"
    )
    (info,) = json_lines(listed.stdout)
    assert info["runs"] == 1 and info["last_run"]["pages"] == 5
    assert info["last_run"]["status"] == "finished" and info["last_run"]["duration_s"] > 0
    table = run_morgue("--data-dir", str(tmp_path), "--db", db_url, "schedule", "list")
    assert table.returncode == 0 and "courier" in table.stdout
    # Not due any more: run-due does nothing.
    again = run_morgue("--data-dir", str(tmp_path), "--db", db_url, "schedule", "run-due")
    assert again.returncode == 0 and again.stdout == ""
    assert again.stderr.startswith("nothing due; next: courier at "), again.stderr


@pytest.mark.slow
def test_scheduler_loop_runs_due_crawls_one_at_a_time(
    tmp_path: Path, mock_server: MockServer
) -> None:
    _add(tmp_path, "fast", "1s", "--feed", mock_server.url("/news/feed.xml"))
    # Two runs, however long a crawl takes on a busy machine; the time limit is a safety net.
    proc = run_morgue(
        "--data-dir", str(tmp_path), "scheduler", "--tick", "0.2", "--time-limit", "150s",
        "--max-runs", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    db_url = f"sqlite:///{tmp_path}/morgue.sqlite3"
    with open_database(db_url) as db, db.session(readonly=True) as session:
        runs = session.scalars(select(ScheduleRun).order_by(ScheduleRun.started_at)).all()
        # The process that last beat for the run: its crawl process, which takes the
        # heartbeat over from the scheduler that started it.
        crawl_pids = {session.get(Run, r.run_id).pid for r in runs}  # type: ignore[union-attr]
    assert len(runs) == 2, proc.stderr
    assert all(r.status == "finished" and r.finished_at is not None for r in runs)
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at
    assert len(crawl_pids) == len(runs) and None not in crawl_pids  # a process of its own each
    assert runs[0].stats and runs[0].stats["pages"] == 5
    assert all(r.stats and r.stats["pages"] == 0 for r in runs[1:])  # nothing new after
    assert proc.stderr.count("started fast") == len(runs)


@pytest.mark.slow
def test_scheduled_crawl_and_archive_write_one_sqlite_file_at_once(
    tmp_path: Path, mock_server: MockServer
) -> None:
    _add(tmp_path, "courier", "1h", "--feed", mock_server.url("/news/feed.xml"))
    urls = [mock_server.url(f"/articles/concurrent-{i}.html") for i in range(12)]
    scheduled = _spawn("--data-dir", str(tmp_path), "schedule", "run-due", "--format", "json")
    one_off = _spawn(
        "--data-dir", str(tmp_path), "archive", "--format", "json", "--no-recover", *FAST, *urls
    )
    out_s, err_s = scheduled.communicate(timeout=180)
    out_a, err_a = one_off.communicate(timeout=180)
    assert scheduled.returncode == 0, err_s
    assert one_off.returncode == 0, err_a
    assert [row["status"] for row in json_lines(out_s)] == ["finished"]
    assert [row["verdict"] for row in json_lines(out_a)] == ["ok"] * len(urls)
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    for text in (err_s, err_a, logs):
        assert "database is locked" not in text
    db_url = f"sqlite:///{tmp_path}/morgue.sqlite3"
    with open_database(db_url) as db, db.session(readonly=True) as session:
        assert len(session.scalars(select(Capture)).all()) == len(urls) + 5
        runs = {run.kind: run for run in session.scalars(select(Run))}
    assert {run.status for run in runs.values()} == {"finished"}
    crawl, archive = runs["crawl"], runs["archive"]
    assert crawl.finished_at and archive.finished_at
    # They did write at the same time: each started before the other finished.
    assert crawl.started_at < archive.finished_at and archive.started_at < crawl.finished_at


def _redis_schedule(database: Database, name: str, *, adaptive: bool = False) -> None:
    spec = build_spec(["http://127.0.0.1:9/feed.xml"], None, None, max_pages=5)
    request = request_json(spec, {}, redis=("redis://127.0.0.1:9/0", "pfx"))
    add_schedule(
        database,
        name,
        ["--redis", "redis://127.0.0.1:9/0", "--feed", "http://127.0.0.1:9/feed.xml"],
        every_s=3600,
        adaptive=adaptive,
        now=NOW - timedelta(minutes=1),
        crawl_request=request,
    )


def test_a_redis_schedule_is_queued_through_the_enqueuer_it_is_given(
    database: Database, tmp_path: Path
) -> None:
    """The runner queues a ``--redis`` schedule with the face's enqueuer: no crawl runs here."""
    _redis_schedule(database, "spread", adaptive=True)
    queued: list[tuple[str, str, CrawlSpec]] = []

    def enqueue(url: str, prefix: str, spec: CrawlSpec) -> str:
        queued.append((url, prefix, spec))
        return "crawl-1"

    (outcome,) = run_due(database, tmp_path, now=NOW, enqueue=enqueue)
    assert (outcome.status, outcome.returncode) == ("enqueued", 0)
    assert outcome.stats["crawl"] == "crawl-1" and outcome.stats["queued"] == 1
    ((url, prefix, spec),) = queued
    assert (url, prefix, spec.feeds, spec.max_pages) == (
        "redis://127.0.0.1:9/0",
        "pfx",
        ["http://127.0.0.1:9/feed.xml"],
        5,
    )
    with database.session(readonly=True) as session:
        assert session.scalars(select(Run)).all() == []  # nothing crawled in-process
        sched = session.scalars(select(Schedule)).one()
        assert sched.interval_s == 3600  # what the workers find is not known: not adapted
    (info,) = list_schedules(database)
    assert info.last_run is not None and info.last_run["status"] == "enqueued"


def test_a_redis_schedule_without_an_enqueuer_fails_rather_than_crawl_here(
    database: Database, tmp_path: Path
) -> None:
    _redis_schedule(database, "spread")
    (outcome,) = run_due(database, tmp_path, now=NOW)
    assert (outcome.status, outcome.returncode) == ("failed", 1)
    assert outcome.stats["error"] == "this runner cannot queue crawls for workers"
    with database.session(readonly=True) as session:
        assert session.scalars(select(Run)).all() == []


def test_schedule_add_keeps_the_redis_of_its_crawl(tmp_path: Path) -> None:
    proc = run_morgue(
        "--data-dir", str(tmp_path), "schedule", "add", "queued", "--every", "1h", "--",
        "--redis", "redis://127.0.0.1:9/0", "--redis-prefix", "pfx",
        "--feed", "http://127.0.0.1:9/feed.xml",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    db = open_database(f"sqlite:///{tmp_path / 'morgue.sqlite3'}")
    try:
        with db.session(readonly=True) as session:
            request = session.scalars(select(Schedule.crawl_request)).one()
    finally:
        db.close()
    assert request is not None
    assert request_redis(request) == ("redis://127.0.0.1:9/0", "pfx")
    # Nothing listens on port 9: the run fails in one line, and nothing was crawled.
    run = run_morgue("--data-dir", str(tmp_path), "schedule", "run-due", "--format", "json")
    assert run.returncode == 0, run.stderr
    (outcome,) = json_lines(run.stdout)
    assert outcome["status"] == "failed"
    assert outcome["error"].startswith("cannot reach Redis at redis://127.0.0.1:9/0")
