"""Shared redirect targets: the page that many URLs of one host are redirected to.

A site that retires articles often sends each old URL to one catch-all page (a topic page,
"latest news") that is neither the site root nor a parent section of the URL, so the redirect
rules of ``archive.liveness.soft404`` do not see it. Once ``SHARED_TARGET_MIN`` distinct URLs of a
host were redirected to one page, a redirect there is ``soft_404``/``redirect_to_section`` (evidence
``shared_redirect_target``, ``archive.liveness.judging``).

The evidence is the archive's captures fetched up to the one judged (the page itself
included), so a page gets the same verdict in its crawl and when ``morgue extract`` judges it
again later: the crawl adds each redirected page as its response arrives (``fetched_at``
order) to what the database held before it; ``morgue extract`` reads the same captures back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Capture
from archive.liveness.judging import Fetch
from archive.liveness.soft404 import is_front_page, probe_key

__all__ = ["SHARED_TARGET_MIN", "RedirectTargets", "TargetKey", "stored_redirects", "target_key"]

#: Distinct URLs of one host sent to the same page before that page counts as a catch-all.
SHARED_TARGET_MIN = 3

TargetKey = tuple[str, str]  # (host of the requested URLs, the page they were sent to)


def target_key(fetch: Fetch) -> TargetKey | None:
    """Which target a fetch is evidence about: a served page reached by redirects from another
    URL (not a home page or section front), and not a memento; None for any other fetch."""
    if not (fetch.served and fetch.redirected and fetch.final_url):
        return None
    if fetch.recovered_from is not None or fetch.final_url == fetch.url:
        return None
    if is_front_page(fetch.url):
        return None
    return probe_key(fetch.url)[0], fetch.final_url


class RedirectTargets:
    """The URLs seen redirected to each target, with when each was fetched."""

    def __init__(self) -> None:
        self._seen: dict[TargetKey, dict[str, datetime]] = defaultdict(dict)
        self._loaded: set[TargetKey] = set()

    def add(self, key: TargetKey, url: str, fetched_at: datetime) -> None:
        seen = self._seen[key]
        if url not in seen or fetched_at < seen[url]:
            seen[url] = fetched_at  # a URL counts from its first fetch

    def loaded(self, key: TargetKey) -> bool:
        """Whether the archive's captures of this target were added (``load``)."""
        return key in self._loaded

    def load(self, key: TargetKey, rows: list[tuple[Fetch, datetime]]) -> None:
        """Add the archive's captures (``stored_redirects``) that are evidence about ``key``."""
        for fetch, fetched_at in rows:
            if target_key(fetch) == key:
                self.add(key, fetch.url, fetched_at)
        self._loaded.add(key)

    def shared(self, key: TargetKey, url: str, fetched_at: datetime) -> bool:
        """Whether ``key``'s target is shared, as seen by the page ``url`` fetched at
        ``fetched_at``: counting it and the URLs fetched no later than it."""
        sources = {u for u, at in self._seen.get(key, {}).items() if at <= fetched_at}
        sources.add(url)
        return len(sources) >= SHARED_TARGET_MIN


def stored_redirects(session: Session, target: str) -> list[tuple[Fetch, datetime]]:
    """The captures whose final URL is ``target``, as fetches, with when each was fetched."""
    rows = session.execute(
        select(
            Capture.url,
            Capture.final_url,
            Capture.http_status,
            Capture.reason,
            Capture.error,
            Capture.redirects,
            Capture.recovered_from,
            Capture.fetched_at,
        ).where(Capture.final_url == target)
    ).all()
    return [(Fetch.stored(row), row.fetched_at) for row in rows]
