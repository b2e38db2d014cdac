"""What became of each feed, sitemap and site a crawl was given, and of its Memento lookups.

A crawl that could not read a source must say so where the user looks (the summary), not only
in the log. The crawler reports one ``SourceOutcome`` per source it tried, with a reason code
of its own vocabulary (``REASON_TEXT``); this module decides from those whether every source
failed (the crawl then exits non-zero) and words them for the summary.

A source either leads to articles itself (a feed, a sitemap listing URLs, a site's start page)
or to other sources (a robots.txt, a sitemap index). The sources given on the command line are
*roots*; a root failed when something under it failed and nothing under it listed an article.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "REASON_TEXT",
    "SourceOutcome",
    "all_failed",
    "describe_reason",
    "failed_roots",
    "memento_failures",
    "requisite_counts",
    "run_notes",
]

#: Reason codes of an unreadable source, in words. ``http_NNN`` is "HTTP NNN"; a network
#: failure uses the capture reasons of design.md section 4.
REASON_TEXT: Mapping[str, str] = {
    "not_a_feed": "not an RSS or Atom feed",
    "not_a_sitemap": "not a sitemap",
    "no_entries": "no entries",
    "no_sitemaps": "no Sitemap: lines",
    "dns": "host name not found (DNS)",
    "connection_refused": "connection refused",
    "connection_lost": "connection lost",
    "timeout": "timed out",
    "tls": "TLS error",
    "too_many_redirects": "too many redirects",
    "too_large": "too large",
    "robots_txt": "disallowed by robots.txt",
    "error": "download failed",
}


def describe_reason(reason: str) -> str:
    if reason.startswith("http_") and reason[5:].isdigit():
        return f"HTTP {reason[5:]}"
    return REASON_TEXT.get(reason, reason.replace("_", " "))


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One source read, or not. ``reason`` is None when it was read; ``leads_to_pages``: it
    lists articles itself (not only other sources); ``root``: the source given by the user
    that this one was found through (itself, for a root)."""

    kind: str  # feed, sitemap, robots.txt, site
    url: str
    root: str
    reason: str | None = None
    detail: str = ""  # more than the reason says: a content type, an exception's message
    entries: int = 0
    leads_to_pages: bool = True

    @property
    def ok(self) -> bool:
        return self.reason is None

    def line(self) -> str:
        """``feed https://x/rss.xml: HTTP 404 (http_404)``, for the summary."""
        words = describe_reason(self.reason or "")
        detail = f"; {self.detail}" if self.detail and self.detail not in words else ""
        return f"{self.kind} {self.url}: {words}{detail} ({self.reason})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SourceOutcome:
        return cls(
            kind=str(data.get("kind") or ""),
            url=str(data.get("url") or ""),
            root=str(data.get("root") or data.get("url") or ""),
            reason=data.get("reason") or None,
            detail=str(data.get("detail") or ""),
            entries=int(data.get("entries") or 0),
            leads_to_pages=bool(data.get("leads_to_pages", True)),
        )


def failed_roots(outcomes: Iterable[SourceOutcome]) -> set[str]:
    """The roots under which something failed and nothing listed an article.

    A root all of whose sources were read but listed nothing new (entries too old for
    ``--since``) has not failed: nothing went wrong.
    """
    failed: set[str] = set()
    delivered: set[str] = set()
    for outcome in outcomes:
        if not outcome.ok:
            failed.add(outcome.root)
        elif outcome.leads_to_pages:
            delivered.add(outcome.root)
    return failed - delivered


def all_failed(outcomes: Iterable[SourceOutcome], roots: Iterable[str]) -> bool:
    """Whether every source given failed: the crawl had nothing to work from."""
    given = set(roots)
    if not given:
        return False
    return given <= failed_roots(outcomes)


def memento_failures(stats: Mapping[str, Any]) -> dict[str, int]:
    """Failed Memento lookups by reason, from a crawl's stats (``memento/failed/REASON``)."""
    prefix = "memento/failed/"
    return {
        key[len(prefix) :]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and isinstance(value, int | float) and value
    }


def requisite_counts(stats: Mapping[str, Any]) -> tuple[int, int]:
    """The requisites a run stored with its pages, and how many of them were already archived
    (a revisit record, or a URL this run had fetched for another page), from its stats."""
    return (
        int(stats.get("requisites/count") or 0),
        int(stats.get("requisites/already_archived") or 0),
    )


def run_notes(stats: Mapping[str, Any]) -> list[str]:
    """What else a run's summary must say, from its stats: failed Memento lookups by reason,
    and the pages that may need a browser."""
    notes: list[str] = []
    failures = memento_failures(stats)
    if failures:
        count = sum(failures.values())
        reasons = ", ".join(f"{describe_reason(r)} ({r}) {n}" for r, n in failures.items())
        lookups = "lookup" if count == 1 else "lookups"
        notes.append(f"{count} Memento {lookups} failed, their dead pages not recovered: {reasons}")
    browser = int(stats.get("liveness/needs_browser") or 0)
    if browser:
        pages, they = ("page", "it") if browser == 1 else ("pages", "they")
        notes.append(
            f"{browser} {pages} with no text found: {they} may need a browser (needs_browser)"
        )
    return notes
