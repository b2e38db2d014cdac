"""The text each sampled article's page shows outside its story (``site_articles.chrome``): a
page of the site that shows the same menus, forms and boxes around a notice says no more than
its notice (``archive.liveness.site_template``).

Revision ID: 0014_site_chrome
Revises: 0013_site_articles
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0014_site_chrome"
down_revision: str | Sequence[str] | None = "0013_site_articles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Samples kept before have none: they count with their story's text alone, as before.
    with op.batch_alter_table("site_articles") as batch:
        batch.add_column(sa.Column("chrome", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_articles") as batch:
        batch.drop_column("chrome")
