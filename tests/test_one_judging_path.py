"""One path judges a page: a crawl and `morgue extract --all` agree on the same archive.

Real pages of the corpus are served by a local site whose unknown URLs answer 200 with the
corpus's soft-404 page (the hard case for probing): live articles, a soft 404, a not found,
four old URLs redirected to one catch-all page, a PDF and an RSS document served as XML. They
are archived by a crawl (`morgue archive`), then judged again from their WARC records by
`morgue extract --all`: verdicts, reasons, evidence and every extracted field must come out the
same, and the two WARC metadata records of each capture must have one schema.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive.warc.records import read_record
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import corpus_pages
from tests.static_site import Route, StaticSite

pytestmark = pytest.mark.slow

HTML = (("Content-Type", "text/html; charset=utf-8"),)
ARTICLES = [f"/news/2024/05/story-{i}.html" for i in range(6)]
SOFT_404 = "/news/2024/05/gone-story.html"
NOT_FOUND = "/news/2024/05/removed-story.html"
MOVED = [f"/archive/2019/old-{i}.html" for i in range(4)]
CATCH_ALL = "/topics/latest-news.html"
PDF = "/files/annual-report.pdf"
FEED = "/feeds/latest.xml"

# Everything a capture row holds that the judging path decides.
COLUMNS = (
    "url", "verdict", "reason", "confidence", "evidence", "title", "text", "text_chars",
    "author", "authors", "published", "date_modified", "language", "site_name", "description",
    "canonical_url", "field_sources",
)  # fmt: skip


def _site() -> StaticSite:
    articles = [page.html for page in corpus_pages(limit=len(ARTICLES) + 1, min_size=20_000)]
    (error_page,) = [page.html for page in corpus_pages("soft_404_page")]
    routes = {
        path: Route(body=body, headers=HTML) for path, body in zip(ARTICLES, articles, strict=False)
    }
    routes.update({
        SOFT_404: Route(body=error_page, headers=HTML),
        NOT_FOUND: Route(404, error_page, HTML),
        CATCH_ALL: Route(body=articles[len(ARTICLES)], headers=HTML),
        PDF: Route(body=b"%PDF-1.4\n% no page\n", headers=(("Content-Type", "application/pdf"),)),
        FEED: Route(
            body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>Latest</title>'
            b"<item><title>A story</title><link>http://127.0.0.1/a</link></item>"
            b"</channel></rss>",
            headers=(("Content-Type", "application/xml"),),
        ),
    })  # fmt: skip
    routes.update({path: Route.redirect(CATCH_ALL, 301) for path in MOVED})
    return StaticSite(routes=routes, fallback=Route(200, error_page, HTML))


def _captures(db_path: Path) -> dict[str, dict[str, Any]]:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    rows = db.execute(
        f"SELECT {', '.join(COLUMNS)}, fetched_at, metadata_warc_file, metadata_warc_offset "
        "FROM captures ORDER BY id"
    ).fetchall()
    db.close()
    return {row["url"]: dict(row) for row in rows}


def _metadata(warcs: Path, row: dict[str, Any]) -> dict[str, Any]:
    record = read_record(warcs, (row["metadata_warc_file"], row["metadata_warc_offset"]))
    data: dict[str, Any] = json.loads(record.payload)
    return data


def test_a_crawl_and_morgue_extract_judge_alike(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data = ["--data-dir", str(data_dir)]
    with _site() as site:
        paths = [*ARTICLES, SOFT_404, NOT_FOUND, *MOVED, PDF, FEED]
        crawled = run_morgue(*data, "archive", "--format", "json", "--no-recover", *FAST,
                             "--no-requisites",  # corpus images: on the publishers' hosts
                             *(site.url(p) for p in paths))  # fmt: skip
        assert crawled.returncode == 0, crawled.stderr
        assert len(json_lines(crawled.stdout)) == len(paths)
        by_crawl = _captures(data_dir / "morgue.sqlite3")
        extracted = run_morgue(*data, "extract", "--all", "--format", "json")
        assert extracted.returncode == 0, extracted.stderr
        by_extract = _captures(data_dir / "morgue.sqlite3")

    # The pages are what the test says they are, so that agreement means something.
    verdicts = {url.split("/", 3)[3]: (row["verdict"], row["reason"]) for url, row in
                by_crawl.items()}  # fmt: skip
    for path in ARTICLES:
        assert verdicts[path[1:]] == ("ok", "http_200"), path
        assert by_crawl[site.url(path)]["text_chars"] > 500
    assert verdicts[SOFT_404[1:]][0] == "soft_404"  # error_url: its canonical is an error path
    assert verdicts[NOT_FOUND[1:]] == ("not_found", "http_404")
    for path in (PDF, FEED):
        assert verdicts[path[1:]] == ("ok", "http_200") and by_crawl[site.url(path)]["text"] is None
    # The catch-all: ok for the first two URLs sent there, soft 404 from the third on, in the
    # order they were fetched.
    moved = sorted((by_crawl[site.url(p)] for p in MOVED), key=lambda row: row["fetched_at"])
    assert [(row["verdict"], row["reason"]) for row in moved] == [("ok", "http_200")] * 2 + [
        ("soft_404", "redirect_to_section")
    ] * 2
    assert all("shared_redirect_target" in row["evidence"] for row in moved[2:])

    # The two paths agree on every capture and every field they decide.
    assert by_crawl.keys() == by_extract.keys()
    for url, crawl_row in by_crawl.items():
        extract_row = by_extract[url]
        for column in COLUMNS:
            assert extract_row[column] == crawl_row[column], (url, column)

    # Each capture's metadata record moved to the extraction's, with the crawl's schema.
    warcs = data_dir / "warcs"
    for url, crawl_row in by_crawl.items():
        if by_extract[url]["metadata_warc_file"] == crawl_row["metadata_warc_file"]:
            assert crawl_row["verdict"] == "not_found", url
            continue  # a 404 has no page to extract again
        first, second = _metadata(warcs, crawl_row), _metadata(warcs, by_extract[url])
        assert (first["pass"], second["pass"]) == ("crawl", "extract")
        assert first.keys() == second.keys(), url
        same = (
            "url",
            "final_url",
            "fetched_at",
            "http_status",
            "verdict",
            "reason",
            "confidence",
            "evidence",
            "error",
            "redirects",
            "recovered_from",
            "extraction",
        )
        assert {k: first[k] for k in same} == {k: second[k] for k in same}, url
