"""The samples of each site's article template, kept in the database: the live articles the
rule of ``archive.liveness.site_template`` compares a page with (``site_articles`` table).

Every live article stored (``is_site_sample``) is kept, the newest ``KEPT_SAMPLES`` of each host;
a page is compared with the newest ``SAMPLES`` of its site fetched near it.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from archive.db.models import Capture, Page, SiteArticle
from archive.exceptions import InvalidURL
from archive.liveness.site_template import SiteSample, closing_paragraphs, site_host
from archive.urls import normalise_url

__all__ = [
    "KEPT_SAMPLES",
    "SAMPLES",
    "drop_site_sample",
    "keep_site_samples",
    "own_closings",
    "site_closings",
    "site_samples",
    "stored_closings",
]

#: Samples compared with a page: the newest of those near its fetch.
SAMPLES = 8
#: Samples kept per host: the newest, so that a capture judged again later still finds the
#: samples of its time when the site was archived often since.
KEPT_SAMPLES = 40


def keep_site_samples(
    session: Session,
    samples: Sequence[tuple[int, str, datetime, Sequence[int], str | None, str | None]],
) -> None:
    """Keep captures as samples of their sites' articles (``(capture_id, url, fetched_at,
    template, text, chrome)``, each checked with ``is_site_sample`` by the caller): the
    template, the text's closing paragraphs and the page's chrome (compressed). Each host's
    oldest past ``KEPT_SAMPLES`` are dropped."""
    rows = [
        SiteArticle(
            capture_id=capture_id,
            host=host,
            fetched_at=at,
            template=list(template),
            closing=closing_paragraphs(text) or None,
            chrome=zlib.compress(chrome.encode("utf-8")) if chrome else None,
        )
        for capture_id, url, at, template, text, chrome in samples
        if template and (host := site_host(url)) is not None
    ]
    if not rows:
        return
    session.execute(
        delete(SiteArticle).where(SiteArticle.capture_id.in_([row.capture_id for row in rows]))
    )
    session.add_all(rows)
    session.flush()
    for host in sorted({row.host for row in rows}):
        stale = (
            select(SiteArticle.id)
            .where(SiteArticle.host == host)
            .order_by(SiteArticle.fetched_at.desc(), SiteArticle.id.desc())
            .offset(KEPT_SAMPLES)
        )
        old = list(session.scalars(stale))
        if old:
            session.execute(delete(SiteArticle).where(SiteArticle.id.in_(old)))


def drop_site_sample(session: Session, capture_id: int) -> None:
    """Forget a capture as a sample (judged again, it is no live article any more)."""
    session.execute(delete(SiteArticle).where(SiteArticle.capture_id == capture_id))


def _site_query(
    columns: Sequence[Any], host: str, near: datetime, within: timedelta
) -> Select[Any]:
    """The site's live articles fetched within ``within`` of ``near`` (before or after it),
    newest first, with their captures and pages joined."""
    return (
        select(*columns)
        .join(Capture, Capture.id == SiteArticle.capture_id)
        .join(Page, Page.id == Capture.page_id)
        .where(
            SiteArticle.host == host,
            SiteArticle.fetched_at >= near - within,
            SiteArticle.fetched_at <= near + within,
        )
        .order_by(SiteArticle.fetched_at.desc(), SiteArticle.id.desc())
    )


def _own_urls(fetch_url: str, requested: str) -> set[str]:
    """The URLs the page judged goes by: served from, asked for, and its page's."""
    urls = {fetch_url, requested}
    with contextlib.suppress(InvalidURL):  # an unparsable URL has no page row to leave out
        urls.add(normalise_url(requested))
    return urls


def _near(
    columns: Sequence[Any], fetch_url: str, requested: str, near: datetime, within: timedelta
) -> Select[Any] | None:
    """The query of the site's newest ``SAMPLES`` live articles near the fetch, other than
    captures of the page judged; None for a URL without a host."""
    host = site_host(fetch_url)
    if host is None:
        return None
    urls = _own_urls(fetch_url, requested)
    return (
        _site_query(columns, host, near, within)
        .where(
            Page.url.not_in(urls),
            Capture.url.not_in(urls),
            or_(Capture.final_url.is_(None), Capture.final_url.not_in(urls)),
        )
        .limit(SAMPLES)
    )


def site_samples(
    session: Session, fetch_url: str, requested: str, near: datetime, within: timedelta
) -> list[SiteSample]:
    """The site's live articles near the fetch (``_near``), captures of the page judged left
    out: an earlier capture of the same article holds its text, which would leave the page no
    text of its own.

    ``fetch_url``: where the page was served from (its site); ``requested``: the URL asked for.
    """
    columns = (SiteArticle.template, Capture.text, Capture.url, SiteArticle.chrome)
    query = _near(columns, fetch_url, requested, near, within)
    if query is None:
        return []
    return [
        SiteSample(tuple(int(v) for v in template), text or "", url, _chrome(chrome))
        for template, text, url, chrome in session.execute(query)
    ]


def _chrome(stored: bytes | None) -> str:
    """A sample's chrome as kept; a damaged value counts as none (the story's text is left)."""
    if not stored:
        return ""
    try:
        return zlib.decompress(stored).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return ""


def stored_closings(
    session: Session, fetch_url: str, near: datetime, within: timedelta
) -> list[tuple[frozenset[str], str, list[str]]]:
    """The closing paragraphs of the site's newest live articles near the fetch, twice
    ``SAMPLES`` of them, each with the URLs its capture goes by (asked for, served from, its
    page's): what a crawl reads once per site (``own_closings`` picks a page's from it)."""
    host = site_host(fetch_url)
    if host is None:
        return []
    columns = (Capture.url, Capture.final_url, Page.url, SiteArticle.closing)
    query = _site_query(columns, host, near, within).limit(2 * SAMPLES)
    return [
        (frozenset(u for u in (url, final, page) if u), url, list(closing or ()))
        for url, final, page, closing in session.execute(query)
    ]


def own_closings(
    rows: Sequence[tuple[frozenset[str], str, list[str]]], fetch_url: str, requested: str
) -> dict[str, list[str]]:
    """Of ``stored_closings``, the newest ``SAMPLES`` that are not captures of the page judged
    (as ``site_closings`` reads them)."""
    own = _own_urls(fetch_url, requested)
    found: dict[str, list[str]] = {}
    for urls, url, closing in rows:
        if not urls & own and len(found) < SAMPLES:
            found[url] = closing
    return found


def site_closings(
    session: Session, fetch_url: str, requested: str, near: datetime, within: timedelta
) -> dict[str, list[str]]:
    """The closing paragraphs of the site's live articles near the fetch (``_near``), by the
    URL each was fetched at; captures of the page judged left out (its own earlier capture
    ends as it does)."""
    query = _near((Capture.url, SiteArticle.closing), fetch_url, requested, near, within)
    if query is None:
        return {}
    return {url: list(closing or ()) for url, closing in session.execute(query)}
