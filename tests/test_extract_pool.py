"""KillablePool: results, killing time limits, crashes, recycling, shutdown (tasks: pool_tasks)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from archive.exceptions import ExtractError, ExtractTimeout
from archive.extraction.article import Extraction, extract_article
from archive.extraction.pool import KillablePool
from tests import pool_tasks

# Generous: only a hang should ever reach it.
WAIT = 60.0


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("extract-pool-")]


def _wait_running(future: Future[Any]) -> None:
    deadline = time.monotonic() + WAIT
    while not future.running():
        assert time.monotonic() < deadline, "task never started"
        time.sleep(0.01)


def test_results_come_back_for_many_tasks() -> None:
    with KillablePool(pool_tasks.square, workers=3) as pool:
        futures = [pool.submit(n) for n in range(60)]
        assert [f.result(WAIT) for f in futures] == [n * n for n in range(60)]
        assert pool.stats == {
            "tasks_done": 60,
            "tasks_failed": 0,
            "timeouts": 0,
            "worker_restarts": 0,
        }


def test_tasks_run_in_other_processes_in_parallel(tmp_path: Path) -> None:
    with KillablePool(pool_tasks.rendezvous, workers=2) as pool:
        a = pool.submit(str(tmp_path), "a", "b", 30.0)
        b = pool.submit(str(tmp_path), "b", "a", 30.0)
        (pid_a, met_a), (pid_b, met_b) = a.result(WAIT), b.result(WAIT)
    assert met_a and met_b
    assert len({pid_a, pid_b, os.getpid()}) == 3


def test_timeout_kills_the_worker_and_replaces_it(tmp_path: Path) -> None:
    baseline = _children()
    pid_file = tmp_path / "pid"
    with KillablePool(pool_tasks.sleep_then_pid, workers=2, timeout=0.5) as pool:
        future = pool.submit(60.0, str(pid_file))
        with pytest.raises(ExtractTimeout, match=r"^extraction exceeded 0\.5 s$"):
            future.result(WAIT)
        killed = int(pid_file.read_text())
        assert not _alive(killed)
        workers = _children() - baseline
        assert len(workers) == 2
        assert killed not in workers
        assert {pool.submit(0.0).result(WAIT) for _ in range(6)} <= workers
        assert pool.stats["timeouts"] == 1
        assert pool.stats["tasks_failed"] == 1
        assert pool.stats["worker_restarts"] == 1


def test_preloaded_modules_are_imported_before_the_time_limit_starts() -> None:
    # The module takes a second to import, twice the time limit: were its import part of the
    # first task, the task would be killed.
    with KillablePool(
        pool_tasks.is_loaded, workers=1, timeout=0.5, preload=("tests.slow_import",)
    ) as pool:
        assert pool.submit("tests.slow_import").result(timeout=60) is True
        assert pool.stats["timeouts"] == 0


def test_exception_in_task_becomes_extract_error() -> None:
    with KillablePool(pool_tasks.raise_value_error, workers=1) as pool:
        with pytest.raises(ExtractError, match=r"^ValueError: page too odd$") as info:
            pool.submit("page too odd").result(WAIT)
        assert type(info.value) is ExtractError
        assert pool.stats["worker_restarts"] == 0


def test_exception_that_cannot_be_unpickled_still_reports() -> None:
    with (
        KillablePool(pool_tasks.raise_stubborn, workers=1) as pool,
        pytest.raises(ExtractError, match=r"StubbornError: cannot unpickle"),
    ):
        pool.submit().result(WAIT)


def test_unpicklable_result_and_arguments_fail_the_task_only() -> None:
    with KillablePool(pool_tasks.return_unpicklable, workers=1) as pool:
        with pytest.raises(ExtractError, match=r"pickle"):
            pool.submit().result(WAIT)
        with pytest.raises(ExtractError, match=r"arguments cannot be pickled"):
            pool.submit(threading.Lock()).result(WAIT)
        assert pool.stats == {
            "tasks_done": 0,
            "tasks_failed": 2,
            "timeouts": 0,
            "worker_restarts": 0,
        }


def test_dead_worker_gives_extract_error_and_pool_recovers() -> None:
    with KillablePool(pool_tasks.exit_hard, workers=1) as pool:
        with pytest.raises(ExtractError, match=r"^worker died \(exit code 3\)$"):
            pool.submit(3).result(WAIT)
        assert pool.stats["worker_restarts"] == 1
    with KillablePool(pool_tasks.getpid, workers=1) as pool:
        first = pool.submit().result(WAIT)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while first in _children():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # A worker that died while idle is replaced without failing the next task.
        assert pool.submit().result(WAIT) not in (first, os.getpid())
        assert pool.stats["worker_restarts"] == 1
        assert pool.stats["tasks_failed"] == 0


def test_worker_is_recycled_after_max_tasks() -> None:
    with KillablePool(pool_tasks.getpid, workers=1, max_tasks_per_worker=2) as pool:
        pids = [pool.submit().result(WAIT) for _ in range(5)]
        assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
        assert not _alive(pids[0])
        assert pool.stats["worker_restarts"] == 2


def test_close_without_wait_kills_running_and_cancels_pending(tmp_path: Path) -> None:
    baseline = _children()
    pid_file = tmp_path / "pid"
    pool = KillablePool(pool_tasks.sleep_then_pid, workers=1)
    running = pool.submit(60.0, str(pid_file))
    _wait_running(running)
    pending = [pool.submit(0.0) for _ in range(3)]
    pool.close(wait=False)
    assert all(f.cancelled() for f in pending)
    with pytest.raises(ExtractError, match="extract pool closed"):
        running.result(WAIT)
    if pid_file.exists():  # absent if the worker was killed before the task wrote it
        assert not _alive(int(pid_file.read_text()))
    assert _children() == baseline
    assert not _pool_threads()
    pool.close()  # idempotent
    with pytest.raises(RuntimeError):
        pool.submit(0.0)


def test_close_with_wait_finishes_running_task_and_cancels_pending() -> None:
    baseline = _children()
    with KillablePool(pool_tasks.sleep_then_pid, workers=1) as pool:
        running = pool.submit(0.3)
        _wait_running(running)
        pending = [pool.submit(0.0) for _ in range(3)]
        pool.close()
        worker = running.result(0)
        assert all(f.cancelled() for f in pending)
    assert not _alive(worker)
    assert _children() == baseline
    assert not _pool_threads()


def test_start_boots_the_workers_before_any_task() -> None:
    with KillablePool(pool_tasks.getpid, workers=2) as pool:
        pool.start()
        deadline = time.monotonic() + 60
        while len(multiprocessing.active_children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = {p.pid for p in multiprocessing.active_children()}
        assert len(started) == 2
        # The first tasks run in the workers started ahead of them.
        assert {pool.submit().result(timeout=60) for _ in range(8)} <= started
    assert pool.stats["worker_restarts"] == 0


def test_close_before_any_task_starts_nothing() -> None:
    pool = KillablePool(pool_tasks.getpid, workers=2)
    pool.close()
    pool.close()
    assert not _pool_threads()


def test_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="picklable"):
        KillablePool(lambda: None)
    with pytest.raises(ValueError):
        KillablePool(pool_tasks.getpid, workers=0)
    with pytest.raises(ValueError):
        KillablePool(pool_tasks.getpid, timeout=0)
    with pytest.raises(ValueError):
        KillablePool(pool_tasks.getpid, max_tasks_per_worker=0)


ARTICLE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour bridge reopens after two years of repairs</title></head>
<body><nav><a href="/">Home</a> <a href="/city">City</a></nav>
<article><h1>Harbour bridge reopens after two years of repairs</h1>
<p>The harbour bridge reopened to traffic on Monday morning after two years of repairs that
closed the main route between the old town and the northern districts.</p>
<p>Engineers replaced the corroded steel cables, resurfaced the deck and added a protected lane
for cyclists, which the city council says will be used by thousands of commuters every day.</p>
<p>Residents who had faced a forty-minute detour welcomed the reopening, although some shop
owners near the eastern ramp said the works had cost them a large share of their customers.</p>
<p>The council expects the final landscaping around the approaches to be finished by autumn.</p>
</article><footer>Copyright City News</footer></body></html>"""


def test_real_extraction_through_the_pool() -> None:
    with KillablePool(extract_article, workers=1) as pool:
        future = pool.submit(ARTICLE, "https://news.example/bridge", "text/html; charset=utf-8")
        result = future.result(WAIT)
    assert isinstance(result, Extraction)
    assert result.title == "Harbour bridge reopens after two years of repairs"
    assert result.text is not None
    assert "The harbour bridge reopened to traffic on Monday morning" in result.text
    assert "finished by autumn." in result.text
    assert "Copyright" not in result.text
