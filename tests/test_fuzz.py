"""Property tests (Hypothesis) of the parsers that read what others wrote (issue 11).

URLs, feeds, sitemaps and robots.txt come from the web; WARC files from disks that fill up and
crawls that are killed; durations and searches from people. Each parser is held to a property,
not just "does not crash": it gives a well-formed answer or its one documented error.

Deterministic (``derandomize``: the same examples on every run and in CI, no example database
written) and quick: a few seconds in all.
"""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.durations import format_duration, parse_duration
from archive.exceptions import InvalidInput, InvalidURL, WarcError
from archive.query.fulltext import parse_search, to_fts5
from archive.sources.feeds import parse_feed
from archive.sources.sitemaps import parse_sitemap, robots_sitemaps
from archive.urls import normalise_url, url_host, validate_url
from archive.warc.records import RecordLocation, WarcWriter, read_record
from tests.conftest import ROOT
from tests.corpus import corpus_pages

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- URLs ---------------------------------------------------------------------------------------

_HOST_PARTS = st.sampled_from(
    ["example", "org", "EXAMPLE", "xn--caf-dma", "café", "bücher", "ß", "中国", "a-b", "_x",
     "127.0.0.1", "[::1]", "[fe80::1%25eth0]", "", "..", "\uff0e", "\u3002", "\u200d", "%41",
     "user@", "u:p@", ":80", ":443", ":0", ":65536", ":x", "@", "[", "]"]
)  # fmt: skip
_PATH_PARTS = st.sampled_from(
    ["/", "a", "%2F", "%zz", "é", "..", "//", "?", "&", "=", "utm_source=x", "fbclid=1",
     "UTM_Medium=y", "id=7", "#", "#frag", " ", "\t", "\x00", ";", "\\", "~"]
)  # fmt: skip
_URLS = st.one_of(
    st.builds(
        lambda scheme, host, path: scheme + host + path,
        st.sampled_from(["http://", "https://", "HTTP://", "hTTps://", "ftp://", "http:/", ""]),
        st.lists(_HOST_PARTS, max_size=5).map(".".join),
        st.lists(_PATH_PARTS, max_size=8).map("".join),
    ),
    st.text(max_size=40),
)


@FUZZ
@given(_URLS)
def test_normalise_url_is_idempotent_and_raises_only_invalid_url(url: str) -> None:
    try:
        key = normalise_url(url)
    except InvalidURL:
        return
    assert normalise_url(key) == key
    assert key.startswith(("http://", "https://"))
    assert url_host(key) == url_host(url)
    query = urlsplit(key).query
    assert "#" not in key and not any(p.lower().startswith("utm_") for p in query.split("&"))


@FUZZ
@given(_URLS)
def test_a_valid_url_can_be_filed(url: str) -> None:
    # Whatever the CLI accepts must have a page key: the store files every capture under one.
    try:
        validate_url(url)
    except InvalidURL:
        return
    normalise_url(url)


# -- feeds, sitemaps, robots.txt ----------------------------------------------------------------

_LINKS = st.one_of(
    _URLS,
    st.sampled_from(["/relative.html", "javascript:alert(1)", "mailto:a@b", "//cdn/x", "  "]),
)
_XML_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


_FEED_DATES = st.sampled_from(
    [
        "",
        "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>",
        "<pubDate>not a date</pubDate>",
        "<pubDate>9999</pubDate>",
    ]
)
_LASTMODS = st.sampled_from(
    [
        "",
        "<lastmod>2024-02-13</lastmod>",
        "<lastmod>2024-13-45T99:99</lastmod>",
        "<lastmod>Tue, 10 Jun 2003 04:00:00 GMT</lastmod>",
    ]
)
_NEWS = st.sampled_from(
    [
        "",
        "<news:news><news:publication_date>2024-01-01</news:publication_date>"
        "<news:title>T</news:title></news:news>",
    ]
)


