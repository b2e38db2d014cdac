"""``morgue db``: manage the metadata database's schema."""

from __future__ import annotations

import typer

from archive.db.engine import current_revision, upgrade

from .options import DataDirOption, DbOption, resolve_paths

__all__ = ["register"]

db_app = typer.Typer(
    help="""Manage the metadata database.

    Example:

      morgue --db postgresql+psycopg://postgres@127.0.0.1/morgue db upgrade
    """,
    no_args_is_help=True,
)


@db_app.command("upgrade")
def upgrade_command(
    ctx: typer.Context, data_dir: DataDirOption = None, db: DbOption = None
) -> None:
    """Apply every pending schema migration (also done automatically on first use).

    Example:

      morgue --db postgresql+psycopg://postgres@127.0.0.1/morgue db upgrade
    """
    paths = resolve_paths(ctx, data_dir, db)
    upgrade(paths.db_url)
    typer.echo(f"{paths.db_url}: schema at revision {current_revision(paths.db_url)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
