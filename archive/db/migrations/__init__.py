"""Alembic migrations of the metadata database, shipped inside the package.

``archive.db.engine`` builds the Alembic configuration in code (``script_location`` is this
directory), so an installed morgue migrates its database without an ``alembic.ini``.
"""

__all__: list[str] = []
