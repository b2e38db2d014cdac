"""A page that held an article when it was archived before, and now holds none.

Sites that retire a story often keep its URL answering 200 with the site's chrome around a
short notice, in any language and any wording. The archive itself is the evidence that needs no
wording: an earlier capture of the same page was a live article (``ok``, with article markup
and at least ``PRIOR_ARTICLE_CHARS`` of text), and the page now has thin text and no article
markup, without a sign that its article is written by scripts. Then the article is gone:
``soft_404``/``article_lost`` (``archive.liveness.judging``). A short article that was always
short never qualifies, nor a page first archived thin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.db.models import Capture, Page
from archive.exceptions import InvalidURL
from archive.urls import normalise_url

__all__ = ["PRIOR_ARTICLE_CHARS", "PriorArticle", "prior_article"]

# An earlier capture with at least this much article text was an article, not a short notice.
PRIOR_ARTICLE_CHARS = 1500
# The evidence an ``ok`` capture records when its text was thin or its page declared no article.
_NOT_AN_ARTICLE = frozenset({"thin_text", "no_article_markup"})


@dataclass(frozen=True, slots=True)
class PriorArticle:
    """The earlier capture that shows the page held an article."""

    capture_id: int
    fetched_at: datetime
    chars: int


def prior_article(session: Session, url: str, before: datetime) -> PriorArticle | None:
    """The latest capture of ``url``'s page fetched before ``before`` that was a live article."""
    try:
        key = normalise_url(url)
    except InvalidURL:
        return None
    # Its page by normalised URL, or the URL as requested: an article filed under its canonical
    # URL is found by the URL it was fetched at.
    page_ids = select(Page.id).where(Page.url == key)
    rows = session.execute(
        select(Capture.id, Capture.fetched_at, Capture.text_chars, Capture.evidence)
        .where(
            or_(Capture.page_id.in_(page_ids), Capture.url == url),
            Capture.verdict == "ok",
            Capture.recovered_from.is_(None),
            Capture.text_chars >= PRIOR_ARTICLE_CHARS,
            Capture.fetched_at < before,
        )
        .order_by(Capture.fetched_at.desc())
        .limit(5)
    ).all()
    for row in rows:
        if not _NOT_AN_ARTICLE & set(row.evidence or ()):
            return PriorArticle(row.id, row.fetched_at, row.text_chars)
    return None
