"""The Courier's news section: feeds, sitemaps and linked pages for ``morgue crawl``.

Routes (all under the mock site's base URL):

- ``/news/`` section front: links to the articles, plus links a site crawl must not follow
  (off-site, crawler traps, a robots.txt-disallowed page); conditional requests get 304.
- ``/news/YYYY/MM/SLUG.html`` articles, with a canonical link. Each sends an ``ETag`` and a
  ``Last-Modified`` and answers a matching conditional request with 304, except
  ``market-lights`` (no validators: a re-fetch gets the same bytes) .
- ``/news/2026/11/budget-live.html`` changes its text each time ``POST /news/__edit`` is called.
- ``/news/feed.xml`` (RSS 2.0) and ``/news/atom.xml`` (Atom); ``/news/many.xml?n=N`` lists N
  generated articles.
- ``/sitemap_index.xml`` -> ``/sitemaps/news.xml.gz`` (gzipped, news tags) and
  ``/sitemaps/archive.xml``; robots.txt names the index in a ``Sitemap:`` line.
  ``/sitemaps/loop.xml`` is an index that lists itself.
"""

from __future__ import annotations

import gzip
import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mockserver.app import MockHandler

__all__ = ["NEWS", "NEWS_PREFIX_ROUTES", "NEWS_ROUTES", "NewsStory"]


@dataclass(frozen=True)
class NewsStory:
    slug: str
    path: str
    title: str
    published: str  # ISO datetime, UTC
    lang: str
    paragraphs: tuple[str, ...]
    validators: bool = True
    related: str | None = None  # a path linked from the story (reached at depth 2)


NEWS: dict[str, NewsStory] = {
    s.slug: s
    for s in (
        NewsStory(
            "ferry-returns",
            "/news/2026/11/ferry-returns.html",
            "Ferry service returns to the east landing after a dry summer",
            "2026-11-20T07:30:00+00:00",
            "en",
            (
                "The passenger ferry between Mill Point and the east landing resumed its "
                "crossings on Thursday morning, three months after low water in the river left "
                "its pier standing in mud and forced commuters onto a forty-minute detour.",
                "Captain Odile Varga steered the first boat across at a quarter past seven with "
                "nineteen passengers aboard, most of them nurses on their way to the county "
                "hospital. Several of them clapped when the ramp touched the landing.",
                "The river authority said the autumn rains had raised the water level by almost "
                "a metre since September. It will keep the summer timetable until the end of the "
                "year and review it once the new depth gauge at the landing is installed.",
            ),
            related="/news/2026/11/ferry-history.html",
        ),
        NewsStory(
            "library-hours",
            "/news/2026/11/library-hours.html",
            "Library to stay open late on weeknights through the winter",
            "2026-11-22T12:00:00+00:00",
            "en",
            (
                "The Valley public library will keep its doors open until nine in the evening "
                "from Monday to Thursday starting next week, the board of trustees decided after "
                "a survey found that most working residents could never reach it before closing.",
                "Head librarian Bartholomew Nkemelu said the longer hours would be covered by "
                "moving two part-time positions to the evening shift rather than by new hiring. "
                "The children's room will still close at six.",
                "The trustees will look at the figures again in April. If fewer than forty people "
                "come in after six on an average night, the old hours will return in the spring.",
            ),
        ),
        NewsStory(
            "market-lights",
            "/news/2026/11/market-lights.html",
            "Market square gets new lights before the winter fair",
            "2026-11-24T09:15:00+00:00",
            "en",
            (
                "Electricians spent the weekend replacing the twelve lamp posts around the market "
                "square with fixtures that point their light at the pavement instead of the sky, "
                "a request neighbours have made since the old lamps went up in the 1980s.",
                "The town's events office said the work had to be finished before the winter "
                "fair opens on the first Saturday of December, when about sixty stalls will fill "
                "the square for three weekends in a row.",
                "Amateur astronomers from the valley club have promised a viewing night on the "
                "church steps once the fair is over, to show what the darker square looks like.",
            ),
            validators=False,
        ),
        NewsStory(
            "orchard-frost",
            "/news/2026/10/orchard-frost.html",
            "Early frost catches orchards before the late apple harvest",
            "2026-10-05T06:00:00+00:00",
            "en",
            (
                "A hard frost on Sunday night damaged part of the late apple crop in the upper "
                "valley, where growers had left the last varieties on the trees to sweeten.",
                "Growers said it was too early to tell how much fruit was lost. Apples that froze "
                "on the branch can often still be pressed for cider if they are picked quickly, "
                "and several farms asked for volunteers to help on Monday and Tuesday.",
                "The county extension office will hold an open meeting on frost protection at the "
                "grange hall next month, with a speaker from the state orchard research station.",
            ),
        ),
        NewsStory(
            "ferry-history",
            "/news/2026/11/ferry-history.html",
            "A century of crossings: how the Mill Point ferry began",
            "2026-11-20T08:00:00+00:00",
            "en",
            (
                "The first ferry at Mill Point was a flat wooden raft pulled along a rope by two "
                "brothers who charged a penny a crossing and doubled the fare for cattle.",
                "A steam launch replaced the raft in 1921, and the town bought the service from "
                "the family in 1950, when the brothers' grandson decided to become a teacher.",
                "Today's boat, the third to carry the name Heron, was built in 2004 and carries up "
                "to sixty passengers and twenty bicycles on each crossing.",
            ),
        ),
        NewsStory(
            "budget-live",
            "/news/2026/11/budget-live.html",
            "Council debates next year's budget",
            "2026-11-23T18:00:00+00:00",
            "en",
            (
                "The town council opened its debate on next year's budget on Monday evening, with "
                "road repairs, the fire station roof and the library's winter hours at the top of "
                "a long list of requests from every department.",
                "The finance committee proposed holding the property tax rate where it is, paying "
                "for the roof from reserves and spreading the road work over three summers.",
            ),
        ),
    )
}

