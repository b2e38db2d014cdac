"""Where a line of extracted text sat in the page: the markup evidence the cleaning rules need.

trafilatura returns plain lines; whether a line was a link, part of the site's navigation,
sidebar or footer, a picture's caption, a date stamp or a text of its own is only known from the
page's markup. ``MarkupSignals`` answers that per line, from the parsed page, reading each kind
of evidence on first use.

A cleaning rule that removes a line names one of these signals (or repetition, or the page's own
metadata): words alone never remove text.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archive.urls import site_host

__all__ = ["MarkupSignals", "markup_signals"]

_TRAILING = " .:>\u203a\u00bb"  # what ends a teaser link's text: "Read more >"
_BLANK_RE = re.compile(r"[^\S\0]+")
_SEPARATED_SPACE_RE = re.compile(r" ?\0 ?")

# Markup that holds the site's furniture rather than the story: sectioning elements for
# navigation, sidebars, footers, forms and dialogs; ARIA roles of the same; and class or id
# names that name a widget (advertising, sharing, recommendations, newsletter boxes). The page's
# top <header> counts, an <article>'s own <header> (its headline and standfirst) does not.
_CHROME_TAGS = ("nav", "aside", "footer", "form", "button", "dialog", "menu", "select")
_CHROME_ROLES = ("navigation", "complementary", "contentinfo", "banner", "dialog")
_CAPTION_TAGS = ("figcaption", "figure", "caption")
_EMBED_TAGS = ("noscript", "iframe")
# Class and id names, matched on their lower-cased value. Short names only as whole parts of
# the value ("ad-slot", "ads"; not "head" or "shadow").
_NAMED = {
    "chrome": re.compile(
        "advert|sponsor|related|recommend|newsletter|share|sharing|social|promo|outbrain|"
        "taboola|breadcrumb|cookie|consent|(?:^|[ _-])(?:ad|ads|banner|widget|sidebar)(?:$|[ _-])"
    ),
    "caption": re.compile("caption|credit"),
    "embed": re.compile("embed"),
}

# A container that holds this share of the page's text or more is the page's frame or its
# content column (a "social" wrapper around the whole story exists), not a widget: its class
# or tag says nothing about a single line in it.
_CONTAINER_SHARE = 0.5


# The fewest words of a teaser's line inside a link: menus and tags are one to three words.
_TEASER_WORDS = 4
# The text test first and an explicit axis: libxml2 evaluates this form in two thirds of the
# time of ".//a[@href][...][contains(., $word)]" (the same links).
_LINKS_WITH = etree.XPath("descendant::a[contains(., $word)][@href][not(starts-with(@href, '#'))]")


def _page_key(url: str) -> str:
    """A URL as far as it names a page: no scheme, ``www.``, query, fragment or final slash (a
    link to the page itself by another spelling is not a link to another page)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return url
    return f"{site_host(url)}{path.rstrip('/')}"


def _norm(text: str) -> str:
    # str.split() splits on the same Unicode whitespace as \s, at a fraction of a regex's cost
    return " ".join(text.split()).casefold()


def _kind_of_tag(element: Any) -> str:
    tag = element.tag
    if tag in _CAPTION_TAGS:
        return "caption"
    if tag in _EMBED_TAGS:
        return "embed"
    if tag == "time":
        return "time"
    return "chrome"


def _regions(body: Any) -> dict[str, list[Any]]:
    """The page's elements of each kind: by tag or role, then by class or id name."""
    found: dict[str, list[Any]] = {"chrome": [], "caption": [], "embed": [], "time": []}
    for element in body.iter(*_CHROME_TAGS, *_CAPTION_TAGS, *_EMBED_TAGS, "time", "header"):
        if element.tag == "header" and element.xpath("ancestor::article or ancestor::main"):
            continue
        found[_kind_of_tag(element)].append(element)
    for value in body.xpath(".//@role"):
        if value in _CHROME_ROLES:
            found["chrome"].append(value.getparent())
    # Names are read by one XPath and matched here: XPath string tests of every class name
    # cost more than trafilatura's whole extraction.
    for value in body.xpath(".//@class | .//@id"):
        lowered = value.lower()
        for kind, name_re in _NAMED.items():
            if name_re.search(lowered):
                found[kind].append(value.getparent())
                break
    return found


def _texts(elements: list[Any], cap: int) -> str:
    parts = []
    for element in elements:
        text = _norm(element.text_content())
        if text and len(text) <= cap:
            parts.append(text)
    return "\n".join(parts)


