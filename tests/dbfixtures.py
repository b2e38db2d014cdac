"""Database fixtures: every test that takes ``db_url`` runs on SQLite and on PostgreSQL.

SQLite is a fresh file in the test's temporary directory. PostgreSQL is the server named by
``MORGUE_TEST_POSTGRES_URL``, with a fresh schema per test selected through the connection's
``search_path``, dropped afterwards. Without that variable the PostgreSQL case is skipped, except
under CI (``CI`` set), where a missing server must fail the run rather than pass it silently.

Load with ``pytest_plugins = ["tests.dbfixtures"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from archive.db.engine import Database, open_database

__all__ = ["database", "db_url", "postgres_url", "sqlite_url"]

POSTGRES_ENV = "MORGUE_TEST_POSTGRES_URL"


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'db' / 'morgue.sqlite3').as_posix()}"


def _postgres_base_url() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if base:
        return base
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set but CI is: the PostgreSQL tests must run in CI")
    pytest.skip(f"{POSTGRES_ENV} is not set")


def _postgres_schema_url() -> Iterator[str]:
    """A URL whose connections see only a new, empty schema; the schema is dropped afterwards."""
    base = make_url(_postgres_base_url())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    # The application name lets teardown end connections a test forgot to close.
    app_name = f"morgue-test-{schema}"
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        pytest.fail(f"cannot create a test schema on {base.render_as_string()}: {exc}")
    url = base.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": app_name}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": app_name},
            )
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite URL for a database file that does not exist yet (nor does its directory)."""
    return _sqlite_url(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL bound to a fresh empty schema (skipped without a server, failed in CI)."""
    yield from _postgres_schema_url()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path)
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """An opened, migrated database on each backend, closed after the test."""
    db = open_database(db_url)
    try:
        yield db
    finally:
        db.close()
