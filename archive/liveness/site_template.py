"""The site's article template, learnt from its live captures: a soft 404 that needs neither
wording nor a probe.

A site that retires a story often keeps its URL answering 200 with the site's own article page
around a short notice: the header, menus, sidebars and footer of every article, with the article
block (headline, byline, body, article metadata) gone. Its host's probe may not help: the host
can answer unknown URLs with a bare 404 built from another template. The site's other articles
can: the archive holds live captures of them, and each is kept here as a sample of the site's
article template (its markup's fingerprint, ``archive.extraction.page_template``; kept by
``archive.liveness.site_samples``).

A page is ``soft_404``/``article_lost`` (evidence ``lacks_site_article``,
``archive.liveness.judging``) when it is built from the site's template and lacks everything the
site's articles carry:

- made of the site's article pages: at least ``OF_THE_SITE`` of its element pairs are found in
  the sampled articles of its host (at least ``MIN_SAMPLES`` of them, fetched within the probe
  age of it, either way);
- no article block: no article markup (every sample has it), not a script application's shell,
  and under the soft-404 rules' 600 characters of text of its own, in lines the site's sampled
  articles do not hold (``own_text_chars``: a site's chrome keeps its teasers, "most read" boxes
  and bylines around the notice, which the extractor takes in on every page alike);
- at an article's URL, with a headline that does not name the URL's slug, and declaring no other
  kind of work (``archive.liveness.error_template``: a gallery, a video, the site's search page).

``OF_THE_SITE`` is 0.9, chosen with these figures of the dev articles in view: the error pages
the tests build from them (their chrome, the article replaced) share 0.94 to 1.00 of their pairs
with their own article; an article compared with two articles of other sites shares a median
0.01 of its pairs with them, and at most 0.85 (sites built on one publishing system).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive.extraction.page_facts import PageFacts
from archive.extraction.page_template import SKETCH_SIZE
from archive.extraction.text_width import text_width
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.error_template import (
    article_url,
    declares_other_content,
    headline_names_url,
    own_text_chars,
)
from archive.liveness.soft404 import THIN_TEXT
from archive.urls import site_host

__all__ = [
    "CLOSING_PARAGRAPHS",
    "LACKS_SITE_ARTICLE",
    "MIN_SAMPLES",
    "OF_THE_SITE",
    "SiteSample",
    "closing_paragraphs",
    "is_site_sample",
    "lacks_site_article",
    "may_lack_site_article",
    "share_of_site",
    "site_host",
    "site_stubs",
]

#: Evidence: the page is the site's article template without an article.
LACKS_SITE_ARTICLE = "lacks_site_article"
#: Share of the page's element pairs that the site's sampled articles hold.
OF_THE_SITE = 0.9
#: The fewest samples that count: two articles agreeing on the site's template, where one could
#: be a page of another kind.
MIN_SAMPLES = 2
#: The paragraphs at the end of an article kept as its closing: as many as the appended-stub
#: rule searches (``archive.liveness.soft404.strip_appended_stub``), and as long as it cuts.
CLOSING_PARAGRAPHS = 6
CLOSING_CHARS = 400
# The evidence an ``ok`` capture records when it shows no article.
_NOT_AN_ARTICLE = frozenset({"thin_text", "no_article_markup", NEEDS_BROWSER})


@dataclass(frozen=True, slots=True)
class SiteSample:
    """A live article of the site: its markup's fingerprint and its extracted text."""

    template: tuple[int, ...]
    text: str
    url: str = ""  # where it was fetched (one article is one sample, however it was found)
    #: Its page's text outside the story: the menus, forms and boxes the site shows around
    #: every article (``archive.extraction.article.page_chrome``); empty when not known.
    chrome: str = ""


def is_site_sample(
    verdict: str, evidence: Sequence[str], text: str | None, recovered_from: str | None
) -> bool:
    """Whether a capture is a live article worth keeping as a sample of its site's template:
    judged ``ok`` on the live site, with article markup and an article's length of text."""
    return (
        verdict == "ok"
        and recovered_from is None
        # Not thin by the soft-404 rules' measure: a short news report is an article of the
        # site's template as much as a long one (the extraction reads the chrome of pages with
        # as much text: SAMPLE_MIN_CHARS, the same line).
        and text_width(text, cap=THIN_TEXT) >= THIN_TEXT
        and not _NOT_AN_ARTICLE & set(evidence)
    )


def closing_paragraphs(text: str | None) -> list[str]:
    """The last paragraphs of an article's text, those short enough to be a stub or furniture.

    A paragraph that closes another article of the site word for word is the site's, not the
    story's: a stub the site appends to retired articles, or a standard footer. The appended-stub
    rule cuts it from the end of a page like any text of the host's error page.
    """
    paragraphs = [p.strip() for p in (text or "").split("\n") if p.strip()]
    return [p for p in paragraphs[-CLOSING_PARAGRAPHS:] if len(p) <= CLOSING_CHARS]


def site_stubs(closings: Iterable[Sequence[str]], text: str | None) -> list[str]:
    """The closing paragraphs of the site's other articles that may be cut from this page's end.

    An article whose closing paragraphs are all in the page's text is the page's own story under
    another URL (a copy, a redirect to the same page): its closing is the story's, not the
    site's, and counts for nothing.
    """
    own = " ".join((text or "").split())
    found: list[str] = []
    for closing in closings:
        if closing and not all(" ".join(p.split()) in own for p in closing):
            found.extend(closing)
    return found


def share_of_site(template: Sequence[int], samples: Sequence[Sequence[int]]) -> float:
    """The share of the page's element pairs that the samples hold.

    Sketches keep only their ``SKETCH_SIZE`` smallest hashes: pairs are compared below the
    largest hash every full sketch (the page's and the samples') still holds, where each
    sketch is exact.
    """
    cut = math.inf
    for sketch in (template, *samples):
        if len(sketch) >= SKETCH_SIZE:
            cut = min(cut, max(sketch))
    own = {h for h in template if h <= cut}
    if not own:
        return 0.0
    site = {h for sketch in samples for h in sketch if h <= cut}
    return len(own & site) / len(own)


def may_lack_site_article(url: str, facts: PageFacts, evidence: Sequence[str]) -> bool:
    """Whether a page judged ``ok`` is worth comparing with its site's articles: it shows no
    article markup, no script shell, no other kind of work, sits at an article's URL and has
    a headline that does not name it. The samples are looked up only for such a page."""
    return (
        "no_article_markup" in evidence
        and NEEDS_BROWSER not in evidence
        and bool(facts.template)
        and not facts.article_markup
        and not declares_other_content(facts)
        and article_url(url)
        and not headline_names_url(url, facts.headings())
    )


def lacks_site_article(
    *,
    url: str,
    text: str | None,
    facts: PageFacts,
    evidence: Sequence[str],
    samples: Sequence[SiteSample],
) -> bool:
    """Whether a page judged ``ok`` is its site's article page with the article gone (see the
    module docstring)."""
    if len(samples) < MIN_SAMPLES or not may_lack_site_article(url, facts, evidence):
        return False
    if share_of_site(facts.template, [s.template for s in samples]) < OF_THE_SITE:
        return False
    # What the site's articles show, around their stories too: a notice page's extracted text
    # is often the chrome the extractor takes in once the story is gone (a comment form, a
    # paywall box, the menu), none of it the page's own.
    site_text = "\n".join(part for s in samples for part in (s.text, s.chrome) if part)
    return own_text_chars(text, site_text) < THIN_TEXT
