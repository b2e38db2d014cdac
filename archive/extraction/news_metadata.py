"""What a news page says about itself: JSON-LD, microdata, Open Graph and ``article:*`` meta.

Pure functions of a parsed lxml tree (read it before trafilatura prunes it). ``read_news_meta``
returns, for each field, the first value found in the order JSON-LD article object, microdata
article item, Open Graph / ``article:*`` meta, other ``<meta>`` names, and which of them it came
from. The caller falls back to trafilatura's own metadata for what is still missing.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from archive.extraction.news_normalise import normalise_authors, normalise_date, normalise_language

__all__ = [
    "ARTICLE_TYPES",
    "NewsMeta",
    "is_publication",
    "json_ld_objects",
    "read_news_meta",
    "site_names",
    "strip_site_suffix",
]

# schema.org types whose properties describe the article of the page.
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "Report",
        "TechArticle",
        "SatiricalArticle",
        "ScholarlyArticle",
    }
)
_NEWS_TYPES = frozenset(t for t in ARTICLE_TYPES if "News" in t or t == "ReportageNewsArticle")

_FIELDS = (
    "title",
    "authors",
    "published",
    "modified",
    "language",
    "site_name",
    "description",
    "article_body",
)
_CDATA_RE = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPACE_RE = re.compile(r"\s+")
# Compiled once: lxml parses a path expression given as a string on every call.
_LD_SCRIPTS = etree.XPath("//script[contains(translate(@type,'LDJSON','ldjson'),'ld+json')]")
# Elements with an itemtype, reached through the attribute: libxml2 finds them in two thirds of
# the time "//*[@itemtype]" takes, which tests every element.
_TYPED_ITEMS = etree.XPath("//@itemtype/..")
_META_WITH_CONTENT = etree.XPath("//meta[@content]")
# Separators: bar, hyphen, dashes, dots and colon between spaces; bars and the full-width colon
# of CJK titles with or without spaces.
_TITLE_SEP_RE = re.compile(r"\s+[|\-\u2013\u2014\u00b7\u2022:]\s+|\s*[|\uff5c\uff1a]\s*")


@dataclass(frozen=True, slots=True)
class NewsMeta:
    """The page's own metadata; ``sources`` maps each field found to where it was found."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    article_body: str | None = None
    #: Every headline the page gives (Open Graph, JSON-LD, microdata, ``<h1>``...), unstripped.
    titles: tuple[str, ...] = ()
    #: What the page's JSON-LD says about its authors (their ``description``): an author's
    #: profile printed under the story is not the story.
    author_bios: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)


def _text(value: Any) -> str | None:
    """A clean one-line string from a JSON-LD value (a string, a list, or ``{"@value": ...}``)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, (str, dict))), None)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if not isinstance(value, str):
        return None
    if "&" in value:  # entities escaped once too often are common in JSON-LD and meta tags
        value = html.unescape(value)
    # str.split() splits on the same Unicode whitespace as \s, at a fraction of a regex's cost
    value = " ".join(value.split())
    return value or None


def _types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {n.rsplit("/", 1)[-1] for n in names if isinstance(n, str)}


def _load_json(raw: str) -> Any:
    raw = raw.strip()
    # The regex tries its second branch at every character of what can be 100 kB of JSON
    # (0.2 ms a script); neither branch can match without its marker.
    if "<![CDATA[" in raw or "]]>" in raw:
        raw = _CDATA_RE.sub("", raw)
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:  # raw newlines and tabs inside strings are a common publishing error
        return json.loads(_CONTROL_RE.sub(" ", raw), strict=False)
    except ValueError:
        return None


def json_ld_objects(tree: Any) -> list[dict[str, Any]]:
    """Every JSON object of the page's ``application/ld+json`` scripts, nested ones included."""
    found: list[dict[str, Any]] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 12:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
        elif isinstance(node, dict):
            found.append(node)
            for key, value in node.items():
                if key != "articleBody" and isinstance(value, (dict, list)):
                    walk(value, depth + 1)

    for script in _LD_SCRIPTS(tree):
        if script.text:
            walk(_load_json(script.text), 0)
    return found


