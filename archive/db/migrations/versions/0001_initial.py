"""Initial schema: pages, runs, captures.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A migration must not import the live models (they change later); these mirror them as of 0001.
_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("original_url", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_captured_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pages"),
        sa.UniqueConstraint("url", name="uq_pages_url"),
    )
    op.create_index("ix_pages_host", "pages", ["host"])

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("args", _JSON, nullable=True),
        sa.Column("stats", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )

    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("published", sa.Text(), nullable=True),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.Column("extract_error", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("recovered_from", sa.Text(), nullable=True),
        sa.Column("redirects", _JSON, nullable=True),
        sa.Column("warc_file", sa.Text(), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_length", sa.BigInteger(), nullable=True),
        sa.Column("warc_record_id", sa.Text(), nullable=True),
        sa.Column("payload_digest", sa.Text(), nullable=True),
        sa.Column("metadata_warc_file", sa.Text(), nullable=True),
        sa.Column("metadata_warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("metadata_warc_length", sa.BigInteger(), nullable=True),
        sa.Column("metadata_record_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_captures"),
        sa.ForeignKeyConstraint(
            ["page_id"], ["pages.id"], name="fk_captures_page_id_pages", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_captures_run_id_runs", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_captures_fetched_at", "captures", ["fetched_at"])
    op.create_index("ix_captures_verdict", "captures", ["verdict"])
    op.create_index("ix_captures_run_id", "captures", ["run_id"])
    op.create_index("ix_captures_page_id_fetched_at", "captures", ["page_id", "fetched_at"])
    op.create_index("ix_captures_url", "captures", ["url"], postgresql_using="hash")
    op.create_index("ix_captures_final_url", "captures", ["final_url"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_table("captures")
    op.drop_table("runs")
    op.drop_table("pages")
