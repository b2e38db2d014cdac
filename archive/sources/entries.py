"""What a feed, a sitemap or a site's links list: one article URL and what the source says of it.

Plain data, apart from the database: the XML parsers (``archive.sources.feeds``,
``archive.sources.sitemaps``) make these, and ``archive.sources.registry`` records them as
discoveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SourceEntry"]


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One article URL as a feed or sitemap lists it."""

    url: str
    published: datetime | None = None
    title: str | None = None
    language: str | None = None
    news: bool = False  # whether it came with news sitemap tags