def _pick_article(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The page's article object: news types first, then the one with the longest body."""
    articles = [o for o in objects if _types(o) & ARTICLE_TYPES]
    if not articles:
        return None

    def rank(obj: dict[str, Any]) -> tuple[bool, bool, int]:
        body = obj.get("articleBody")
        return (
            bool(obj.get("headline") or obj.get("name")),
            bool(_types(obj) & _NEWS_TYPES),
            len(body) if isinstance(body, str) else 0,
        )

    return max(articles, key=rank)


def _ld_authors(value: Any, by_id: dict[str, dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = _text(item.get("name"))
            if name is None and (item.get("givenName") or item.get("familyName")):
                name = " ".join(
                    p for p in (_text(item.get("givenName")), _text(item.get("familyName"))) if p
                )
            if name:
                names.append(name)
    return names


def _ld_bios(value: Any, by_id: dict[str, dict[str, Any]]) -> list[str]:
    bios: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        if isinstance(item, dict) and (bio := _text(item.get("description"))):
            bios.append(bio)
    return bios


def _from_json_ld(tree: Any) -> dict[str, Any]:
    objects = json_ld_objects(tree)
    article = _pick_article(objects)
    if article is None:
        return {}
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str) and len(o) > 1}
    body = article.get("articleBody")
    publisher = article.get("publisher")
    if isinstance(publisher, dict) and "name" not in publisher:
        publisher = by_id.get(str(publisher.get("@id")), publisher)
    return {
        "title": _text(article.get("headline")) or _text(article.get("name")),
        "authors": _ld_authors(article.get("author"), by_id)
        or _ld_authors(article.get("creator"), by_id),
        "published": _text(article.get("datePublished")) or _text(article.get("dateCreated")),
        "modified": _text(article.get("dateModified")),
        "language": _text(article.get("inLanguage")),
        "site_name": _text(publisher) if isinstance(publisher, dict) else None,
        "description": _text(article.get("description")),
        "article_body": body.strip() if isinstance(body, str) and body.strip() else None,
        "author_bios": _ld_bios(article.get("author"), by_id)
        + _ld_bios(article.get("creator"), by_id),
    }


def _from_microdata(tree: Any) -> dict[str, Any]:
    items = [
        item
        for item in _TYPED_ITEMS(tree)
        if item.get("itemscope") is not None
        and item.get("itemtype", "").rstrip("/").rsplit("/", 1)[-1] in ARTICLE_TYPES
    ]
    if not items:
        return {}
    item = items[0]

    def prop(name: str) -> list[Any]:
        return list(item.xpath(f".//*[@itemprop='{name}']"))

    def value(el: Any) -> str | None:
        for attr in ("content", "datetime"):
            if el.get(attr):
                return _text(el.get(attr))
        return _text(el.text_content())

    authors: list[str] = []
    for el in prop("author"):
        names = el.xpath(".//*[@itemprop='name']")
        name = value(names[0]) if names else value(el)
        if name:
            authors.append(name)
    heads = prop("headline")
    published = prop("datePublished")
    modified = prop("dateModified")
    return {
        "title": value(heads[0]) if heads else None,
        "authors": authors,
        "published": value(published[0]) if published else None,
        "modified": value(modified[0]) if modified else None,
    }


def _meta_values(tree: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for meta in _META_WITH_CONTENT(tree):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip()
        content = meta.get("content", "").strip()
        if key and content:
            values.setdefault(key.lower(), []).append(content)
    return values


def _first(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in meta.get(key, ()):
            text = _text(value)
            if text:
                return text
    return None


def _from_open_graph(meta: dict[str, list[str]]) -> dict[str, Any]:
    authors = [a for a in meta.get("article:author", []) if not a.startswith(("http:", "https:"))]
    return {
        "title": _first(meta, "og:title"),
        "authors": authors,
        "published": _first(meta, "article:published_time", "og:article:published_time"),
        "modified": _first(meta, "article:modified_time", "og:updated_time"),
        "language": _first(meta, "og:locale"),
        "site_name": _first(meta, "og:site_name"),
        "description": _first(meta, "og:description"),
    }


def _from_meta(meta: dict[str, list[str]], tree: Any) -> dict[str, Any]:
    author = _first(meta, "author", "dc.creator", "dcterms.creator", "sailthru.author")
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    return {
        "title": _first(meta, "twitter:title", "dc.title"),
        "authors": [author] if author and not author.startswith(("http:", "https:")) else [],
        "published": _first(
            meta, "date", "pubdate", "publishdate", "dc.date", "dcterms.date", "dc.date.issued"
        ),
        "modified": _first(meta, "last-modified", "dcterms.modified"),
        "language": _text(lang) or _first(meta, "content-language", "dc.language"),
        "description": _first(meta, "description", "twitter:description"),
    }


_NORMALISE = {
    "authors": normalise_authors,
    "published": normalise_date,
    "modified": normalise_date,
    "language": normalise_language,
}


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """``Headline | Site`` without `` | Site`` when the last part names the site."""
    names = {re.sub(r"\W+", "", n).casefold() for n in site_names}
    names.discard("")
    while True:
        seps = list(_TITLE_SEP_RE.finditer(title))
        if not seps:
            return title
        head, last = title[: seps[-1].start()].strip(), title[seps[-1].end() :]
        key = re.sub(r"\W+", "", last).casefold()
        if not key or not head or not any(key in n or n in key for n in names):
            return title
        title = head


def _site_names(layers: tuple[tuple[str, dict[str, Any]], ...], url: str | None) -> list[str]:
    names = [values.get("site_name") or "" for _, values in layers]
    if url:
        host = urlsplit(url).hostname or ""
        labels = [p for p in host.split(".") if p not in ("www", "m", "amp")]
        if len(labels) >= 2:
            names.append(labels[-2])
            names.append(".".join(labels[-2:]))
    return [n for n in names if len(n) >= 3]


def _pick_title(
    tree: Any, layers: tuple[tuple[str, dict[str, Any]], ...], site_names: list[str]
) -> tuple[str, str] | None:
    """The headline readers see: a metadata title that is also an ``<h1>``, else Open Graph's."""
    by_source = dict(layers)
    candidates = [
        (strip_site_suffix(title, site_names), source)
        for source in ("opengraph", "json-ld", "microdata", "meta")
        if (title := by_source[source].get("title"))
    ]
    if not candidates:
        return None
    headings = {_SPACE_RE.sub(" ", h.text_content()).strip().casefold() for h in tree.iter("h1")}
    for title, source in candidates:
        if title.casefold() in headings:
            return title, source
    return candidates[0]


def site_names(site_name: str | None, url: str | None) -> list[str]:
    """The names a page's publication goes by: its declared name, its domain's labels."""
    return _site_names((("", {"site_name": site_name}),), url)


def is_publication(name: str, site_name: str | None, url: str | None) -> bool:
    """Whether an author name is the publication itself ("Port Gazette", "gazette.example")."""
    key = re.sub(r"\W+", "", name).casefold()
    names = {re.sub(r"\W+", "", n).casefold() for n in site_names(site_name, url)}
    return bool(key) and any(n in key or key in n for n in names if len(n) >= 3)


def read_news_meta(tree: Any, url: str | None = None) -> NewsMeta:
    """The page's metadata by source priority, normalised, with the source of each field.

    The title is the exception to "JSON-LD first": the Open Graph title is the one a publisher
    writes for people (JSON-LD ``headline`` is often a search-engine variant), so it comes
    first; a trailing `` | Site Name`` is removed from whichever title is used.
    """
    meta = _meta_values(tree)
    layers = (
        ("json-ld", _from_json_ld(tree)),
        ("microdata", _from_microdata(tree)),
        ("opengraph", _from_open_graph(meta)),
        ("meta", _from_meta(meta, tree)),
    )
    found: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in _FIELDS:
        if name == "title":
            continue
        for source, values in layers:
            value = values.get(name)
            if value and name in _NORMALISE:
                value = _NORMALISE[name](value)
            if value:
                found[name] = tuple(value) if isinstance(value, list) else value
                sources[name] = source
                break
    title = _pick_title(tree, layers, _site_names(layers, url))
    if title:
        found["title"], sources["title"] = title
    found["author_bios"] = tuple(dict.fromkeys(layers[0][1].get("author_bios", ())))
    found["titles"] = tuple(
        dict.fromkeys(
            [t for _, values in layers if (t := values.get("title"))]
            + [_SPACE_RE.sub(" ", h.text_content()).strip() for h in tree.iter("h1")][:3]
        )
    )
    return NewsMeta(**found, sources=sources)
