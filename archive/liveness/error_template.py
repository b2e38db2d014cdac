"""The host's error page with another message: a soft 404 that needs no wording.

Many sites serve their 404 page for an unknown URL and a removal notice ("this story was taken
down at the request of...") with 200 for a retired article, both built from one error template.
The notice's words may be in no list and its text is not the 404 page's text, so neither
``error_stub`` nor the probe's text comparison catches it. What it shares with the probe page is
its markup: the same header, menus, footer and message block, element for element
(``archive.extraction.page_template``).

The rule fires only on a page at an article's URL (a slug, an id or a date in its path: a
site's other thin pages, its search or contact page, use the same template) that also shows no
article of its own:

- little text of its own: under the soft-404 rules' 600 characters in lines the probe page's
  text does not hold (``own_text_chars``: an error template often keeps teasers or a byline
  that the extractor takes in, on both pages alike);
- no article markup and no other content declared (a video, a gallery, a product: ``og:type``
  or JSON-LD of another kind of work);
- not a script application's shell (``needs_browser``): such sites serve one shell for every
  URL, error or not;
- a headline that does not name its URL: an article's slug (``/2024/05/mayor-resigns-after-
  vote``) shares its words with the article's headline, an error page's heading shares none.
  A URL with no slug of two words or more says nothing either way.

``SAME_TEMPLATE`` was set by reasoning, not fitted: two renders of one template differ in their
message block and in what rotates (ads, "most read" boxes), so a fifth of the element pairs may
differ; a live article adds its whole article block (headline, byline, body, figures, related
links) and, on its own template, overlaps the error page by 0.5 to 0.8 on the corpus pages.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from archive.extraction.page_facts import PageFacts
from archive.extraction.page_template import template_similarity
from archive.extraction.text_width import text_width

__all__ = [
    "SAME_TEMPLATE",
    "article_url",
    "declares_other_content",
    "headline_names_url",
    "own_text_chars",
    "same_error_template",
]

SAME_TEMPLATE = 0.8
# JSON-LD types a page of any kind carries (the site, its publisher, its menus): they say
# nothing about what the page holds.
_NEUTRAL_TYPES = frozenset(
    {
        "webpage",
        "website",
        "organization",
        "newsmediaorganization",
        "corporation",
        "breadcrumblist",
        "listitem",
        "itemlist",
        "searchaction",
        "entrypoint",
        "sitenavigationelement",
        "wpheader",
        "wpfooter",
        "wpsidebar",
        "imageobject",
        "person",
        "postaladdress",
        "contactpoint",
        "readaction",
        "searchresultspage",
        "collectionpage",
        "thing",
    }
)
_SLUG_SPLIT_RE = re.compile(r"[-_+.\s]+")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_LETTERS_RE = re.compile(r"^[^\W\d_]{3,}$", re.UNICODE)
_ID_RE = re.compile(r"\d{5,}")
_DATE_RE = re.compile(r"(?:^|/)(?:19|20)\d\d[/-](?:0?[1-9]|1[0-2])(?:[/-]|$)")


def declares_other_content(facts: PageFacts) -> bool:
    """Whether the page says it holds a work other than an article (video, gallery, product)."""
    og_type = (facts.og_type or "").lower()
    if og_type and og_type != "website":
        return True
    return any(t.lower() not in _NEUTRAL_TYPES for t in facts.jsonld_types)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slug_words(url: str) -> set[str]:
    """The words of the URL's longest path segment, when it is a slug of two words or more."""
    segments = [unquote(s) for s in urlsplit(url).path.split("/") if s]
    if not segments:
        return set()
    slug = max(segments, key=len).rsplit(".", 1)[0]
    words = {_fold(w) for w in _SLUG_SPLIT_RE.split(slug) if _LETTERS_RE.match(w)}
    return words if len(words) >= 2 else set()


def article_url(url: str) -> bool:
    """Whether the URL has the shape of an article's: a slug of two words or more, an id of five
    digits or more, or a date (``/2024/05/``, ``2024-05-03``) in its path. A site's other thin
    pages (``/search``, ``/query?id=7``, ``/p/contact``) share its error template too; they
    are not articles that went."""
    path = unquote(urlsplit(url).path)
    return bool(_slug_words(url) or _ID_RE.search(path) or _DATE_RE.search(path))


def headline_names_url(url: str, headings: list[str]) -> bool | None:
    """Whether the page's headings share a word with its URL's slug; None when the URL has no
    slug to read (an id, a single word)."""
    slug = _slug_words(url)
    if not slug:
        return None
    said = {_fold(w) for heading in headings for w in _WORD_RE.findall(heading)}
    return bool(slug & said)


def own_text_chars(text: str | None, probe_text: str | None, size: int = 4) -> int:
    """Characters of ``text`` that the probe page's text does not hold: the words not covered
    by a run of ``size`` words found in both. What the page says beyond what the host's error
    page says (leftover teasers, bylines and menus are not its own)."""
    words = [w.lower() for w in _WORD_RE.findall(text or "")]
    probe = [w.lower() for w in _WORD_RE.findall(probe_text or "")]
    known = {tuple(probe[i : i + size]) for i in range(len(probe) - size + 1)}
    covered = [False] * len(words)
    for i in range(len(words) - size + 1):
        if tuple(words[i : i + size]) in known:
            covered[i : i + size] = [True] * size
    # Each word, in columns, and the space after it: what the thin-text rule counts (measured
    # in one pass over the words joined).
    own = [w for w, seen in zip(words, covered, strict=True) if not seen]
    return text_width(" ".join(own)) + 1 if own else 0


def same_error_template(
    *, url: str, thin: bool, facts: PageFacts, probe_template: tuple[int, ...], browser: bool
) -> bool:
    """Whether a page served with 2xx is the host's error template showing another message.

    ``thin``: the page says little of its own (``own_text_chars``); ``probe_template``: the
    fingerprint of what the host served for a URL that cannot exist (its probe, whatever the
    probe's status); ``browser``: the page looks like a script application's shell.
    """
    if not thin or facts.article_markup or browser or declares_other_content(facts):
        return False
    if not article_url(url):
        return False
    if headline_names_url(url, facts.headings()):
        return False
    return template_similarity(facts.template, probe_template) >= SAME_TEMPLATE
