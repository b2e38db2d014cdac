from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

import archive.db.engine as db_module
from archive.db.engine import (
    Database,
    current_revision,
    default_db_url,
    head_revision,
    open_database,
    upgrade,
)
from archive.db.models import Base, Capture, Page, Run
from archive.db.search_index import is_search_object
from archive.exceptions import DatabaseError

TABLES = {"pages", "runs", "captures", "alembic_version"}


def test_schema_head_is_the_newest_migration() -> None:
    # archive.db.engine knows its head without importing Alembic; the migrations directory decides.
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(db_module.__file__).parent / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database
    return Path(database)


def test_default_db_url(tmp_path: Path) -> None:
    assert default_db_url(tmp_path / "data") == f"sqlite:///{tmp_path}/data/morgue.sqlite3"
    assert default_db_url(Path("morgue-data")) == "sqlite:///morgue-data/morgue.sqlite3"


def test_open_creates_tables_at_head(db_url: str) -> None:
    assert current_revision(db_url) is None
    if db_url.startswith("sqlite"):
        assert not _sqlite_path(db_url).exists()  # asking did not create it
    with open_database(db_url) as db:
        assert db.migrated
        tables = set(inspect(db.engine).get_table_names())
        assert tables >= TABLES
        assert {c["name"] for c in inspect(db.engine).get_columns("captures")} >= {
            "warc_offset",
            "metadata_record_id",
            "redirects",
            "recovered_from",
        }
    assert current_revision(db_url) == head_revision()


def test_reopening_does_not_migrate_again(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    open_database(db_url).close()
    caplog.clear()
    with caplog.at_level(logging.INFO), open_database(db_url) as db:
        assert not db.migrated
    assert not [r for r in caplog.records if "upgrade" in r.getMessage().lower()]
    assert not [r for r in caplog.records if r.name == "archive.db.engine"]
    assert current_revision(db_url) == head_revision()


def test_upgrade_reports_head_and_is_idempotent(db_url: str) -> None:
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()
    assert current_revision(db_url) == head_revision()


def test_migrations_match_models(database: Database) -> None:
    # Full-text search objects (archive/query/fulltext.py) are dialect-specific DDL outside the
    # models.
    opts = {
        "compare_type": True,
        "include_name": lambda name, _type, _parents: not is_search_object(name),
    }
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
        conn.rollback()
    assert diffs == []


def test_concurrent_first_open_migrates_once(db_url: str) -> None:
    """Several openers racing on an empty database: all succeed, exactly one migrates."""
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            barrier.wait()
            with open_database(db_url) as db:
                results.append(db.migrated)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == [False, False, False, True]


def test_sqlite_wal_and_pragmas(sqlite_url: str) -> None:
    with open_database(sqlite_url) as db, db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        conn.rollback()
    # WAL is a property of the file: ordinary tools opening it later see it too.
    plain = sqlite3.connect(_sqlite_path(sqlite_url))
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {row[0] for row in plain.execute("SELECT name FROM sqlite_master")}
        assert names >= TABLES
    finally:
        plain.close()


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    url = default_db_url(tmp_path / "a" / "b")
    with open_database(url):
        pass
    assert (tmp_path / "a" / "b" / "morgue.sqlite3").is_file()


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(DatabaseError), database.session() as session:
        session.add(
            Capture(
                page_id=12345,
                url="https://example.com/",
                fetched_at=datetime.now(UTC),
                verdict="ok",
                reason="http_200",
            )
        )


def test_session_rolls_back_on_error(database: Database) -> None:
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Run(kind="crawl", status="running", started_at=now))
        session.flush()
        raise RuntimeError("boom")
    with database.session(readonly=True) as session:
        assert session.scalars(select(Run)).all() == []


def test_timestamps_are_utc_aware(database: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=plus_two)
    naive_utc = datetime(2024, 1, 2, 3, 4, 5)
    with database.session() as session:
        page = Page(
            url="https://example.com/",
            original_url="https://example.com/",
            host="example.com",
            first_seen_at=local,
            last_captured_at=naive_utc,
        )
        session.add(page)
    with database.session(readonly=True) as session:
        row = session.scalars(select(Page)).one()
        assert row.first_seen_at == local
        assert row.first_seen_at.tzinfo is not None
        assert row.first_seen_at.utcoffset() == timedelta(0)
        assert row.first_seen_at.hour == 23  # 01:30 at +02:00 is 23:30 UTC the day before
        assert row.last_captured_at == naive_utc.replace(tzinfo=UTC)
        # Comparisons in SQL agree with Python: a filter with an aware bound finds the row.
        later = session.scalars(
            select(Page).where(Page.first_seen_at > datetime(2024, 3, 30, 23, 0, tzinfo=UTC))
        ).all()
        assert len(later) == 1


def test_sqlite_stores_utc_text(sqlite_url: str) -> None:
    """The file stays readable by ordinary tools: timestamps are plain UTC text."""
    with open_database(sqlite_url) as db, db.session() as session:
        session.add(
            Run(
                kind="archive",
                status="running",
                started_at=datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-4))),
                args={"path": Path("/tmp/x")},
            )
        )
    plain = sqlite3.connect(_sqlite_path(sqlite_url))
    try:
        started, args = plain.execute("SELECT started_at, args FROM runs").fetchone()
    finally:
        plain.close()
    assert started.startswith("2024-05-01 16:00:00")
    assert args == '{"path": "/tmp/x"}'


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL 'not a url'"),
        ("nosuchdb://user@host/db", "unknown database driver 'nosuchdb'"),
        ("postgresql+nosuchdriver://h/db", "unknown database driver"),
        ("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test", "cannot open database"),
    ],
)
def test_bad_database_urls_raise_one_line(url: str, message: str) -> None:
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    text_ = str(info.value)
    assert message in text_
    assert "\n" not in text_
    assert "s3cret" not in text_


def test_unwritable_sqlite_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseError) as info:
        open_database(f"sqlite:///{blocker}/sub/morgue.sqlite3")
    assert "\n" not in str(info.value)


def test_schema_newer_than_code_is_refused(db_url: str) -> None:
    with open_database(db_url) as db, db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(DatabaseError, match="upgrade morgue"):
        open_database(db_url)
