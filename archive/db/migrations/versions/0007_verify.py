"""What ``morgue verify`` and resumption record: rows whose WARC record is gone, runs whose
records have been reconciled with the DB, and an index to find a capture by its record id.

Revision ID: 0007_verify
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0007_verify"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("record_error", sa.Text(), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_captures_warc_record_id", "captures", ["warc_record_id"])
    # Runs that ended before this revision were resumed by the code of their time (which
    # fetched their unstored pages again): `morgue verify --repair` finds what that left.
    op.execute(
        "UPDATE runs SET reconciled_at = COALESCE(finished_at, started_at) "
        "WHERE status <> 'running'"
    )


def downgrade() -> None:
    op.drop_index("ix_captures_warc_record_id", table_name="captures")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("reconciled_at")
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("record_error")
