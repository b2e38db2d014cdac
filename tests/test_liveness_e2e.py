"""Soft 404s, appended stubs and cited links, end to end: `morgue archive` against local sites."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FAST, json_lines, run_morgue
from tests.liveness_pages import STUB_HTML, article_html, error_html, home_html
from tests.static_site import Route, StaticSite

pytestmark = pytest.mark.slow

UNSEEN = error_html("Hmm", "Tama sivu on kadonnut bittiavaruuteen, kokeile hakua.")


def _archive(data: Path, *urls: str) -> dict[str, dict[str, object]]:
    proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                      *FAST, *urls)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [row["url"] for row in rows] == list(urls)
    return {str(row["url"]): row for row in rows}


def test_verdicts_on_a_host_that_answers_unknown_urls_with_200(tmp_path: Path) -> None:
    site = StaticSite(
        routes={
            "/": Route(body=home_html()),
            "/news/2025/late-bus.html": Route(body=article_html("Late bus stays")),
            "/news/2025/stub.html": Route(body=article_html("Bridge reopens", inside=STUB_HTML)),
            "/news/2025/removed.html": Route(
                body=error_html("Page not found", "Sorry, this article was removed.")
            ),
            "/opinion/2024/gone.html": Route(body=UNSEEN),
            "/news/2025/moved.html": Route.redirect("/"),
        },
        fallback=Route(200, UNSEEN),  # every unknown URL: the same error page, status 200
    )
    with site:
        rows = _archive(tmp_path / "data", *(site.url(p) for p in (
            "/news/2025/late-bus.html", "/news/2025/stub.html", "/news/2025/removed.html",
            "/opinion/2024/gone.html", "/news/2025/moved.html", "/")))  # fmt: skip
        probes = [p for p in site.requests if "/morgue-" in p]
    verdicts = {url.split("/", 3)[3]: (row["verdict"], row["reason"]) for url, row in rows.items()}
    assert verdicts == {
        "news/2025/late-bus.html": ("ok", "http_200"),
        "news/2025/stub.html": ("ok", "http_200"),
        "news/2025/removed.html": ("soft_404", "error_stub"),
        "opinion/2024/gone.html": ("soft_404", "probe_match"),
        "news/2025/moved.html": ("soft_404", "redirect_to_home"),
        "": ("ok", "http_200"),  # the home page is never compared with the probe
    }
    # One probe per host and prefix, not one per page.
    assert sorted(p.rsplit("/", 1)[0] for p in probes) == ["/news/2025", "/opinion/2024"]

    db = sqlite3.connect(tmp_path / "data" / "morgue.sqlite3")
    stub_id = rows[site.url("/news/2025/stub.html")]["capture_id"]
    text, evidence = db.execute(
        "SELECT text, evidence FROM captures WHERE id = ?", (stub_id,)
    ).fetchone()
    assert "not available" not in text and "no longer exists" not in text
    assert text.endswith("residents' petition.")
    assert "stub_stripped" in json.loads(evidence)
    # The capture's cited links: the article's own, not the navigation or the sidebar.
    live_id = rows[site.url("/news/2025/late-bus.html")]["capture_id"]
    links = db.execute(
        "SELECT url, text FROM links WHERE capture_id = ? ORDER BY position", (live_id,)
    ).fetchall()
    assert links == [("https://example.org/board-minutes.pdf", "board minutes"),
                     ("https://example.org/petition", "residents' petition")]  # fmt: skip
    # Probes are kept for the next crawl, and pages carry their state.
    assert db.execute("SELECT count(*) FROM probes").fetchone()[0] == 2
    states = dict(db.execute("SELECT url, state FROM pages").fetchall())
    assert states[site.url("/news/2025/removed.html")] == "dead_suspected"
    assert states[site.url("/news/2025/late-bus.html")] == "alive"


def test_probe_is_reused_by_the_next_crawl(tmp_path: Path) -> None:
    site = StaticSite(routes={"/news/2025/a-b.html": Route(body=article_html("Late bus stays"))})
    with site:
        _archive(tmp_path / "data", site.url("/news/2025/a-b.html"))
        _archive(tmp_path / "data", site.url("/news/2025/a-b.html"))
        probes = [p for p in site.requests if "/morgue-" in p]
    assert len(probes) == 1


def test_a_well_behaved_host_keeps_hard_verdicts(tmp_path: Path) -> None:
    site = StaticSite(
        routes={
            "/news/2025/late-bus.html": Route(body=article_html("Late bus stays")),
            "/news/2025/removed.html": Route(404, error_html("Page not found", "Removed.")),
            "/news/2025/paid.html": Route(403, b"<html><body>Forbidden</body></html>"),
        },
    )
    with site:
        paths = ("/news/2025/late-bus.html", "/news/2025/removed.html", "/news/2025/paid.html")
        rows = _archive(tmp_path / "data", *(site.url(p) for p in paths))
    assert [(r["verdict"], r["reason"]) for r in rows.values()] == [
        ("ok", "http_200"), ("not_found", "http_404"), ("blocked", "http_403")]  # fmt: skip
