"""Page requisites: the images, stylesheets, fonts and scripts fetched with a capture's page;
and the screenshot record of a capture rendered in a browser.

Revision ID: 0011_requisites
Revises: 0010_schedule_requests
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0011_requisites"
down_revision: str | Sequence[str] | None = "0010_schedule_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A new table, and columns added to captures (SQLite takes them without a rebuild).
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("screenshot_warc_file", sa.Text(), nullable=True))
        batch.add_column(sa.Column("screenshot_warc_offset", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("screenshot_warc_length", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("screenshot_record_id", sa.Text(), nullable=True))
    op.create_table(
        "requisites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("payload_digest", sa.Text(), nullable=True),
        sa.Column("revisit", sa.Boolean(), nullable=False),
        sa.Column("reused", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("warc_file", sa.Text(), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_length", sa.BigInteger(), nullable=True),
        sa.Column("warc_record_id", sa.Text(), nullable=True),
        sa.Column("warc_date", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name="fk_requisites_capture_id_captures",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_requisites"),
    )
    op.create_index("ix_requisites_capture_id", "requisites", ["capture_id"])
    op.create_index("ix_requisites_payload_digest", "requisites", ["payload_digest"])


def downgrade() -> None:
    op.drop_index("ix_requisites_payload_digest", table_name="requisites")
    op.drop_index("ix_requisites_capture_id", table_name="requisites")
    op.drop_table("requisites")
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("screenshot_record_id")
        batch.drop_column("screenshot_warc_length")
        batch.drop_column("screenshot_warc_offset")
        batch.drop_column("screenshot_warc_file")
