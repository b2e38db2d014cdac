"""Where an archive lives: its data directory, and the database that describes it.

A data directory holds ``warcs/`` (the WARC files), ``logs/`` (one log per run) and, by
default, the SQLite database ``morgue.sqlite3``; ``db_url`` may name PostgreSQL instead.
Every face (CLI, scheduler, Python code) resolves its options to one ``DataPaths``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DATA_DIR", "DataPaths", "data_paths", "default_db_url"]

DEFAULT_DATA_DIR = Path("morgue-data")


def default_db_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file in the data directory."""
    return f"sqlite:///{(Path(data_dir) / 'morgue.sqlite3').as_posix()}"


@dataclass(frozen=True, slots=True)
class DataPaths:
    data_dir: Path
    db_url: str

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warcs"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def data_paths(
    data_dir: str | os.PathLike[str] | None = None, db_url: str | None = None
) -> DataPaths:
    """``data_dir`` (default ``MORGUE_DATA_DIR``, else ./morgue-data) made absolute, and
    ``db_url`` (default ``MORGUE_DB_URL``, else SQLite in the data dir)."""
    chosen = (
        Path(data_dir)
        if data_dir is not None
        else Path(os.environ["MORGUE_DATA_DIR"])
        if os.environ.get("MORGUE_DATA_DIR")
        else DEFAULT_DATA_DIR
    )
    chosen = chosen.expanduser().absolute()
    return DataPaths(chosen, db_url or os.environ.get("MORGUE_DB_URL") or default_db_url(chosen))