def _holds(haystack: str, needle: str) -> bool:
    """``needle`` occurs in ``haystack`` as whole words (not inside a longer word)."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        start = haystack.find(needle, start + 1)
    return False


# Plain strings (no smart strings, which keep a reference to their parent each): a quarter
# faster than walking the elements in Python, which lxml.html wraps one by one.
_TEXT_NODES = etree.XPath(
    "descendant::text()[not(parent::script or parent::style or parent::noscript)]",
    smart_strings=False,
)


def _text_parts(body: Any) -> list[str]:
    """The body's text nodes in document order, without the code of scripts and styles."""
    parts: list[str] = _TEXT_NODES(body)
    return parts


class MarkupSignals:
    """The page's furniture, link, caption, date and embed texts, whitespace-normalised.

    Each is read from the tree on first use: most pages need none of them (no line of their
    text fits a word rule), and the reading costs about a sixth of trafilatura's extraction.
    The tree must not change meanwhile (trafilatura works on a copy of the tree it is given).
    """

    def __init__(self, tree: Any = None, url: str | None = None) -> None:
        self._body = tree.find("body") if tree is not None else None
        self._url = url

    @functools.cached_property
    def _parts(self) -> list[str]:
        return _text_parts(self._body) if self._body is not None else []

    def text_parts(self) -> list[str]:
        """The body's text pieces in document order, scripts and styles left out."""
        return self._parts

    @functools.cached_property
    def visible(self) -> str:
        """The body's visible text with all whitespace removed (``boilerplate.add_lede``)."""
        return "".join("".join(self._parts).split())

    @functools.cached_property
    def _regions(self) -> dict[str, str]:
        if self._body is None:
            return {}
        cap = max(200, int(len(self.visible) * _CONTAINER_SHARE))
        return {kind: _texts(elements, cap) for kind, elements in _regions(self._body).items()}

    @functools.cached_property
    def _links(self) -> frozenset[str]:
        if self._body is None:
            return frozenset()
        return frozenset(
            key
            for a in self._body.iter("a")
            if a.get("href") is not None and (key := _norm(a.text_content()).rstrip(_TRAILING))
        )

    @functools.cached_property
    def _blocks(self) -> str:
        # Every text node of the body between two NULs, whitespace-normalised, case kept.
        blocks = _SEPARATED_SPACE_RE.sub("\0", _BLANK_RE.sub(" ", "\0".join(self._parts)))
        return f"\0{blocks}\0"

    def _in(self, kind: str, line: str) -> bool:
        key = _norm(line)
        return bool(key) and _holds(self._regions.get(kind, ""), key)

    def in_chrome(self, line: str) -> bool:
        """The line is text of the site's navigation, sidebars, footer, forms or widgets."""
        return self._in("chrome", line)

    def in_caption(self, line: str) -> bool:
        """The line is text of a figure, its caption or a credit."""
        return self._in("caption", line)

    def in_time(self, line: str) -> bool:
        """The line is the text of a ``<time>`` element."""
        return self._in("time", line)

    def in_embed(self, line: str) -> bool:
        """The line is text of an embed's container or its ``<noscript>`` fallback."""
        return self._in("embed", line)

    def is_link(self, line: str) -> bool:
        """The line is the text of one link, alone or after a label ("Read more: <link>")."""
        key = _norm(line).rstrip(_TRAILING)
        if not key:
            return False
        if key in self._links:
            return True
        _label, sep, rest = key.partition(": ")
        return bool(sep) and rest in self._links

    def in_site_link(self, line: str) -> bool:
        """The line lies inside one link to another page of the page's site: part of a teaser
        card (headline, summary, date wrapped in one link), not prose that cites a page."""
        words = line.split()
        if len(words) < _TEASER_WORDS or self._body is None or not self._url:
            return False
        # The links holding the line's longest word, found by libxml2 itself: reading every
        # link's text in Python costs a millisecond a page, and most lines are in none.
        candidates = _LINKS_WITH(self._body, word=max(words, key=len))
        if not candidates:
            return False
        key = "".join(words).casefold()
        own, site = _page_key(self._url), site_host(self._url)
        for link in candidates:
            # Without whitespace: a card's blocks often touch ("<h3>..</h3><p>..</p>").
            if key not in "".join(link.text_content().split()).casefold():
                continue
            try:
                target = urljoin(self._url, (link.get("href") or "").strip())
            except ValueError:
                continue
            if site is not None and site_host(target) == site and _page_key(target) != own:
                return True
        return False

    def is_block(self, line: str) -> bool:
        """The line is a text node of its own (a label, a stamp), not words inside prose."""
        key = " ".join(line.split())
        return bool(key) and f"\0{key}\0" in self._blocks


def markup_signals(tree: Any, url: str | None = None) -> MarkupSignals:
    """The markup evidence of a parsed page fetched from ``url``, read lazily from ``tree``."""
    return MarkupSignals(tree, url)
