"""Requisites looked up by URL: the freshness window (``REQUISITES_REFRESH_AFTER``) finds the
earlier fetch of a page's requisite without reading the whole table.

Revision ID: 0012_requisite_urls
Revises: 0011_requisites
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0012_requisite_urls"
down_revision: str | Sequence[str] | None = "0011_requisites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Hashed on PostgreSQL: a B-tree refuses keys past about 2.7 kB, and URLs can be longer.
    op.create_index("ix_requisites_url", "requisites", ["url"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_index("ix_requisites_url", table_name="requisites")
