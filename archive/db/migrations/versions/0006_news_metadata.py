"""News metadata of each capture: the list of authors, the modification date, field sources.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("authors", _JSON, nullable=True))
        batch.add_column(sa.Column("date_modified", sa.Text(), nullable=True))
        batch.add_column(sa.Column("field_sources", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("field_sources")
        batch.drop_column("date_modified")
        batch.drop_column("authors")
