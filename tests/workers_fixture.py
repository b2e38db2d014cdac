"""Workers of a distributed crawl for tests: Redis, ``morgue worker`` processes, their results.

Every test gets a key prefix of its own on the Redis at 127.0.0.1:6379 (deleted afterwards), or
a ``redis-server`` of its own on a free port (``RedisServer``) when it must stop and restart it.
Without a Redis the tests are skipped, unless ``MORGUE_TEST_REQUIRE_REDIS`` or ``CI`` is set:
then a missing server fails them (``.ci/run`` starts one).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST, ROOT, run_morgue

__all__ = [
    "REDIS_URL",
    "RedisServer",
    "Worker",
    "captures",
    "count_captures",
    "frontier",
    "redis_prefix",
    "wait_for",
]

REDIS_URL = "redis://127.0.0.1:6379/0"

# Short leases and heartbeats, so that a dead worker's requests come back within seconds.
WORKER_SETTINGS = [
    *FAST,
    "-s", "EXTRACT_WORKERS=1",
    "-s", "MEMENTO_ENABLED=False",
    "-s", "MORGUE_REDIS_LEASE=4",
    "-s", "MORGUE_REDIS_HEARTBEAT=1",
    # The site is one host: the delay all workers share paces it to 20 pages a second at most,
    # so that a crawl lasts long enough for a worker to die or join in its middle.
    "-s", "MORGUE_REDIS_DOMAIN_DELAY=0.05",
]  # fmt: skip


def _redis_required() -> bool:
    return bool(os.environ.get("MORGUE_TEST_REQUIRE_REDIS") or os.environ.get("CI"))


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys are deleted afterwards
    (the body of a fixture)."""
    if not _answers(6379):
        if _redis_required():
            pytest.fail("no Redis at 127.0.0.1:6379, and MORGUE_TEST_REQUIRE_REDIS or CI is set")
        pytest.skip("no Redis at 127.0.0.1:6379")
    import redis

    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` of the test's own, with an append-only file so that it can be
    stopped and started again with its data, as a production Redis restarts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.directory), "--appendonly", "yes", "--save", ""]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.port), 20, "redis-server to start")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()  # redis-server writes its append-only file and exits
            proc.wait(timeout=20)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_STARTED: list[Worker] = []


@pytest.fixture(autouse=True)
def _reap_workers() -> Iterator[None]:
    """A test that fails half-way leaves no worker running (and eating the CPU) behind it."""
    yield
    while _STARTED:
        worker = _STARTED.pop()
        with contextlib.suppress(ProcessLookupError):  # its crawl may outlive it: the group
            os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait(timeout=30)


def wait_for(
    check: Callable[[], Any],
    seconds: float,
    what: str,
    explain: Callable[[], str] | None = None,
) -> Any:
    """Poll ``check`` until it gives something true; fail naming ``what`` after ``seconds``,
    with what ``explain`` tells (a worker's log, say)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            pytest.fail(f"gave up waiting for {what} after {seconds:.0f} s{detail}")
        time.sleep(0.25)


class Worker:
    """``morgue worker`` in a session of its own, so that a kill reaches its crawl process too."""

    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        redis_url: str,
        prefix: str,
        worker_id: str,
        *settings: str,
    ) -> None:
        self.worker_id = worker_id
        self.data_dir = data_dir
        self.output = data_dir.parent / f"{worker_id}.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
        args = [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "--db", db_url]
        args += ["worker", "--redis", redis_url, "--redis-prefix", prefix]
        args += ["--worker-id", worker_id, "--allow-private", "--format", "json"]
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                [*args, *WORKER_SETTINGS, *settings],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _STARTED.append(self)

    def kill(self) -> None:
        """SIGKILL to the worker and every process it started: nothing is flushed or closed."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 90) -> dict[str, Any]:
        """SIGTERM to the worker's processes; its summary once it has finished."""
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        text = self.output.read_text(encoding="utf-8", errors="replace")
        summaries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert summaries, f"worker {self.worker_id} printed no summary:\n{text}"
        return dict(summaries[-1])

    def logs(self) -> str:
        return "\n".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted((self.data_dir / "logs").glob("run-*.log"))
        )

    def log_tail(self, lines: int = 60) -> str:
        """The end of the worker's logs and of its output, for a failure's message."""
        out = (
            self.output.read_text(encoding="utf-8", errors="replace")
            if self.output.exists()
            else ""
        )
        tail = (self.logs() + "\n" + out).splitlines()[-lines:]
        return f"--- worker {self.worker_id}, last {len(tail)} lines ---\n" + "\n".join(tail)


def frontier(redis_url: str, prefix: str) -> dict[str, Any]:
    proc = run_morgue("workers", "--redis", redis_url, "--redis-prefix", prefix, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def captures(data_dir: Path, db_url: str) -> list[dict[str, Any]]:
    proc = run_morgue(
        "--data-dir", str(data_dir), "--db", db_url,
        "query", "--format", "json", "--limit", "100000",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def count_captures(db_url: str) -> int:
    """Captures stored so far, asked of the database directly (polled while workers run)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM captures")).scalar_one())
    except Exception:
        return 0  # not migrated yet: no worker has opened it
    finally:
        engine.dispose()
