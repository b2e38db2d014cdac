"""Judging a fetched page: the one path from what came back to the verdict and record stored.

The crawl (``pipelines.extract``, ``pipelines.classify``, ``pipelines.recover``) and ``morgue
extract`` (``archive.captures.extraction_pass``) both come here, so that a page archived once is
judged alike whether it is judged during its crawl or from its WARC record later. This module holds:

- ``is_html``: which bodies go to the HTML extractor;
- ``judge_page``: the verdict, reason, confidence and evidence of one fetch, from what the fetch
  gave (``Fetch``), the extraction, and the evidence about its host gathered by the caller (the
  host's probe, ``wants_probe``; whether its redirect target is shared,
  ``archive.liveness.redirects``); the text of a live page comes back with an appended stub cut from
  it;
- ``metadata_record``: the payload of the WARC ``metadata`` record written for a capture, one
  schema for every pass (docs/warc.md lists its fields).

The rules themselves live in ``archive.liveness.verdicts`` (statuses, failures) and
``archive.liveness.soft404`` (2xx pages); this module decides which of them apply, in which order.
It reads no database and fetches nothing: the callers gather the evidence, each in its own way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from archive.extraction.article import Extraction
from archive.extraction.page_facts import PageFacts
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.site_template import LACKS_SITE_ARTICLE, SiteSample, lacks_site_article
from archive.liveness.soft404 import (
    Baseline,
    is_front_page,
    judge,
    known_stub_paragraphs,
    strip_appended_stub,
)
from archive.liveness.verdicts import verdict_for_failure, verdict_for_status

__all__ = [
    "HELD_ARTICLE",
    "HTML_TYPES",
    "SHARED_REDIRECT",
    "STUB_STRIPPED",
    "Fetch",
    "PageJudgement",
    "StoredFetch",
    "is_html",
    "judge_page",
    "lost_its_article",
    "metadata_record",
    "wants_probe",
]

#: Content types that are HTML whatever the body looks like.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Types that may hold HTML (XHTML served as XML), and no type at all: the body decides.
_MAYBE_HTML = frozenset({"", "application/xml", "text/xml"})
_SNIFF_BYTES = 1024

#: Evidence names this module adds to those of ``archive.liveness.soft404``.
SHARED_REDIRECT = "shared_redirect_target"
# The evidence of ``article_lost``: an earlier capture of the page was a live article.
HELD_ARTICLE = "held_article_before"
STUB_STRIPPED = "stub_stripped"


def is_html(content_type: str | None, body: bytes) -> bool:
    """Whether a body is an HTML page, to hand to the extractor.

    ``text/html`` and XHTML are; XML types and a missing type are when the body starts as HTML
    does (an RSS feed or a sitemap is not a page); any other type (PDF, images, JSON, plain
    text) is not.
    """
    mime = content_type.split(";", 1)[0].strip().lower() if content_type else ""
    if mime in HTML_TYPES:
        return True
    if mime not in _MAYBE_HTML:
        return False
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<!doctype html") or b"<html" in head or b"<body" in head


class StoredFetch(Protocol):
    """The columns of a capture row that say what its fetch gave."""

    @property
    def url(self) -> str: ...
    @property
    def final_url(self) -> str | None: ...
    @property
    def http_status(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def redirects(self) -> list[dict[str, Any]] | None: ...
    @property
    def recovered_from(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Fetch:
    """What fetching one URL gave, as the crawl saw it and as a capture row keeps it."""

    url: str  # as requested
    final_url: str | None
    status: int | None
    #: The failure's reason code when no usable HTTP answer came back
    #: (``archive.liveness.verdicts``).
    failure: str | None = None
    redirected: bool = False
    #: The memento's URL, for a copy recovered from a web archive (judged without a probe).
    recovered_from: str | None = None

    @classmethod
    def stored(cls, capture: StoredFetch) -> Fetch:
        """The fetch a capture row records (an ORM ``Capture``, or a row of its columns)."""
        return cls(
            url=capture.url,
            final_url=capture.final_url,
            status=capture.http_status,
            # Only a failed fetch has an error line; its reason is the failure's code.
            failure=capture.reason if capture.error is not None else None,
            redirected=bool(capture.redirects),
            recovered_from=capture.recovered_from,
        )

    @property
    def served(self) -> bool:
        """A usable 2xx answer: the soft-404 rules judge it by its content."""
        return self.failure is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class PageJudgement:
    verdict: str
    reason: str
    confidence: float
    evidence: tuple[str, ...]
    #: The extraction to store: for a live page, its text without an appended stub.
    extraction: Extraction | None = None


def wants_probe(fetch: Fetch) -> bool:
    """Whether the host's probe is evidence about this page: a served page, not a memento, and
    neither it nor where it landed a home page or section front (those look like what a host
    serves for a random URL without being dead)."""
    return (
        fetch.served
        and fetch.recovered_from is None
        and not is_front_page(fetch.url)
        and not is_front_page(fetch.final_url or fetch.url)
    )


def judge_page(
    fetch: Fetch,
    extraction: Extraction | None,
    facts: PageFacts | None,
    *,
    baseline: Baseline | None = None,
    shared_target: bool = False,
    held_article: bool = False,
    site_samples: Sequence[SiteSample] = (),
    site_closings: Sequence[str] = (),
) -> PageJudgement:
    """The verdict of one fetch (design.md section 4, docs/liveness.md for the order).

    ``baseline``: the host's probe, used only where ``wants_probe``; ``shared_target``: the page
    it was redirected to is where many URLs of its host go (``archive.liveness.redirects``);
    ``held_article``: an earlier capture of the page was a live article
    (``archive.liveness.lost_article``); ``site_samples``: the templates of the site's live
    articles archived near the fetch (``archive.liveness.site_template``); ``site_closings``:
    the closing paragraphs of those articles, cut from the page's end like its host's error
    text (``archive.liveness.site_template.closing_paragraphs``).
    """
    if fetch.status is None or fetch.failure is not None:
        # No usable answer; a body that came but overflowed when decoded (a decompression
        # bomb) keeps its status on the row, but is no page to judge.
        failed = verdict_for_failure(fetch.failure or "error")
        return PageJudgement(failed.verdict, failed.reason, 1.0, (), extraction)
    status = verdict_for_status(fetch.status)
    if status.verdict != "ok" or not fetch.served:
        return PageJudgement(status.verdict, status.reason, 1.0, (), extraction)
    if not wants_probe(fetch):
        baseline = None
    judgement = judge(
        url=fetch.url,
        final_url=fetch.final_url,
        title=extraction.title if extraction else None,
        text=extraction.text if extraction else None,
        facts=facts,
        baseline=baseline,
    )
    evidence = judgement.evidence
    if judgement.verdict != "ok":
        return PageJudgement(
            judgement.verdict, judgement.reason, judgement.confidence, evidence, extraction
        )
    if shared_target:
        # Many URLs of one host redirected to this page: it is a catch-all, not their article.
        return PageJudgement(
            "soft_404", "redirect_to_section", 0.8, (*evidence, SHARED_REDIRECT), extraction
        )
    if held_article and fetch.recovered_from is None and lost_its_article(evidence):
        # It was an article when archived before; now thin, declaring none, and not a page
        # whose scripts write it: the article is gone, whatever the words around it say.
        return PageJudgement("soft_404", "article_lost", 0.8, (*evidence, HELD_ARTICLE), extraction)
    if (
        site_samples
        and facts is not None
        and fetch.recovered_from is None
        and lacks_site_article(
            url=fetch.final_url or fetch.url,
            text=extraction.text if extraction else None,
            facts=facts,
            evidence=evidence,
            samples=site_samples,
        )
    ):
        # The site's own article page with the article gone: the page a retired story leaves.
        return PageJudgement(
            "soft_404", "article_lost", 0.7, (*evidence, LACKS_SITE_ARTICLE), extraction
        )
    if extraction is not None:
        known = known_stub_paragraphs([baseline]) if baseline is not None else []
        known += site_closings
        text, cut = strip_appended_stub(extraction.text, known)
        if cut:
            extraction = dataclasses.replace(extraction, text=text)
            evidence = (*evidence, STUB_STRIPPED)
    reason = "memento" if fetch.recovered_from else status.reason
    return PageJudgement("ok", reason, judgement.confidence, evidence, extraction)


def lost_its_article(evidence: Sequence[str]) -> bool:
    """Whether a page judged ``ok`` shows no article now: thin text, no article markup, and no
    sign that scripts write it. Only such a page is worth looking its history up for."""
    return (
        "thin_text" in evidence
        and "no_article_markup" in evidence
        and NEEDS_BROWSER not in evidence
    )


def metadata_record(
    *,
    pass_name: str,
    url: str,
    final_url: str | None,
    fetched_at: datetime,
    http_status: int | None,
    verdict: str,
    reason: str,
    confidence: float | None,
    evidence: Sequence[str],
    extraction: Extraction | None,
    extract_error: str | None,
    error: str | None,
    redirects: Sequence[dict[str, Any]],
    recovered_from: str | None,
    memento_datetime: datetime | None,
    extracted_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON of the WARC ``metadata`` record of a capture: one schema for every pass.

    ``pass_name`` is ``crawl`` (the capture's first record) or ``extract`` (``morgue extract``
    and resumption, each writing a new record for a capture extracted again).
    """
    return {
        "software": "morgue",
        "pass": pass_name,
        "url": url,
        "final_url": final_url,
        "fetched_at": fetched_at.isoformat(),
        "extracted_at": (extracted_at or datetime.now(UTC)).isoformat(),
        "http_status": http_status,
        "verdict": verdict,
        "reason": reason,
        "confidence": confidence,
        "evidence": list(evidence),
        "error": error,
        "redirects": list(redirects),
        "recovered_from": recovered_from,
        "memento_datetime": memento_datetime.isoformat() if memento_datetime else None,
        "extraction": extraction.to_json() if extraction else None,
        "extract_error": extract_error,
    }
