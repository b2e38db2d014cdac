"""Page requisites as pure functions: which URLs a page and its CSS need, and the payload index
that turns a payload archived before into a revisit."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from archive.captures.payload_index import ArchivedPayload, PayloadIndex
from archive.captures.record import CaptureRecord, RequisiteRecord
from archive.captures.requisite_urls import RequisiteUrl, css_requisites, page_requisites
from archive.captures.table import finish_run, save_capture, start_run
from archive.db.engine import open_database
from archive.db.models import Capture
from archive.integrity.resume import recover_interrupted
from archive.warc.records import REQUISITE_OF, RecordLocation, WarcWriter
from tests.mockserver.assets import PHOTO_STORIES, SITE_CSS, STORY_REQUISITES, png

BASE = "http://news.example/"
PAGE = BASE + "photo/harbour-lights.html"


def test_a_photo_story_needs_its_images_stylesheet_font_icon_and_script() -> None:
    found = page_requisites(PHOTO_STORIES["harbour-lights"].encode(), PAGE)
    # What the markup names, in document order; the stylesheet's own url()s come later.
    assert [r.url.removeprefix(BASE[:-1]) for r in found] == STORY_REQUISITES["harbour-lights"][:10]
    kinds = {r.url.rsplit("/", 1)[-1]: r.kind for r in found}
    assert kinds["site.css"] == "stylesheet"
    assert kinds["courier-serif.woff2"] == "font"  # <link rel=preload as=font>
    assert kinds["app.js"] == "script"
    assert kinds["harbour-480.png"] == "image"  # from srcset
    assert kinds["harbour-wide.png"] == "image"  # <picture><source srcset>
    assert kinds["harbour-texture.png"] == "image"  # an inline style's url()


def test_links_canonical_and_data_urls_are_not_requisites() -> None:
    html = b"""<html><head><link rel="canonical" href="/a"><link rel="alternate" href="/feed">
    </head><body><a href="/other.html">x</a><img src="data:image/png;base64,AAAA">
    <img src="javascript:void(0)"><img src="ftp://files.example/x.png"><img src="  ">
    <img src="/real.png#frag"><img src="/real.png"></body></html>"""
    assert page_requisites(html, PAGE) == [RequisiteUrl(BASE + "real.png", "image")]


def test_base_href_and_relative_urls_resolve_as_browsers_do() -> None:
    html = b"""<html><head><base href="https://cdn.example/static/"></head>
    <body><img src="pic.png"><script src="//js.example/app.js"></script>
    <video poster="poster.jpg" src="clip.mp4"></video><style>p{background:url(bg.gif)}</style>
    </body></html>"""
    assert page_requisites(html, PAGE) == [
        RequisiteUrl("https://cdn.example/static/pic.png", "image"),
        RequisiteUrl("https://js.example/app.js", "script"),
        RequisiteUrl("https://cdn.example/static/poster.jpg", "image"),
        RequisiteUrl("https://cdn.example/static/clip.mp4", "media"),
        RequisiteUrl("https://cdn.example/static/bg.gif", "image"),
    ]


def test_what_is_not_markup_needs_nothing() -> None:
    assert page_requisites(b"", PAGE) == []
    assert page_requisites(b"   \n", PAGE) == []
    assert page_requisites(b"\x00\x01\x02 binary", PAGE) == []


def test_a_stylesheet_needs_its_imports_fonts_and_images() -> None:
    css_url = BASE + "assets/site.css"
    assert css_requisites(SITE_CSS, css_url) == [
        RequisiteUrl(BASE + "assets/print.css", "stylesheet"),
        RequisiteUrl(BASE + "assets/fonts/courier-serif.woff2", "font"),
        RequisiteUrl(BASE + "assets/fonts/courier-serif.woff", "font"),
        RequisiteUrl(BASE + "assets/img/masthead.png", "image"),
    ]
    css = "@import 'a.css'; x{background:url( data:image/png;base64,AA )} y{src:url(b.svg)}"
    assert css_requisites(css, css_url) == [
        RequisiteUrl(BASE + "assets/a.css", "stylesheet"),
        RequisiteUrl(BASE + "assets/b.svg", "image"),
    ]


# -- the payload index -----------------------------------------------------------------------


def test_the_first_to_claim_a_payload_writes_it_and_the_others_wait_for_it() -> None:
    index = PayloadIndex()
    assert index.claim("sha1:AAA") is None  # ours to write
    got: list[ArchivedPayload | None] = []
    waiter = threading.Thread(target=lambda: got.append(index.claim("sha1:AAA")))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not got  # waiting for the write
    written = ArchivedPayload("http://x/logo.png", "2026-12-04T06:00:00.000000Z", "<urn:uuid:1>")
    index.settle("sha1:AAA", written)
    waiter.join(5)
    assert got == [written]
    assert index.claim("sha1:AAA") == written


def test_a_failed_write_passes_the_payload_to_the_next_claimant() -> None:
    index = PayloadIndex()
    assert index.claim("sha1:BBB") is None
    got: list[ArchivedPayload | None] = []
    waiter = threading.Thread(target=lambda: got.append(index.claim("sha1:BBB")))
    waiter.start()
    index.settle("sha1:BBB", None)  # the writer failed
    waiter.join(5)
    assert got == [None]  # the waiter now writes it


def test_payloads_of_earlier_runs_are_found_in_the_database(db_url: str) -> None:
    db = open_database(db_url)
    try:
        when = datetime(2026, 12, 1, tzinfo=UTC)
        loc = RecordLocation("a.warc.gz", 100, 50, "<urn:uuid:orig>", "sha1:LOGO")
        requisites = [
            RequisiteRecord(
                "http://x/logo.png", "image", when, 200, "image/png", 852, "sha1:LOGO", loc,
                "2026-12-01T00:00:00.000000Z",
            ),
            RequisiteRecord("http://x/gone.png", "image", when, error="IgnoreRequest: robots"),
        ]  # fmt: skip
        record = CaptureRecord(
            url="http://x/story.html", fetched_at=when, verdict="ok", reason="http_200",
            http_status=200, requisites=requisites,
        )  # fmt: skip
        save_capture(db, record)
        index = PayloadIndex(db)
        assert index.claim("sha1:LOGO") == ArchivedPayload(
            "http://x/logo.png", "2026-12-01T00:00:00.000000Z", "<urn:uuid:orig>"
        )
        assert index.claim("sha1:NEW") is None
    finally:
        db.close()


def test_resumption_indexes_the_page_of_a_killed_run_not_its_requisites(
    tmp_path: Path, db_url: str
) -> None:
    """A run killed before storing: its page becomes a capture, its image and the revisit of its
    stylesheet (records marked WARC-Requisite-Of) stay records without rows, as after a run
    that finished (the next archive of the page fetches them again)."""
    base = "http://127.0.0.1:9"
    page_url = f"{base}/photo/story.html"
    warc_dir = tmp_path / "warcs"
    with open_database(db_url) as db:
        run_id = start_run(db, "archive", {"urls": 1, "pid": 2**22 + 4321,
                                           "host": socket.gethostname()})  # fmt: skip
        writer = WarcWriter(warc_dir, prefix="t", info={"isPartOf": f"morgue-run-{run_id}"})
        html = PHOTO_STORIES["harbour-lights"].encode()
        page, _ = writer.write_exchange(
            page_url, method="GET", request_headers=[], request_body=b"", status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")], body=html,
        )  # fmt: skip
        mark = {REQUISITE_OF: page_url}
        image, _ = writer.write_exchange(
            f"{base}/assets/img/logo.png", method="GET", request_headers=[], request_body=b"",
            status=200, response_headers=[("Content-Type", "image/png")],
            body=png("img/logo.png"), warc_headers=mark,
        )  # fmt: skip
        writer.write_revisit(
            f"{base}/assets/site.css", method="GET", request_headers=[], request_body=b"",
            status=200, response_headers=[("Content-Type", "text/css")],
            refers_to_uri=f"{base}/assets/site.css", refers_to_date=writer.warc_date(),
            refers_to_id=None, digest="sha1:" + "A" * 32, warc_headers=mark,
        )  # fmt: skip
        name = writer.current_file
        assert name is not None and writer._file is not None
        writer._file.close()  # killed
        finish_run(db, run_id, "interrupted", {})  # as the CLI records a crawl that died
        recover_interrupted(db, warc_dir)
        with db.session(readonly=True) as session:
            rows = list(session.scalars(select(Capture)))
        assert [(c.url, c.warc_record_id) for c in rows] == [(page_url, page.record_id)]
        assert image.record_id != page.record_id


def test_a_crawl_fetches_requisites_only_when_asked() -> None:
    from archive.cli.crawl_request import crawl_request

    feed = {"feed": ["http://news.example/feed.xml"]}
    assert "REQUISITES_ENABLED" not in crawl_request(feed)[1]  # off: settings.py's default
    assert crawl_request({**feed, "requisites": True})[1]["REQUISITES_ENABLED"] is True
    given = crawl_request({**feed, "setting": ["REQUISITES_ENABLED=True"]})[1]
    assert given["REQUISITES_ENABLED"] == "True"  # -s as given
