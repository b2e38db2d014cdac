"""Alembic environment for morgue's metadata database.

``archive.db.engine`` hands over an open connection in ``config.attributes["connection"]``, already
inside the transaction that holds the migration lock, so the migrations run within it. The
``sqlalchemy.url`` option is a fallback for running the ``alembic`` command by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from archive.db.models import Base

__all__: list[str] = []

_config = context.config
_target = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=_config.get_main_option("sqlalchemy.url"),
        target_metadata=_target,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = _config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure(connection)
        return
    url = _config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migration environment")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
