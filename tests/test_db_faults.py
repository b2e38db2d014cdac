"""The database, misnamed, silent or damaged: one line and an exit status (issue 11, item 6).

Before: a PostgreSQL URL without a database connected to the server's default one (named after
the user) and created morgue's tables there; a port that accepts connections and never answers
hung every command; a JSON value edited by hand into something else gave a 69-line traceback.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from archive.captures.record import CaptureRecord
from archive.captures.table import save_captures
from archive.db.engine import DEFAULT_CONNECT_TIMEOUT, open_database
from tests.conftest import ROOT, run_morgue


def _morgue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with some MORGUE_ variables set (``run_morgue`` clears them all)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**base, **(env or {})},
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def _one_line_error(proc: subprocess.CompletedProcess[str], status: int, *words: str) -> None:
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("morgue: error: "), proc.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("path", ["", "/", "?application_name=x"])
def test_a_postgresql_url_without_a_database_is_bad_input(silent_port: int, path: str) -> None:
    # Were it accepted, the connection would go to the silent port and time out (status 1).
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}{path}"
    proc = _morgue("query", "--db", url, env={"MORGUE_DB_CONNECT_TIMEOUT": "2"})
    _one_line_error(proc, 2, "names no database")


def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test"
    proc = _morgue("query", "--db", url, env={"MORGUE_DB_CONNECT_TIMEOUT": "2"})
    _one_line_error(proc, 1, "cannot open database", "timeout")
    assert f"127.0.0.1:{silent_port}/test" in proc.stderr


def test_the_url_can_set_its_own_connect_timeout(silent_port: int) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test?connect_timeout=2"
    _one_line_error(_morgue("query", "--db", url), 1, "timeout")


def test_a_bad_connect_timeout_is_bad_input() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:9/test"
    proc = _morgue("query", "--db", url, env={"MORGUE_DB_CONNECT_TIMEOUT": "soon"})
    _one_line_error(proc, 2, "MORGUE_DB_CONNECT_TIMEOUT")


def test_the_default_connect_timeout() -> None:
    from archive.db.engine import _postgresql_options

    url = make_url("postgresql+psycopg://postgres@db.example/morgue")
    assert _postgresql_options(url) == {"connect_timeout": round(DEFAULT_CONNECT_TIMEOUT)}
    assert DEFAULT_CONNECT_TIMEOUT == 10


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A data dir whose only capture has ``evidence`` edited into something that is not JSON."""
    db = open_database(f"sqlite:///{tmp_path / 'morgue.sqlite3'}")
    at = datetime(2026, 11, 2, tzinfo=UTC)
    record = CaptureRecord("https://example.org/a", at, "ok", "http_200", evidence=["article"])
    save_captures(db, [record])
    db.close()
    with sqlite3.connect(tmp_path / "morgue.sqlite3") as conn:
        conn.execute("UPDATE captures SET evidence = '{bad'")
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["query"],
        ["query", "--format", "json"],
        ["show", "1"],
        ["show", "--json", "https://example.org/a"],
        ["history", "https://example.org/a"],
    ],
)
def test_bad_json_in_a_row_is_one_line(damaged: Path, command: list[str]) -> None:
    proc = run_morgue("--data-dir", str(damaged), *command)
    _one_line_error(proc, 1, "captures.evidence of row 1", "'{bad'", "morgue verify")
