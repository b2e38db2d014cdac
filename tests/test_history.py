"""archive.query.capture_query.page_history and ``morgue history``'s rendering, on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from archive.captures.table import CONTRACT_FIELDS, save_capture
from archive.cli.history_cmd import describe_change, history_to_json
from archive.db.engine import Database
from archive.query.capture_query import Change, page_history
from tests.querydata import CAPTURES, _record, day, fill


def test_history_is_oldest_first_with_changes(database: Database) -> None:
    ids = fill(database)
    history = page_history(database, "https://news.example/2024/river-flood")
    assert [e.capture.id for e in history.entries] == [ids["flood"], ids["flood_gone"]]
    assert history.entries[0].changes == []
    assert history.entries[1].changes == [
        Change("verdict", "ok", "not_found"),
        Change("http_status", 200, 404),
        Change("title", "River flood warning issued", "Page not found"),
        Change("text_chars", len(CAPTURES["flood"][6] or ""), 0),
    ]
    assert history.state == "dead_suspected"
    assert history.dead_since == day(10)


def test_history_finds_the_page_by_any_form_of_its_url(database: Database) -> None:
    ids = fill(database)
    for variant in (
        "https://news.example/2024/council-budget?utm_source=feed",
        "https://NEWS.example/2024/council-budget#top",
    ):
        history = page_history(database, variant)
        assert [e.capture.id for e in history.entries] == [ids["budget"]]
    assert page_history(database, "https://news.example/never").entries == []
    assert page_history(database, "https://news.example/never").state is None


def test_recovery_reason_and_same_length_text_changes(database: Database) -> None:
    url = "https://news.example/2024/council-budget"
    first = _record(CAPTURES["budget"], 1)
    save_capture(database, first)
    text = CAPTURES["budget"][6] or ""
    second = _record((url, day(8), "ok", "http_200", 200, "Council approves budget",
                      text.replace("Friday", "Monday")), 2)  # fmt: skip
    save_capture(database, second)
    gone = _record((url, day(9), "soft_404", "error_stub", 200, "Council approves budget",
                    text.replace("Friday", "Monday")), 3)  # fmt: skip
    save_capture(database, gone)
    recovered = replace(
        _record((url, day(9, 13), "ok", "http_200", 200, "Council approves budget", text), 4),
        recovered_from="http://archive.example/web/20240601/" + url,
    )
    save_capture(database, recovered)
    entries = page_history(database, url).entries
    assert entries[1].changes == [Change("text", None, None)]
    assert entries[2].changes == [Change("verdict", "ok", "soft_404")]
    assert Change("recovered_from", None, recovered.recovered_from) in entries[3].changes
    assert Change("verdict", "soft_404", "ok") in entries[3].changes


def test_history_json_and_descriptions(database: Database) -> None:
    fill(database)
    rows = history_to_json(page_history(database, "https://news.example/2024/river-flood"))
    assert [tuple(row)[: len(CONTRACT_FIELDS)] for row in rows] == [CONTRACT_FIELDS] * 2
    assert rows[1]["changes"][0] == {"field": "verdict", "from": "ok", "to": "not_found"}
    assert {row["page_state"] for row in rows} == {"dead_suspected"}
    assert rows[0]["dead_since"] == "2024-06-10T12:00:00Z"
    assert describe_change(Change("verdict", "ok", "not_found")) == "verdict ok → not_found"
    assert describe_change(Change("text_chars", 2255, 120)) == "text 2,255 → 120 chars (-2,135)"
    assert (
        describe_change(Change("recovered_from", None, "http://a/b")) == "recovered from http://a/b"
    )
    assert describe_change(Change("http_status", None, 404)) == "status — → 404"
