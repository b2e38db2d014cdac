"""Reading URL lists: a text file of URLs, or a browser's bookmarks export."""

from __future__ import annotations

from archive.sources.url_list import BadEntry, is_bookmarks, parse_url_list

# A bookmarks export as browsers write it (Netscape bookmark file format); written for this test.
BOOKMARKS = """\
<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file.
     It will be read and overwritten.
     DO NOT EDIT! -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks Menu</H1>
<DL><p>
    <DT><H3 ADD_DATE="1700000000">Stories to keep</H3>
    <DL><p>
        <DT><A HREF="https://news.example/2024/council-budget" ADD_DATE="1700000001">Budget</A>
        <DT><A HREF="https://news.example/search?q=flood&amp;page=2">Flood search</A>
        <DT><A HREF="http://exa mple.org/broken">A typo</A>
        <DT><A HREF="place:sort=8&amp;maxResults=10">Most Visited</A>
        <DT><A HREF="javascript:alert(1)">A bookmarklet</A>
    </DL><p>
    <DT><A HREF="https://other.example/story">Story</A>
</DL><p>
"""


def test_text_list_keeps_order_and_reports_bad_lines_by_number() -> None:
    text = (
        "\ufeffhttps://news.example/a\r\n"
        "# a comment\r\n"
        "\r\n"
        "not a url\r\n"
        "  https://news.example/b  \r\n"
        "ftp://news.example/c\r\n"
        "https://news.example/a\r\n"
    )
    found = parse_url_list(text)
    assert found.urls == ["https://news.example/a", "https://news.example/b",
                          "https://news.example/a"]  # fmt: skip
    assert [bad.line for bad in found.bad] == [4, 6]
    assert "not a url" in found.bad[0].reason and "ftp" in found.bad[1].reason
    assert not found.bookmarks and found.skipped == 0


def test_bookmarks_export_is_recognised_by_its_content() -> None:
    assert is_bookmarks(BOOKMARKS)
    assert is_bookmarks('<dl><p>\n<dt><a href="https://a.example/">A</a>\n')  # no doctype
    assert not is_bookmarks("https://a.example/\nhttps://b.example/\n")
    found = parse_url_list(BOOKMARKS)
    assert found.bookmarks
    assert found.urls == [
        "https://news.example/2024/council-budget",
        "https://news.example/search?q=flood&page=2",
        "https://other.example/story",
    ]
    (bad,) = found.bad
    assert bad == BadEntry(13, bad.reason) and "exa mple" in bad.reason
    assert found.skipped == 2  # place: and javascript:, not web pages, not errors


def test_an_empty_list() -> None:
    found = parse_url_list("# nothing today\n\n")
    assert found.urls == [] and found.bad == []
