"""Memento helpers: header parsing and URL rules, then the whole recipe against a real pywb."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.exceptions import InvalidInput, InvalidURL
from archive.liveness.memento import (
    Link,
    MementoAnswer,
    accept_datetime,
    check_timegate,
    choose_before,
    choose_memento,
    closest_before,
    is_acceptable,
    parse_http_date,
    parse_link_header,
    provenance_headers,
    raw_memento_url,
    timegate_url,
)
from tests.memento_fixture import Capture, MementoArchive


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- Link headers ----------------------------------------------------------------------------

# Shaped like a Wayback Machine TimeGate answer: navigation rels share links with "memento".
WAYBACK_LINK = (
    '<http://news.example/a,b.html>; rel="original", '
    '<https://web.archive.org/web/timemap/link/http://news.example/a,b.html>; rel="timemap"; '
    'type="application/link-format", '
    '<https://web.archive.org/web/http://news.example/a,b.html>; rel="timegate", '
    "<https://web.archive.org/web/20190101000000/http://news.example/a,b.html>; "
    'rel="first memento"; datetime="Tue, 01 Jan 2019 00:00:00 GMT", '
    "<https://web.archive.org/web/20200101000000/http://news.example/a,b.html>; "
    'rel="prev memento"; datetime="Wed, 01 Jan 2020 00:00:00 GMT", '
    "<https://web.archive.org/web/20210301000000/http://news.example/a,b.html>; "
    'rel="memento"; datetime="Mon, 01 Mar 2021 00:00:00 GMT", '
    "<https://web.archive.org/web/20230101000000/http://news.example/a,b.html>; "
    'rel="last memento"; datetime="Sun, 01 Jan 2023 00:00:00 GMT"'
)


def test_link_header_with_several_rels_and_commas_in_urls() -> None:
    links = parse_link_header(WAYBACK_LINK)
    assert [link.rels for link in links] == [
        ("original",),
        ("timemap",),
        ("timegate",),
        ("first", "memento"),
        ("prev", "memento"),
        ("memento",),
        ("last", "memento"),
    ]
    assert links[0].url == "http://news.example/a,b.html"
    assert links[1].params["type"] == "application/link-format"
    assert links[3].has_rel("memento") and links[3].has_rel("FIRST")
    assert links[5].when == utc(2021, 3, 1)


def test_link_header_with_quoted_commas_semicolons_and_escapes() -> None:
    value = (
        '<http://a.example/x?q=1,2;3>; title="Hello, world; \\"quoted\\""; rel=memento; '
        'datetime="Wed, 01 Jan 2020 00:00:00 GMT" , <http://b.example/>; rel="original"'
    )
    first, second = parse_link_header(value)
    assert first.url == "http://a.example/x?q=1,2;3"
    assert first.params["title"] == 'Hello, world; "quoted"'
    assert first.rels == ("memento",)  # an unquoted rel is a token
    assert first.when == utc(2020, 1, 1)
    assert second == Link("http://b.example/", ("original",), {"rel": "original"})


def test_link_without_datetime_or_with_a_bad_one() -> None:
    plain, bad = parse_link_header('<http://m/1>; rel="memento", <http://m/2>; datetime="soon"')
    assert plain.when is None
    assert bad.when is None and bad.rels == ()


def test_malformed_link_parts_are_skipped() -> None:
    value = 'garbage "with, comma", <http://ok/>; rel="original", <http://unterminated'
    assert [link.url for link in parse_link_header(value)] == ["http://ok/"]
    assert parse_link_header("") == []
    # RFC 8288: a repeated parameter keeps its first value.
    (link,) = parse_link_header('<http://x/>; rel="memento"; rel="original"')
    assert link.rels == ("memento",)


def test_timemap_body_parses_like_a_header() -> None:
    body = (
        '<http://tg/timemap/link/http://n/>; rel="self"; type="application/link-format",\n'
        '<http://n/>; rel="original",\n'
        '<http://tg/2020mp_/http://n/>; rel="memento"; datetime="Wed, 01 Jan 2020 00:00:00 GMT",\n'
        '<http://tg/2022mp_/http://n/>; rel="memento"; datetime="Sat, 01 Jan 2022 00:00:00 GMT"\n'
    )
    links = parse_link_header(body)
    assert [link.rels for link in links] == [("self",), ("original",), ("memento",), ("memento",)]
    before = closest_before(links, utc(2021, 6, 1))
    assert before is not None and before.url == "http://tg/2020mp_/http://n/"
    assert closest_before(links, utc(2019, 1, 1)) is None
    latest = closest_before(links, None)
    assert latest is not None and latest.url == "http://tg/2022mp_/http://n/"


# -- dates -----------------------------------------------------------------------------------


def test_accept_datetime_is_rfc1123_gmt() -> None:
    assert accept_datetime(utc(2020, 1, 1, 12, 30, 5)) == "Wed, 01 Jan 2020 12:30:05 GMT"
    paris = timezone(timedelta(hours=2))
    assert accept_datetime(datetime(2020, 6, 1, 2, 0, tzinfo=paris)) == (
        "Mon, 01 Jun 2020 00:00:00 GMT"
    )
    # Naive means UTC: that is how SQLite hands back the DB's UTC timestamps.
    assert accept_datetime(datetime(2020, 1, 1)) == "Wed, 01 Jan 2020 00:00:00 GMT"


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "  Sun,  06 Nov 1994 08:49:37 GMT ",
    ],
)
def test_parse_http_date_accepts_the_three_http_forms(value: str) -> None:
    assert parse_http_date(value) == utc(1994, 11, 6, 8, 49, 37)


def test_parse_http_date_rejects_garbage_and_normalises_offsets() -> None:
    assert parse_http_date("") is None
    assert parse_http_date("yesterday") is None
    assert parse_http_date("Sun, 06 Nov 1994 10:49:37 +0200") == utc(1994, 11, 6, 8, 49, 37)
    assert parse_http_date(accept_datetime(utc(2024, 2, 29, 23, 59, 59))) == utc(
        2024, 2, 29, 23, 59, 59
    )


# -- URLs ------------------------------------------------------------------------------------


def test_timegate_url_appends_the_original_as_is() -> None:
    url = "https://news.example/a/b.html?id=1,2&x=%20y#comments"
    assert timegate_url("https://web.archive.org/web/", url) == (
        "https://web.archive.org/web/https://news.example/a/b.html?id=1,2&x=%20y"
    )
    assert timegate_url("https://web.archive.org/web", "http://n.example/") == (
        "https://web.archive.org/web/http://n.example/"
    )
    assert timegate_url("http://tg.example/api?url=", "http://n.example/") == (
        "http://tg.example/api?url=http://n.example/"
    )


@pytest.mark.parametrize(
    "base", ["", "web.archive.org/web/", "ftp://archive.example/", "http:///web/", "http://x/#f"]
)
def test_invalid_timegate_is_invalid_input(base: str) -> None:
    with pytest.raises(InvalidInput):
        check_timegate(base)


@pytest.mark.parametrize("url", ["", "news.example/a", "mailto:a@b.example", "http://"])
def test_invalid_original_is_invalid_url(url: str) -> None:
    with pytest.raises(InvalidURL):
        timegate_url("https://web.archive.org/web/", url)


@pytest.mark.parametrize(
    ("url", "raw"),
    [
        (
            "https://web.archive.org/web/20200101000000/http://news.example/a.html",
            "https://web.archive.org/web/20200101000000id_/http://news.example/a.html",
        ),
        (
            "http://127.0.0.1:8080/coll/20200101000000mp_/https://news.example/a?b=1,2",
            "http://127.0.0.1:8080/coll/20200101000000id_/https://news.example/a?b=1,2",
        ),
        (
            "http://127.0.0.1:8080/coll/20200101000000id_/http://news.example/",
            "http://127.0.0.1:8080/coll/20200101000000id_/http://news.example/",
        ),
        (  # a partial timestamp, and an archive mounted at the root
            "http://wayback.local/2020if_/http://news.example/",
            "http://wayback.local/2020id_/http://news.example/",
        ),
        (  # an archived page of an archive: only the outer memento is made raw
            "https://web.archive.org/web/2021/https://arquivo.pt/wayback/2019/http://n.example/",
            "https://web.archive.org/web/2021id_/https://arquivo.pt/wayback/2019/http://n.example/",
        ),
    ],
)
def test_raw_memento_url(url: str, raw: str) -> None:
    assert raw_memento_url(url) == raw


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/2020/05/story.html",  # a dated news path is not a memento
        "https://web.archive.org/web/*/http://news.example/",  # a calendar page
        "https://archive.ph/20200101000000/news.example/a",  # no scheme in the original
        "https://web.archive.org/web/20200101000000/",
    ],
)
def test_other_urls_are_left_alone(url: str) -> None:
    assert raw_memento_url(url) == url


# -- answers and choices ---------------------------------------------------------------------


def test_redirect_answer_with_wayback_links() -> None:
    answer = MementoAnswer.from_response(
        302,
        [
            ("Location", "/web/20210301000000/http://news.example/a,b.html"),
            ("Link", WAYBACK_LINK),
            ("Vary", "accept-datetime"),
        ],
        url="https://web.archive.org/web/http://news.example/a,b.html",
    )
    memento = "https://web.archive.org/web/20210301000000/http://news.example/a,b.html"
    assert answer.found and answer.memento_url == memento
    assert answer.raw_url == memento.replace("20210301000000/", "20210301000000id_/")
    assert answer.memento_datetime == utc(2021, 3, 1)
    assert answer.original == "http://news.example/a,b.html"
    assert answer.timemap == "https://web.archive.org/web/timemap/link/http://news.example/a,b.html"
    assert not answer.is_memento
    # Dead since mid-2020: the TimeGate's pick (2021) is after, the "prev memento" (2020) is not.
    assert choose_memento(answer, utc(2020, 6, 1)) == memento.replace("20210301", "20200101")
    assert choose_memento(answer, utc(2022, 1, 1)) == memento
    assert choose_memento(answer, utc(2018, 1, 1)) is None


def test_chosen_memento_is_matched_by_url_even_when_it_is_the_first() -> None:
    link = (
        '<http://tg/web/2019mp_/http://n/>; rel="first memento"; '
        'datetime="Tue, 01 Jan 2019 00:00:00 GMT", '
        '<http://tg/web/2020mp_/http://n/>; rel="last memento"; '
        'datetime="Wed, 01 Jan 2020 00:00:00 GMT"'
    )
    answer = MementoAnswer.from_response(
        302, {"Location": "http://tg/web/2019/http://n/", "Link": link}
    )
    assert answer.memento_datetime == utc(2019, 1, 1)


def test_memento_response_and_not_found() -> None:
    memento = MementoAnswer.from_response(
        200,
        {
            "Memento-Datetime": "Wed, 01 Jan 2020 00:00:00 GMT",
            "Link": '<http://n/>; rel="original"',
            "Content-Location": "/web/20200101000000id_/http://n/",
        },
        url="http://tg/web/20200101000000id_/http://n/",
    )
    assert memento.is_memento and memento.memento_datetime == utc(2020, 1, 1)
    assert memento.memento_url == "http://tg/web/20200101000000id_/http://n/"
    missing = MementoAnswer.from_response(404, {"Content-Type": "text/html"})
    assert not missing.found and missing.raw_url is None and missing.links == ()


def test_acceptability_and_the_datetime_to_ask_for() -> None:
    dead = utc(2022, 1, 1)
    assert is_acceptable(utc(2021, 12, 31, 23, 59, 59), dead)
    assert not is_acceptable(dead, dead)  # taken at the death: the dead page itself
    assert not is_acceptable(None, dead)
    assert is_acceptable(utc(2030, 1, 1), None)
    assert is_acceptable(datetime(2021, 1, 1), dead)  # naive means UTC
    assert choose_before(dead) == dead
    assert choose_before(None, now=utc(2026, 5, 5)) == utc(2026, 5, 5)
    assert choose_before(None).tzinfo is UTC


def test_provenance_headers_use_warc_dates() -> None:
    assert provenance_headers("http://n/a", utc(2020, 1, 2, 3, 4, 5)) == {
        "WARC-Refers-To-Target-URI": "http://n/a",
        "WARC-Refers-To-Date": "2020-01-02T03:04:05Z",
    }


# -- against a real pywb ---------------------------------------------------------------------

STORY = "http://news.example/politics/story.html"
GONE = "http://news.example/gone.html"
MOVED = "http://news.example/moved.html"
QUERY = "http://news.example/view?id=1,2&x=%20y"
OLD_BODY = "<html><head><title>Story</title></head><body>Café, 2020\r\n</body></html>".encode()
NEW_BODY = b"<html><head><title>Story</title></head><body>Updated 2022</body></html>"
CAPTURES = [
    Capture(STORY, utc(2020, 1, 1), 200, OLD_BODY),
    Capture(STORY, utc(2022, 6, 1, 12, 30), 200, NEW_BODY),
    Capture(GONE, utc(2021, 1, 1), 404, b"<html><h1>Not found</h1></html>"),
    Capture(MOVED, utc(2021, 1, 1), 301, b"", headers=(("Location", STORY),)),
    Capture(QUERY, utc(2021, 1, 1), 200, b"query page"),
]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The crawler reads a TimeGate's redirect instead of following it: so does this test.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str, **headers: str) -> tuple[int, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(
        url, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )
    try:
        with _OPENER.open(request, timeout=30) as resp:
            return resp.status, list(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, list(err.headers.items()), err.read()


def ask(tg: MementoArchive, url: str, when: datetime | None) -> MementoAnswer:
    gate = timegate_url(tg.timegate, url)
    headers = {} if when is None else {"Accept_Datetime": accept_datetime(when)}
    status, header_list, _ = fetch(gate, **headers)
    return MementoAnswer.from_response(status, header_list, url=gate)


@pytest.fixture(scope="module")
def tg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MementoArchive]:
    with MementoArchive(tmp_path_factory.mktemp("pywb"), captures=CAPTURES) as archive:
        yield archive


def test_timegate_redirects_to_the_closest_memento(tg: MementoArchive) -> None:
    gate = timegate_url(tg.timegate, STORY)
    status, headers, body = fetch(gate, Accept_Datetime="Mon, 01 Jun 2020 00:00:00 GMT")
    assert status == 307 and body == b""
    assert ("Vary", "accept-datetime") in headers
    assert not any(name == "Memento-Datetime" for name, _ in headers)
    answer = MementoAnswer.from_response(status, headers, url=gate)
    assert answer.memento_url == f"{tg.base}20200101000000/{STORY}"
    assert answer.memento_datetime == utc(2020, 1, 1)
    assert answer.original == STORY
    assert answer.timegate == gate
    assert answer.timemap == tg.timemap(STORY)
    # The Link names the framed-replay variant of the same memento.
    (link,) = [link for link in answer.links if link.has_rel("memento")]
    assert link.url == f"{tg.base}20200101000000mp_/{STORY}"


def test_closest_can_be_after_the_death_and_the_timemap_finds_the_one_before(
    tg: MementoArchive,
) -> None:
    dead_since = utc(2022, 1, 1)  # 5 months before the 2022 capture, 2 years after the 2020 one
    answer = ask(tg, STORY, choose_before(dead_since))
    assert answer.memento_datetime == utc(2022, 6, 1, 12, 30)
    assert not is_acceptable(answer.memento_datetime, dead_since)
    # pywb sends no prev/first memento links: the TimeMap is the way to the earlier one.
    assert choose_memento(answer, dead_since) is None
    assert answer.timemap is not None
    status, _, body = fetch(answer.timemap)
    assert status == 200
    before = closest_before(parse_link_header(body.decode()), dead_since)
    assert before is not None and before.when == utc(2020, 1, 1)
    assert raw_memento_url(before.url) == f"{tg.base}20200101000000id_/{STORY}"


def test_raw_memento_is_the_archived_bytes(tg: MementoArchive) -> None:
    for when, body, stamp in [
        (utc(2019, 1, 1), OLD_BODY, "20200101000000"),
        (utc(2023, 1, 1), NEW_BODY, "20220601123000"),
    ]:
        answer = ask(tg, STORY, when)
        assert answer.raw_url == f"{tg.base}{stamp}id_/{STORY}"
        status, headers, replayed = fetch(answer.raw_url, Accept_Encoding="identity")
        assert status == 200 and replayed == body
        memento = MementoAnswer.from_response(status, headers, url=answer.raw_url)
        assert memento.is_memento and memento.memento_datetime == answer.memento_datetime
        assert memento.original == STORY
        assert dict(headers)["Content-Type"] == "text/html; charset=utf-8"


def test_without_accept_datetime_the_latest_memento(tg: MementoArchive) -> None:
    assert ask(tg, STORY, None).memento_datetime == utc(2022, 6, 1, 12, 30)


def test_url_never_archived_is_a_404_without_memento_headers(tg: MementoArchive) -> None:
    gate = timegate_url(tg.timegate, "http://news.example/never.html")
    status, headers, body = fetch(gate, Accept_Datetime=accept_datetime(utc(2022, 1, 1)))
    assert status == 404 and b"URL Not Found" in body
    names = {name.lower() for name, _ in headers}
    assert not names & {"link", "location", "memento-datetime", "vary"}
    assert not MementoAnswer.from_response(status, headers, url=gate).found


def test_invalid_accept_datetime_is_a_400(tg: MementoArchive) -> None:
    status, _, _ = fetch(timegate_url(tg.timegate, STORY), Accept_Datetime="next tuesday")
    assert status == 400


def test_archived_error_page_is_replayed_with_its_status(tg: MementoArchive) -> None:
    # The TimeGate happily points at an archived 404: it is a memento like any other.
    answer = ask(tg, GONE, utc(2022, 1, 1))
    assert answer.found and answer.memento_datetime == utc(2021, 1, 1)
    assert answer.raw_url is not None
    status, headers, body = fetch(answer.raw_url)
    assert status == 404 and body == b"<html><h1>Not found</h1></html>"
    assert MementoAnswer.from_response(status, headers).is_memento
    # The non-raw URL hides it: the frame page around the 404 answers 200. Hence: fetch raw,
    # and check the memento's status.
    status, _, body = fetch(answer.memento_url or "")
    assert status == 200 and b"Not found" not in body


def test_archived_redirect_points_at_the_live_web(tg: MementoArchive) -> None:
    answer = ask(tg, MOVED, utc(2022, 1, 1))
    assert answer.raw_url is not None
    status, headers, _ = fetch(answer.raw_url)
    # Raw replay keeps the recorded Location: following it would leave the archive.
    assert status == 301 and dict(headers)["Location"] == STORY
    memento = MementoAnswer.from_response(status, headers, url=answer.raw_url)
    assert memento.is_memento and memento.memento_url == f"{tg.base}20210101000000mp_/{MOVED}"


def test_query_strings_with_commas_survive_the_round_trip(tg: MementoArchive) -> None:
    answer = ask(tg, QUERY, utc(2022, 1, 1))
    assert answer.original == QUERY
    assert answer.raw_url == f"{tg.base}20210101000000id_/{QUERY}"
    assert fetch(answer.raw_url)[2] == b"query page"


def test_framed_timegate_names_the_memento_only_in_its_link(tmp_path: Path) -> None:
    with MementoArchive(tmp_path, CAPTURES[:2], style="framed") as framed:
        gate = timegate_url(framed.timegate, STORY)
        status, headers, body = fetch(gate, Accept_Datetime=accept_datetime(utc(2019, 1, 1)))
        names = {name.lower() for name, _ in headers}
        assert status == 200 and b"wb_frame.js" in body  # pywb's frame page, not the memento
        assert "location" not in names and "content-location" not in names
        assert "memento-datetime" not in names
        answer = MementoAnswer.from_response(status, headers, url=gate)
        assert answer.memento_url == f"{framed.base}20200101000000mp_/{STORY}"
        assert answer.memento_datetime == utc(2020, 1, 1)
        assert answer.raw_url is not None
        assert fetch(answer.raw_url)[2] == OLD_BODY


def test_direct_timegate_answers_with_the_rewritten_memento(tmp_path: Path) -> None:
    with MementoArchive(tmp_path, CAPTURES[:2], style="direct") as direct:
        gate = timegate_url(direct.timegate, STORY)
        status, headers, body = fetch(gate, Accept_Datetime=accept_datetime(utc(2023, 1, 1)))
        # The memento itself, rewritten: pywb's insert in the head, the article after it.
        assert status == 200 and b"WB Insert" in body and b"Updated 2022" in body
        answer = MementoAnswer.from_response(status, headers, url=gate)
        assert answer.is_memento  # Memento-Datetime on a TimeGate: RFC 7089's 200-style
        assert answer.memento_url == f"{direct.base}20220601123000/{STORY}"
        assert answer.memento_datetime == utc(2022, 6, 1, 12, 30)
        assert answer.raw_url is not None
        assert fetch(answer.raw_url)[2] == NEW_BODY
