"""``needs_browser``: a live page whose article its scripts write (archive.liveness.browser_hint).

Where the flag fires (the corpus's JavaScript shell, app shells) and where it must not (every
real article of the corpus with a text, short pages with their chrome, pages without scripts).
The CLI side (``show``'s hint, the summaries) is in tests/test_source_failures.py.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from archive.extraction.article import decode_html, extract_page
from archive.extraction.page_facts import page_facts
from archive.liveness.browser_hint import BROWSER_VISIBLE, NEEDS_BROWSER, needs_browser
from archive.liveness.soft404 import judge
from tests.corpus import corpus_pages

URL = "http://news.example/politics/2026/11/some-story.html"
CHROME = (
    "<header><nav>" + " ".join(f"<a href='/s{i}'>Section number {i}</a>" for i in range(30))
    + "</nav></header><footer><p>Contact us, advertise, terms of use.</p></footer>"
)  # fmt: skip


def verdict(body: bytes, url: str = URL) -> tuple[str, tuple[str, ...]]:
    result = extract_page(body, url, "text/html")
    assert result is not None
    text = result.extraction.text if result.extraction else None
    judged = judge(url=url, final_url=url, title=None, text=text, facts=result.facts, baseline=None)
    return judged.verdict, judged.evidence


def page(body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>T</title></head><body>{body}</body></html>".encode()


def test_the_corpus_javascript_shell_is_ok_and_needs_a_browser() -> None:
    shell = corpus_pages(kind="js_shell")[0]
    assert verdict(shell.html) == ("ok", ("thin_text", "no_article_markup", NEEDS_BROWSER))


@pytest.mark.parametrize(
    "body",
    [
        # A React/Next.js style mount point, rendered by a bundle.
        '<div id="root"></div><script src="/static/js/main.3f2a.js"></script>',
        '<div id="__next"><div class="spinner"></div></div><script src="/_next/app.js"></script>',
        # An empty mount point under a masthead.
        '<header><a href="/">The Daily Ledger</a></header><main><div id="app"></div></main>'
        '<script src="/app.js"></script>',
        # A noscript asking for JavaScript, the usual create-react-app page.
        "<noscript>You need to enable JavaScript to run this app.</noscript>"
        '<div class="x"></div><script>window.boot()</script>',
    ],
)
def test_app_shells_need_a_browser(body: str) -> None:
    assert verdict(page(body)) == ("ok", ("thin_text", "no_article_markup", NEEDS_BROWSER))


@pytest.mark.parametrize(
    "body",
    [
        # No script: nothing will ever write a text; an empty page is just empty.
        '<div id="root"></div>',
        "<p>Short.</p>",
        # A short page that shows its chrome and runs scripts, as every news page does.
        CHROME + "<h1>Photos: the parade</h1><p>Pictures of the day.</p><script src='/a.js'>"
        "</script>",
        # A JSON data block is no code.
        '<div id="root"></div><script type="application/ld+json">{"@type": "WebPage"}</script>',
    ],
)
def test_pages_that_do_not_need_a_browser(body: str) -> None:
    assert NEEDS_BROWSER not in verdict(page(body))[1]


def test_a_real_article_with_scripts_is_never_flagged() -> None:
    article = corpus_pages(limit=1)[0]
    result = extract_page(article.html, URL, "text/html")
    assert result is not None and result.facts is not None and result.extraction is not None
    assert result.facts.scripts > 0
    assert not needs_browser(result.facts, result.extraction.text)
    assert not needs_browser(result.facts, "")  # even if extraction had failed: it shows text


def test_no_article_of_the_corpus_with_a_text_is_flagged() -> None:
    """Every ``dev`` article page of the corpus that holds its text in its HTML.

    The rule cannot fire on a page that shows ``BROWSER_VISIBLE`` characters and no app shell,
    whatever its extracted text: those are checked from their facts alone; the others are
    extracted and judged. bench/browser_hint_eval.py checks every page of every kind and split
    (the ``acceptance`` articles too: none is flagged).
    """
    pages = corpus_pages(split="dev")
    assert len(pages) > 200
    flagged = []
    for article in pages:
        tree = lxml_html.document_fromstring(decode_html(article.html))
        facts = page_facts(tree, URL)
        if facts.visible_chars >= BROWSER_VISIBLE and not facts.app_shell:
            continue
        result = extract_page(article.html, URL, "text/html")
        text = result.extraction.text if result and result.extraction else None
        if result is not None and needs_browser(result.facts, text):
            flagged.append((article.id, len(text or "")))
    # One article of the corpus serves its text only inside script data (a Next.js flight
    # payload: the HTML shows a spinner): flagging it is right, and the corpus's own gold
    # text for it is empty too.
    assert flagged == [("fundus-kr-HankookIlbo_2026_01_29", 0)]
