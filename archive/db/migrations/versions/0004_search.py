"""Full-text search over captures: FTS5 on SQLite, a tsvector column and GIN index on PostgreSQL.

The statements live in ``archive.query.fulltext`` (which also explains the query syntax); this
migration picks the ones for the dialect it runs on. Neither object is in ``archive.db.models``:
``tests/test_db.py`` leaves them out of its comparison of migrations and models.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from archive.db.search_index import (
    create_postgresql_search,
    create_sqlite_search,
    drop_postgresql_search,
    drop_sqlite_search,
)

__all__ = ["downgrade", "upgrade"]

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(create_sqlite_search())
    elif dialect == "postgresql":
        _run(create_postgresql_search())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(drop_sqlite_search())
    elif dialect == "postgresql":
        _run(drop_postgresql_search())
