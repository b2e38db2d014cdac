"""Samples of each site's article template: the fingerprints of its live articles, for the
soft-404 rule that needs neither wording nor a probe (``archive.liveness.site_template``).

Revision ID: 0013_site_articles
Revises: 0012_requisite_urls
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0013_site_articles"
down_revision: str | Sequence[str] | None = "0012_requisite_urls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "site_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.Column("template", _JSON, nullable=False),
        sa.Column("closing", _JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name="fk_site_articles_capture_id_captures",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_site_articles"),
        sa.UniqueConstraint("capture_id", name="uq_site_articles_capture_id"),
    )
    op.create_index("ix_site_articles_host_fetched_at", "site_articles", ["host", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_site_articles_host_fetched_at", table_name="site_articles")
    op.drop_table("site_articles")
