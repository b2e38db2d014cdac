"""Claims of pages by crawls, and the heartbeat that tells a live run from a dead one.

Revision ID: 0009_claims
Revises: 0008_fts_tools
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0009_claims"
down_revision: str | Sequence[str] | None = "0008_fts_tools"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Added columns only: SQLite takes them with ALTER TABLE, without rebuilding runs.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", _TS, nullable=True))
        batch.add_column(sa.Column("alive_until", _TS, nullable=True))
        batch.add_column(sa.Column("host", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    op.create_table(
        "claims",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_claims_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name="pk_claims"),
    )
    op.create_index("ix_claims_run_id", "claims", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_claims_run_id", table_name="claims")
    op.drop_table("claims")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
        batch.drop_column("alive_until")
        batch.drop_column("heartbeat_at")
