"""extract_article on small news pages: structured metadata first, cleaned text, sources."""

from __future__ import annotations

import codecs
import json
import pickle

from archive.extraction.article import extract_article, extract_page

PARAGRAPHS = [
    "The harbour bridge reopened on Tuesday morning after three months of repairs to its "
    "cables, a week earlier than the city had planned when the work began in the spring.",
    "Engineers replaced all forty cables and resurfaced the deck, the city's transport office "
    "said in a statement, adding that the final inspection had found no further faults.",
    "Traffic is expected to return to normal by the weekend, although the cycle lane on the "
    "eastern side will stay closed for another fortnight while the railings are painted.",
    "Residents who had to take the ferry during the works will be refunded for their tickets "
    "if they apply before the end of the month, the council confirmed on Tuesday evening.",
]


def news_page(
    *, lang: str | None = "en", json_ld: bool = True, boilerplate: bool = True, h1: bool = True
) -> bytes:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Harbour bridge reopens a week early",
        "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Chen"}],
        "datePublished": "2024-03-05T08:15:00+01:00",
        "dateModified": "2024-03-05T10:00:00+01:00",
        "publisher": {"@type": "Organization", "name": "Port Gazette"},
    }
    head = (
        "<title>Harbour bridge reopens a week early | Port Gazette</title>"
        '<meta property="og:site_name" content="Port Gazette">'
    )
    if json_ld:  # structured data: Open Graph's title and JSON-LD
        head += '<meta property="og:title" content="Harbour bridge reopens a week early">'
        head += f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    paragraphs = [f"<p>{p}</p>" for p in PARAGRAPHS]
    if boilerplate:
        paragraphs.insert(1, "<p>Advertisement</p>")
        paragraphs.insert(3, "<p>Read more: Ferry timetable changes for the summer</p>")
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!doctype html><html{lang_attr}><head>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article>{'<h1>Harbour bridge reopens a week early</h1>' if h1 else ''}"
        f"{''.join(paragraphs)}</article>"
        "<footer><p>Port Gazette, 1 Quay Street</p></footer></body></html>"
    ).encode()


def test_structured_metadata_and_sources() -> None:
    ext = extract_article(news_page(), "https://gazette.example/2024/03/05/bridge")
    assert ext is not None
    assert ext.title == "Harbour bridge reopens a week early"
    assert ext.authors == ("Ann Lee", "Bo Chen")
    assert ext.author == "Ann Lee; Bo Chen"
    assert ext.published == "2024-03-05T08:15:00+01:00"
    assert ext.date_modified == "2024-03-05T10:00:00+01:00"
    assert ext.site_name == "Port Gazette"
    assert ext.language == "en"
    assert ext.field_sources["authors"] == "json-ld"
    assert ext.field_sources["published"] == "json-ld"
    assert ext.field_sources["date_modified"] == "json-ld"
    assert ext.field_sources["language"] == "meta"  # <html lang>: the page's own markup
    assert ext.field_sources["text"] == "article"


def test_boilerplate_is_cleaned_from_the_text() -> None:
    ext = extract_article(news_page(), "https://gazette.example/2024/03/05/bridge")
    assert ext is not None and ext.text is not None
    assert "Advertisement" not in ext.text
    assert "Read more" not in ext.text
    for paragraph in PARAGRAPHS:
        assert paragraph in ext.text


def test_fallbacks_without_structured_data_date_from_url_and_detected_language() -> None:
    ext = extract_article(
        news_page(lang=None, json_ld=False, h1=False), "https://gazette.example/2024/03/05/bridge"
    )
    assert ext is not None
    assert ext.published == "2024-03-05"
    assert ext.field_sources["published"] in ("htmldate", "url")
    assert ext.language == "en"
    assert ext.field_sources["language"] == "langid"
    # trafilatura's title, from <title>, loses the site name too.
    assert ext.title == "Harbour bridge reopens a week early"


def test_results_pickle_for_the_process_pool() -> None:
    result = extract_page(news_page(), "https://gazette.example/2024/03/05/bridge")
    assert result is not None
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert again.extraction is not None
    assert json.loads(json.dumps(again.extraction.to_json()))["authors"] == ["Ann Lee", "Bo Chen"]


def test_embedded_social_posts_are_left_out() -> None:
    page = news_page().replace(
        b"</article>",
        b'<blockquote class="twitter-tweet"><p>Bridge open at last, what a morning for the '
        b"whole of the harbour district and everyone who lives along the quay</p>"
        b"</blockquote></article>",
    )
    ext = extract_article(page, "https://gazette.example/2024/03/05/bridge")
    assert ext is not None and ext.text is not None
    assert "what a morning" not in ext.text
    assert PARAGRAPHS[-1] in ext.text


def _with_authors(authors: list[dict[str, str]], byline: str = "") -> bytes:
    ld = {
        "@type": "NewsArticle",
        "headline": "Harbour bridge reopens a week early",
        "author": authors,
        "datePublished": "2024-03-05",
        "publisher": {"@type": "Organization", "name": "Port Gazette"},
    }
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html lang='en'><head>{head}</head><body><article>"
        f"<h1>Harbour bridge reopens a week early</h1>{byline}{paras}</article></body></html>"
    ).encode()


