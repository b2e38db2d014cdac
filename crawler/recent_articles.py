"""The live articles a crawl has judged, per site, before the store has committed them.

The rules that compare a page with its site's other articles (``archive.liveness.site_template``)
read them from the database, where the store pipeline writes them in batches: a page judged
right after its site's first articles would not find them there yet. The crawl keeps the newest
of each site here too, and a page is compared with both, each article counted once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from archive.liveness.site_samples import SAMPLES
from archive.liveness.site_template import SiteSample, closing_paragraphs, site_host

__all__ = ["RecentArticles", "merged"]


class RecentArticles:
    def __init__(self, keep: int = SAMPLES) -> None:
        self._keep = keep
        self._by_site: dict[str, deque[tuple[SiteSample, frozenset[str]]]] = {}

    def add(self, sample: SiteSample, final_url: str | None = None) -> None:
        """Note a live article judged in this crawl (``sample.url``: the URL it was asked at;
        ``final_url``: where it was served from, after redirects)."""
        site = site_host(final_url or sample.url)
        if site is not None:
            urls = frozenset({sample.url, final_url or sample.url})
            self._by_site.setdefault(site, deque(maxlen=self._keep)).appendleft((sample, urls))

    def near(self, fetch_url: str, requested: str) -> list[SiteSample]:
        """The newest articles of the page's site, the page itself left out (by the URL asked
        for or served from, either way: two URLs redirected to one page are one page)."""
        site = site_host(fetch_url)
        if site is None:
            return []
        own = {fetch_url, requested}
        return [s for s, urls in self._by_site.get(site, ()) if not urls & own]

    def closings(self, fetch_url: str, requested: str) -> dict[str, list[str]]:
        """Their closing paragraphs, by URL (``site_template.closing_paragraphs``)."""
        return {s.url: closing_paragraphs(s.text) for s in self.near(fetch_url, requested)}


def merged(*sources: Iterable[SiteSample]) -> list[SiteSample]:
    """The samples of every source, each article (by URL) once, in the order given."""
    seen: set[str] = set()
    out: list[SiteSample] = []
    for source in sources:
        for sample in source:
            if sample.url not in seen:
                seen.add(sample.url)
                out.append(sample)
    return out
