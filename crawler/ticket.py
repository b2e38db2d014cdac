"""The ticket each request of a crawl carries: what the crawl knows of the page it fetches.

One typed object under one ``request.meta`` key (``TICKET``), as Scrapy's own components pass
one object per concern, instead of a string key per fact. The spiders issue it (the URL as
requested, the site crawl and depth, the feed or sitemap read, the earlier capture a re-fetch
compares with); the probes and the recovery mark theirs (a probe, a memento of a page); the WARC
capture stamps it as each response is archived (where the record is, the status, the redirect
hops so far, whether it was written as a revisit, and when: the capture's ``fetched_at``).

A ticket is frozen: a step that learns something stamps a new one onto its request (``stamp``),
so the requests Scrapy copies meta between (a redirect, a retry) never change each other's.
``request.meta`` holds the ticket's plain-JSON form (``to_dict``), read back by
``PageTicket.of``: a request stays plain data, which Scrapy's disk queues pickle and the
distributed workers serialise with ``Request.to_dict()`` and JSON.

Two keys stay apart, because each lives only within one download in one process and is never
queued nor serialised: ``crawler.wire.META_WIRE`` (the response head as received, from the
download handler to the capture extension, which pops it) and the capture's pending record
write (a ``Future``, from the ``response_downloaded`` signal to ``AwaitCapture``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response

from archive.captures.record import RedirectHop
from archive.sources.registry import PriorCapture
from archive.warc.records import RecordLocation

__all__ = ["TICKET", "Answer", "PageTicket", "SourceRef"]

TICKET = "morgue_ticket"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The feed, sitemap or robots.txt a request reads, and the source the user gave."""

    kind: str
    url: str
    root: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The latest response archived for a request: enough to describe a body too big to keep."""

    url: str
    status: int
    content_type: str | None


@dataclass(frozen=True, slots=True)
class PageTicket:
    #: The URL as requested, kept across redirects (None: the request's own URL).
    url: str | None = None
    #: Link distance from a site crawl's start page, and that start page (None: no site crawl).
    depth: int = 0
    site: str | None = None
    #: Set on a request for a feed, sitemap or robots.txt: not a page of the crawl.
    source: SourceRef | None = None
    #: Set on a soft-404 probe (crawler.host_probes): not a page of the crawl either.
    probe: bool = False
    #: Set on a page requisite's request (crawler.requisite_fetcher): the URL of the page that
    #: needs it. Not a page either; a payload already archived is written as a revisit record.
    requisite_of: str | None = None
    #: Set on a request for a memento: the original URL it is a copy of (pipelines.recover).
    memento_of: str | None = None
    #: Set on a re-fetch: the earlier capture of this URL. An identical payload (a 304, or the
    #: same bytes) is then written as a revisit record pointing at it, and ``revisit`` is set.
    prior: PriorCapture | None = None
    # -- stamped by the WARC capture (crawler.warc_capture) --
    record: RecordLocation | None = None  # the response record of the latest response
    answer: Answer | None = None
    hops: tuple[RedirectHop, ...] = ()  # redirects followed so far
    revisit: bool = False
    warc_date: str | None = None  # the response record's WARC-Date
    #: When the latest response was archived: the capture's ``fetched_at``, which orders the
    #: evidence of shared redirect targets alike in the crawl and later
    #: (archive.liveness.redirects).
    fetched_at: datetime | None = None

    @classmethod
    def of(cls, carrier: Request | Response) -> PageTicket:
        """The ticket a request (or the request of a response) carries; a blank one if none."""
        try:
            data = carrier.meta.get(TICKET)
        except AttributeError:  # a response made without a request (a test's, a cached one)
            data = None
        return cls.from_dict(data) if data else cls()

    def stamp(self, request: Request) -> PageTicket:
        """Put this ticket on ``request`` (in place of the one it carried); returns it."""
        request.meta[TICKET] = self.to_dict()
        return self

    def meta(self) -> dict[str, Any]:
        """The ``meta`` of a new request that carries this ticket."""
        return {TICKET: self.to_dict()}

    def replace(self, **changes: Any) -> PageTicket:
        return dataclasses.replace(self, **changes)

    # -- plain JSON ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "depth": self.depth,
            "site": self.site,
            "source": dataclasses.asdict(self.source) if self.source else None,
            "probe": self.probe,
            "requisite_of": self.requisite_of,
            "memento_of": self.memento_of,
            "prior": _prior_to_dict(self.prior) if self.prior else None,
            "record": dataclasses.asdict(self.record) if self.record else None,
            "answer": dataclasses.asdict(self.answer) if self.answer else None,
            "hops": [_hop_to_dict(hop) for hop in self.hops],
            "revisit": self.revisit,
            "warc_date": self.warc_date,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageTicket:
        source, prior = data.get("source"), data.get("prior")
        record, answer = data.get("record"), data.get("answer")
        return cls(
            url=data.get("url"),
            depth=int(data.get("depth") or 0),
            site=data.get("site"),
            source=SourceRef(**source) if source else None,
            probe=bool(data.get("probe")),
            requisite_of=data.get("requisite_of"),
            memento_of=data.get("memento_of"),
            prior=_prior_from_dict(prior) if prior else None,
            record=RecordLocation(**record) if record else None,
            answer=Answer(**answer) if answer else None,
            hops=tuple(_hop_from_dict(hop) for hop in data.get("hops") or ()),
            revisit=bool(data.get("revisit")),
            warc_date=data.get("warc_date"),
            fetched_at=datetime.fromisoformat(data["fetched_at"])
            if data.get("fetched_at")
            else None,
        )


def _hop_to_dict(hop: RedirectHop) -> dict[str, Any]:
    record = dataclasses.asdict(hop.record) if hop.record else None
    return {"url": hop.url, "status": hop.status, "location": hop.location, "record": record}


def _hop_from_dict(data: dict[str, Any]) -> RedirectHop:
    record = data.get("record")
    return RedirectHop(
        url=data["url"],
        status=int(data["status"]),
        location=data.get("location"),
        record=RecordLocation(**record) if record else None,
    )


def _prior_to_dict(prior: PriorCapture) -> dict[str, Any]:
    data = dataclasses.asdict(prior)
    data["fetched_at"] = prior.fetched_at.isoformat()
    return data


def _prior_from_dict(data: dict[str, Any]) -> PriorCapture:
    return PriorCapture(**{**data, "fetched_at": datetime.fromisoformat(data["fetched_at"])})
