"""A page's state from its captures (archive.liveness.page_state), and as the store keeps it on both
DBs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from archive.captures.record import CaptureRecord
from archive.captures.table import save_capture
from archive.db.engine import Database
from archive.db.models import Link, Page
from archive.liveness.page_state import Observation, StateRule, derive_state

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def obs(days: float, verdict: str, reason: str = "", recovered: bool = False) -> Observation:
    return Observation(T0 + timedelta(days=days), verdict, reason, recovered)


def test_states() -> None:
    assert derive_state([]) == (None, None)
    assert derive_state([obs(0, "ok")]) == ("alive", None)
    assert derive_state([obs(0, "ok"), obs(1, "not_found")]) == (
        "dead_suspected",
        T0 + timedelta(days=1),
    )
    # Two dead checks less than 7 days apart: still only suspected.
    assert derive_state([obs(1, "not_found"), obs(3, "soft_404")])[0] == "dead_suspected"
    assert derive_state([obs(1, "not_found"), obs(8, "soft_404")]) == (
        "dead_confirmed",
        T0 + timedelta(days=1),
    )
    # Back to life resets it.
    assert derive_state([obs(1, "not_found"), obs(8, "not_found"), obs(9, "ok")])[0] == "alive"
    # Blocked, server errors and timeouts say nothing; DNS failure is dead; a memento is no check.
    assert derive_state([obs(0, "ok"), obs(1, "server_error"), obs(2, "blocked")])[0] == "alive"
    assert derive_state([obs(0, "unreachable", "timeout")]) == (None, None)
    assert derive_state([obs(0, "unreachable", "dns")])[0] == "dead_suspected"
    assert (
        derive_state([obs(0, "not_found"), obs(0.1, "ok", recovered=True)])[0] == "dead_suspected"
    )
    # The rule is a setting.
    rule = StateRule(checks=3, span=timedelta(days=1))
    assert derive_state([obs(0, "not_found"), obs(2, "not_found")], rule)[0] == "dead_suspected"
    assert (
        derive_state([obs(0, "not_found"), obs(1, "not_found"), obs(2, "not_found")], rule)[0]
        == "dead_confirmed"
    )


def test_store_keeps_page_state_and_links(database: Database) -> None:
    url = "http://news.test/news/2025/late-bus.html"

    def capture(days: float, verdict: str, reason: str, **kw: object) -> None:
        save_capture(database, CaptureRecord(url=url, fetched_at=T0 + timedelta(days=days),
                                             verdict=verdict, reason=reason, **kw))  # type: ignore[arg-type]  # fmt: skip

    def state() -> tuple[str | None, datetime | None]:
        with database.session(readonly=True) as session:
            page = session.scalars(select(Page)).one()
            return page.state, page.dead_since

    capture(
        0,
        "ok",
        "http_200",
        links=[("https://example.org/a", "minutes"), ("https://example.org/b", None)],
    )
    assert state() == ("alive", None)
    capture(1, "not_found", "http_404")
    assert state() == ("dead_suspected", T0 + timedelta(days=1))
    capture(1.5, "ok", "memento", recovered_from="http://archive.test/web/1id_/" + url)
    assert state()[0] == "dead_suspected"
    capture(9, "soft_404", "error_stub")
    assert state() == ("dead_confirmed", T0 + timedelta(days=1))
    with database.session(readonly=True) as session:
        links = session.scalars(select(Link).order_by(Link.position)).all()
        assert [(link.url, link.text) for link in links] == [
            ("https://example.org/a", "minutes"),
            ("https://example.org/b", None),
        ]
