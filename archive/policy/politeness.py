"""How long to wait between requests to one host, when a run asks for little of it.

The configured delay (``DOWNLOAD_DELAY``, AutoThrottle's start delay) spaces the pages of one
host. A run that archives one page per host would spend it waiting between that page's
robots.txt, the page and its soft-404 probe: three requests, fewer than a browser makes to show
the page. Such a run gets no delay; a run with two or more pages on one host keeps it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DELAY_SETTINGS", "delay_overrides"]

#: The settings that space requests to one host; a user who sets one keeps all of them.
DELAY_SETTINGS = ("DOWNLOAD_DELAY", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_ENABLED")


def delay_overrides(urls: Iterable[str], user_settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that drop the delay when no host has more than one of ``urls``; else none."""
    if any(name in user_settings for name in DELAY_SETTINGS):
        return {}
    hosts = Counter((urlsplit(url).hostname or "").lower() for url in urls)
    if not hosts or max(hosts.values()) > 1:
        return {}
    return {"DOWNLOAD_DELAY": 0.0, "AUTOTHROTTLE_START_DELAY": 0.0}
