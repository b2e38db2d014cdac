"""``morgue verify`` run on the archives the end-to-end tests leave, as a user would run it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_morgue

__all__ = ["assert_archive_verified"]


def assert_archive_verified(data_dir: Path, db_url: str | None = None) -> None:
    """Every WARC file and capture row of the archive check out: ``morgue verify`` exits 0."""
    db = ["--db", db_url] if db_url else []
    proc = run_morgue("--data-dir", str(data_dir), *db, "verify", "--format", "json")
    assert proc.returncode == 0, f"morgue verify found damage:\n{proc.stdout}{proc.stderr}"
