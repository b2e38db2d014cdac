"""archive.query.capture_query: every filter, sort and limit, on SQLite and PostgreSQL
(``db_url``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.db.engine import Database
from archive.exceptions import InvalidInput
from archive.query.capture_query import CaptureQuery, count_captures, parse_time, run_query
from tests.querydata import CAPTURES, fill

ALL = list(CAPTURES)


@pytest.fixture
def ids(database: Database) -> dict[str, int]:
    return fill(database)


def names(database: Database, ids: dict[str, int], **query: object) -> list[str]:
    """The names of the captures a query returns, in the order returned."""
    by_id = {capture_id: name for name, capture_id in ids.items()}
    return [by_id[row.capture.id] for row in run_query(database, CaptureQuery(**query))]  # type: ignore[arg-type]


def newest_first(selected: list[str]) -> list[str]:
    return sorted(selected, key=lambda name: CAPTURES[name][1], reverse=True)


def test_no_filter_returns_every_capture_newest_first(
    database: Database, ids: dict[str, int]
) -> None:
    assert names(database, ids) == newest_first(ALL)
    assert count_captures(database, CaptureQuery()) == len(ALL)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (("ok",), ["budget", "flood", "library", "market", "decoy"]),
        (("not_found",), ["flood_gone"]),
        (("soft_404",), ["school"]),
        (("blocked",), ["blocked"]),
        (("server_error",), []),
        (("not_found", "soft_404"), ["flood_gone", "school"]),
    ],
)
def test_verdict(
    database: Database, ids: dict[str, int], verdicts: tuple[str, ...], expected: list[str]
) -> None:
    assert names(database, ids, verdicts=verdicts) == newest_first(expected)


def test_domain_includes_subdomains_but_not_lookalikes(
    database: Database, ids: dict[str, int]
) -> None:
    expected = ["budget", "flood", "flood_gone", "library", "market"]
    assert names(database, ids, domains=("news.example",)) == newest_first(expected)
    # Case, a scheme and a path are forgiven; notnews.example is not news.example.
    assert names(database, ids, domains=("https://NEWS.example/x",)) == newest_first(expected)
    assert names(database, ids, domains=("www.news.example",)) == ["library"]
    assert names(database, ids, domains=("other.example", "blocked.example")) == newest_first(
        ["school", "blocked"]
    )
    assert names(database, ids, domains=("ews.example",)) == []  # whole labels only


def test_url_prefix(database: Database, ids: dict[str, int]) -> None:
    assert names(database, ids, url_prefix="https://news.example/2024/") == newest_first(
        ["budget", "flood", "flood_gone"]
    )
    assert names(database, ids, url_prefix="https://news.example/2024/river") == [
        "flood_gone",
        "flood",
    ]
    # LIKE wildcards in the prefix are literal characters.
    assert names(database, ids, url_prefix="https://news.example/20_4") == []
    assert names(database, ids, url_prefix="https://news.example/%") == []


def test_since_and_until(database: Database, ids: dict[str, int]) -> None:
    since = parse_time("2024-06-03")
    until = parse_time("2024-06-05", end=True)  # the whole of June 5th
    assert names(database, ids, since=since, until=until) == newest_first(
        ["library", "school", "blocked", "market"]
    )
    assert names(database, ids, since=parse_time("2024-06-06")) == newest_first(
        ["decoy", "flood_gone"]
    )
    assert names(database, ids, until=parse_time("2024-06-02T12:00:00Z")) == ["budget"]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (("alive",), ["budget", "library"]),
        (("dead_suspected",), ["flood", "flood_gone"]),
        (("dead_confirmed",), ["school"]),
        (("dead_suspected", "dead_confirmed"), ["flood", "flood_gone", "school"]),
    ],
)
def test_state(
    database: Database, ids: dict[str, int], states: tuple[str, ...], expected: list[str]
) -> None:
    found = run_query(database, CaptureQuery(states=states))
    assert sorted(row.capture.id for row in found) == sorted(ids[name] for name in expected)
    assert {row.state for row in found} == set(states)


def test_latest_keeps_the_newest_capture_of_each_page(
    database: Database, ids: dict[str, int]
) -> None:
    assert names(database, ids, latest=True) == newest_first(
        [name for name in ALL if name != "flood"]
    )
    # The other filters apply to each page's newest capture: the flood page is dead now.
    ok_now = names(database, ids, latest=True, verdicts=("ok",))
    assert ok_now == newest_first(["budget", "library", "market", "decoy"])
    assert names(database, ids, latest=True, verdicts=("not_found",)) == ["flood_gone"]


def test_sorts(database: Database, ids: dict[str, int]) -> None:
    assert names(database, ids, sort="oldest") == list(reversed(newest_first(ALL)))
    by_url = names(database, ids, sort="url")
    assert [CAPTURES[n][0] for n in by_url] == sorted(CAPTURES[n][0] for n in ALL)
    assert by_url.index("flood_gone") < by_url.index("flood")  # same URL: newest first
    by_chars = names(database, ids, sort="chars", verdicts=("ok",))
    lengths = [len(CAPTURES[n][6] or "") for n in by_chars]
    assert lengths == sorted(lengths, reverse=True)
    by_verdict = names(database, ids, sort="verdict")
    assert [CAPTURES[n][2] for n in by_verdict] == sorted(CAPTURES[n][2] for n in ALL)
    by_domain = names(database, ids, sort="domain", verdicts=("ok",))
    assert by_domain[0] == "budget" or by_domain[0] == "flood"  # news.example sorts first
    assert by_domain[-1] == "library"  # www.news.example sorts last


def test_limit(database: Database, ids: dict[str, int]) -> None:
    assert names(database, ids, limit=2) == newest_first(ALL)[:2]
    assert names(database, ids, limit=2, sort="oldest") == ["budget", "flood"]
    assert len(names(database, ids, limit=0)) == len(ALL)  # 0: no limit
    assert count_captures(database, CaptureQuery(limit=1, verdicts=("ok",))) == 5


def test_filters_combine(database: Database, ids: dict[str, int]) -> None:
    assert names(
        database,
        ids,
        domains=("news.example",),
        verdicts=("ok",),
        since=parse_time("2024-06-02"),
        states=("alive",),
    ) == ["library"]


def test_text_is_loaded_only_when_asked(database: Database, ids: dict[str, int]) -> None:
    with_text = run_query(database, CaptureQuery(verdicts=("soft_404",), with_text=True))
    assert with_text[0].capture.text == CAPTURES["school"][6]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"verdicts": ("dead",)}, "unknown verdict 'dead'"),
        ({"states": ("gone",)}, "unknown state 'gone'"),
        ({"sort": "size"}, "unknown sort 'size'"),
        ({"sort": "relevance"}, "needs --search"),
        ({"limit": -1}, "--limit"),
        (
            {
                "since": datetime(2024, 6, 2, tzinfo=UTC),
                "until": datetime(2024, 6, 1, tzinfo=UTC),
            },
            "before --until",
        ),
        ({"domains": ("http://",)}, "invalid domain"),
    ],
)
def test_bad_queries_are_invalid_input(
    database: Database, query: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        run_query(database, CaptureQuery(**query))  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_parse_time() -> None:
    now = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    assert parse_time("2024-06-01") == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_time("2024-06-01", end=True) == datetime(2024, 6, 2, tzinfo=UTC)
    assert parse_time("2024-06-01T10:30") == datetime(2024, 6, 1, 10, 30, tzinfo=UTC)
    assert parse_time("2024-06-01T10:30:00+02:00") == datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
    assert parse_time("2024-06-01T10:30:00Z", end=True) == datetime(2024, 6, 1, 10, 30, tzinfo=UTC)
    assert parse_time("7d", now=now) == now - timedelta(days=7)
    assert parse_time("36h", now=now) == now - timedelta(hours=36)
    assert parse_time("2w", now=now) == now - timedelta(weeks=2)
    # The one duration grammar (archive.durations), as `schedule add --every` reads it.
    assert parse_time("1h30m", now=now) == now - timedelta(hours=1, minutes=30)
    for bad in ("yesterday", "2024-13-01", "7y", ""):
        with pytest.raises(InvalidInput, match="invalid time"):
            parse_time(bad)
