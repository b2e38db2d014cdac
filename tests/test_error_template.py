"""A page built from the host's error template with a message no rule knows: ``soft_404``/
``probe_match`` with evidence ``probe_same_template`` (archive.liveness.error_template, issue 17
item 2), in the crawl and in ``morgue extract``; and every case where it must not fire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html

from archive.extraction.article import decode_html, extract_page
from archive.extraction.page_template import SKETCH_SIZE, template_similarity, template_sketch
from archive.liveness.error_template import headline_names_url, own_text_chars
from archive.liveness.judging import Fetch, judge_page
from archive.liveness.soft404 import (
    PROBE_SAME_TEMPLATE,
    SIMILAR_TO_ERROR,
    Baseline,
    similarity,
)
from tests.conftest import FAST, json_lines, judge_again, run_morgue
from tests.corpus import CorpusPage, corpus_pages
from tests.retired_pages import error_page
from tests.static_site import Route, StaticSite
from tests.tier import sweep

URL = "http://news.test/world/2025/06/harbour-story.html"
# Wording written into no rule and no catalogue: only the markup can tell.
NOTICE = ("Well then", "Whatever used to live at this address has packed its bags and left town.")
NOT_FOUND = ("Lost your way?", "Try the search box above, or start again from our front page.")


def _sketch(body: bytes) -> tuple[int, ...]:
    return template_sketch(lxml_html.document_fromstring(body))


def _baseline(body: bytes, status: int = 404) -> Baseline:
    result = extract_page(body, "http://news.test/world/2025/06/morgue-probe.html", "text/html")
    assert result is not None and result.facts is not None
    return Baseline(status=status, final_url=None, template=result.facts.template)


def _judge(
    body: bytes, baseline: Baseline | None, url: str = URL
) -> tuple[str, str, tuple[str, ...]]:
    result = extract_page(body, url, "text/html")
    assert result is not None
    fetch = Fetch(url=url, final_url=url, status=200)
    judgement = judge_page(fetch, result.extraction, result.facts, baseline=baseline)
    return judgement.verdict, judgement.reason, judgement.evidence


def _articles(limit: int) -> list[CorpusPage]:
    """Real-size dev articles, one per site, whose article can be cut out of their chrome."""
    pages: list[CorpusPage] = []
    hosts: set[str] = set()
    for page in corpus_pages(min_size=40_000):
        host = (page.url or page.id).split("/")[2] if page.url else page.id
        if host in hosts:
            continue
        notice = error_page(page.html, *NOTICE, with_404=False)
        result = extract_page(notice, URL, "text/html")
        if result is None or len((result.extraction.text if result.extraction else "") or "") > 400:
            continue  # the article could not be cut out: no believable notice
        hosts.add(host)
        pages.append(page)
        if len(pages) >= limit:
            break
    assert len(pages) == limit, "too few corpus articles to build error pages from"
    return pages


def test_the_sketch_ignores_words_and_counter_digits_but_not_structure() -> None:
    one = b"<html><body><div class='main col-3'><h1>Hello</h1><p>One</p></div></body></html>"
    other = b"<html><body><div class='col-7 main'><h1>Hei</h1><p>Toinen</p></div></body></html>"
    moved = b"<html><body><div class='main'><p>One</p><ul><li>x</li></ul></div></body></html>"
    assert _sketch(one) == _sketch(other)
    assert template_similarity(_sketch(one), _sketch(other)) == 1.0
    assert template_similarity(_sketch(one), _sketch(moved)) < 0.5
    assert template_similarity(_sketch(one), ()) == 0.0


def test_what_scripts_hold_is_no_part_of_the_template() -> None:
    plain = b"<html><body><main><p>Text</p></main><script>var a = 1;</script></body></html>"
    scripted = (
        b"<html><body><main><p>Text</p></main><script><div class='x'><p>y</p></div></script>"
        b"</body></html>"
    )
    assert _sketch(plain) == _sketch(scripted)


def test_a_large_page_is_kept_as_a_bounded_sketch() -> None:
    def name(i: int) -> str:  # letters only: digits are no part of a class's name here
        return "".join(chr(97 + (i // 26**k) % 26) for k in range(3))

    many = "".join(f"<section class='{name(i)}'><p>x</p></section>" for i in range(2000))
    sketch = _sketch(f"<html><body>{many}</body></html>".encode())
    assert len(sketch) == SKETCH_SIZE and list(sketch) == sorted(sketch)
    # Most of it in common: the estimate from two bounded sketches stays near the truth.
    fewer = "".join(f"<section class='{name(i)}'><p>x</p></section>" for i in range(1800))
    estimate = template_similarity(sketch, _sketch(f"<html><body>{fewer}</body></html>".encode()))
    assert 0.8 < estimate <= 1.0


def test_a_headline_names_its_slug_in_any_case_and_accent() -> None:
    url = "https://paper.test/2024/05/mayor-resigns-after-vote"
    assert headline_names_url(url, ["Mayor Resigns After the Vote | Paper"]) is True
    assert headline_names_url(url, ["Page not found"]) is False
    assert headline_names_url("https://paper.test/a/ete-chaud.html", ["Un été chaud"]) is True
    # An id or one word is no slug: it says nothing either way.
    assert headline_names_url("https://paper.test/story/123456", ["Anything"]) is None
    assert headline_names_url("https://paper.test/p/removed-4.html", ["Anything"]) is None


def test_a_page_owns_only_the_words_its_hosts_error_page_does_not_hold() -> None:
    probe = "Latest news Mayor opens the new bridge Weather for the weekend Page not found"
    page = "Latest news Mayor opens the new bridge Weather for the weekend The story was retired"
    assert own_text_chars(page, probe) == len("the story was retired ")
    assert own_text_chars(page, None) == len(page) + 1
    assert own_text_chars(None, probe) == 0


@pytest.mark.parametrize("index", range(4))
def test_a_notice_on_the_hosts_error_template_is_dead_in_wording_no_rule_knows(index: int) -> None:
    page = _articles(4)[index]
    not_found = error_page(page.html, *NOT_FOUND, with_404=False)
    notice = error_page(page.html, *NOTICE, with_404=False)
    # Without the probe nothing tells: the wording is in no list.
    assert _judge(notice, None)[0] == "ok"
    verdict, reason, evidence = _judge(notice, _baseline(not_found))
    assert (verdict, reason) == ("soft_404", "probe_match")
    assert PROBE_SAME_TEMPLATE in evidence and "thin_text" in evidence


def _probe_template(body: bytes) -> Baseline:
    """The baseline a probe of ``body`` leaves: its template, read as extract_page reads it
    (without extracting its text, which the template rule does not compare)."""
    tree = lxml_html.document_fromstring(decode_html(body, "text/html"))
    return Baseline(status=404, final_url=None, template=template_sketch(tree))


def test_no_live_article_is_taken_for_its_own_sites_error_template() -> None:
    # The hardest case there is: the error page made from the article's own page, chrome and
    # all. One article per site (183 sites: a site's articles share their template), a third
    # of them unless MORGUE_TEST_FULL=1 (tests/tier.py).
    by_site: dict[str, CorpusPage] = {}
    for page in corpus_pages():
        by_site.setdefault(page.url.split("/")[2] if page.url else page.id, page)
    pages = sweep(list(by_site.values()))
    assert len(pages) > 60
    wrong = []
    for page in pages:
        baseline = _probe_template(error_page(page.html, *NOT_FOUND, with_404=False))
        verdict, _reason, evidence = _judge(page.html, baseline, page.url or URL)
        if verdict != "ok" and PROBE_SAME_TEMPLATE in evidence:
            wrong.append(page.id)
    assert wrong == []


def _notice_with(head: str) -> tuple[bytes, Baseline]:
    page = _articles(1)[0]
    not_found = error_page(page.html, *NOT_FOUND, with_404=False)
    tree = lxml_html.document_fromstring(error_page(page.html, *NOTICE, with_404=False))
    for meta in tree.xpath("//meta[@property='og:type']"):  # the head given says what it is
        meta.getparent().remove(meta)
    if head:
        tree.find("head").append(lxml_html.fragment_fromstring(head))
    return lxml_html.tostring(tree), _baseline(not_found)


def test_a_page_that_declares_a_video_or_a_gallery_is_left_alone() -> None:
    for head in (
        "<meta property='og:type' content='video.other'>",
        '<script type=\'application/ld+json\'>{"@type": "ImageGallery"}</script>',
    ):
        body, baseline = _notice_with(head)
        verdict, _reason, evidence = _judge(body, baseline)
        assert verdict == "ok" and PROBE_SAME_TEMPLATE not in evidence
    # The same page declaring nothing is the error template.
    body, baseline = _notice_with("<meta property='og:type' content='website'>")
    assert _judge(body, baseline)[:2] == ("soft_404", "probe_match")


def test_a_page_whose_headline_names_its_url_is_left_alone() -> None:
    body, baseline = _notice_with("")
    url = "http://news.test/world/2025/06/well-then-harbour.html"  # the slug says "Well then"
    assert _judge(body, baseline, url)[0] == "ok"
    assert _judge(body, baseline)[:2] == ("soft_404", "probe_match")


def test_a_front_page_and_a_page_of_another_template_are_left_alone() -> None:
    body, baseline = _notice_with("")
    assert _judge(body, baseline, "http://news.test/world/")[0] == "ok"
    stranger = _baseline(
        b"<html><body><table><tr><td><font>Not here</font></td></tr></table></body></html>"
    )
    assert _judge(body, stranger)[0] == "ok"


def test_a_thin_page_at_a_url_no_article_has_is_left_alone() -> None:
    # A site's search, query or contact page is built on its error template too.
    body, baseline = _notice_with("")
    for url in ("http://news.test/query?id=7", "http://news.test/search", "http://news.test/p/7"):
        assert _judge(body, baseline, url)[0] == "ok", url
    for url in ("http://news.test/2024/05/x.html", "http://news.test/story/A2026012914320"):
        assert _judge(body, baseline, url)[:2] == ("soft_404", "probe_match"), url


def test_a_script_application_shell_is_left_alone() -> None:
    shell = (
        b"<html><head><title>Paper</title></head><body><div id='app'></div>"
        b"<script src='/bundle.js'></script><noscript>Enable JavaScript.</noscript></body></html>"
    )
    # Such a site serves the same shell for every URL: the templates are equal, and say nothing.
    verdict, _reason, evidence = _judge(shell, _baseline(shell))
    assert verdict == "ok" and "needs_browser" in evidence


@pytest.mark.slow
def test_the_crawl_and_morgue_extract_catch_it_through_the_stored_probe(tmp_path: Path) -> None:
    # A page whose notice shares little text with its 404 page: only the markup tells.
    for page in _articles(8):
        notice = error_page(page.html, *NOTICE, with_404=False)
        not_found = error_page(page.html, *NOT_FOUND, with_404=True)
        texts = [extract_page(body, URL, "text/html") for body in (notice, not_found)]
        if (
            similarity(*(r.extraction.text if r and r.extraction else "" for r in texts))
            < SIMILAR_TO_ERROR
        ):
            break
    else:
        raise AssertionError("every notice shares its text with its 404 page")
    data = tmp_path / "data"
    # A well-behaved host: its 404 page for unknown URLs, a removal notice at the retired URL.
    site = StaticSite(
        routes={"/world/2025/harbour-story.html": Route(body=notice)},
        fallback=Route(404, not_found),
    )
    with site:
        url = site.url("/world/2025/harbour-story.html")
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, url)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert (row["verdict"], row["reason"]) == ("soft_404", "probe_match")
    shown = run_morgue("--data-dir", str(data), "show", url, "--json")
    assert PROBE_SAME_TEMPLATE in json.loads(shown.stdout)["evidence"], shown.stderr
    # morgue extract judges the record again with the probe as the DB kept it.
    rows = judge_again(data, "verdict, reason, evidence")
    assert [(v, r) for v, r, _ in rows] == [("soft_404", "probe_match")]
    assert PROBE_SAME_TEMPLATE in rows[0][2]
