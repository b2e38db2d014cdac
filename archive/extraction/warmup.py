"""Importing this module readies a process to extract: trafilatura loaded, its caches filled.

Extraction processes import it first (``archive.extraction.article.WORKER_PRELOAD``); on Linux the
pool's forkserver imports it once and every worker forks from there ready. trafilatura fills some
caches on first use: a process's first article costs ~0.2 s more than the next (dates,
language) and its first short page ~0.4 s more (justext's stop lists for every language, the
public suffix list). Two made-up pages pay for both here, before any page of a crawl waits.
"""

from __future__ import annotations

import logging

from archive.extraction.article import extract_page

__all__: list[str] = []

logger = logging.getLogger(__name__)

_ARTICLE = (
    b"<html lang=en><head><title>Warm-up | Morgue</title>"
    b'<meta property="article:published_time" content="2024-01-02T03:04:05Z"></head><body>'
    b"<article><h1>Warm-up</h1><p class=byline>By A. Writer</p>"
    + b"<p>This paragraph exists so that a fresh worker fills its caches before real work."
    b" It names a date, 2 January 2024, and is long enough to pass for an article.</p>"
    * 4
    + b"</article></body></html>"
)
_STUB = b"<html><head><title>Gone</title></head><body><h1>Gone</h1><p>Not here.</p></body>"


def _warm_up() -> None:
    for body, url in (
        (_ARTICLE, "https://www.example.org/2024/01/02/warm-up"),
        (_STUB, "https://www.example.org/gone"),
    ):
        try:
            extract_page(body, url, "text/html")
        except Exception:  # a worker that cannot warm up still extracts; its pages will say why
            logger.debug("Warm-up extraction failed", exc_info=True)


_warm_up()
