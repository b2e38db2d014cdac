"""Page claims and run heartbeats, on SQLite and PostgreSQL: a page held by a live run is left to
it; claims of ended or dead runs are void; concurrent claimers never both get a page."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from archive.captures.table import finish_run, start_run
from archive.db.claims import claim_pages
from archive.db.engine import Database, open_database
from archive.db.heartbeat import beat, close_dead_runs, live_runs, pid_alive
from archive.db.models import Claim, Run
from archive.integrity.resume import recover_interrupted

URLS = [f"https://courier.example/news/story-{i}.html" for i in range(6)]


def _run(db: Database, **values: object) -> int:
    run_id = start_run(db, "crawl", {})
    beat(db, run_id)
    if values:
        with db.session() as session:
            session.execute(update(Run).where(Run.id == run_id).values(**values))
    return run_id


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_a_process_that_exited_is_not_alive_even_before_it_is_reaped() -> None:
    # A crawl process killed with its CLI is handed to init, which may reap it late.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 60
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        assert not pid_alive(child.pid)  # a zombie: signal 0 alone would say it is alive
    finally:
        child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())


def test_a_page_held_by_a_live_run_is_left_to_it(database: Database) -> None:
    first, second = _run(database), _run(database)
    assert claim_pages(database, first, URLS[:3]) == set(URLS[:3])
    assert claim_pages(database, second, URLS[2:5]) == set(URLS[3:5])
    # Claiming again what one holds already is a no-op that still answers yes.
    assert claim_pages(database, first, URLS[:3]) == set(URLS[:3])


def test_a_run_that_ends_releases_its_claims(database: Database) -> None:
    first, second = _run(database), _run(database)
    claim_pages(database, first, URLS)
    finish_run(database, first, "finished", {})
    with database.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Claim)) == 0
    assert claim_pages(database, second, URLS) == set(URLS)


def test_claims_of_ended_or_dead_runs_are_taken_over(database: Database) -> None:
    now = datetime.now(UTC)
    far = "crawler-7.example"
    # What becomes of each holder after it claimed its page, and whether its claim is then void.
    fates: list[tuple[dict[str, object], bool]] = [
        ({"status": "failed"}, True),
        ({"alive_until": now - timedelta(seconds=1), "host": far}, True),  # heartbeat past
        ({"pid": _dead_pid()}, True),  # its process on this host is gone
        ({"alive_until": now + timedelta(minutes=2), "host": far, "pid": 1}, False),
        ({}, False),  # alive here
    ]
    holders = []
    for i, (fate, _) in enumerate(fates):
        run_id = _run(database)
        assert claim_pages(database, run_id, [URLS[i]]) == {URLS[i]}
        if fate:
            with database.session() as session:
                session.execute(update(Run).where(Run.id == run_id).values(**fate))
        holders.append(run_id)
    taker = _run(database)
    granted = claim_pages(database, taker, URLS[: len(fates)])
    assert granted == {URLS[i] for i, (_, void) in enumerate(fates) if void}
    with database.session(readonly=True) as session:
        live = live_runs(session, holders)
        held = dict(session.execute(select(Claim.url, Claim.run_id)).all())
    assert live == {run_id for run_id, (_, void) in zip(holders, fates, strict=True) if not void}
    assert held == {URLS[i]: taker if void else holders[i] for i, (_, void) in enumerate(fates)}


def test_dead_runs_are_recorded_interrupted_and_lose_their_claims(
    database: Database, tmp_path: object
) -> None:
    dead = _run(database, pid=_dead_pid())
    stale = _run(database, alive_until=datetime.now(UTC) - timedelta(minutes=1), host="far")
    alive = _run(database)
    legacy = start_run(database, "crawl", {"pid": _dead_pid(), "host": socket.gethostname()})
    extract = start_run(database, "extract", {})  # no heartbeat, no pid: left alone
    claim_pages(database, dead, URLS[:2])
    claim_pages(database, alive, URLS[2:4])
    recover_interrupted(database, tmp_path)  # type: ignore[arg-type]
    with database.session(readonly=True) as session:
        status = dict(session.execute(select(Run.id, Run.status)).all())
        holders = set(session.scalars(select(Claim.run_id)))
    assert status == {
        dead: "interrupted",
        stale: "interrupted",
        alive: "running",
        legacy: "interrupted",
        extract: "running",
    }
    assert holders == {alive}
    with database.session() as session:
        assert close_dead_runs(session) == []


def test_concurrent_claimers_never_share_a_page(db_url: str) -> None:
    urls = [f"https://courier.example/a/{i}" for i in range(1200)]
    with open_database(db_url) as db:
        runs = [_run(db) for _ in range(4)]
    granted: dict[int, set[str]] = {}
    errors: list[BaseException] = []

    def claim(run_id: int) -> None:
        order = list(urls)
        random.Random(run_id).shuffle(order)
        try:
            with open_database(db_url, migrate=False) as db:
                got: set[str] = set()
                for start in range(0, len(order), 300):
                    got |= claim_pages(db, run_id, order[start : start + 300])
                granted[run_id] = got
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(run_id,)) for run_id in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sets = list(granted.values())
    assert sum(len(s) for s in sets) == len(urls)
    assert set().union(*sets) == set(urls)
