"""One soft-404 probe for the dated directories of a site (archive.liveness.probe_sharing, issue 12
item 7).

A feed crawl over 25 articles in 25 date directories made one probe per directory: as many
requests as pages. Now the first two directories of the pattern are probed and, as they agree,
the others reuse their answer, with the same verdicts; ``morgue index`` leaves probes out.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.liveness.probe_sharing import (
    PatternEvidence,
    is_probe_url,
    probe_pattern,
    same_answer,
    shared_baseline,
)
from archive.liveness.soft404 import Baseline, probe_url
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusSite

HTML = "text/html; charset=utf-8"
# What the site serves, with 200, for any URL it does not know: its error page. Worded so that
# no stub rule knows it: only the probe can tell that a page showing it is gone.
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Courier</title></head><body><header><a href='/'>"
    b"The Courier</a></header><main><h1>Nothing to see here</h1><p>Whatever used to live at "
    b"this address has packed up and left, and we could not say where it went.</p><p>Try the "
    b"front page, or our archive of older stories by month and section.</p></main>"
    b"<footer><p>The Courier, 1 Harbour Street.</p></footer></body></html>"
)
N = 25
REMOVED = 20  # the article that is gone: the site serves its error page at its URL


class DatedSite(CorpusSite):
    """Article i at /news/2026/11/DD/story-i.html (a directory per day); a soft-404 host."""

    def path(self, i: int) -> str:
        return f"/news/2026/11/{i + 1:02d}/story-{i}.html"

    def answer(self, path: str) -> tuple[int, str, bytes]:
        for i in range(self.n):
            if path == self.path(i):
                return 200, HTML, ERROR_PAGE if i == REMOVED else self.body(i)
        status, ctype, body = super().answer(path)
        return (200, HTML, ERROR_PAGE) if status == 404 else (status, ctype, body)


@pytest.fixture
def site() -> Iterator[DatedSite]:
    with DatedSite(N) as dated:
        yield dated


@pytest.mark.slow
@pytest.mark.timeout(600)  # two crawls of real-size pages: minutes, not seconds, on a busy machine
def test_a_feed_over_dated_directories_makes_two_probes_with_the_same_verdicts(
    tmp_path: Path, site: DatedSite
) -> None:
    data = tmp_path / "data"
    proc = run_morgue(
        "--data-dir", str(data), "crawl", "--format", "json", "--no-recover", *FAST,
        "--feed", site.url("/feed.xml"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {row["url"]: row for row in json_lines(proc.stdout)}
    assert len(rows) == N
    gone = rows.pop(site.url(REMOVED))
    assert (gone["verdict"], gone["reason"]) == ("soft_404", "probe_match")
    assert {(r["verdict"], r["reason"]) for r in rows.values()} == {("ok", "http_200")}

    probes = [p for p in site.requests if is_probe_url(p)]
    assert len(probes) == 2  # was 25, one per directory
    db = sqlite3.connect(data / "morgue.sqlite3")
    try:
        stats = json.loads(db.execute("SELECT stats FROM runs").fetchone()[0])
        evidence = json.loads(
            db.execute(
                "SELECT evidence FROM captures WHERE url = ?", (site.url(REMOVED),)
            ).fetchone()[0]
        )
        stored = db.execute("SELECT count(*) FROM probes").fetchone()[0]
    finally:
        db.close()
    assert stats["liveness/probes"] == 2
    assert stats["liveness/probe_shared"] == N - 2
    assert "probe_same_text" in evidence
    assert stored == 2

    # The next crawl of a new day's directory reuses the pattern's answer from the DB.
    site.n = N + 1
    again = run_morgue(
        "--data-dir", str(data), "crawl", "--format", "json", "--no-recover", *FAST,
        "--feed", site.url("/feed.xml"),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    verdicts = {row["url"]: row["verdict"] for row in json_lines(again.stdout)}
    # The new story, and the gone one again (a dead page is fetched again, to see if it came back).
    assert verdicts == {site.url(N): "ok", site.url(REMOVED): "soft_404"}
    assert len([p for p in site.requests if is_probe_url(p)]) == 2

    # morgue index: the probes stay in the WARC files, out of the index unless asked.
    indexed = run_morgue("--data-dir", str(data), "index")
    assert indexed.returncode == 0, indexed.stderr
    assert "probe record(s) left out (--include-probes)" in indexed.stderr
    index = (data / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    urls = [json.loads(line.split(" ", 2)[2])["url"] for line in index]
    assert not [u for u in urls if is_probe_url(u)]
    assert site.url(0) in urls
    assert index == sorted(index)
    full = run_morgue("--data-dir", str(data), "index", "--include-probes")
    assert full.returncode == 0, full.stderr
    index = (data / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    urls = [json.loads(line.split(" ", 2)[2])["url"] for line in index]
    assert len([u for u in urls if is_probe_url(u)]) == 2


# -- the rules ----------------------------------------------------------------------------------


def test_patterns_generalise_dates_and_numbers_only() -> None:
    assert probe_pattern("https://x.test/news/2024/05/03/slug") == ("x.test", "/news/<n>/<n>/<n>/")
    assert probe_pattern("https://x.test/news/2024/05/04/other.html")[1] == "/news/<n>/<n>/<n>/"
    assert probe_pattern("https://x.test/2024-05-03/slug")[1] == "/<date>/"
    assert probe_pattern("https://x.test/world/article123/slug")[1] == "/world/article123/"
    # The liveness evaluation's publishers (/p1/, /p2/) stay apart.
    assert probe_pattern("http://h/p1/story.html") != probe_pattern("http://h/p2/story.html")
    assert probe_pattern("https://X.test/a/1/") != probe_pattern("https://y.test/a/1/")


def test_probe_urls_are_recognised() -> None:
    url = probe_url("https://x.test/news/2024/05/03/slug.html")
    assert is_probe_url(url)
    assert not is_probe_url("https://x.test/news/2024/05/03/slug.html")
    assert not is_probe_url("https://x.test/news/morgue-files-online.html")


def _soft(text: str, final: str | None = None, status: int = 200) -> Baseline:
    return Baseline(status=status, final_url=final, title="Courier", text=text)


def test_two_probes_that_agree_share_their_answer() -> None:
    text = "Whatever used to live at this address has packed up and left. " * 3
    a, b = "http://x/n/1/morgue-aaaaaaaaaaaaaaaa", "http://x/n/2/morgue-bbbbbbbbbbbbbbbb"
    evidence = PatternEvidence()
    evidence.observe("/n/1/", a, _soft(text, a))
    assert not evidence.decided
    evidence.observe("/n/2/", b, _soft(text, b))
    assert evidence.shared == _soft(text, a)
    # Both sent to the same page (the home page) agree too; to different pages, not.
    assert same_answer(_soft(text, "http://x/"), a, _soft(text, "http://x/"), b)
    assert not same_answer(_soft(text, "http://x/"), a, _soft(text, "http://x/n/"), b)
    # A hard 404 everywhere agrees; a 404 and a 200 do not.
    assert same_answer(_soft(text, a, 404), a, _soft(text, b, 404), b)
    assert not same_answer(_soft(text, a, 404), a, _soft(text, b), b)


def test_two_probes_that_differ_make_every_directory_probe() -> None:
    a, b = "http://x/n/1/morgue-aaaaaaaaaaaaaaaa", "http://x/n/2/morgue-bbbbbbbbbbbbbbbb"
    evidence = PatternEvidence()
    evidence.observe("/n/1/", a, _soft("One section's own error page, worded its own way.", a))
    evidence.observe("/n/2/", b, _soft("Another section answers with its latest headlines.", b))
    assert evidence.divergent and evidence.shared is None
    stored = [
        ("/n/2/", b, _soft("same words on both error pages here", b)),
        ("/n/1/", a, _soft("same words on both error pages here", a)),
        ("/other/", "http://x/other/morgue-cccccccccccccccc", _soft("unrelated")),
    ]
    assert shared_baseline("http://x/n/9/story", stored)[1] is not None
    assert shared_baseline("http://x/m/9/story", stored)[1] is None
