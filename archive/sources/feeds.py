"""RSS and Atom feeds: the article links they list, with each entry's date, title and language.

Parsing is feedparser's, on bytes already downloaded (feedparser never fetches anything here).
"""

from __future__ import annotations

import calendar
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from archive.sources.entries import SourceEntry

__all__ = ["FeedDocument", "parse_feed", "read_feed"]

logger = logging.getLogger(__name__)


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # The plain dict's get: feedparser's own maps a missing published_parsed to
        # updated_parsed with a DeprecationWarning (and this loop asks for both anyway).
        value = dict.get(entry, key)
        if isinstance(value, time.struct_time):
            # feedparser normalises every date it understands to a UTC struct_time.
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _language(entry: feedparser.FeedParserDict, feed_language: str | None) -> str | None:
    detail = entry.get("title_detail") or {}
    language = detail.get("language") if isinstance(detail, dict) else None
    return str(language or feed_language or "") or None


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """A document read as a feed: its entries, and whether it is a feed at all (an HTML page
    or a 404 body gives no entries either, for another reason)."""

    entries: list[SourceEntry]
    is_feed: bool


def parse_feed(body: bytes, url: str) -> list[SourceEntry]:
    """The entries of an RSS or Atom document, in feed order, with links made absolute.

    An entry without a usable http(s) link is left out; a document that is not a feed gives an
    empty list.
    """
    return read_feed(body, url).entries


def read_feed(body: bytes, url: str) -> FeedDocument:
    """``parse_feed``, telling an empty feed from a document that is no feed."""
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    feed = parsed.get("feed") or {}
    feed_language = feed.get("language") if isinstance(feed, dict) else None
    entries: list[SourceEntry] = []
    for entry in parsed.get("entries") or []:
        link = entry.get("link")
        if not link:
            links = [item.get("href") for item in entry.get("links") or [] if item.get("href")]
            link = links[0] if links else None
        if not link:
            continue
        link = urljoin(url, str(link).strip())
        if not link.startswith(("http://", "https://")):
            continue
        title = entry.get("title")
        entries.append(
            SourceEntry(
                url=link,
                published=_entry_date(entry),
                title=str(title).strip() or None if title else None,
                language=_language(entry, feed_language),
            )
        )
    # feedparser names the format it recognised (rss20, atom10...), and none for anything else.
    is_feed = bool(parsed.get("version"))
    if not entries and not is_feed:
        logger.info("Not a feed: %s (%s)", url, parsed.get("bozo_exception"))
    return FeedDocument(entries, is_feed)