@st.composite
def _feeds(draw: Any) -> bytes:
    items = []
    for link in draw(st.lists(_LINKS, max_size=6)):
        date = draw(_FEED_DATES)
        title = draw(_XML_TEXT)
        items.append(
            f"<item><title>{_escape(title)}</title><link>{_escape(link)}</link>{date}</item>"
        )
    doc = '<?xml version="1.0"?><rss version="2.0"><channel>' + "".join(items) + "</channel></rss>"
    raw = doc.encode()
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


@st.composite
def _sitemaps(draw: Any) -> bytes:
    tag, child = draw(st.sampled_from([("urlset", "url"), ("sitemapindex", "sitemap")]))
    entries = []
    for link in draw(st.lists(_LINKS, max_size=6)):
        lastmod, news = draw(_LASTMODS), draw(_NEWS)
        entries.append(f"<{child}><loc>{_escape(link)}</loc>{lastmod}{news}</{child}>")
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    ns += 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    raw = f'<?xml version="1.0"?><{tag} {ns}>{"".join(entries)}</{tag}>'.encode()
    if draw(st.booleans()):
        import gzip

        raw = gzip.compress(raw)
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


_BASES = st.sampled_from(["https://example.org/feed.xml", "http://127.0.0.1:8000/a/b/sitemap.xml"])


@FUZZ
@given(st.one_of(_feeds(), st.binary(max_size=300)), _BASES)
def test_parse_feed_never_raises_and_lists_http_urls_only(body: bytes, base: str) -> None:
    for entry in parse_feed(body, base):
        assert entry.url.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is not None


@FUZZ
@given(st.one_of(_sitemaps(), st.binary(max_size=300)), _BASES)
def test_parse_sitemap_never_raises_and_lists_http_urls_only(body: bytes, base: str) -> None:
    sitemap = parse_sitemap(body, base)
    assert sitemap.kind in ("index", "urlset", "unknown")
    assert sitemap.kind != "unknown" or not sitemap.entries
    for entry in sitemap.entries:
        assert entry.url.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is not None


@FUZZ
@given(st.lists(st.one_of(st.builds("Sitemap: {}".format, _LINKS), st.text(max_size=30))), _BASES)
def test_robots_sitemaps_are_absolute_http_urls(lines: list[str], base: str) -> None:
    found = robots_sitemaps("\n".join(lines), base)
    assert len(found) == len(set(found))
    assert all(url.startswith(("http://", "https://")) for url in found)


# -- durations and searches ---------------------------------------------------------------------


@FUZZ
@given(st.integers(min_value=0, max_value=10**9))
def test_parse_duration_round_trips_format_duration(seconds: int) -> None:
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert format_duration(parse_duration(text)) == text


_DURATION_PARTS = st.sampled_from(
    ["1", "2.5", "90", "h", "m", "s", "d", "w", " ", "-", "e", "400", "nan", "inf", "_", "1e999"]
)


@FUZZ
@given(st.one_of(st.text(max_size=12), st.lists(_DURATION_PARTS, max_size=6).map("".join)))
def test_parse_duration_gives_a_finite_count_or_invalid_input(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except InvalidInput:
        return
    assert math.isfinite(seconds) and seconds >= 0
    format_duration(seconds)


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO t VALUES ('City council', 'The budget of the café')")
    yield conn
    conn.close()


_SEARCH_PARTS = st.sampled_from(
    ['"', "(", ")", "-", "NOT", "OR", "AND", "*", "city", "council", "café", "'", "budget",
     ":", "^", "NEAR", "+", "\\", "é", "_", "AND(", " "]
)  # fmt: skip


_SEARCHES = st.one_of(
    st.lists(_SEARCH_PARTS, max_size=8).map(" ".join),
    st.lists(_SEARCH_PARTS, max_size=8).map("".join),
    st.text(max_size=15),
)


@FUZZ
@given(_SEARCHES)
def test_a_search_parses_to_a_valid_query_or_one_error(fts: sqlite3.Connection, text: str) -> None:
    try:
        node = parse_search(text)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
        return
    # What the parser accepts, SQLite's FTS5 accepts too (no "fts5: syntax error").
    fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts5(node),)).fetchone()


