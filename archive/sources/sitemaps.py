"""XML sitemaps: indexes, URL sets, gzipped files, robots.txt ``Sitemap:`` lines, news tags.

Google's news sitemap extension nests ``news:publication_date``, ``news:title`` and
``news:language`` under ``news:news``; Scrapy's sitemap parser keeps only the direct children of
``<url>``, so the parsing is done here, with lxml, entities and network access off.
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

from archive.sources.entries import SourceEntry

__all__ = ["MAX_SITEMAP_SIZE", "Sitemap", "parse_date", "parse_sitemap", "robots_sitemaps"]

logger = logging.getLogger(__name__)

# The sitemap protocol caps a file at 50 MB uncompressed; a bigger one is not read past it.
MAX_SITEMAP_SIZE = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: an index of other sitemaps, or a set of page URLs."""

    kind: str  # "index", "urlset" or "unknown"
    entries: list[SourceEntry]  # for an index, the child sitemaps (published = lastmod)


def parse_date(value: str | None) -> datetime | None:
    """A W3C datetime (``2024-02-13``, ``2024-02-13T08:00:00+01:00``) or an RFC 822 date, in UTC."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _gunzip(body: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
            return fh.read(MAX_SITEMAP_SIZE)
    except (OSError, EOFError, zlib.error) as exc:
        logger.info("Cannot gunzip a sitemap: %s", exc)
        return b""


@functools.lru_cache(maxsize=256)
def _split_tag(tag: str) -> tuple[str, str]:
    """``{namespace}name`` -> (namespace, name). Cached: a sitemap repeats a handful of tags
    up to 50,000 times, and lxml's QName costs microseconds each."""
    qname = etree.QName(tag)
    return qname.namespace or "", qname.localname


def _local(tag: object) -> str:
    return _split_tag(tag)[1] if isinstance(tag, str) else ""


def _text(element: object) -> str | None:
    text = getattr(element, "text", None)
    return text.strip() if isinstance(text, str) and text.strip() else None


def _absolute(base: str, loc: str) -> str | None:
    """``loc`` made absolute against ``base``; None when it cannot be."""
    if loc.startswith(("http://", "https://")) and "/." not in loc:
        return loc  # nearly every <loc>: urljoin would give it back, at most of the cost
    try:
        return urljoin(base, loc)
    except ValueError:  # a malformed host ("http://[x/") in either
        return None


def _entry(url_element: object, base: str) -> SourceEntry | None:
    loc = lastmod = news_date = news_title = news_language = None
    for child in url_element.iter():  # type: ignore[attr-defined]
        namespace, name = _split_tag(child.tag) if isinstance(child.tag, str) else ("", "")
        in_news = "sitemap-news" in namespace
        if name == "loc" and loc is None and not in_news:
            loc = _text(child)
        elif name == "lastmod" and not in_news:
            lastmod = _text(child)
        elif in_news and name == "publication_date":
            news_date = _text(child)
        elif in_news and name == "title":
            news_title = _text(child)
        elif in_news and name == "language":
            news_language = _text(child)
    if not loc:
        return None
    url = _absolute(base, loc)
    if url is None or not url.startswith(("http://", "https://")):
        return None
    return SourceEntry(
        url=url,
        published=parse_date(news_date) or parse_date(lastmod),
        title=news_title,
        language=news_language,
        news=news_date is not None or news_title is not None,
    )


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse a sitemap (gzipped or not). A document that is no sitemap gives kind ``unknown``."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    body = body[:MAX_SITEMAP_SIZE]
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, remove_comments=True
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return Sitemap("unknown", [])
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        return Sitemap("unknown", [])
    child_tag = "sitemap" if kind == "sitemapindex" else "url"
    entries = [
        entry
        for element in root
        if _local(element.tag) == child_tag and (entry := _entry(element, url)) is not None
    ]
    return Sitemap("index" if kind == "sitemapindex" else "urlset", entries)


def robots_sitemaps(text: str, base: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt file, absolute, in order, without duplicates."""
    found: list[str] = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "sitemap" and value.strip():
            url = _absolute(base, value.split("#", 1)[0].strip())
            if url is not None:
                found.append(url)
    return list(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))
