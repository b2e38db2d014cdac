"""Which URLs a page needs to be shown as a reader saw it: its requisites.

Pure functions from bytes to URLs, no fetching: the images (``img src``, ``srcset``,
``<picture><source srcset>``, ``<input type=image>``, ``<video poster>``), stylesheets
(``<link rel=stylesheet>``), fonts and other preloads (``<link rel=preload|icon|...>``), scripts,
the inline ``style`` attributes and ``<style>`` blocks of a page, and the ``url()``s and
``@import``s of a stylesheet. Links a reader follows (``<a href>``) are not requisites.

The crawl fetches a page's requisites and the ``url()``s of the stylesheets among them, one
level deep (``crawler.requisite_fetcher``); what is found here is only what the markup names:
what scripts load at run time needs the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

__all__ = ["KINDS", "RequisiteUrl", "css_requisites", "page_requisites"]

#: What a requisite is for, as stored in ``requisites.kind``.
KINDS = ("image", "stylesheet", "font", "script", "media", "other")


@dataclass(frozen=True, slots=True)
class RequisiteUrl:
    url: str  # absolute, without fragment
    kind: str  # one of KINDS


# url(...) with or without quotes, and @import "..." (the url() form is matched by the first).
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s'"]+))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf", ".eot")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp")
# <link rel=...> values that name something the page loads (not "canonical", "alternate"...).
_LOADED_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload"}
_PRELOAD_KINDS = {"style": "stylesheet", "font": "font", "image": "image", "script": "script"}


def _absolute(base: str, raw: str | None) -> str | None:
    """``raw`` resolved against ``base``, http(s) only (no ``data:``, ``javascript:``...)."""
    if not raw:
        return None
    raw = raw.strip()
    if not raw or raw.startswith(("data:", "#", "javascript:", "about:", "blob:")):
        return None
    try:
        url = urljoin(base, raw)
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host or port: nothing to fetch
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.split("#", 1)[0]


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset``: comma-separated candidates, each a URL and a descriptor."""
    urls = []
    for candidate in value.split(","):
        parts = candidate.strip().split()
        if parts:
            urls.append(parts[0])
    return urls


def _css_kind(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(_FONT_SUFFIXES):
        return "font"
    if path.endswith(".css"):
        return "stylesheet"
    if path.endswith(_IMAGE_SUFFIXES):
        return "image"
    return "other"


def css_requisites(css: str, base_url: str) -> list[RequisiteUrl]:
    """The ``url()``s and ``@import``s of a stylesheet (or a ``style`` attribute), in order,
    each once, resolved against ``base_url`` (the stylesheet's own URL for a fetched one)."""
    found: dict[str, RequisiteUrl] = {}
    for match in _CSS_IMPORT.finditer(css):
        url = _absolute(base_url, next(g for g in match.groups() if g is not None))
        if url is not None:
            found.setdefault(url, RequisiteUrl(url, "stylesheet"))
    for match in _CSS_URL.finditer(css):
        raw = next((g for g in match.groups() if g is not None), None)
        url = _absolute(base_url, raw)
        if url is None:
            continue
        # An @import url(...) names a stylesheet; other url()s are images and fonts.
        before = css[max(0, match.start() - 12) : match.start()].lower()
        kind = "stylesheet" if "@import" in before else _css_kind(url)
        found.setdefault(url, RequisiteUrl(url, kind))
    return list(found.values())


def _link_requisite(element: etree._Element, base: str) -> RequisiteUrl | None:
    rels = set((element.get("rel") or "").lower().split())
    if not rels & _LOADED_RELS:
        return None
    url = _absolute(base, element.get("href"))
    if url is None:
        return None
    if "stylesheet" in rels:
        return RequisiteUrl(url, "stylesheet")
    if rels & {"preload", "modulepreload"}:
        return RequisiteUrl(url, _PRELOAD_KINDS.get((element.get("as") or "").lower(), "other"))
    return RequisiteUrl(url, "image")  # the icons


def page_requisites(html: bytes, page_url: str) -> list[RequisiteUrl]:
    """The requisites of an HTML page, in document order, each URL once.

    ``page_url`` is the URL that answered (after redirects); a ``<base href>`` overrides it as
    browsers do. Invalid markup is read as browsers read it (lxml's HTML parser recovers);
    a body that is not markup at all gives an empty list.
    """
    if not html.strip():
        return []
    parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(html, parser)
    except (etree.ParserError, ValueError):
        return []
    if root is None:
        return []
    base = page_url
    for element in root.iter("base"):
        href = _absolute(page_url, element.get("href"))
        if href is not None:
            base = href
        break
    found: dict[str, RequisiteUrl] = {}

    def add(url: str | None, kind: str) -> None:
        if url is not None and url not in found:
            found[url] = RequisiteUrl(url, kind)

    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "img" or (tag == "input" and (element.get("type") or "").lower() == "image"):
            add(_absolute(base, element.get("src")), "image")
            for raw in _srcset_urls(element.get("srcset") or ""):
                add(_absolute(base, raw), "image")
        elif tag == "source":
            for raw in _srcset_urls(element.get("srcset") or ""):
                add(_absolute(base, raw), "image")
            add(_absolute(base, element.get("src")), "media")
        elif tag in ("video", "audio"):
            add(_absolute(base, element.get("poster")), "image")
            add(_absolute(base, element.get("src")), "media")
        elif tag == "link":
            requisite = _link_requisite(element, base)
            if requisite is not None:
                add(requisite.url, requisite.kind)
        elif tag == "script":
            add(_absolute(base, element.get("src")), "script")
        elif tag == "style" and element.text:
            for requisite in css_requisites(element.text, base):
                add(requisite.url, requisite.kind)
        style = element.get("style") if tag else None
        if style and "url(" in style:
            for requisite in css_requisites(style, base):
                add(requisite.url, requisite.kind)
    return list(found.values())
