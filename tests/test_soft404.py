"""Soft-404 rules on pages and URLs written for these tests (archive.liveness.soft404,
archive.extraction.page_facts)."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from archive.extraction.article import extract_page
from archive.extraction.page_facts import page_facts
from archive.liveness.soft404 import (
    Baseline,
    is_front_page,
    judge,
    looks_like_error_path,
    probe_key,
    probe_url,
    similarity,
    strip_appended_stub,
    stub_phrase,
)
from tests.liveness_pages import STUB_HTML, article_html, error_html, home_html

URL = "http://news.test/news/2025/late-bus-stays.html"


def _judge(body: bytes, url: str = URL, final_url: str | None = None, baseline=None):  # type: ignore[no-untyped-def]
    result = extract_page(body, final_url or url, "text/html")
    assert result is not None and result.extraction is not None
    return judge(
        url=url,
        final_url=final_url,
        title=result.extraction.title,
        text=result.extraction.text,
        facts=result.facts,
        baseline=baseline,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Page not found",
        "Sorry, we couldn\u2019t find that page.",  # a typographic apostrophe
        "This article is no longer available.",
        "The story you are looking for has been removed.",
        "Error 404",
        "Seite nicht gefunden",
        "Dieser Artikel ist nicht mehr verfügbar",
        "Page introuvable",
        "Cette page n'existe plus",
        "Página no encontrada",
        "Pagina non trovata",
        "Página não encontrada",
        "Pagina niet gevonden",
    ],
)
def test_stub_wording_is_found(text: str) -> None:
    assert stub_phrase(text)


@pytest.mark.parametrize(
    "text",
    [
        "Missing hiker found safe after two nights on the moor",
        "Council finds no evidence of flooding in new estate",
        "The 4045 bus route will not be available on Sundays",
        "Player not available for Saturday's match, coach says",
    ],
)
def test_ordinary_headlines_are_not_stubs(text: str) -> None:
    assert stub_phrase(text) is None


def test_front_pages_and_sections() -> None:
    for url in ("http://a.test/", "http://a.test", "http://a.test/news/", "http://a.test/sport",
                "http://a.test/index.html"):  # fmt: skip
        assert is_front_page(url), url
    for url in (URL, "http://a.test/late-bus-stays", "http://a.test/2025/story",
                "http://a.test/news?id=3", "http://a.test/p/123"):  # fmt: skip
        assert not is_front_page(url), url


def test_error_paths() -> None:
    for url in ("http://a.test/404", "http://a.test/errors/not-found.html", "http://a.test/404.html",
                "http://a.test/page-not-found", "http://a.test/error?from=x"):  # fmt: skip
        assert looks_like_error_path(url), url
    for url in (
        URL,
        "http://a.test/news/2024/404-days-of-rain.html",
        "http://a.test/errors-and-omissions-policy",
    ):
        assert not looks_like_error_path(url), url


def test_probe_url_replaces_the_last_segment_and_keeps_the_extension() -> None:
    probe = probe_url(URL + "?utm_source=x", token="abcdefghijklmnop")
    assert probe == "http://news.test/news/2025/morgue-abcdefghijklmnop.html"
    assert probe_key(URL) == probe_key(probe) == ("news.test", "/news/2025/")
    assert probe_url("http://a.test/story") != probe_url("http://a.test/story")  # random


def test_similarity() -> None:
    a = "the quick brown fox jumps over the lazy dog near the river bank"
    assert similarity(a, a) == 1.0
    assert similarity(a, "a completely different sentence about county bus services") == 0.0
    assert similarity(a, None) == 0.0


def test_live_article_is_ok_even_with_error_wording_in_its_text() -> None:
    paragraphs = [
        "Visitors to the council website last week were met with a page not found message when "
        "they tried to pay parking fines, after an upgrade went wrong on Monday night.",
        "The council said the payments page is not available until engineers finish the repair, "
        "and that no fines would be increased for late payment while the fault lasted.",
        "Residents who paid twice by phone will be refunded automatically within ten days, the "
        "council's digital services manager told the Courier in a statement on Thursday.",
    ]
    judgement = _judge(article_html("Parking payments site down", paragraphs=paragraphs))
    assert judgement.verdict == "ok", judgement


def test_error_page_served_with_200_is_a_soft_404() -> None:
    body = error_html("Page not found", "Sorry, we could not find the page you were looking for.")
    judgement = _judge(body)
    assert (judgement.verdict, judgement.reason) == ("soft_404", "error_stub")
    assert "stub_heading" in judgement.evidence and "no_article_markup" in judgement.evidence


def test_unseen_wording_is_caught_by_the_probe() -> None:
    body = error_html("Hmm", "Tama sivu on kadonnut bittiavaruuteen, kokeile hakua.")
    assert _judge(body).verdict == "ok"  # no rule knows these words...
    probe = extract_page(body, "http://news.test/news/2025/morgue-x.html", "text/html")
    assert probe is not None and probe.extraction is not None
    baseline = Baseline(
        200,
        "http://news.test/news/2025/morgue-x.html",
        probe.facts.title if probe.facts else None,
        probe.extraction.text,
    )
    judgement = _judge(body, baseline=baseline)  # ...but the host serves it for any URL
    assert (judgement.verdict, judgement.reason) == ("soft_404", "probe_match")


def test_article_unlike_the_probe_is_ok_and_home_page_never_matches() -> None:
    error = error_html("Page not found", "Nothing here.")
    probe = extract_page(error, "http://news.test/x", "text/html")
    assert probe is not None and probe.extraction is not None
    baseline = Baseline(200, "http://news.test/", None, probe.extraction.text)
    assert _judge(article_html("Late bus stays"), baseline=baseline).verdict == "ok"
    # A host that answers unknown URLs with its home page: the home page itself stays ok.
    home = extract_page(home_html(), "http://news.test/", "text/html")
    assert home is not None and home.extraction is not None
    same = Baseline(200, "http://news.test/", home.extraction.title, home.extraction.text)
    assert _judge(home_html(), url="http://news.test/", baseline=same).verdict == "ok"


@pytest.mark.parametrize(
    ("final", "reason"),
    [
        ("http://news.test/", "redirect_to_home"),
        ("http://www.news.test/", "redirect_to_home"),
        ("http://news.test/errors/404.html", "error_url"),
        ("http://news.test/news/", "redirect_to_section"),
    ],
)
def test_redirects_away_from_the_article(final: str, reason: str) -> None:
    body = home_html() if reason != "error_url" else error_html("Oops", "Gone.")
    judgement = _judge(body, final_url=final)
    assert (judgement.verdict, judgement.reason) == ("soft_404", reason)


def test_redirect_to_another_copy_of_the_article_is_ok() -> None:
    # http -> https and a slug added to an id: the article is still there.
    body = article_html("Late bus stays")
    assert (
        _judge(
            body, url="http://news.test/p/123", final_url="https://news.test/p/123/late-bus"
        ).verdict
        == "ok"
    )
    assert _judge(body, final_url=URL.replace("http:", "https:")).verdict == "ok"


def test_appended_stub_is_cut_and_the_article_stays() -> None:
    result = extract_page(article_html("Late bus stays", inside=STUB_HTML), URL, "text/html")
    assert result is not None and result.extraction is not None and result.extraction.text
    assert "This page is not available" in result.extraction.text
    text, cut = strip_appended_stub(result.extraction.text)
    assert text and "not available" not in text and "no longer exists" not in text
    assert text.endswith("Read the board minutes and the residents' petition.")
    assert len(cut) == 2
    judgement = _judge(article_html("Late bus stays", inside=STUB_HTML))
    assert judgement.verdict == "ok"


def test_a_hosts_own_stub_is_learned_from_its_probe() -> None:
    stub = "<p>Zugang nicht moeglich, bitte Startseite besuchen.</p>"  # wording no rule knows
    result = extract_page(article_html("Late bus stays", inside=stub), URL, "text/html")
    assert result is not None and result.extraction is not None
    assert strip_appended_stub(result.extraction.text)[1] == []
    text, cut = strip_appended_stub(
        result.extraction.text, ["Zugang nicht moeglich, bitte Startseite besuchen."]
    )
    assert cut and text and "Zugang" not in text


def test_a_page_that_is_only_a_stub_is_not_stripped() -> None:
    text = "This page is not available\nThe page no longer exists."
    assert strip_appended_stub(text) == (text, [])


def test_page_facts_read_markup() -> None:
    tree = lxml_html.document_fromstring(
        article_html("Late bus stays")
        .decode()
        .replace(
            "<head>",
            '<head><meta name="robots" content="noindex, follow">'
            '<link rel="canonical" href="/news/2025/late-bus-stays.html">',
        )
    )
    facts = page_facts(tree, URL)
    assert facts.article_markup and facts.noindex
    assert facts.jsonld_types == ("NewsArticle",)
    assert facts.h1 == "Late bus stays" and facts.og_type == "article"
    assert [a.url for a in facts.anchors] == [
        "https://example.org/board-minutes.pdf",
        "https://example.org/petition",
    ]


def test_a_reworded_error_page_is_caught_by_its_likeness_to_the_hosts_404_page() -> None:
    # The host's 404 page and its removal notice share the chrome, not the words.
    not_found = error_html("Ei loytynyt", "Hakemaasi osoitetta ei ole.", suggestions=True)
    removed = error_html(
        "Juttu poistettu", "Tama juttu on poistettu toimituksen paatoksella.", suggestions=True
    )
    probe = extract_page(not_found, "http://news.test/news/2025/morgue-x.html", "text/html")
    assert probe is not None and probe.extraction is not None
    baseline = Baseline(
        404, "http://news.test/news/2025/morgue-x.html", None, probe.extraction.text
    )
    assert _judge(removed).verdict == "ok"  # no wording rule knows Finnish
    judgement = _judge(removed, baseline=baseline)
    assert (judgement.verdict, judgement.reason) == ("soft_404", "probe_match")
    assert "probe_similar" in judgement.evidence
    # A short live article of the same host is not like its 404 page.
    brief = article_html("Late bus stays", paragraphs=["The late bus will keep running."])
    assert _judge(brief, baseline=baseline).verdict == "ok"


def test_bot_walls_and_paywalls_are_blocked_not_dead() -> None:
    wall = b"""<html><head><title>Just a moment...</title></head><body><h1>Checking your
    browser before you continue</h1><script src="/cdn-cgi/challenge-platform/h/b/orchestrate.js">
    </script></body></html>"""
    judgement = _judge(wall)
    assert (judgement.verdict, judgement.reason) == ("blocked", "bot_wall")
    # Even when the host's probe gets the same wall: refused is not gone.
    probe = extract_page(wall, "http://news.test/news/2025/morgue-x.html", "text/html")
    assert probe is not None and probe.extraction is not None
    baseline = Baseline(
        200, "http://news.test/news/2025/morgue-x.html", None, probe.extraction.text
    )
    assert _judge(wall, baseline=baseline).verdict == "blocked"
    paywalled = article_html(
        "Late bus stays",
        paragraphs=[
            "The county board voted to keep the late bus.",
            "Subscribe to continue reading.",
        ],
    ).replace(b'"NewsArticle",', b'"NewsArticle", "isAccessibleForFree": false,')
    judgement = _judge(paywalled)
    assert (judgement.verdict, judgement.reason) == ("blocked", "paywall")
    # A full article that says it is free of charge, or has no paywall flag, is ok.
    assert _judge(article_html("Late bus stays")).verdict == "ok"
