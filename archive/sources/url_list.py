"""URL lists (``morgue archive -i FILE``): a text file of URLs, or a browser's bookmarks export.

A list is read whole, then each entry is checked on its own, so that one typo does not refuse
a list of hundreds: a bad entry comes back with its line number and the others are kept. What
to do with them (report and go on, or refuse all) is the caller's choice.

- Text: one URL per line; blank lines and lines starting with ``#`` are skipped, and so is a
  byte order mark. Whitespace around a URL is dropped; a line with anything else is bad.
- Bookmarks: the Netscape bookmark file that every browser exports (``<DT><A HREF="...">``),
  recognised by its content whatever the file's name. Its ``http(s)`` links are the list;
  entries that are not web pages (``place:`` queries, ``javascript:`` bookmarklets, ``file:``)
  are counted as skipped, not reported as bad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from archive.exceptions import InvalidURL
from archive.urls import validate_url

__all__ = ["BadEntry", "UrlList", "is_bookmarks", "parse_url_list"]

_BOOKMARKS_DOCTYPE = re.compile(r"^\s*<!DOCTYPE\s+NETSCAPE-Bookmark-file", re.IGNORECASE)
_BOOKMARK_LINK = re.compile(r"<DT>\s*<A\s[^>]*\bHREF\s*=", re.IGNORECASE)
_WEB_SCHEMES = ("http://", "https://")


@dataclass(frozen=True, slots=True)
class BadEntry:
    line: int  # 1-based
    reason: str


@dataclass(slots=True)
class UrlList:
    urls: list[str] = field(default_factory=list)  # valid, in the order given, repeats kept
    bad: list[BadEntry] = field(default_factory=list)
    skipped: int = 0  # bookmarks that are not web pages
    bookmarks: bool = False


def is_bookmarks(text: str) -> bool:
    """Whether ``text`` is a browser's bookmarks export (Netscape bookmark file format)."""
    return bool(_BOOKMARKS_DOCTYPE.match(text) or _BOOKMARK_LINK.search(text[:100_000]))


def parse_url_list(text: str) -> UrlList:
    """Every entry of a URL list, checked; see the module docstring for the two formats."""
    text = text.removeprefix("\ufeff")
    if is_bookmarks(text):
        return _parse_bookmarks(text)
    found = UrlList()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if entry and not entry.startswith("#"):
            _check(found, number, entry)
    return found


def _check(found: UrlList, number: int, entry: str) -> None:
    try:
        found.urls.append(validate_url(entry))
    except InvalidURL as exc:
        found.bad.append(BadEntry(number, str(exc)))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.links.append((self.getpos()[0], href))


def _parse_bookmarks(text: str) -> UrlList:
    parser = _Links()
    parser.feed(text)
    parser.close()
    found = UrlList(bookmarks=True)
    for number, href in parser.links:
        entry = href.strip()
        if entry.lower().startswith(_WEB_SCHEMES):
            _check(found, number, entry)
        else:
            found.skipped += 1
    return found