GAZETTE = {"@type": "Organization", "name": "Port Gazette"}
URL = "https://portgazette.example/news/bridge"


def test_a_printed_byline_beats_the_publication_as_author() -> None:
    page = _with_authors([GAZETTE], '<p>By <a rel="author" href="/staff/ann">Ann Lee</a></p>')
    ext = extract_article(page, URL)
    assert ext is not None
    assert ext.authors == ("Ann Lee",)
    assert ext.field_sources["authors"] == "trafilatura"


def _cards_around(story: str, *, landmark: str) -> bytes:
    """A page whose story sits in ``landmark`` among cards of other stories, each with its own
    byline, the first card before the story in the markup."""
    paras = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    card = (
        '<article class="card"><h2><a href="/news/ferry">Ferry timetable changes</a></h2>'
        '<a rel="author" href="/staff/cy">Cy Moss</a></article>'
    )
    ld = {"@type": "NewsArticle", "headline": "Harbour bridge reopens a week early",
          "author": [GAZETTE], "datePublished": "2024-03-05"}  # fmt: skip
    return (
        f"<html lang='en'><head><script type='application/ld+json'>{json.dumps(ld)}</script>"
        f"</head><body><aside>{card}</aside><{landmark}><h1>Harbour bridge reopens a week early"
        f"</h1>{story}{paras}</{landmark}><aside>{card}</aside></body></html>"
    ).encode()


def test_the_byline_is_read_where_the_headline_is() -> None:
    byline = '<p>By <a rel="author" href="/staff/ann">Ann Lee</a></p>'
    # The <article> that holds the headline, not the other stories' cards around it ...
    ext = extract_article(_cards_around(byline, landmark="article"), URL)
    assert ext is not None
    assert ext.authors == ("Ann Lee",)
    # ... and the <main> that holds it on a page whose only <article>s are cards.
    ext = extract_article(_cards_around(byline, landmark="main"), URL)
    assert ext is not None
    assert ext.authors == ("Ann Lee",)
    # No byline printed with the story: a card's author is not the story's.
    ext = extract_article(_cards_around("", landmark="article"), URL)
    assert ext is not None
    assert ext.authors == ("Port Gazette",)


def test_the_publication_stays_when_nothing_better_is_printed() -> None:
    ext = extract_article(_with_authors([GAZETTE]), URL)
    assert ext is not None
    assert ext.authors == ("Port Gazette",)
    assert ext.field_sources["authors"] == "json-ld"


def test_the_publication_beside_people_is_dropped() -> None:
    ext = extract_article(_with_authors([{"@type": "Person", "name": "Ann Lee"}, GAZETTE]), URL)
    assert ext is not None
    assert ext.authors == ("Ann Lee",)


def test_trafilatura_leaves_the_parsed_page_intact() -> None:
    # The markup signals of the cleaning rules are read from the page after trafilatura ran.
    from lxml import etree

    from archive.extraction.article import _parse, _trafilatura

    tree = _parse(news_page(), None)
    before = etree.tostring(tree)
    assert _trafilatura(tree, "https://gazette.example/2024/03/05/bridge")
    assert etree.tostring(tree) == before


def _page_in(charset: str, paragraph: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in [paragraph, *PARAGRAPHS])
    return (
        f"<html lang='de'><head><meta charset='{charset}'><title>Brücke</title></head>"
        f"<body><article><h1>Die Brücke in Zürich ist wieder offen</h1>{paras}</article>"
        "</body></html>"
    )


UMLAUTS = "Die Brücke über die Limmat in Zürich ist seit Dienstag früh wieder für alle geöffnet."


def test_utf8_bytes_are_read_as_utf8_whatever_the_page_declares() -> None:
    declared_wrong = _page_in("iso-8859-1", UMLAUTS).encode("utf-8")
    for body in (declared_wrong, codecs.BOM_UTF8 + declared_wrong):
        ext = extract_article(body, URL, "text/html; charset=windows-1252")
        assert ext is not None and ext.text is not None
        assert UMLAUTS in ext.text
        assert ext.title == "Die Brücke in Zürich ist wieder offen"
    # Bytes that are not UTF-8 are read in the charset they declare.
    latin = extract_article(_page_in("iso-8859-1", UMLAUTS).encode("latin-1"), URL)
    assert latin is not None and latin.text is not None
    assert UMLAUTS in latin.text


def test_a_byline_in_a_script_without_capitals_is_a_person() -> None:
    """Chinese, Japanese and Korean names have no capital letters, nor one space between the
    given and family names; a desk's or a paper's name in the same place is not a person."""
    url = "https://harbour-shimbun.example/articles/bridge"

    def byline(name: str) -> bytes:
        return _with_authors([GAZETTE], f'<p><a rel="author" href="/reporter/x">{name}</a></p>')

    for name in ("山田花子", "홍길동"):
        ext = extract_article(byline(name), url)
        assert ext is not None
        assert ext.authors == (name,), name
    for desk in ("社会部", "港湾新聞", "편집국"):
        ext = extract_article(byline(desk), url)
        assert ext is not None
        assert ext.authors == ("Port Gazette",), desk
