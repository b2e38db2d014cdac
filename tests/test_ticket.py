"""The page ticket: one typed object carries a page through the crawl, as plain data."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.request import request_from_dict

from archive.captures.record import RedirectHop
from archive.sources.registry import PriorCapture
from archive.warc.records import RecordLocation
from crawler.spiders.archive_urls import page_from_response
from crawler.spiders.sources import SourcesSpider
from crawler.ticket import TICKET, Answer, PageTicket, SourceRef

LOC = RecordLocation("morgue-1.warc.gz", 1234, 567, "<urn:uuid:1>", "sha1:ABC")
PRIOR = PriorCapture(
    url="https://news.example/a",
    fetched_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
    http_status=200,
    warc_file="morgue-0.warc.gz",
    warc_offset=10,
    warc_record_id="<urn:uuid:0>",
    payload_digest="sha1:XYZ",
    etag='"v1"',
)
FULL = PageTicket(
    url="https://news.example/a",
    depth=2,
    site="https://news.example/",
    source=SourceRef("sitemap", "https://news.example/s.xml", "https://news.example/robots.txt"),
    probe=True,
    memento_of="https://news.example/old",
    prior=PRIOR,
    record=LOC,
    answer=Answer("https://news.example/b", 200, "text/html"),
    hops=(RedirectHop("https://news.example/a", 301, "https://news.example/b", LOC),),
    revisit=True,
    fetched_at=datetime(2024, 6, 2, 8, 30, 1, 250, tzinfo=UTC),
)


def test_a_ticket_is_plain_json_both_ways() -> None:
    data = FULL.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert PageTicket.from_dict(json.loads(json.dumps(data))) == FULL
    assert PageTicket.from_dict(PageTicket().to_dict()) == PageTicket()


def test_a_request_with_its_ticket_survives_to_dict_and_json() -> None:
    """The distributed workers serialise requests with ``Request.to_dict()`` and JSON."""
    spider = SourcesSpider()
    request = Request(
        "https://news.example/a",
        callback=spider.parse_page,
        errback=spider.page_failed,
        dont_filter=True,
        meta=FULL.meta(),
    )
    data = request.to_dict(spider=spider)
    json.dumps(data["meta"])  # the ticket needs no help to be JSON...
    # ...while Scrapy's own bytes (the body; header names and values) need the workers' encoder.
    sent = json.dumps(data, default=lambda value: value.decode("latin-1"))
    back = request_from_dict(json.loads(sent), spider=spider)
    assert PageTicket.of(back) == FULL
    assert back.callback == spider.parse_page and back.errback == spider.page_failed
    assert PageTicket.of(pickle.loads(pickle.dumps(request))) == FULL  # Scrapy's disk queues


def test_a_copied_request_keeps_its_own_ticket() -> None:
    """Redirects and retries copy meta shallowly: a stamp on one request leaves the other's."""
    first = Request("https://news.example/a", meta=PageTicket(url="https://news.example/a").meta())
    follow = first.replace(url="https://news.example/b")
    hop = RedirectHop("https://news.example/a", 301, "https://news.example/b", LOC)
    PageTicket.of(follow).replace(hops=(hop,)).stamp(follow)
    assert PageTicket.of(first).hops == ()
    assert PageTicket.of(follow).hops == (hop,)
    assert PageTicket.of(follow).url == "https://news.example/a"


def test_the_page_item_reads_the_ticket() -> None:
    request = Request("https://news.example/b", meta=FULL.meta())
    response = HtmlResponse("https://news.example/b", body=b"<html></html>", request=request)
    item = page_from_response(response)
    assert item.url == "https://news.example/a"  # as requested, before the redirect
    assert item.response == LOC and item.redirects == list(FULL.hops)
    assert item.fetched_at == FULL.fetched_at  # when its response was archived
    # A request with no ticket (or a response without a request) reads as a blank ticket.
    assert PageTicket.of(Request("https://news.example/c")) == PageTicket()
    assert PageTicket.of(HtmlResponse("https://news.example/c", body=b"")) == PageTicket()
    assert TICKET in request.meta and len(request.meta) == 1
