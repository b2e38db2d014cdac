"""The full-text index of captures, as schema objects: names and DDL for both engines.

- SQLite: an FTS5 table ``captures_fts`` (columns ``title``, ``text``) whose content lives in
  ``captures`` ("external content"), kept in sync by the triggers ``captures_ai``,
  ``captures_ad`` and ``captures_au``. Tokenizer ``unicode61 remove_diacritics 2``. The names
  follow sqlite-utils, and the content table is written ``content="captures"``, double-quoted:
  sqlite-utils and datasette find a table's FTS table by matching its DDL against
  ``content="TABLE"`` or ``content=[TABLE]`` (not ``content='TABLE'``), so ``sqlite-utils
  search`` and datasette's search box work on ``captures`` as they are (migration 0007).
- PostgreSQL: a stored generated column ``captures.search_vector`` (``tsvector``, text search
  configuration ``simple``, title weighted ``A`` and text ``B``) with a GIN index.

The migrations create and drop these objects; ``archive.query.fulltext`` parses searches and
renders them against them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "FTS_TABLE",
    "PG_SEARCH_COLUMN",
    "PG_SEARCH_CONFIG",
    "PG_SEARCH_INDEX",
    "PG_TEXT_LIMIT",
    "SEARCH_SCHEMA_NAMES",
    "SQLITE_TRIGGERS",
    "create_postgresql_search",
    "create_sqlite_search",
    "drop_postgresql_search",
    "drop_sqlite_search",
    "is_search_object",
]

FTS_TABLE = "captures_fts"
SQLITE_TRIGGERS = ("captures_ai", "captures_ad", "captures_au")
PG_SEARCH_COLUMN = "search_vector"
PG_SEARCH_INDEX = "ix_captures_search_vector"
PG_SEARCH_CONFIG = "simple"
# A tsvector is limited to 1 MB: PostgreSQL indexes the first this many characters of the text.
PG_TEXT_LIMIT = 250_000
# Schema objects that exist outside archive.db.models (tests/test_db.py leaves them out of its
# comparison of the migrations with the models).
SEARCH_SCHEMA_NAMES = frozenset({FTS_TABLE, PG_SEARCH_COLUMN, PG_SEARCH_INDEX, *SQLITE_TRIGGERS})


_SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    # Double quotes, not single: see the module docstring (what sqlite-utils and datasette match).
    'title, text, content="captures", content_rowid="id", '
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER captures_ai AFTER INSERT ON captures BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER captures_ad AFTER DELETE ON captures BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) "
    f"VALUES ('delete', old.id, old.title, old.text); END",
    f"CREATE TRIGGER captures_au AFTER UPDATE OF title, text ON captures BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) "
    f"VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    # Index what is already there.
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)

_PG_CREATE = (
    f"ALTER TABLE captures ADD COLUMN {PG_SEARCH_COLUMN} tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector('{PG_SEARCH_CONFIG}'::regconfig, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{PG_SEARCH_CONFIG}'::regconfig, "
    f"left(coalesce(text, ''), {PG_TEXT_LIMIT})), 'B')) STORED",
    f"CREATE INDEX {PG_SEARCH_INDEX} ON captures USING gin ({PG_SEARCH_COLUMN})",
)


def create_sqlite_search() -> Sequence[str]:
    """DDL for the FTS5 table and its triggers. A migration that rebuilds ``captures`` in batch
    mode drops the triggers with the old table: it must run ``drop_sqlite_search()`` before and
    these statements after."""
    return _SQLITE_CREATE


def drop_sqlite_search() -> Sequence[str]:
    return (*(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
            f"DROP TABLE IF EXISTS {FTS_TABLE}")  # fmt: skip


def create_postgresql_search() -> Sequence[str]:
    """DDL for the generated ``tsvector`` column and its GIN index."""
    return _PG_CREATE


def drop_postgresql_search() -> Sequence[str]:
    return (
        f"DROP INDEX IF EXISTS {PG_SEARCH_INDEX}",
        f"ALTER TABLE captures DROP COLUMN IF EXISTS {PG_SEARCH_COLUMN}",
    )


def is_search_object(name: str | None) -> bool:
    """Whether a reflected table, column or index belongs to full-text search (see above)."""
    if name is None:
        return False
    return name in SEARCH_SCHEMA_NAMES or name.startswith(f"{FTS_TABLE}_")
