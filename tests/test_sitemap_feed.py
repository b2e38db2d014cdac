"""Parsing of feeds, sitemaps and robots.txt ``Sitemap:`` lines (archive/sources/feeds.py,
sitemaps.py)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from archive.durations import format_duration, parse_duration, parse_since
from archive.exceptions import InvalidInput
from archive.policy.frontier import LinkFilter, compile_patterns, registered_domain, trap_reason
from archive.sources.feeds import parse_feed
from archive.sources.sitemaps import parse_date, parse_sitemap, robots_sitemaps

BASE = "https://courier.example/news/"

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>T</title><language>fr</language>
<item><title>Le pont rouvre</title><link>https://courier.example/a.html?utm_source=rss</link>
<pubDate>Tue, 24 Nov 2026 09:15:00 +0100</pubDate></item>
<item><title>Sans date</title><link>/relative/b.html</link></item>
<item><title>No link at all</title></item>
<item><title>Mail</title><link>mailto:desk@courier.example</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://courier.example/news/">
<title>T</title><id>x</id><updated>2026-11-24T10:00:00Z</updated>
<entry><title>Only updated</title><link rel="alternate" href="c.html"/><id>c</id>
<updated>2026-11-20T07:30:00-05:00</updated></entry>
</feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
<url><loc>https://courier.example/news/one.html</loc>
  <image:image><image:loc>https://courier.example/one.jpg</image:loc></image:image>
  <news:news><news:publication><news:name>Courier</news:name><news:language>de</news:language>
  </news:publication><news:publication_date>2026-11-24T09:15:00+01:00</news:publication_date>
  <news:title>Erste Meldung</news:title></news:news></url>
<url><loc> https://courier.example/news/two.html </loc><lastmod>2026-10-05</lastmod></url>
<url><lastmod>2026-10-05</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://courier.example/s/news.xml.gz</loc><lastmod>2026-11-24</lastmod></sitemap>
<sitemap><loc>/s/old.xml</loc></sitemap>
</sitemapindex>"""


def test_rss_entries_keep_dates_titles_and_language() -> None:
    entries = parse_feed(RSS, BASE)
    assert [e.url for e in entries] == [
        "https://courier.example/a.html?utm_source=rss",
        "https://courier.example/relative/b.html",
    ]
    first, second = entries
    assert first.published == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert first.title == "Le pont rouvre"
    assert first.language == "fr"
    assert second.published is None


def test_atom_uses_updated_when_not_published_and_resolves_xml_base() -> None:
    (entry,) = parse_feed(ATOM, "https://courier.example/atom.xml")
    assert entry.url == "https://courier.example/news/c.html"
    assert entry.published == datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def test_not_a_feed_gives_no_entries() -> None:
    assert parse_feed(b"<html><body>hello</body></html>", BASE) == []
    assert parse_feed(b"", BASE) == []


def test_news_sitemap_tags_are_read_from_nested_elements() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://courier.example/sitemap.xml")
    assert sitemap.kind == "urlset"
    one, two = sitemap.entries
    assert one.url == "https://courier.example/news/one.html"
    assert one.title == "Erste Meldung"
    assert one.language == "de"
    assert one.published == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert one.news
    # An <image:loc> inside the <url> is not taken for the page's own <loc>.
    assert two.url == "https://courier.example/news/two.html"
    assert two.published == datetime(2026, 10, 5, tzinfo=UTC)
    assert not two.news and two.title is None


def test_gzipped_sitemap_and_index() -> None:
    sitemap = parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://courier.example/s.xml.gz")
    assert [e.title for e in sitemap.entries] == ["Erste Meldung", None]
    index = parse_sitemap(INDEX, "https://courier.example/sitemap_index.xml")
    assert index.kind == "index"
    assert [e.url for e in index.entries] == [
        "https://courier.example/s/news.xml.gz",
        "https://courier.example/s/old.xml",
    ]
    assert index.entries[0].published == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<html><body>Page</body></html>",
        b"\x1f\x8b\x08garbage",
        # An external entity must not be resolved (no file read, no network).
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&x;</loc>'
        b"</url></urlset>",
    ],
)
def test_bad_sitemaps_give_nothing(body: bytes) -> None:
    sitemap = parse_sitemap(body, "https://courier.example/s.xml")
    assert sitemap.entries == []


def test_robots_sitemap_lines() -> None:
    text = (
        "User-agent: *\nDisallow: /private/\n"
        "Sitemap: https://courier.example/sitemap_index.xml\n"
        "sitemap:/relative.xml  # comment\n"
        "SITEMAP: https://courier.example/sitemap_index.xml\n"
        "Sitemap: ftp://courier.example/x.xml\n"
    )
    assert robots_sitemaps(text, "https://courier.example/robots.txt") == [
        "https://courier.example/sitemap_index.xml",
        "https://courier.example/relative.xml",
    ]


def test_parse_date_forms() -> None:
    assert parse_date("2026-11-24") == datetime(2026, 11, 24, tzinfo=UTC)
    assert parse_date("2026-11-24T10:00:00Z") == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert parse_date("Tue, 24 Nov 2026 10:00:00 GMT") == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert parse_date("yesterday") is None
    assert parse_date(None) is None


def test_registered_domain_and_link_filter() -> None:
    assert registered_domain("https://www.news.example.co.uk/a") == "example.co.uk"
    assert registered_domain("http://127.0.0.1:8080/a") == "127.0.0.1"
    links = LinkFilter(
        domains={"example.co.uk"},
        allow=compile_patterns([r"/news/"]),
        deny=compile_patterns([r"/tag/"]),
        max_length=80,
    )
    assert links.reason("https://sport.example.co.uk/news/a.html") is None
    assert links.reason("https://other.co.uk/news/a.html") == "offsite"
    assert links.reason("https://example.co.uk/news/tag/x") == "denied"
    assert links.reason("https://example.co.uk/about") == "not_allowed"
    assert links.reason("mailto:x@example.co.uk") == "scheme"
    assert links.reason("https://example.co.uk/news/" + "x" * 80) == "too_long"
    with pytest.raises(InvalidInput):
        compile_patterns(["("])


def test_trap_guards() -> None:
    def reason(url: str) -> str | None:
        return trap_reason(url, max_length=200, max_repeats=2, max_depth=6)

    assert reason("https://a.example/news/2026/11/story.html") is None
    assert reason("https://a.example/cal/2026/cal/2026/cal/2026") == "repeated_segment"
    assert reason("https://a.example/" + "/".join("abcdefg")) == "too_deep"


def test_durations_and_since() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("30m") == 1800
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    assert format_duration(5400) == "1h30m"
    for bad in ("", "soon", "5x", "-3"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 11, 18, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_since("last week")
