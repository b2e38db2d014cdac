"""Schedules keep the crawl they run as the library's request, not only as CLI arguments.

Revision ID: 0010_schedule_requests
Revises: 0009_claims
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0010_schedule_requests"
down_revision: str | Sequence[str] | None = "0009_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Schedules added before hold only their arguments: the CLI fills the request in the
    # first time it runs them (archive.cli.schedule_cmd).
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("crawl_request", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("crawl_request")
