"""Progress events of a crawl, as the library hands them to a face's callback.

The crawl process writes one JSON object per event (crawler.progress); ``CrawlEvent`` is
that object typed: ``kind`` says what happened, the properties read the common fields, and
``data`` keeps the rest. Kinds: ``capture`` (a page stored: url, verdict, http_status),
``source`` (a feed, sitemap or site read or failed: kind, url, ok, reason), ``queue`` (how many
requests are scheduled), ``closed`` (the crawl ended: reason, stats).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CrawlEvent", "EventHandler", "event_adapter"]

#: What the crawl process machinery calls with each raw event.
EventHandler = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True, slots=True)
class CrawlEvent:
    kind: str
    data: Mapping[str, Any]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> CrawlEvent:
        return cls(str(raw.get("event") or ""), raw)

    @property
    def url(self) -> str | None:
        value = self.data.get("url")
        return str(value) if value is not None else None

    @property
    def verdict(self) -> str | None:
        value = self.data.get("verdict")
        return str(value) if value is not None else None


def event_adapter(on_event: Callable[[CrawlEvent], None] | None) -> EventHandler | None:
    """A raw-event handler that calls ``on_event`` with typed events (None for None)."""
    if on_event is None:
        return None

    def handle(raw: Mapping[str, Any]) -> None:
        on_event(CrawlEvent.of(raw))

    return handle
