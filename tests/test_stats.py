"""archive.query.stats and the charts of ``morgue stats``, on SQLite and PostgreSQL."""

from __future__ import annotations

from archive.cli.stats_cmd import bar
from archive.db.engine import Database
from archive.query.capture_query import CaptureQuery, parse_time
from archive.query.stats import capture_stats
from tests.querydata import fill


def test_counts_by_verdict_state_domain_and_day(database: Database) -> None:
    fill(database)
    stats = capture_stats(database)
    assert stats.captures == 8
    assert stats.pages == 7
    assert stats.by_verdict == {"ok": 5, "blocked": 1, "not_found": 1, "soft_404": 1}
    assert list(stats.by_verdict) == ["ok", "blocked", "not_found", "soft_404"]
    assert stats.by_state == {"alive": 2, "dead_suspected": 1, "dead_confirmed": 1, "unknown": 3}
    assert stats.by_domain[0] == ("news.example", 3)
    assert sorted(stats.by_domain[1:]) == [
        ("blocked.example", 1),
        ("notnews.example", 1),
        ("other.example", 1),
        ("sub.news.example", 1),
        ("www.news.example", 1),
    ]
    # Days in UTC: the market capture at 23:00 UTC on June 5th counts for June 5th.
    assert stats.by_day == [
        ("2024-06-01", 1),
        ("2024-06-02", 1),
        ("2024-06-03", 1),
        ("2024-06-04", 1),
        ("2024-06-05", 2),
        ("2024-06-06", 1),
        ("2024-06-10", 1),
    ]
    assert (stats.first_day, stats.last_day) == ("2024-06-01", "2024-06-10")


def test_top_days_and_filters(database: Database) -> None:
    fill(database)
    stats = capture_stats(database, top=2, days=3)
    assert len(stats.by_domain) == 2 and stats.other_domains == 8 - sum(
        n for _d, n in stats.by_domain
    )
    assert [d for d, _n in stats.by_day] == ["2024-06-05", "2024-06-06", "2024-06-10"]
    assert stats.first_day == "2024-06-01"  # the whole range, not only the charted days
    only = capture_stats(
        database, CaptureQuery(domains=("news.example",), since=parse_time("2024-06-02"))
    )
    assert only.captures == 4
    assert only.by_verdict == {"ok": 3, "not_found": 1}
    assert only.pages == 3
    latest = capture_stats(database, CaptureQuery(latest=True))
    assert latest.captures == 7 and latest.by_verdict["ok"] == 4
    searched = capture_stats(database, CaptureQuery(search="budget"))
    assert searched.captures == 2


def test_empty_archive(database: Database) -> None:
    stats = capture_stats(database)
    assert stats.captures == 0 and stats.by_day == [] and stats.first_day is None
    assert stats.to_json()["by_domain"] == []


def test_bar() -> None:
    assert bar(10, 10, width=5) == "█████"
    assert bar(0, 10) == ""
    assert bar(1, 1000, width=5) == "▏"  # never invisible
    assert bar(5, 10, width=5) == "██▌"
