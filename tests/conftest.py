"""Shared fixtures: the mock news site, the morgue CLI in a subprocess, test databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mockserver import MockServer

pytest_plugins = ["tests.dbfixtures", "tests.workers_fixture"]

ROOT = Path(__file__).resolve().parent.parent

# No test may reach the internet (tests/netguard/sitecustomize.py): every child process imports
# the guard through PYTHONPATH, and this process imports it here. What the guard blocks is logged
# to a file per test process (an xdist worker has its own), read after every test and, all of
# them, at the end of the session by the process that made their directory.
_NETGUARD = ROOT / "tests" / "netguard"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_NETGUARD), *filter(None, [os.environ.get("PYTHONPATH")])]
)
_OWNS_NETGUARD_DIR = "NETGUARD_DIR" not in os.environ
if _OWNS_NETGUARD_DIR:
    os.environ["NETGUARD_DIR"] = tempfile.mkdtemp(prefix="morgue-netguard-")
_NETGUARD_LOG = Path(os.environ["NETGUARD_DIR"]) / f"{os.getpid()}.log"
_NETGUARD_LOG.touch()
os.environ["NETGUARD_LOG"] = str(_NETGUARD_LOG)
# As on a fresh machine: libraries that cache downloads (tldextract's Public Suffix List) start
# with nothing cached, so a download they would try shows up here, not first in CI.
os.environ.setdefault("TLDEXTRACT_CACHE", str(Path(os.environ["NETGUARD_DIR"]) / "tldextract"))
sys.path.insert(0, str(_NETGUARD))
import sitecustomize  # noqa: E402, F401  (the guard, for this process)

sys.path.remove(str(_NETGUARD))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _OWNS_NETGUARD_DIR:
        return
    attempts = [
        line
        for log in sorted(Path(os.environ["NETGUARD_DIR"]).glob("*.log"))
        for line in log.read_text(encoding="utf-8").splitlines()
    ]
    if attempts:
        print(f"\nnetwork guard: {len(attempts)} attempt(s) to leave 127.0.0.1: {attempts[:10]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _no_internet() -> Iterator[None]:
    """Fail the test during which any process tried to reach past the loopback interface."""
    log = _NETGUARD_LOG
    before = log.stat().st_size
    yield
    with log.open(encoding="utf-8") as fh:
        fh.seek(before)
        attempts = fh.read().splitlines()
    if attempts:
        pytest.fail(f"the test tried to reach the network: {attempts[:5]}", pytrace=False)


# Politeness is for other people's servers: the mock site is ours, on 127.0.0.1.
FAST = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "RETRY_TIMES=1",
    "-s", "EXTRACT_WORKERS=2",
]  # fmt: skip


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def run_morgue(
    *args: str, stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def judge_again(data: Path, columns: str) -> list[tuple[Any, ...]]:
    """Every capture of the SQLite archive in ``data`` set back to ``ok`` and judged again from
    its WARC record by ``morgue extract --all``; then ``columns`` of each, in id order."""
    import sqlite3

    with sqlite3.connect(data / "morgue.sqlite3") as db:
        db.execute("UPDATE captures SET verdict = 'ok', reason = 'http_200', evidence = NULL")
    db.close()
    proc = run_morgue("--data-dir", str(data), "extract", "--all", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        rows = db.execute(f"SELECT {columns} FROM captures ORDER BY id").fetchall()
    db.close()
    return rows