# The articles the feeds list, newest first; the live budget story is in the RSS feed only.
_FEED_SLUGS = ("market-lights", "budget-live", "library-hours", "ferry-returns", "orchard-frost")
_NEWS_SITEMAP_SLUGS = ("market-lights", "library-hours", "ferry-returns")
_ARCHIVE_SITEMAP_SLUGS = ("orchard-frost",)
_LAST_MODIFIED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

#: The paths of the articles the feeds list, for the tests that crawl them.
FEED_PATHS = frozenset(NEWS[slug].path for slug in _FEED_SLUGS)


def _edition_paragraph(edition: int) -> str:
    if edition <= 1:
        return "The council will vote on the budget at its next meeting."
    return (
        f"Update {edition}: after a second evening of debate, councillors agreed to move "
        f"{edition * 10} thousand dollars from the parking fund to the road repairs, and the vote "
        "was postponed by one week."
    )


def story_html(handler: MockHandler, story: NewsStory, edition: int) -> str:
    from tests.mockserver.app import page

    base = handler.mock.base_url
    paragraphs = list(story.paragraphs)
    if story.slug == "budget-live":
        paragraphs.append(_edition_paragraph(edition))
    head = (
        f'<link rel="canonical" href="{base}{story.path}">\n'
        f'<meta property="og:url" content="{base}{story.path}">\n'
        f'<meta property="og:title" content="{html.escape(story.title)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="article:published_time" content="{story.published}">\n'
    )
    related = (
        f'<p>Read more: <a href="{story.related}">the history of the service</a>.</p>\n'
        if story.related
        else ""
    )
    paras = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    body = (
        f"<article>\n<h1>{html.escape(story.title)}</h1>\n"
        f'<p class="byline">By the Courier news desk, <time datetime="{story.published}">'
        f"{story.published[:10]}</time></p>\n{paras}\n{related}</article>\n"
    )
    return page(story.title, body, lang=story.lang, head=head)


def news_front(handler: MockHandler) -> None:
    from tests.mockserver.app import page

    links = "\n".join(
        f'<li><a href="{s.path}">{html.escape(s.title)}</a></li>'
        for s in NEWS.values()
        if s.slug in _FEED_SLUGS
    )
    trap = "/news/calendar/2026/calendar/2026/calendar/2026/11.html"
    long_link = "/news/search?q=" + "x" * 600
    body = (
        f"<h1>News</h1>\n<ul>\n{links}\n</ul>\n"
        f'<p><a href="{trap}">Calendar</a> | <a href="{long_link}">Search</a> | '
        '<a href="http://elsewhere.example/story.html">Partner site</a> | '
        '<a href="/private/secret.html">Staff room</a> | '
        '<a href="/news/feed.xml">RSS</a></p>'
    )
    _send_with_validators(handler, page("News | The Valley Courier", body).encode("utf-8"))


def _send_with_validators(
    handler: MockHandler, data: bytes, modified: datetime | None = None
) -> None:
    """Send ``data`` with an ETag and a Last-Modified; a matching conditional request gets 304."""
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
    modified = modified or _LAST_MODIFIED
    headers = (("ETag", etag), ("Last-Modified", format_datetime(modified, usegmt=True)))
    if _not_modified(handler, etag, modified):
        handler.send_response(304)
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        return
    handler._send(200, data, headers=headers)


def news_article(handler: MockHandler, rest: str) -> None:
    path = "/news/" + rest
    story = next((s for s in NEWS.values() if s.path == path), None)
    if story is None:
        handler._send(404, "<h1>Not found</h1>")
        return
    edition = handler.mock.news_edition if story.slug == "budget-live" else 1
    data = story_html(handler, story, edition).encode("utf-8")
    if story.validators:
        modified = _LAST_MODIFIED if edition <= 1 else datetime.now(UTC)
        _send_with_validators(handler, data, modified)
    else:
        handler._send(200, data)


