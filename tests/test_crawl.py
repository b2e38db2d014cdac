"""``morgue crawl`` end to end against the mock site's news section (tests/mockserver/news.py).

Each test crawls in real processes, as a user would. Tests that change the live story start a
mock server of their own, so that the shared one stays as the other tests expect it.
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.captures.table import CONTRACT_FIELDS
from archive.db.engine import open_database
from archive.db.models import Capture, Discovery, Page, Source
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.mockserver.news import FEED_PATHS, NEWS
from tests.readers import reader, reader_env
from tests.verified import assert_archive_verified

pytestmark = pytest.mark.slow

FERRY, LIBRARY, LIGHTS, FROST, BUDGET = (
    NEWS[slug].path
    for slug in ("ferry-returns", "library-hours", "market-lights", "orchard-frost", "budget-live")
)
HISTORY = NEWS["ferry-history"].path


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def crawl(data_dir: Path, *args: str, db: str | None = None) -> list[dict[str, Any]]:
    db_args = ("--db", db) if db else ()
    proc = ok(
        run_morgue(
            "--data-dir", str(data_dir), *db_args, "crawl", "--format", "json",
            "--no-recover", *FAST, *args,
        )
    )  # fmt: skip
    rows = json_lines(proc.stdout)
    assert "crawl finished" in proc.stderr
    return rows


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3].split("?")[0]


def fetched_paths(server: MockServer) -> list[str]:
    """Paths the server was asked for, without the soft-404 probes of random sibling URLs."""
    paths = [r["path"].split("?")[0] for r in server.requests()]
    return [p for p in paths if not p.rsplit("/", 1)[-1].startswith("morgue-")]


@pytest.fixture
def news_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def test_feed_crawl_archives_each_entry_once_and_keeps_entry_dates(
    tmp_path: Path, db_url: str, news_server: MockServer
) -> None:
    feed = news_server.url("/news/feed.xml")
    rows = crawl(tmp_path, "--feed", feed, "--feed", news_server.url("/news/atom.xml"), db=db_url)
    assert {path_of(r["url"]) for r in rows} == FEED_PATHS
    assert all(set(r) >= set(CONTRACT_FIELDS) for r in rows)
    assert {r["verdict"] for r in rows} == {"ok"}
    (ferry_row,) = [r for r in rows if path_of(r["url"]) == FERRY]
    assert sorted(src["source"] for src in ferry_row["sources"]) == sorted(
        [feed, news_server.url("/news/atom.xml")]
    )
    # The Atom feed lists two of the same articles without tracking parameters: no second fetch.
    assert sorted(p for p in fetched_paths(news_server) if p.startswith("/news/20")) == sorted(
        FEED_PATHS
    )
    with open_database(db_url) as db, db.session(readonly=True) as session:
        sources = {s.url: s for s in session.scalars(select(Source))}
        assert set(sources) == {feed, news_server.url("/news/atom.xml")}
        assert {s.kind for s in sources.values()} == {"feed"}
        discoveries = list(session.scalars(select(Discovery)))
        assert len(discoveries) == 7  # five in the RSS feed, two in the Atom feed
        by_path: dict[str, list[Discovery]] = {}
        for d in discoveries:
            by_path.setdefault(path_of(d.url), []).append(d)
        ferry = by_path[FERRY]
        assert len(ferry) == 2 and len({d.page_id for d in ferry}) == 1
        assert ferry[0].page_id is not None
        assert all(d.published == datetime(2026, 11, 20, 7, 30, tzinfo=UTC) for d in ferry)
        assert {d.title for d in ferry} == {
            "Ferry service returns to the east landing after a dry summer"
        }
        page = session.get(Page, ferry[0].page_id)
        assert page is not None and page.url == news_server.url(FERRY)  # canonical, no utm_*
    # Second run: the feeds are read again, no article is fetched again.
    news_server.clear_requests()
    again = crawl(tmp_path, "--feed", feed, db=db_url)
    assert again == []
    assert [p for p in fetched_paths(news_server) if p.startswith("/news/20")] == []
    assert "/news/feed.xml" in fetched_paths(news_server)
    assert_archive_verified(tmp_path, db_url)


def test_sitemap_index_from_robots_txt_stores_news_tags(
    tmp_path: Path, mock_server: MockServer
) -> None:
    rows = crawl(tmp_path, "--sitemap", mock_server.url("/robots.txt"))
    assert {path_of(r["url"]) for r in rows} == {FERRY, LIBRARY, LIGHTS, FROST}
    (lights_row,) = [r for r in rows if path_of(r["url"]) == LIGHTS]
    assert lights_row["sources"] == [
        {
            "kind": "sitemap",
            "source": mock_server.url("/sitemaps/news.xml.gz"),
            "url": mock_server.url(LIGHTS),
            "published": "2026-11-24T09:15:00Z",
            "title": "Market square gets new lights before the winter fair",
            "language": "en",
        }
    ]
    db_url = f"sqlite:///{tmp_path}/morgue.sqlite3"
    with open_database(db_url) as db, db.session(readonly=True) as session:
        kinds = {s.url: s.kind for s in session.scalars(select(Source))}
        assert kinds == {
            mock_server.url("/sitemaps/news.xml.gz"): "sitemap",
            mock_server.url("/sitemaps/archive.xml"): "sitemap",
        }
        found = {path_of(d.url): d for d in session.scalars(select(Discovery))}
        lights = found[LIGHTS]
        assert lights.title == "Market square gets new lights before the winter fair"
        assert lights.language == "en"
        assert lights.published == datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
        assert lights.page_id is not None
        assert found[FROST].published == datetime(2026, 10, 5, tzinfo=UTC)  # <lastmod>
        assert found[FROST].title is None


def test_since_skips_old_entries_and_old_sitemaps(tmp_path: Path, news_server: MockServer) -> None:
    rows = crawl(
        tmp_path,
        "--sitemap", news_server.url("/sitemap_index.xml"),
        "--feed", news_server.url("/news/feed.xml"),
        "--since", "2026-11-01",
    )  # fmt: skip
    assert {path_of(r["url"]) for r in rows} == FEED_PATHS - {FROST}
    # The archive sitemap's <lastmod> in the index is older than --since: not even read.
    assert "/sitemaps/archive.xml" not in fetched_paths(news_server)


def test_site_crawl_follows_links_to_depth_within_the_site(
    tmp_path: Path, news_server: MockServer
) -> None:
    rows = crawl(tmp_path, "--site", news_server.url("/news/"), "--deny", r"/articles/")
    paths = {path_of(r["url"]) for r in rows}
    # The section page, its articles, and the site's other pages it links to (the home page,
    # the feed), but not the pages only the articles link to (depth 2).
    assert paths >= {"/news/", *FEED_PATHS}
    assert HISTORY not in paths
    assert not any(p.startswith("/articles/") for p in paths)  # --deny
    asked = fetched_paths(news_server)
    assert not any("calendar" in p or "search" in p for p in asked)  # trap guards
    assert "/private/secret.html" not in asked  # robots.txt: not followed, not recorded
    assert not any(p.startswith("/private/") for p in paths)
    deeper = crawl(tmp_path / "d2", "--site", news_server.url("/news/"), "--depth", "2")
    assert HISTORY in {path_of(r["url"]) for r in deeper}
    # Again: the start page is fetched conditionally (304, a revisit record), its links are read
    # from the archived copy, and the articles, archived already, are not fetched.
    news_server.clear_requests()
    (again,) = crawl(tmp_path, "--site", news_server.url("/news/"), "--deny", r"/articles/")
    assert path_of(again["url"]) == "/news/" and again["http_status"] == 304
    first_front = next(r for r in rows if path_of(r["url"]) == "/news/")
    assert again["payload_digest"] == first_front["payload_digest"]
    assert again["text_chars"] == first_front["text_chars"] > 0
    sent = [r for r in news_server.requests() if r["path"] == "/news/"]
    assert len(sent) == 1 and "If-None-Match" in sent[0]["headers"]
    assert not any(p.startswith("/news/20") for p in fetched_paths(news_server))


def test_a_sitemap_index_that_lists_itself_is_read_once(
    tmp_path: Path, news_server: MockServer
) -> None:
    rows = crawl(tmp_path, "--sitemap", news_server.url("/sitemaps/loop.xml"))
    assert {path_of(r["url"]) for r in rows} == {FERRY, LIBRARY, LIGHTS, FROST}
    asked = Counter(fetched_paths(news_server))
    assert asked["/sitemaps/loop.xml"] == 1 and asked["/sitemap_index.xml"] == 1


def test_max_pages(tmp_path: Path, mock_server: MockServer) -> None:
    rows = crawl(tmp_path, "--feed", mock_server.url("/news/feed.xml"), "--max-pages", "2")
    assert len(rows) == 2


def _records(path: Path) -> list[Any]:
    with open(path, "rb") as fh:
        return [
            (r.rec_type, r.rec_headers, r.http_headers.get_statuscode() if r.http_headers else None)
            for r in ArchiveIterator(fh)
        ]


def test_recrawl_is_conditional_writes_revisits_and_keeps_changed_versions(
    tmp_path: Path, news_server: MockServer
) -> None:
    feed = news_server.url("/news/feed.xml")
    first = {path_of(r["url"]): r for r in crawl(tmp_path, "--feed", feed)}
    news_server.clear_requests()
    edit = urllib.request.Request(news_server.url("/news/__edit"), method="POST")
    with urllib.request.urlopen(edit, timeout=10):
        pass
    second = {path_of(r["url"]): r for r in crawl(tmp_path, "--feed", feed, "--recrawl-after", "0")}
    assert set(second) == FEED_PATHS
    sent = {
        r["path"].split("?")[0]: r["headers"] for r in news_server.requests() if "?" in r["path"]
    }
    assert "If-None-Match" in sent[FERRY] and "If-Modified-Since" in sent[FERRY]
    assert "If-None-Match" not in sent[LIGHTS]  # it sent no validators the first time
    # Unchanged pages: 304, or the same bytes again; both become revisit records.
    assert second[FERRY]["http_status"] == 304
    assert second[LIGHTS]["http_status"] == 200
    for path in (FERRY, LIGHTS):
        assert second[path]["payload_digest"] == first[path]["payload_digest"]
        assert second[path]["text_chars"] == first[path]["text_chars"] > 0
    assert second[BUDGET]["payload_digest"] != first[BUDGET]["payload_digest"]
    warc_dir = tmp_path / "warcs"
    revisits = {}
    for warc in sorted(warc_dir.glob("*.warc.gz")):
        check = subprocess.run(
            [reader("warcio"), "check", str(warc)],
            capture_output=True,
            text=True,
            env=reader_env(),
        )
        assert check.returncode == 0, check.stdout + check.stderr
        for rec_type, headers, _status in _records(warc):
            if rec_type == "revisit":
                revisits[path_of(headers.get_header("WARC-Target-URI"))] = headers
    assert set(revisits) == {FERRY, LIBRARY, FROST, LIGHTS}
    ferry = revisits[FERRY]
    assert ferry.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert ferry.get_header("WARC-Refers-To") == first[FERRY]["warc_record_id"]
    assert ferry.get_header("WARC-Refers-To-Target-URI") == first[FERRY]["url"]
    assert ferry.get_header("WARC-Payload-Digest") == first[FERRY]["payload_digest"]
    assert ferry.get_header("WARC-Refers-To-Date")
    assert ferry.get_header("WARC-Record-ID") == second[FERRY]["warc_record_id"]
    # `show --html` of a revisit prints the body of the record it refers to.
    bodies = [
        ok(run_morgue("--data-dir", str(tmp_path), "show", "--html", str(row[FERRY]["capture_id"])))
        for row in (first, second)
    ]
    assert bodies[0].stdout == bodies[1].stdout and "</html>" in bodies[0].stdout
    # The changed story has two versions, and `diff` shows what changed.
    budget_url = news_server.url(BUDGET)
    diff = ok(run_morgue("--data-dir", str(tmp_path), "diff", budget_url))
    assert "-The council will vote on the budget at its next meeting." in diff.stdout
    assert "+Update 2: after a second evening of debate" in diff.stdout
    ids = (str(first[BUDGET]["capture_id"]), str(second[BUDGET]["capture_id"]))
    explicit = ok(run_morgue("--data-dir", str(tmp_path), "diff", budget_url, *ids))
    assert explicit.stdout == diff.stdout
    same = ok(
        run_morgue(
            "--data-dir", str(tmp_path), "diff", news_server.url(FERRY),
            str(first[FERRY]["capture_id"]), str(second[FERRY]["capture_id"]),
        )
    )  # fmt: skip
    assert "no change" in same.stdout
    db_url = f"sqlite:///{tmp_path}/morgue.sqlite3"
    with open_database(db_url) as db, db.session(readonly=True) as session:
        pages = session.scalars(select(Page.url)).all()
        assert len(pages) == len(set(pages)) == 5  # one page per article
        captures = session.scalars(select(Capture)).all()
        assert len(captures) == 10
    assert_archive_verified(tmp_path)  # revisits and their originals included


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "no sources given"),
        (("--feed", "ftp://x.example/feed"), "unsupported scheme"),
        (("--site", "http://x.example/", "--deny", "("), "invalid pattern"),
        (("--feed", "http://x.example/f", "--since", "last week"), "invalid date"),
        (("--feed", "http://x.example/f", "--recrawl-after", "soon"), "invalid duration"),
    ],
)
def test_bad_usage_is_one_line_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    proc = run_morgue("--data-dir", str(tmp_path), "crawl", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("morgue: error: ") and fragment in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "morgue.sqlite3").exists()


def test_diff_needs_two_captures(tmp_path: Path, mock_server: MockServer) -> None:
    crawl(tmp_path, "--feed", mock_server.url("/news/feed.xml"), "--max-pages", "1")
    proc = run_morgue("--data-dir", str(tmp_path), "diff", mock_server.url(LIGHTS))
    assert proc.returncode == 2
    assert "a diff needs two" in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["crawl"],
        ["diff"],
        ["schedule", "add"],
        ["schedule", "list"],
        ["schedule", "remove"],
        ["schedule", "run-due"],
        ["scheduler"],
    ],
    ids=" ".join,
)
def test_help_has_an_example(command: list[str]) -> None:
    proc = run_morgue(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout and "Usage:" in proc.stdout
