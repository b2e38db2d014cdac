"""Opening the metadata database: engine, sessions, SQLite tuning and automatic migration.

``open_database`` is the one entry point. It brings the schema up to the newest migration on
first use, so every command (and a notebook) can simply open the database and go. Two processes
that open a new database at the same moment are serialised by a lock (SQLite's write lock, a
PostgreSQL advisory lock) and the second finds the schema already current.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    any_,
    bindparam,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from archive.exceptions import DatabaseError, InvalidInput
from archive.paths import default_db_url

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "ARRAY_CHUNK",
    "CONNECT_TIMEOUT_ENV",
    "DEFAULT_CONNECT_TIMEOUT",
    "IN_CHUNK",
    "Database",
    "chunked",
    "current_revision",
    "default_db_url",
    "error_line",
    "head_revision",
    "one_of",
    "open_database",
    "open_existing_database",
    "sqlite_path",
    "upgrade",
]

logger = logging.getLogger(__name__)

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SQLITE_BUSY_TIMEOUT_S = 30
_SQLITE_PRAGMAS = (
    # busy_timeout first, so that the pragmas after it wait for locks where SQLite allows it.
    f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_S * 1000}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
# An arbitrary constant shared by every morgue process: the key of the migration advisory lock.
_PG_MIGRATION_LOCK = 0x6D6F726775
_BEGIN_OPTION = "morgue_sqlite_begin"
_DEFERRED = {_BEGIN_OPTION: "DEFERRED"}
_VERSION_TABLE = "alembic_version"

#: Seconds to wait for a database server to answer a new connection (PostgreSQL), unless the URL
#: says otherwise (``?connect_timeout=N``): a port that accepts and never answers must not hang
#: a command. The environment variable overrides the default.
DEFAULT_CONNECT_TIMEOUT = 10.0
CONNECT_TIMEOUT_ENV = "MORGUE_DB_CONNECT_TIMEOUT"

#: Values bound in one ``IN (...)`` at most. A statement may bind 999 variables on SQLite before
#: 3.32, 32,766 after (250,000 in Debian's build), 65,535 on PostgreSQL: a list as long as a
#: user's feed or archive is split, never sent whole.
IN_CHUNK = 400
#: Values in one array parameter on PostgreSQL (``= ANY(...)``), which counts as one variable.
ARRAY_CHUNK = 10_000

_T = TypeVar("_T")


def chunked(items: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_of(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], values: Iterable[Any], dialect: str
) -> Iterator[ColumnElement[bool]]:
    """Conditions ``column IN values``, each small enough for one statement; together they
    cover ``values``, however many. Run one statement per condition.

    On PostgreSQL each is ``column = ANY(array)``: one parameter whatever its length, and a plan
    that uses the column's index, where 400 separate parameters got a scan of the table."""
    items = list(values)
    if dialect == "postgresql":
        for part in chunked(items, ARRAY_CHUNK):
            array = bindparam(None, list(part), type_=ARRAY(column.type))
            yield column == any_(array)
    else:
        for part in chunked(items):
            yield column.in_(part)


def _json_dumps(value: Any) -> str:
    # Run args and stats may hold paths or datetimes; store their text rather than fail a run.
    return json.dumps(value, default=str, ensure_ascii=False)


class _BadJSON(ValueError):
    """A JSON column holds text that is not JSON (a hand-edited or damaged SQLite file)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _BadJSON(text) from None


def _find_bad_json(engine: Engine) -> str | None:
    """``table.column of row N`` for the first JSON value SQLite does not accept, if any."""
    from sqlalchemy import JSON

    from archive.db.models import Base

    try:
        with engine.connect().execution_options(**_DEFERRED) as conn:
            for table in Base.metadata.sorted_tables:
                keys = list(table.primary_key.columns)
                for column in table.columns:
                    if not isinstance(column.type, JSON) or len(keys) != 1:
                        continue
                    sql = (
                        f'SELECT "{keys[0].name}" FROM "{table.name}" WHERE "{column.name}" IS '
                        f'NOT NULL AND json_valid("{column.name}") = 0 LIMIT 1'
                    )
                    row = conn.exec_driver_sql(sql).first()
                    if row is not None:
                        return f"{table.name}.{column.name} of row {row[0]}"
            conn.rollback()
    except SQLAlchemyError:  # json_valid missing (SQLite without JSON1): say less
        return None
    return None


def _safe_url(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def error_line(exc: BaseException) -> str:
    """A database error as one line: the driver's message, without SQLAlchemy's wrapping."""
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    source = orig if orig is not None else exc
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    return lines[0] if lines else type(source).__name__


def _pragma_with_retry(cursor: Any, pragma: str) -> None:
    # Switching a brand-new file to WAL needs an exclusive lock and SQLite reports a conflict at
    # once, without calling the busy handler; so two processes creating the database together
    # would fail. Wait for the other one, as busy_timeout would, instead.
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            cursor.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module: it would start transactions only before DML,
        # which breaks transactional DDL and lets a read-then-write transaction fail with
        # "database is locked" instead of waiting on busy_timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                _pragma_with_retry(cursor, pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, where busy_timeout can wait for it; read-only
        # sessions ask for DEFERRED so that they never hold up writers.
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_file(url: str | URL) -> Path | None:
    """The file behind a SQLite URL; None for other backends and in-memory databases."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename: leave it to SQLite
        return None
    return Path(database).expanduser()