def _not_modified(handler: MockHandler, etag: str, modified: datetime) -> bool:
    if_none_match = handler.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")]
    since = handler.headers.get("If-Modified-Since")
    if since:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def edit(handler: MockHandler) -> None:
    if handler.command != "POST":
        handler._send(405, "POST to change the live story")
        return
    with handler.mock.lock:
        handler.mock.news_edition += 1
        edition = handler.mock.news_edition
    handler._send(200, str(edition), "text/plain")


def _rss_date(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso), usegmt=True)


def rss(handler: MockHandler) -> None:
    base = handler.mock.base_url
    items = []
    for slug in _FEED_SLUGS:
        s = NEWS[slug]
        # Feeds add tracking parameters; the page is the same article.
        link = f"{base}{s.path}?utm_source=rss&amp;utm_medium=feed"
        items.append(
            f"<item><title>{html.escape(s.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">courier-{slug}</guid>'
            f"<pubDate>{_rss_date(s.published)}</pubDate></item>"
        )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>The Valley Courier</title><link>{base}/news/</link>"
        "<description>Local news</description><language>en-us</language>"
        + "".join(items)
        + "</channel></rss>\n"
    )
    handler._send(200, xml, "application/rss+xml; charset=utf-8")


def atom(handler: MockHandler) -> None:
    base = handler.mock.base_url
    entries = []
    for slug in ("library-hours", "ferry-returns"):
        s = NEWS[slug]
        entries.append(
            f"<entry><title>{html.escape(s.title)}</title>"
            f'<link rel="alternate" href="{s.path}"/><id>tag:courier,2026:{slug}</id>'
            f"<published>{s.published}</published><updated>{s.published}</updated></entry>"
        )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/news/">'
        "<title>The Valley Courier</title><id>tag:courier,2026:news</id>"
        "<updated>2026-11-24T10:00:00Z</updated>" + "".join(entries) + "</feed>\n"
    )
    handler._send(200, xml, "application/atom+xml; charset=utf-8")


def many(handler: MockHandler) -> None:
    """An RSS feed of ``?n=N`` generated articles (/articles/wire-I.html), for long crawls."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(handler.path).query)
    count = int((query.get("n") or ["60"])[0])
    base = handler.mock.base_url
    items = "".join(
        f"<item><title>Wire story {i}</title><link>{base}/articles/wire-{i}.html</link></item>"
        for i in range(count)
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Wire</title><link>{base}/news/</link>{items}</channel></rss>\n"
    )
    handler._send(200, xml, "application/rss+xml; charset=utf-8")


def sitemap_index(handler: MockHandler) -> None:
    base = handler.mock.base_url
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemaps/news.xml.gz</loc>"
        "<lastmod>2026-11-24T10:00:00+00:00</lastmod></sitemap>"
        f"<sitemap><loc>{base}/sitemaps/archive.xml</loc>"
        "<lastmod>2026-10-06</lastmod></sitemap>"
        "</sitemapindex>\n"
    )
    handler._send(200, xml, "application/xml; charset=utf-8")


def loop_index(handler: MockHandler) -> None:
    """A sitemap index that lists itself, and the real index (which does not list it)."""
    base = handler.mock.base_url
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemaps/loop.xml</loc></sitemap>"
        f"<sitemap><loc>{base}/sitemap_index.xml</loc></sitemap>"
        "</sitemapindex>\n"
    )
    handler._send(200, xml, "application/xml; charset=utf-8")


def news_sitemap(handler: MockHandler) -> None:
    base = handler.mock.base_url
    urls = []
    for slug in _NEWS_SITEMAP_SLUGS:
        s = NEWS[slug]
        urls.append(
            f"<url><loc>{base}{s.path}</loc><news:news><news:publication>"
            f"<news:name>The Valley Courier</news:name><news:language>{s.lang}</news:language>"
            f"</news:publication><news:publication_date>{s.published}</news:publication_date>"
            f"<news:title>{html.escape(s.title)}</news:title></news:news></url>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + "".join(urls)
        + "</urlset>\n"
    )
    data = gzip.compress(xml.encode("utf-8"), mtime=0)
    handler._send(200, data, "application/gzip")


def archive_sitemap(handler: MockHandler) -> None:
    base = handler.mock.base_url
    urls = "".join(
        f"<url><loc>{base}{NEWS[slug].path}</loc><lastmod>{NEWS[slug].published[:10]}</lastmod>"
        "</url>"
        for slug in _ARCHIVE_SITEMAP_SLUGS
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    )
    handler._send(200, xml, "application/xml; charset=utf-8")


NEWS_ROUTES = {
    "/news/": news_front,
    "/news/feed.xml": rss,
    "/news/atom.xml": atom,
    "/news/many.xml": many,
    "/news/__edit": edit,
    "/sitemap_index.xml": sitemap_index,
    "/sitemaps/news.xml.gz": news_sitemap,
    "/sitemaps/archive.xml": archive_sitemap,
    "/sitemaps/loop.xml": loop_index,
}
NEWS_PREFIX_ROUTES = (("/news/", news_article),)
