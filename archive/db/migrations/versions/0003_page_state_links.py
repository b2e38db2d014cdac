"""A page's liveness state, and the links cited by each capture's article.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("dead_since", _TS, nullable=True))
        batch.create_index("ix_pages_state", ["state"])
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name="fk_links_capture_id_captures",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
    )
    op.create_index("ix_links_capture_id", "links", ["capture_id"])


def downgrade() -> None:
    op.drop_index("ix_links_capture_id", table_name="links")
    op.drop_table("links")
    with op.batch_alter_table("pages") as batch:
        batch.drop_index("ix_pages_state")
        batch.drop_column("dead_since")
        batch.drop_column("state")
