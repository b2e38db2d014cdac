"""The page's own metadata: JSON-LD, microdata, Open Graph, meta names; and its normalisation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import html as lxml_html

from archive.extraction.news_metadata import is_publication, read_news_meta, strip_site_suffix
from archive.extraction.news_normalise import (
    detect_language,
    normalise_authors,
    normalise_date,
    normalise_language,
)


def tree(head: str = "", body: str = "<p>x</p>", lang: str | None = None) -> Any:
    lang_attr = f' lang="{lang}"' if lang else ""
    return lxml_html.document_fromstring(
        f"<html{lang_attr}><head>{head}</head><body>{body}</body></html>"
    )


def ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


ARTICLE = {
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": "Harbour bridge reopens after repairs",
    "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Chen"}],
    "datePublished": "2024-03-05T08:15:00+01:00",
    "dateModified": "2024-03-05T10:00:00+01:00",
    "inLanguage": "en-GB",
    "publisher": {"@type": "Organization", "name": "Port Gazette"},
    "articleBody": "The bridge opened again on Tuesday.",
    "description": "Three months of work end early.",
}


def test_json_ld_news_article_fields_and_sources() -> None:
    meta = read_news_meta(tree(ld(ARTICLE)))
    assert meta.title == "Harbour bridge reopens after repairs"
    assert meta.authors == ("Ann Lee", "Bo Chen")
    assert meta.published == "2024-03-05T08:15:00+01:00"
    assert meta.modified == "2024-03-05T10:00:00+01:00"
    assert meta.language == "en"
    assert meta.site_name == "Port Gazette"
    assert meta.article_body == "The bridge opened again on Tuesday."
    assert meta.description == "Three months of work end early."
    assert meta.sources["authors"] == "json-ld"
    assert meta.sources["published"] == "json-ld"
    assert meta.sources["language"] == "json-ld"


def test_json_ld_graph_with_author_reference_and_type_list() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "@id": "#page", "name": "Port Gazette page"},
            {"@type": "Person", "@id": "#ann", "name": "Ann Lee"},
            {
                "@type": ["Article", "NewsArticle"],
                "headline": "Ferry timetable changes",
                "author": {"@id": "#ann"},
                "datePublished": "2024-04-01",
            },
        ],
    }
    meta = read_news_meta(tree(ld(graph)))
    assert meta.title == "Ferry timetable changes"
    assert meta.authors == ("Ann Lee",)
    assert meta.published == "2024-04-01"


def test_json_ld_top_level_list_and_string_author() -> None:
    data = [
        {"@type": "BreadcrumbList", "itemListElement": []},
        {"@type": "NewsArticle", "headline": "Tram line extended", "author": "By Cy Dale"},
    ]
    meta = read_news_meta(tree(ld(data)))
    assert meta.title == "Tram line extended"
    assert meta.authors == ("Cy Dale",)


def test_broken_json_ld_is_skipped_and_others_used() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
        '<meta property="og:title" content="Open Graph title">'
        '<meta property="article:published_time" content="2024-02-02T10:00:00Z">'
    )
    meta = read_news_meta(tree(head))
    assert meta.title == "Open Graph title"
    assert meta.sources["title"] == "opengraph"
    assert meta.published == "2024-02-02T10:00:00+00:00"
    assert meta.sources["published"] == "opengraph"


@pytest.mark.parametrize(
    ("before", "after"),
    [("//<![CDATA[\n", "\n//]]>"), ("<![CDATA[", "]]>"), ("  ", "  ")],
)
def test_json_ld_wrapped_in_cdata_markers_is_read(before: str, after: str) -> None:
    head = f'<script type="application/ld+json">{before}{json.dumps(ARTICLE)}{after}</script>'
    meta = read_news_meta(tree(head))
    assert meta.sources["authors"] == "json-ld"
    assert meta.authors == ("Ann Lee", "Bo Chen")


def test_microdata_article() -> None:
    body = (
        '<article itemscope itemtype="https://schema.org/NewsArticle">'
        '<h1 itemprop="headline">Library hours extended</h1>'
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">Dee Fox</span></span>'
        '<time itemprop="datePublished" datetime="2024-01-09T07:00:00-05:00">Jan 9</time>'
        "<p>Text.</p></article>"
    )
    meta = read_news_meta(tree(body=body))
    assert meta.title == "Library hours extended"
    assert meta.authors == ("Dee Fox",)
    assert meta.published == "2024-01-09T07:00:00-05:00"
    assert meta.sources["authors"] == "microdata"
    # An itemtype without itemscope makes no item: its properties are nobody's.
    meta = read_news_meta(tree(body=body.replace("<article itemscope ", "<article ", 1)))
    assert meta.authors == ()
    assert "authors" not in meta.sources


def test_meta_names_and_html_lang_as_last_resort() -> None:
    head = '<meta name="author" content="Eve Gray"><meta name="date" content="2023-12-24">'
    meta = read_news_meta(tree(head, lang="de-AT"))
    assert meta.authors == ("Eve Gray",)
    assert meta.published == "2023-12-24"
    assert meta.language == "de"
    assert meta.sources["authors"] == "meta"


def test_profile_urls_are_not_authors() -> None:
    head = '<meta property="article:author" content="https://social.example/someone">'
    assert read_news_meta(tree(head)).authors == ()


def test_title_seen_as_h1_wins_and_site_suffix_is_removed() -> None:
    head = (
        '<meta property="og:site_name" content="Port Gazette">'
        '<meta property="og:title" content="Bridge reopens | Port Gazette">'
        + ld({"@type": "NewsArticle", "headline": "Harbour bridge reopens early: what changes"})
    )
    meta = read_news_meta(tree(head, body="<h1>Bridge reopens</h1>"))
    assert meta.title == "Bridge reopens"
    assert meta.sources["title"] == "opengraph"
    # Without a matching <h1>, Open Graph's title comes first.
    meta = read_news_meta(tree(head, body="<h1>Something else</h1>"))
    assert meta.title == "Bridge reopens"


def test_entities_escaped_twice_are_decoded() -> None:
    data = {"@type": "NewsArticle", "headline": "Mayor says &quot;no&quot; to tolls"}
    assert read_news_meta(tree(ld(data))).title == 'Mayor says "no" to tolls'


@pytest.mark.parametrize(
    ("title", "names", "expected"),
    [
        ("Bridge reopens | Port Gazette", ["Port Gazette"], "Bridge reopens"),
        ("Bridge reopens - portgazette.example", ["portgazette"], "Bridge reopens"),
        ("Bridge reopens | News | Port Gazette", ["Port Gazette"], "Bridge reopens | News"),
        # A colon inside the headline is part of it, and an unknown last part stays.
        ("Budget: what changes for you", ["Port Gazette"], "Budget: what changes for you"),
        ("Bridge reopens - and tolls rise", ["Port Gazette"], "Bridge reopens - and tolls rise"),
    ],
)
def test_strip_site_suffix(title: str, names: list[str], expected: str) -> None:
    assert strip_site_suffix(title, names) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-03T15:47:42.389+0200", "2024-05-03T15:47:42+02:00"),
        ("2024-05-03T15:47:42Z", "2024-05-03T15:47:42+00:00"),
        ("2024-05-03 15:47:00", "2024-05-03T15:47:00"),
        ("2024-05-03", "2024-05-03"),
        ("2024-05-03 00:00:00", "2024-05-03"),
        ("Fri, 03 May 2024 13:47:42 GMT", "2024-05-03T13:47:42+00:00"),
        ("2024-05-03T15:47:42+02:00 (updated)", "2024-05-03"),
        ("yesterday", None),
        ("1970-01-01T00:00:00Z", None),
        ("", None),
    ],
)
def test_normalise_date(value: str, expected: str | None) -> None:
    assert normalise_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("By Ann Lee and Bo Chen", ["Ann Lee", "Bo Chen"]),
        (["Ann Lee", "ann lee", "Bo Chen"], ["Ann Lee", "Bo Chen"]),
        ("Ann Lee, Bo Chen; Cy Dale", ["Ann Lee", "Bo Chen", "Cy Dale"]),
        ("Von Jörg Beispiel", ["Jörg Beispiel"]),
        ("Ann Lee (al)", ["Ann Lee"]),
        (["https://social.example/ann", "@annlee", "105092", "Ann Lee"], ["Ann Lee"]),
        (["Professor of modern history at a university in a large city"], []),
    ],
)
def test_normalise_authors(value: str | list[str], expected: list[str]) -> None:
    assert normalise_authors(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de-DE", "de"),
        ("en_US", "en"),
        ("FR", "fr"),
        ("fra", "fr"),
        ("kr", "ko"),
        ("jp", "ja"),
        ("xx", None),
        ("xx-not a tag", None),
    ],
)
def test_normalise_language(value: str, expected: str | None) -> None:
    assert normalise_language(value) == expected


def test_detect_language() -> None:
    german = "Der Stadtrat hat am Dienstag den neuen Haushalt für das kommende Jahr beschlossen."
    french = "Le conseil municipal a adopté mardi le nouveau budget pour l'année prochaine."
    assert detect_language(german) == "de"
    assert detect_language(french) == "fr"
    assert detect_language("Too short.") is None


def test_is_publication() -> None:
    url = "https://www.portgazette.example/news/1"
    assert is_publication("Port Gazette", None, url)
    assert is_publication("portgazette.example", None, url)
    assert is_publication("The Gazette", "The Gazette", None)
    assert not is_publication("Ann Lee", "Port Gazette", url)
