"""Crawl sources and what they listed; scheduled crawls and their runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_polled_at", _TS, nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("kind", "url", name="uq_sources_kind_url"),
    )
    op.create_table(
        "discoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("published", _TS, nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("language", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_discoveries_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["pages.id"], name="fk_discoveries_page_id_pages", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_discoveries_run_id_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_discoveries"),
        sa.UniqueConstraint("source_id", "url", name="uq_discoveries_source_id_url"),
    )
    op.create_index("ix_discoveries_page_id", "discoveries", ["page_id"])
    op.create_index("ix_discoveries_url", "discoveries", ["url"], postgresql_using="hash")
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("crawl_args", _JSON, nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=True),
        sa.Column("cron", sa.Text(), nullable=True),
        sa.Column("adaptive", sa.Boolean(), nullable=False),
        sa.Column("min_interval_s", sa.Integer(), nullable=True),
        sa.Column("max_interval_s", sa.Integer(), nullable=True),
        sa.Column("interval_s", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("next_run_at", _TS, nullable=False),
        sa.Column("last_run_at", _TS, nullable=True),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.UniqueConstraint("name", name="uq_schedules_name"),
    )
    op.create_index("ix_schedules_next_run_at", "schedules", ["next_run_at"])
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("returncode", sa.Integer(), nullable=True),
        sa.Column("stats", _JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name="fk_schedule_runs_schedule_id_schedules",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_schedule_runs_run_id_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_runs"),
    )
    op.create_index(
        "ix_schedule_runs_schedule_id_started_at",
        "schedule_runs",
        ["schedule_id", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_runs_schedule_id_started_at", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index("ix_schedules_next_run_at", table_name="schedules")
    op.drop_table("schedules")
    op.drop_index("ix_discoveries_url", table_name="discoveries")
    op.drop_index("ix_discoveries_page_id", table_name="discoveries")
    op.drop_table("discoveries")
    op.drop_table("sources")
