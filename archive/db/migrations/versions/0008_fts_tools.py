"""The SQLite full-text table recreated so that sqlite-utils and datasette find it.

Migration 0004 declared ``captures_fts`` with ``content='captures'``. sqlite-utils (``search``,
``Table.detect_fts``) and datasette (its search box) find a table's FTS table by matching the
DDL in ``sqlite_master`` against ``content="captures"`` or ``content=[captures]`` only, so
neither saw it. FTS5 options cannot be altered: the table and its triggers are dropped,
created again with ``archive.query.fulltext``'s statements (double quotes) and the index rebuilt
from ``captures``. PostgreSQL (a ``tsvector`` column) is left as it is.

The downgrade keeps the new table: morgue searches it the same way, whatever the quoting.

Revision ID: 0008_fts_tools
Revises: 0007_verify
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from archive.db.search_index import create_sqlite_search, drop_sqlite_search

__all__ = ["downgrade", "upgrade"]

revision: str = "0008_fts_tools"
down_revision: str | Sequence[str] | None = "0007_verify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in (*drop_sqlite_search(), *create_sqlite_search()):
        op.execute(statement)


def downgrade() -> None:
    pass
