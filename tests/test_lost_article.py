"""A page archived as an article that later shows none: ``soft_404``/``article_lost``, whatever
its wording (archive.liveness.lost_article, issue 17 item 2), in the crawl and in
``morgue extract`` alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.extraction.article import extract_page
from archive.liveness.judging import HELD_ARTICLE, Fetch, judge_page
from archive.liveness.lost_article import PRIOR_ARTICLE_CHARS
from tests.conftest import FAST, json_lines, judge_again, run_morgue
from tests.corpus import CorpusPage, corpus_pages
from tests.static_site import Route, StaticSite

URL = "http://news.test/world/2025/06/harbour-story.html"

# The site's chrome around a notice in no language the rules know, and no article markup.
RETIRED = (
    b"<!doctype html><html lang='fi'><head><meta charset='utf-8'><title>Satamalehti</title>"
    b"</head><body><header><a href='/'>Satamalehti</a><nav><a href='/uutiset/'>Uutiset</a> "
    b"<a href='/urheilu/'>Urheilu</a> <a href='/kulttuuri/'>Kulttuuri</a></nav></header>"
    b"<main><p>Juttu on siirretty arkistoon toimituksen p\xc3\xa4\xc3\xa4t\xc3\xb6ksell\xc3\xa4."
    b"</p><p><a href='/'>Etusivulle</a></p></main><footer>Satamalehti Oy</footer></body></html>"
)


def _judge(body: bytes, held_article: bool) -> tuple[str, str, tuple[str, ...]]:
    result = extract_page(body, URL, "text/html")
    assert result is not None
    fetch = Fetch(url=URL, final_url=URL, status=200)
    judgement = judge_page(fetch, result.extraction, result.facts, held_article=held_article)
    return judgement.verdict, judgement.reason, judgement.evidence


def _article() -> CorpusPage:
    """A real-size corpus article that declares itself one and has plenty of text."""
    for page in corpus_pages(min_size=60_000):
        result = extract_page(page.html, URL, "text/html")
        if (
            result is not None
            and result.facts.article_markup
            and result.extraction is not None
            and len(result.extraction.text or "") >= 2 * PRIOR_ARTICLE_CHARS
        ):
            return page
    raise AssertionError("no corpus article with article markup")


def test_a_thin_page_without_article_markup_is_lost_only_if_it_held_an_article() -> None:
    assert _judge(RETIRED, held_article=False)[:2] == ("ok", "http_200")
    verdict, reason, evidence = _judge(RETIRED, held_article=True)
    assert (verdict, reason) == ("soft_404", "article_lost")
    assert HELD_ARTICLE in evidence and "thin_text" in evidence


def test_an_article_that_is_still_an_article_is_never_lost() -> None:
    page = _article()
    assert _judge(page.html, held_article=True)[:2] == ("ok", "http_200")


def test_a_page_whose_scripts_write_it_is_not_taken_for_a_lost_article() -> None:
    shell = (
        b"<html><head><title>Harbour story</title></head><body><div id='app'></div>"
        b"<script src='/bundle.js'></script><script>window.__STATE__={}</script>"
        b"<noscript>Please enable JavaScript to read this story.</noscript></body></html>"
    )
    verdict, _reason, evidence = _judge(shell, held_article=True)
    assert verdict == "ok" and HELD_ARTICLE not in evidence


def _archive(data: Path, url: str) -> dict[str, object]:
    # The corpus page's images live on its publisher's hosts: no requisites (no network).
    proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                      "--no-requisites", *FAST, url)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    return row


@pytest.mark.slow
def test_a_retired_article_is_caught_on_recheck_and_by_morgue_extract(tmp_path: Path) -> None:
    page = _article()
    data = tmp_path / "data"
    # A well-behaved host: unknown URLs get 404, so its probe tells nothing about a 200 page.
    site = StaticSite(
        routes={
            "/news/2025/harbour.html": Route(body=page.html),
            "/news/2025/brief.html": Route(body=RETIRED),
        }
    )
    with site:
        url, brief = site.url("/news/2025/harbour.html"), site.url("/news/2025/brief.html")
        first = _archive(data, url)
        assert (first["verdict"], first["reason"]) == ("ok", "http_200")
        # A page that was never more than a notice stays ok: no history says otherwise.
        assert _archive(data, brief)["verdict"] == "ok"
        assert _archive(data, brief)["verdict"] == "ok"
        # The publisher retires the story: same URL, 200, the chrome and a notice.
        site.routes["/news/2025/harbour.html"] = Route(body=RETIRED)
        second = _archive(data, url)
    assert (second["verdict"], second["reason"]) == ("soft_404", "article_lost")
    state = run_morgue("--data-dir", str(data), "history", url, "--format", "json")
    assert [r["verdict"] for r in json_lines(state.stdout)] == ["ok", "soft_404"]
    # morgue extract judges the archived records again through the same path.
    rows = judge_again(data, "url, verdict, reason")
    assert rows == [
        (url, "ok", "http_200"),
        (brief, "ok", "http_200"),
        (brief, "ok", "http_200"),
        (url, "soft_404", "article_lost"),
    ]
