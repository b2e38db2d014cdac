"""Full-text search: the query syntax, and FTS5 / tsvector behind it on both backends."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import delete, inspect, text, update

from archive.captures.table import save_capture
from archive.db.engine import Database, open_database
from archive.db.models import Capture
from archive.query.capture_query import (
    MARK_END,
    MARK_START,
    CaptureQuery,
    count_captures,
    run_query,
)
from archive.query.fulltext import (
    And,
    InvalidSearch,
    Or,
    Term,
    parse_search,
    to_fts5,
    to_tsquery,
)
from tests.querydata import CAPTURES, fill

# -- the syntax ---------------------------------------------------------------------------------


def test_parse_words_phrases_prefixes() -> None:
    assert parse_search("flood") == Term(("flood",))
    assert parse_search("  Flood  ") == Term(("Flood",))
    assert parse_search("flood warning") == And((Term(("flood",)), Term(("warning",))))
    assert parse_search('"flood warning"') == Term(("flood", "warning"))
    assert parse_search("libr*") == Term(("libr",), prefix=True)
    assert parse_search('"reading ro"*') == Term(("reading", "ro"), prefix=True)
    assert parse_search("e-mail") == Term(("e", "mail"))
    assert parse_search("year's") == Term(("year", "s"))
    assert parse_search("budget AND levy") == And((Term(("budget",)), Term(("levy",))))


def test_parse_or_not_and_groups() -> None:
    assert parse_search("budget OR levy") == Or((Term(("budget",)), Term(("levy",))))
    # OR binds tighter than the implicit AND.
    assert parse_search("town budget OR levy") == And(
        (Term(("town",)), Or((Term(("budget",)), Term(("levy",)))))
    )
    assert parse_search("budget -school") == And((Term(("budget",)),), (Term(("school",)),))
    assert parse_search("budget NOT school") == parse_search("budget -school")
    assert parse_search("(budget OR levy) -school") == And(
        (Or((Term(("budget",)), Term(("levy",)))),), (Term(("school",)),)
    )
    # Lowercase "or" is a word, not an operator; a lone "-" is punctuation.
    assert parse_search("this or that") == And((Term(("this",)), Term(("or",)), Term(("that",))))
    assert parse_search("flood - warning") == And((Term(("flood",)), Term(("warning",))))


@pytest.mark.parametrize(
    ("search", "fragment"),
    [
        ("", "empty search"),
        ("   ", "empty search"),
        ('"flood warning', "unbalanced quote"),
        ("(flood", "unbalanced parenthesis"),
        ("flood)", "unbalanced parenthesis"),
        ("OR flood", "OR needs a word"),
        ("flood OR", "OR needs a word"),
        ("flood OR OR rain", "OR needs a word"),
        ("-flood", "every word is excluded"),
        ("NOT flood -rain", "every word is excluded"),
        ("flood OR -rain", "excluded word cannot be one side of OR"),
        ("flood NOT", "nothing after"),
        ("!!! ???", "no word to search for"),
        ("()", "no word to search for"),
    ],
)
def test_bad_syntax_is_one_line(search: str, fragment: str) -> None:
    with pytest.raises(InvalidSearch) as info:
        parse_search(search)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_rendering() -> None:
    node = parse_search('(budget OR levy) "town council" libr* -school')
    assert to_fts5(node) == (
        '((("budget" OR "levy") AND "town council" AND "libr"*) NOT ("school"))'
    )
    assert to_tsquery(node) == (
        "(('budget' | 'levy') & ('town' <-> 'council') & 'libr':* & !'school')"
    )


# -- on the database ----------------------------------------------------------------------------


@pytest.fixture
def ids(database: Database) -> dict[str, int]:
    return fill(database)


def search(database: Database, ids: dict[str, int], words: str, **query: object) -> list[str]:
    by_id = {capture_id: name for name, capture_id in ids.items()}
    found = run_query(database, CaptureQuery(search=words, **query))  # type: ignore[arg-type]
    return [by_id[row.capture.id] for row in found]


def test_a_word_of_one_article_finds_it(database: Database, ids: dict[str, int]) -> None:
    assert search(database, ids, "sandbags") == ["flood"]
    assert search(database, ids, "SANDBAGS") == ["flood"]
    assert search(database, ids, "awnings") == ["market"]
    assert search(database, ids, "café") == ["library"]
    assert search(database, ids, "zeppelin") == []


def test_phrase_prefix_or_not(database: Database, ids: dict[str, int]) -> None:
    assert search(database, ids, '"flood warning"') == ["flood"]
    assert search(database, ids, '"warning flood"') == []
    assert sorted(search(database, ids, "libr*")) == ["library"]
    assert sorted(search(database, ids, "sandbags OR awnings")) == ["flood", "market"]
    assert sorted(search(database, ids, "budget")) == ["budget", "market"]
    assert search(database, ids, "budget -awnings") == ["budget"]
    assert search(database, ids, "(levy OR awnings) -market") == ["budget"]


def test_ranking_puts_the_best_match_first(database: Database, ids: dict[str, int]) -> None:
    # "budget" is in the budget article's title and text, only in the market article's text.
    found = run_query(database, CaptureQuery(search="budget"))
    assert [row.capture.id for row in found] == [ids["budget"], ids["market"]]
    assert found[0].rank is not None and found[1].rank is not None
    assert found[0].rank > found[1].rank
    # Other orders on request.
    assert search(database, ids, "budget", sort="oldest") == ["budget", "market"]
    assert search(database, ids, "budget", sort="newest") == ["market", "budget"]


def test_search_combines_with_filters(database: Database, ids: dict[str, int]) -> None:
    assert search(database, ids, "budget", domains=("sub.news.example",)) == ["market"]
    assert search(database, ids, "page OR removed", verdicts=("soft_404",)) == ["school"]
    assert search(database, ids, "flood", latest=True) == []  # the page's newest is a 404
    assert search(database, ids, "flood", states=("dead_suspected",)) == ["flood"]
    assert count_captures(database, CaptureQuery(search="budget OR flood")) == 3


def test_snippet_highlights_the_words(database: Database, ids: dict[str, int]) -> None:
    (row,) = run_query(database, CaptureQuery(search="sandbags", snippets=True))
    assert row.snippet is not None
    assert f"{MARK_START}Sandbags{MARK_END}" in row.snippet
    # Title-only matches show the title.
    (row,) = run_query(database, CaptureQuery(search="renovation", snippets=True))
    assert row.snippet == f"Library reopens after {MARK_START}renovation{MARK_END}"
    (row,) = run_query(database, CaptureQuery(search="renovation"))
    assert row.snippet is None  # not asked for


def test_index_follows_inserts_updates_and_deletes(database: Database, ids: dict[str, int]) -> None:
    with database.session() as session:
        session.execute(
            update(Capture)
            .where(Capture.id == ids["decoy"])
            .values(text="Hailstones the size of marbles fell on Tuesday.", title="Hail")
        )
    assert search(database, ids, "hailstones") == ["decoy"]
    assert search(database, ids, "sunny") == []  # the old text is gone from the index
    assert search(database, ids, "hail") == ["decoy"]
    # An update of other columns leaves the index as it was.
    with database.session() as session:
        session.execute(update(Capture).where(Capture.id == ids["decoy"]).values(verdict="ok"))
    assert search(database, ids, "hailstones") == ["decoy"]
    with database.session() as session:
        session.execute(delete(Capture).where(Capture.id == ids["decoy"]))
    assert search(database, ids, "hailstones OR hail") == []
    # A new capture is searchable at once.
    from tests.querydata import _record

    values = ("https://news.example/new", CAPTURES["budget"][1], "ok", "http_200", 200,
              "Bridge reopens", "The old stone bridge reopened to traffic.")  # fmt: skip
    new_id = save_capture(database, _record(values, 99))
    found = run_query(database, CaptureQuery(search="bridge"))
    assert [row.capture.id for row in found] == [new_id]


def test_bad_syntax_fails_before_touching_the_database(database: Database) -> None:
    with pytest.raises(InvalidSearch):
        CaptureQuery(search='"unclosed')


def test_search_schema_objects(database: Database) -> None:
    names = set(inspect(database.engine).get_table_names())
    if database.dialect == "sqlite":
        assert "captures_fts" in names
        with database.engine.connect() as conn:
            triggers = {
                row[0]
                for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
            }
            conn.rollback()
        assert triggers >= {"captures_ai", "captures_ad", "captures_au"}
    else:
        columns = {c["name"] for c in inspect(database.engine).get_columns("captures")}
        indexes = {i["name"] for i in inspect(database.engine).get_indexes("captures")}
        assert "search_vector" in columns
        assert "ix_captures_search_vector" in indexes


def test_migration_indexes_existing_captures(db_url: str) -> None:
    """Captures stored before 0004 are searchable after it; a downgrade removes the index."""
    from alembic import command

    from archive.db.engine import _alembic_config  # the same configuration open_database uses

    with open_database(db_url) as db:
        ids = fill(db)
        with db.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0003")
        with db.engine.begin() as conn:
            if db.dialect == "sqlite":
                assert not conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name = 'captures_fts'")
                ).first()
            else:
                assert "search_vector" not in {
                    c["name"] for c in inspect(conn).get_columns("captures")
                }
            command.upgrade(_alembic_config(conn), "head")
        found = run_query(db, CaptureQuery(search="sandbags"))
        assert [row.capture.id for row in found] == [ids["flood"]]


def test_sqlite_file_is_searchable_by_ordinary_tools(sqlite_url: str) -> None:
    """datasette and sqlite-utils find ``captures_fts`` by its name and content table."""
    with open_database(sqlite_url) as db:
        fill(db)
        path = db.engine.url.database
    assert path
    plain = sqlite3.connect(path)
    try:
        rows = plain.execute(
            "SELECT captures.title FROM captures JOIN captures_fts ON captures.id = "
            "captures_fts.rowid WHERE captures_fts MATCH 'sandbags'"
        ).fetchall()
        config = plain.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'captures_fts'"
        ).fetchone()[0]
    finally:
        plain.close()
    assert rows == [("River flood warning issued",)]
    assert 'content="captures"' in config
