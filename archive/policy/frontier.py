"""Which links a site crawl follows: same registered domain, allow/deny patterns, trap guards.

The registered domain comes from the Public Suffix List snapshot bundled with tldextract (never
fetched at run time), so ``www.example.co.uk`` and ``news.example.co.uk`` are one site.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from archive.exceptions import InvalidInput

__all__ = ["LinkFilter", "compile_patterns", "registered_domain", "trap_reason"]


@functools.cache
def _extractor() -> Any:
    # Built on first use: tldextract brings requests with it, a seventh of a second of start-up
    # that `morgue crawl --help` and a feed crawl have no use for.
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(url: str) -> str:
    """``news.example.co.uk`` -> ``example.co.uk``; an IP address or a bare host stays as it is."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def trap_reason(url: str, *, max_length: int, max_repeats: int, max_depth: int) -> str | None:
    """Why ``url`` looks like a crawler trap (None when it does not).

    Traps are endless URL spaces: calendars, relative links that stack path segments
    (``/a/b/a/b/a/b``), session ids appended again and again.
    """
    if len(url) > max_length:
        return "too_long"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if len(segments) > max_depth:
        return "too_deep"
    if segments and max(Counter(segments).values()) > max_repeats:
        return "repeated_segment"
    return None


def compile_patterns(patterns: list[str] | None) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise InvalidInput(f"invalid pattern {pattern!r}: {exc}") from None
    return compiled


@dataclass(slots=True)
class LinkFilter:
    """Decides whether a site crawl follows a link; ``reason`` names why it did not."""

    domains: set[str]
    allow: list[re.Pattern[str]] = field(default_factory=list)
    deny: list[re.Pattern[str]] = field(default_factory=list)
    max_length: int = 512
    max_repeats: int = 2
    max_depth: int = 12

    def reason(self, url: str) -> str | None:
        if not url.startswith(("http://", "https://")):
            return "scheme"
        if registered_domain(url) not in self.domains:
            return "offsite"
        if any(p.search(url) for p in self.deny):
            return "denied"
        if self.allow and not any(p.search(url) for p in self.allow):
            return "not_allowed"
        return trap_reason(
            url, max_length=self.max_length, max_repeats=self.max_repeats, max_depth=self.max_depth
        )
