"""Every default that the crawl's settings and the library share, written once.

``settings.py`` (the crawl's Scrapy settings) takes these values under the same names, and the
library uses them where it works without a crawl's settings: ``morgue extract``, resumption, a
notebook. docs/settings.md describes each one. ``setting`` reads one from a crawl's settings
(Scrapy's, or a plain dict of ``-s`` overrides), falling back on the value here.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = [
    "EXTRACT_TIMEOUT",
    "LIVENESS_DEAD_CHECKS",
    "LIVENESS_DEAD_SPAN",
    "LIVENESS_PROBE_MAX_AGE",
    "SOURCES_MAX_SITEMAPS",
    "WARC_GZIP_LEVEL",
    "WARC_MAX_SIZE",
    "WARC_PREFIX",
    "SettingsLike",
    "flag",
    "setting",
]

# -- WARC files (archive.warc.records) -------------------------------------------------------------
WARC_PREFIX = "morgue"
WARC_MAX_SIZE = 1_000_000_000  # bytes; the next file is started past it
# On real news pages level 4 writes 2.5 times as fast as warcio's 9 for 6 % more bytes, and 1.8
# times as fast as 6 for 5 % more: past 4, zlib's lazy matching costs much and saves little
# (bench/warc_write.py).
WARC_GZIP_LEVEL = 4

# -- Extraction ------------------------------------------------------------------------------
EXTRACT_TIMEOUT = 30.0  # seconds one page may take before its worker is killed

# -- Liveness (archive.liveness.judging, archive.liveness.page_state) ------------------------------
LIVENESS_PROBE_MAX_AGE = 7.0  # days a host's probe stands for it
LIVENESS_DEAD_CHECKS = 2  # dead observations before a page is dead_confirmed...
LIVENESS_DEAD_SPAN = 7.0  # ...at least this many days apart (first to last)

# -- Crawl sources ---------------------------------------------------------------------------
SOURCES_MAX_SITEMAPS = 1000  # feeds and sitemaps one crawl reads at most


class SettingsLike(Protocol):
    """What the library reads settings from: Scrapy's ``Settings`` or a plain dict."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


def setting(settings: SettingsLike | None, name: str) -> Any:
    """The value of setting ``name`` in ``settings``, or its default here when it is not set."""
    value = settings.get(name) if settings is not None else None
    return globals()[name] if value is None else value


def flag(value: Any) -> bool:
    """A boolean setting as Scrapy reads one: ``True``, ``"1"``, ``"true"``, ``"False"``..."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
        return bool(int(text))
    return bool(value)