def _connect_timeout() -> float:
    value = os.environ.get(CONNECT_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_CONNECT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise InvalidInput(f"{CONNECT_TIMEOUT_ENV}={value!r}: expected a number of seconds > 0")
    return seconds


def _postgresql_options(parsed: URL) -> dict[str, Any]:
    """Checks and connection arguments for a PostgreSQL URL."""
    if not parsed.database and not {"dbname", "service"} & set(parsed.query):
        # libpq would pick a database named after the user and create morgue's tables there.
        raise InvalidInput(
            f"the database URL {_safe_url(parsed)} names no database: add one, e.g. "
            "postgresql+psycopg://user@host/morgue"
        )
    if parsed.get_driver_name() not in ("psycopg", "psycopg2") or "connect_timeout" in parsed.query:
        return {}
    # libpq counts whole seconds, at least 2.
    return {"connect_timeout": max(2, round(_connect_timeout()))}


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"invalid database URL {url!r}") from None
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    path = _sqlite_file(parsed)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"cannot create the directory of {path}: {exc.strerror or exc}"
            ) from None
    if parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = _postgresql_options(parsed)
    if parsed.get_backend_name() != "sqlite":
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise DatabaseError(
            f"unknown database driver {parsed.drivername!r} in {_safe_url(parsed)}"
        ) from None
    except ImportError as exc:
        raise DatabaseError(
            f"database driver for {parsed.drivername!r} is not installed ({exc.name or exc})"
        ) from None
    except (ArgumentError, TypeError) as exc:
        raise DatabaseError(f"invalid database URL {_safe_url(parsed)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine)
    return engine


#: The newest revision in migrations/versions. Known without Alembic, which takes a tenth of a
#: second to import, so that opening a current database needs none of it (a test keeps the two
#: in step).
SCHEMA_HEAD = "0014_site_chrome"


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of morgue knows."""
    return SCHEMA_HEAD


def _revision_of(conn: Connection) -> str | None:
    # Read the version table directly: MigrationContext would log two INFO lines on every open.
    if not inspect(conn).has_table(_VERSION_TABLE):
        return None
    revision = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()
    return str(revision) if revision is not None else None


def _check_known(revision: str | None) -> None:
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(_alembic_config())
    try:
        script.get_revision(revision)
    except CommandError:
        raise DatabaseError(
            f"the database schema is at revision {revision!r}, which this morgue does not know: "
            "upgrade morgue"
        ) from None


def _migrate(engine: Engine) -> bool:
    """Bring the schema to head under a lock; True when this call applied migrations."""
    head = head_revision()
    with engine.connect().execution_options(**_DEFERRED) as conn:
        if _revision_of(conn) == head:
            conn.rollback()
            return False
        conn.rollback()
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        # On SQLite the IMMEDIATE transaction is the lock. Whoever waited on it re-reads here.
        current = _revision_of(conn)
        if current == head:
            return False
        _check_known(current)
        logger.info("Migrating database from %s to %s", current or "empty", head)
        from alembic import command
        from alembic.util import CommandError

        try:
            command.upgrade(_alembic_config(conn), "head")
        except CommandError as exc:
            raise DatabaseError(f"cannot migrate the database: {_one_line(exc)}") from exc
    return True


class Database:
    """An engine and its sessions. Use ``open_database`` to get one with the schema in place."""

    def __init__(self, engine: Engine, *, migrated: bool = False) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=False)
        self.dialect = engine.dialect.name
        # Whether opening this database applied migrations (a test checks re-opening does not).
        self.migrated = migrated
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            bind=engine.execution_options(**_DEFERRED), expire_on_commit=False
        )

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    @property
    def safe_url(self) -> str:
        """The URL to show people: the password hidden."""
        return _safe_url(self.engine.url)

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on an exception.

        On SQLite a session takes the write lock when it begins (waiting up to the busy timeout
        for it), so that a read followed by a write cannot fail under concurrency; pass
        ``readonly=True`` for queries, which then never block writers. Objects stay usable after
        the session ends (``expire_on_commit=False``). SQLAlchemy errors become ``DatabaseError``.
        """
        factory = self._read_sessions if readonly else self._sessions
        try:
            with factory() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database error: {_one_line(exc)}") from exc
        except _BadJSON as exc:
            where = _find_bad_json(self.engine) if self.dialect == "sqlite" else None
            raise DatabaseError(
                f"the database holds a value that is not JSON: {where or repr(exc.text[:60])}"
                f"{f' ({exc.text[:60]!r})' if where else ''}; run `morgue verify` to check the "
                "archive, then correct or clear the value"
            ) from None

    def close(self) -> None:
        """Close every pooled connection (the object can still open new ones afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_existing_database(url: str) -> Database:
    """Open a database for reading; a SQLite file that is not there is an error, not created."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise InvalidInput(f"no morgue database at {path} (check --data-dir or --db)")
    return open_database(url)


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database at ``url``, creating and migrating it as needed.

    Raises ``DatabaseError`` with a one-line message for a bad URL, an unknown driver, a server
    that cannot be reached or a schema newer than this version of morgue.
    """
    engine = _create_engine(url)
    try:
        migrated = _migrate(engine) if migrate else False
    except DatabaseError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {_safe_url(url)}: {_one_line(exc)}") from exc
    return Database(engine, migrated=migrated)


def upgrade(url: str) -> str:
    """Apply pending migrations (``morgue db upgrade``); returns the revision now in place."""
    db = open_database(url)
    db.close()
    return head_revision()


def current_revision(url: str) -> str | None:
    """The schema revision of the database at ``url``; None for an empty or missing database."""
    path = _sqlite_file(url)
    # Asking must not create the file (nor its directory) as a side effect.
    if path is not None and not path.exists():
        return None
    engine = _create_engine(url)
    try:
        with engine.connect().execution_options(**_DEFERRED) as conn:
            revision = _revision_of(conn)
            conn.rollback()
            return revision
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {_safe_url(url)}: {_one_line(exc)}") from exc
    finally:
        engine.dispose()