# -- WARC records -------------------------------------------------------------------------------


class _Warc:
    """A WARC file and the location and body of its page's response record."""

    def __init__(self, directory: Path, location: RecordLocation, page: bytes) -> None:
        self.directory, self.location, self.page = directory, location, page

    def __repr__(self) -> str:  # Hypothesis prints it with a failing example: not the page
        return f"<WARC {self.location.file}>"


@pytest.fixture(scope="module")
def warc() -> Iterator[_Warc]:
    """A WARC file holding one real-size news page (about 250 KB) and a small record after it."""
    page = corpus_pages(min_size=200_000, limit=1)[0].html
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with WarcWriter(directory) as writer:
            response, _ = writer.write_exchange(
                "https://example.org/news/story.html",
                method="GET",
                request_headers=[("Host", "example.org")],
                request_body=b"",
                status=200,
                response_headers=[("Content-Type", "text/html; charset=utf-8")],
                body=page,
            )
            writer.write_metadata("https://example.org/news/story.html", {"verdict": "ok"})
        yield _Warc(directory, response, page)


_DAMAGE = st.sampled_from(["cut", "flip", "zero"])


@FUZZ
@given(kind=_DAMAGE, where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_a_damaged_record_reads_back_whole_or_raises_warc_error(
    warc: _Warc, kind: str, where: float, bit: int
) -> None:
    directory, location, page = warc.directory, warc.location, warc.page
    path = directory / location.file
    original = path.read_bytes()
    damaged = bytearray(original)
    at = location.offset + int(where * location.length)
    if kind == "cut":
        del damaged[at:]
    elif kind == "flip":
        damaged[at] ^= 1 << bit
    else:
        damaged[at : at + 512] = bytes(len(damaged[at : at + 512]))
    path.write_bytes(bytes(damaged))
    try:
        record = read_record(directory, location)
    except WarcError:
        return
    finally:
        path.write_bytes(original)
    # Read back without an error: then it is the page, byte for byte (a flip in a gzip header
    # field nobody checks, like its time stamp, changes nothing that is read).
    assert record.payload == page and record.http_status == 200


@FUZZ
@given(st.integers(min_value=0, max_value=10**7))
def test_reading_at_any_offset_gives_a_record_or_warc_error(warc: _Warc, offset: int) -> None:
    try:
        record = read_record(warc.directory, (warc.location.file, offset))
    except WarcError:
        return
    assert record.rec_type in ("warcinfo", "response", "request", "metadata")


# -- finding where a killed crawl's WARC file stops being whole ---------------------------------

_COMPLETE_LENGTH_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from archive.integrity.resume import complete_length
    for name in sys.argv[1:]:
        print(complete_length(Path(name)), flush=True)
    """
)


def test_complete_length_of_a_cut_file_terminates(tmp_path: Path) -> None:
    pages = [page.html for page in corpus_pages(min_size=150_000, limit=3)]
    with WarcWriter(tmp_path) as writer:
        ends = []
        for i, page in enumerate(pages):
            loc, _ = writer.write_exchange(
                f"https://example.org/{i}.html", method="GET", request_headers=[],
                request_body=b"", status=200, response_headers=[], body=page,
            )  # fmt: skip
            ends.append(loc.offset)
    whole = next(tmp_path.glob("*.warc.gz")).read_bytes()
    # Cut inside each response record, and at a record boundary.
    cuts = [ends[0] + 1000, ends[1] + 30_000, ends[2] + 5, ends[2]]
    files = []
    for i, cut in enumerate(cuts):
        path = tmp_path / f"cut-{i}.warc.gz.open"
        path.write_bytes(whole[:cut])
        files.append(str(path))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _COMPLETE_LENGTH_CHILD, *files],
            capture_output=True, text=True, timeout=15, cwd=ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("complete_length did not return within 15 s")
    assert proc.returncode == 0, proc.stderr
    lengths = [int(line) for line in proc.stdout.split()]
    # Each cut file is whole up to the last record that ended before the cut.
    assert lengths == [max(e for e in [0, *ends] if e <= cut) for cut in cuts]
