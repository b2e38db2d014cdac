"""What one fetch produced, as plain data: the hand-off between the crawler and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archive.extraction.article import Extraction
from archive.warc.records import RecordLocation

__all__ = ["CaptureRecord", "RedirectHop", "RequisiteRecord"]


@dataclass(frozen=True, slots=True)
class RedirectHop:
    """One redirect response on the way to the final URL, archived in its own WARC record."""

    url: str
    status: int
    location: str | None
    record: RecordLocation | None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "location": self.location,
            "warc_file": self.record.file if self.record else None,
            "warc_offset": self.record.offset if self.record else None,
            "warc_length": self.record.length if self.record else None,
            "warc_record_id": self.record.record_id if self.record else None,
        }


@dataclass(frozen=True, slots=True)
class RequisiteRecord:
    """One requisite fetched for a page (``archive.captures.requisite_urls``), as stored.

    ``record`` is its response (or revisit) record; None when nothing came back (``error``).
    """

    url: str
    kind: str
    fetched_at: datetime
    http_status: int | None = None
    content_type: str | None = None
    size: int | None = None
    payload_digest: str | None = None
    record: RecordLocation | None = None
    warc_date: str | None = None
    revisit: bool = False
    reused: bool = False
    error: str | None = None


@dataclass(slots=True)
class CaptureRecord:
    """One capture of one requested URL, ready to be stored.

    ``response`` points at the WARC response record of the final hop (None when no HTTP answer
    came back); ``metadata`` at the WARC metadata record holding verdict and extraction.
    """

    url: str
    fetched_at: datetime
    verdict: str
    reason: str
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    redirects: list[RedirectHop] = field(default_factory=list)
    response: RecordLocation | None = None
    metadata: RecordLocation | None = None
    extraction: Extraction | None = None
    extract_error: str | None = None
    error: str | None = None
    recovered_from: str | None = None
    run_id: int | None = None
    confidence: float | None = None
    evidence: list[str] = field(default_factory=list)
    links: list[tuple[str, str | None]] = field(default_factory=list)  # (url, anchor text)
    requisites: list[RequisiteRecord] = field(default_factory=list)
    screenshot: RecordLocation | None = None  # a resource record, for a page a browser rendered
    #: The page's template, kept as a sample of its site's (``archive.liveness.site_template``)
    #: when the capture is a live article.
    site_template: tuple[int, ...] = ()
    #: Its text outside the story, kept with the template (``SiteSample.chrome``).
    site_chrome: str | None = None
