"""Link-rot monitoring end to end: `morgue recheck` and `morgue links` against a local site."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from archive.db.engine import Database
from archive.durations import parse_duration
from archive.exceptions import InvalidInput
from archive.query.link_rot import pages_to_recheck
from tests.conftest import FAST, json_lines, run_morgue
from tests.liveness_pages import article_html, error_html
from tests.querydata import day, fill
from tests.static_site import Route, StaticSite

pytestmark = pytest.mark.slow

STORY = "/news/2025/late-bus.html"
CITED_LIVE = "/reports/board-minutes.html"
CITED_DEAD = "/reports/old-petition.html"


def test_recheck_ages_read_by_the_one_duration_grammar(database: Database) -> None:
    """``--older-than`` reads durations as ``schedule add --every`` does: ``1h30m`` too."""
    fill(database)
    now = day(10, hour=13)  # 1 hour after the river flood page's newest capture
    for older_than, fresh in (("1h30m", True), ("30m", False), ("10d", True), ("2w", True)):
        age = timedelta(seconds=parse_duration(older_than))
        found = pages_to_recheck(database, older_than=age, now=now)
        assert ("https://news.example/2024/river-flood" not in found) is fresh, older_than
    assert parse_duration("1h30m") == 5400
    with pytest.raises(InvalidInput):
        parse_duration("soon")


def test_recheck_and_links(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    site = StaticSite()
    story = (
        article_html("Late bus stays")
        .replace(b"https://example.org/board-minutes.pdf", site.url(CITED_LIVE).encode())
        .replace(b"https://example.org/petition", site.url(CITED_DEAD).encode())
    )
    site.routes.update({
        STORY: Route(body=story),
        CITED_LIVE: Route(body=article_html("Board minutes, March")),
        CITED_DEAD: Route(404, error_html("Page not found", "Gone.")),
    })  # fmt: skip
    with site:
        first = run_morgue(*data, "archive", "--format", "json", "--no-recover", *FAST,
                           site.url(STORY))  # fmt: skip
        assert first.returncode == 0, first.stderr

        listed = run_morgue(*data, "links", "--format", "json", site.url(STORY))
        assert listed.returncode == 0, listed.stderr
        assert [(r["url"], r["text"]) for r in json_lines(listed.stdout)] == [
            (site.url(CITED_LIVE), "board minutes"),
            (site.url(CITED_DEAD), "residents' petition"),
        ]
        checked = run_morgue(*data, "links", "--check", "--format", "json", *FAST, site.url(STORY))
        assert checked.returncode == 0, checked.stderr
        assert [(r["url"], r["verdict"]) for r in json_lines(checked.stdout)] == [
            (site.url(CITED_LIVE), "ok"),
            (site.url(CITED_DEAD), "not_found"),
        ]
        table = run_morgue(*data, "links", "--check", *FAST, site.url(STORY))
        assert "2 links, 1 not ok" in table.stdout

        # Nothing is older than a day yet.
        fresh = run_morgue(*data, "recheck", "--older-than", "1d", "--format", "json")
        assert fresh.returncode == 0 and fresh.stdout == ""
        assert "nothing to recheck" in fresh.stderr
        compound = run_morgue(*data, "recheck", "--older-than", "1h30m", "--format", "json")
        assert compound.returncode == 0 and compound.stdout == "", compound.stderr
        assert "nothing to recheck" in compound.stderr

        # The story dies; a recheck of the live pages notices.
        site.routes[STORY] = Route(404, error_html("Page not found", "Gone."))
        again = run_morgue(*data, "recheck", "--verdict", "ok", "--format", "json",
                           "--no-recover", *FAST)  # fmt: skip
        assert again.returncode == 0, again.stderr
        rows = {r["url"]: r for r in json_lines(again.stdout)}
        # The story and the live citation were ok; the dead citation was not rechecked.
        assert set(rows) == {site.url(STORY), site.url(CITED_LIVE)}
        assert rows[site.url(STORY)]["verdict"] == "not_found"
        assert rows[site.url(STORY)]["previous_verdict"] == "ok"
        assert rows[site.url(STORY)]["state"] == "dead_suspected"
        assert rows[site.url(CITED_LIVE)]["state"] == "alive"

        dead_only = run_morgue(*data, "recheck", "--state", "dead_suspected", "--domain",
                               "127.0.0.1", "--format", "json", "--no-recover", *FAST)  # fmt: skip
        assert dead_only.returncode == 0, dead_only.stderr
        assert sorted(r["url"] for r in json_lines(dead_only.stdout)) == sorted(
            [site.url(STORY), site.url(CITED_DEAD)]
        )


def test_bad_usage_is_one_line(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    for args, fragment in (
        (["recheck", "--older-than", "soon"], "soon"),
        (["recheck", "--state", "zombie"], "zombie"),
        (["links", "http://127.0.0.1:9/nothing"], "no morgue database"),
        (["links", "not a url"], "not a url"),
    ):
        proc = run_morgue(*data, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and fragment in proc.stderr, proc.stderr


def test_recheck_selects_by_url_prefix_and_by_url(database: Database) -> None:
    """``morgue recheck --url-prefix P`` and ``morgue recheck URL``: the pages they fetch again."""
    fill(database)
    news = pages_to_recheck(database, url_prefix="https://news.example/2024/")
    assert news == ["https://news.example/2024/council-budget",
                    "https://news.example/2024/river-flood"]  # fmt: skip
    # Any form of an archived page's URL names it; its last requested URL is fetched again.
    picked = pages_to_recheck(database, urls=["https://NEWS.example/2024/river-flood?utm_source=x"])
    assert picked == ["https://news.example/2024/river-flood"]
    with pytest.raises(InvalidInput, match="no capture of"):
        pages_to_recheck(database, urls=["https://news.example/never-archived"])
    with pytest.raises(InvalidInput, match="unknown verdict 'gone'"):
        pages_to_recheck(database, verdicts=["gone"])
