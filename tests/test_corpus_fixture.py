"""The real-size page fixture serves the corpus's pages byte for byte, with a feed linking them."""

from __future__ import annotations

import urllib.request

from tests.corpus import CorpusSite, corpus_pages


def test_corpus_site_serves_real_pages_and_a_feed_of_them() -> None:
    pages = corpus_pages(limit=3)
    assert len(pages) == 3 and all(len(p.html) > 10_000 for p in pages)
    with CorpusSite(5) as site:
        with urllib.request.urlopen(site.url(2)) as response:
            assert response.read() == site.body(2)
        with urllib.request.urlopen(site.url("/feed.xml")) as response:
            assert site.url(4).encode() in response.read()
        assert site.article_requests() == [site.path(2)]
