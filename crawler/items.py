"""The item a spider hands to the pipelines: one fetched (or failed) URL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from archive.captures.record import RedirectHop, RequisiteRecord
from archive.extraction.article import Extraction
from archive.extraction.page_facts import AnchorFact, PageFacts
from archive.warc.records import RecordLocation

__all__ = ["FetchedPage"]


@dataclass(slots=True)
class FetchedPage:
    """A requested URL and what came back. ``body`` is decoded content, dropped once extracted."""

    url: str
    fetched_at: datetime
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    response: RecordLocation | None = None
    redirects: list[RedirectHop] = field(default_factory=list)
    failure: str | None = None  # reason code when no usable HTTP answer came back
    error: str | None = None  # one-line description of the failure
    extraction: Extraction | None = None
    facts: PageFacts | None = None
    links: list[AnchorFact] = field(default_factory=list)  # links cited in the article text
    chrome: str | None = None  # its text outside the story, read for a live article
    extract_error: str | None = None
    verdict: str | None = None
    reason: str | None = None
    confidence: float | None = None
    evidence: list[str] = field(default_factory=list)
    recovered_from: str | None = None  # set on the capture of a memento
    memento_datetime: datetime | None = None
    recovered: FetchedPage | None = None  # the memento recovered for this dead page
    #: The images, stylesheets, fonts and scripts fetched with the page (pipelines.requisites),
    #: and their fetch while it runs beside the page's extraction and judging.
    requisites: list[RequisiteRecord] = field(default_factory=list)
    requisites_pending: asyncio.Task[list[RequisiteRecord]] | None = None
    screenshot: RecordLocation | None = None  # a browser's screenshot (pipelines.browser)
