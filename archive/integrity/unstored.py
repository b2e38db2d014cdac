"""Records written but never stored: pages a process archived and did not live to record.

A crawl writes a page's response record as soon as it arrives, and its DB row only after
extraction, judgement and its ``metadata`` record: a process killed in between leaves records
that no row points at. They are made into captures of the run that wrote them, so that the page
counts as archived, is not fetched again, and every record a revisit may refer to has its row:

- a page whose ``metadata`` record was written (the store writes it just before the row) gets
  the verdict, reason, confidence, evidence and extraction that record holds: exactly the row
  the dead process was about to commit (less the article's links, which the record does not
  hold);
- a page of a run that did not finish, with no metadata record, is judged by its HTTP status
  (as ``--extract later`` does) and then extracted and judged again from its record by
  ``archive.captures.extraction_pass``, as ``morgue extract`` would: the same rules as in a crawl,
  soft 404s included;
- a response record that a revisit refers to but no row points at (left by morgue versions that
  fetched such pages again as revisits) is indexed the same way.

A page stored again since its unstored record was written is *superseded*: its request outlived
the process (a distributed worker's lease ran out and another worker fetched the page; a crawl's
claim expired and a crawl running beside it took the page), and the capture that was stored is
the one that counts. Indexing the orphan too would archive the page twice in one crawl, so it is
set aside (``UnstoredFinder.superseded``, logged), not given a row: its records stay in the WARC
file, and replay from a CDXJ index still finds them. A copy recovered from a web archive and a
revisit original are never superseded.

Which responses of a run that did not finish are pages: the final response of a redirect chain
(retried attempts apart) whose first URL the run was asked for, a feed or sitemap listed (a
``discoveries`` row) or a site crawl started from (a ``morgue worker``'s run too: what it read
from a feed is a discovery, the feed itself is no page); for ``morgue archive`` runs, which list no
sources, every such response but robots.txt, probes, web-archive mementos and page requisites
(images, stylesheets: their records say ``WARC-Requisite-Of``). Feeds, sitemaps,
robots.txt, probes and retried attempts stay records without rows, as in a run that finished.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import select

from archive.captures.record import CaptureRecord, RedirectHop
from archive.captures.table import save_captures
from archive.db.engine import Database
from archive.db.models import Capture, Discovery, Probe, Requisite, Run
from archive.exceptions import ArchiveError, InvalidURL
from archive.extraction.article import Extraction
from archive.integrity.stored_since import last_stored
from archive.liveness.verdicts import verdict_for_status
from archive.sources.sitemaps import parse_date
from archive.urls import normalise_url
from archive.warc.records import OPEN_SUFFIX, REQUISITE_OF, RecordLocation, read_record
from archive.warc.scan import ScannedRecord, scan

__all__ = [
    "Unstored",
    "UnstoredFinder",
    "index_unstored",
    "run_of_warcinfo",
]

logger = logging.getLogger(__name__)

_RUN_TAG = re.compile(r"^isPartOf:\s*morgue-run-(\d+)\s*$", re.MULTILINE)
_PROBE_PATH = re.compile(r"/morgue-[a-z]{16}(\.[A-Za-z0-9]{1,5})?$")
_BATCH = 500


@dataclass(slots=True)
class Unstored:
    """One capture whose records were written and whose row never was."""

    url: str
    file: str
    response: ScannedRecord
    run_id: int | None
    why: str  # "metadata", "page", "revisit original"
    metadata: dict[str, Any] | None = None
    metadata_at: RecordLocation | None = None
    hops: list[tuple[str, ScannedRecord]] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.response.offset}"


def run_of_warcinfo(record: ScannedRecord) -> int | None:
    """The run a file belongs to, from its ``warcinfo`` record (``isPartOf: morgue-run-N``)."""
    found = _RUN_TAG.search((record.payload or b"").decode("utf-8", errors="replace"))
    return int(found.group(1)) if found else None


def _is_warcinfo(headers: dict[str, str]) -> bool:
    return headers.get("warc-type") == "warcinfo"


_KEPT_HEADERS = ("warc-type", "warc-record-id", "warc-target-uri", "warc-date",
                 "warc-payload-digest", "warc-refers-to")  # fmt: skip


def _slim(rec: ScannedRecord) -> ScannedRecord:
    """What indexing needs of a response record, for a whole file's worth in memory."""
    return ScannedRecord(
        rec.offset,
        rec.length,
        {k: v for k, v in rec.headers.items() if k in _KEPT_HEADERS},
        rec.http_status,
        [(k, v) for k, v in rec.http_headers if k.lower() in ("content-type", "location")],
    )


def _location(name: str, rec: ScannedRecord) -> RecordLocation:
    return RecordLocation(
        name, rec.offset, rec.length, rec.record_id or "", rec.headers.get("warc-payload-digest")
    )


def _key(url: str) -> str | None:
    try:
        return normalise_url(url)
    except InvalidURL:
        return None


class UnstoredFinder:
    """Finds the unstored captures in WARC files given one at a time, in name order.

    ``pages_of`` names the runs whose unstored pages without a metadata record are wanted (runs
    that did not finish); ``originals`` the record ids of revisit originals to index wherever
    they are. A metadata record naming a response without a row is always followed. Memory
    holds the response records of the current file and the one before (a metadata record can
    follow its response across a rotation), never the archive's.
    """

    def __init__(
        self, db: Database, *, pages_of: Iterable[int] = (), originals: Iterable[str] = ()
    ) -> None:
        self.db = db
        self.pages_of = set(pages_of)
        self.originals = set(originals)
        self.found: list[Unstored] = []
        self.superseded: list[Unstored] = []  # stored again since they were written
        self._previous: dict[str, tuple[str, ScannedRecord]] = {}
        self._runs: dict[int, Run | None] = {}

    def scan_file(self, path: Path, *, skip_runs: Iterable[int] = ()) -> None:
        """Scan one closed WARC file (``skip_runs``: runs still writing, left alone)."""
        self.add_file(path, scan(path, digests=False, keep=_is_warcinfo), skip_runs=skip_runs)

    def add_file(
        self,
        path: Path,
        items: Iterable[ScannedRecord | object],
        *,
        skip_runs: Iterable[int] = (),
    ) -> None:
        """Take the scanned records of one file (damage is skipped over: what it hides is
        gone). Only the headers it needs of each response are kept."""
        name = path.name.removesuffix(OPEN_SUFFIX)
        responses: dict[str, tuple[str, ScannedRecord]] = {}
        ordered: list[ScannedRecord] = []
        metadata: list[tuple[RecordLocation, str]] = []
        run_id: int | None = None
        for item in items:
            if not isinstance(item, ScannedRecord):
                continue
            kind = item.rec_type
            if kind == "warcinfo" and run_id is None:
                run_id = run_of_warcinfo(item)
            elif kind in ("response", "revisit") and item.record_id:
                slim = _slim(item)
                responses[item.record_id] = (name, slim)
                if REQUISITE_OF.lower() not in item.headers:  # an image, a stylesheet: no page
                    ordered.append(slim)
            elif kind == "metadata":
                refers = item.headers.get("warc-refers-to") or item.headers.get(
                    "warc-concurrent-to"
                )
                if refers:
                    metadata.append((_location(name, item), refers))
        if run_id is not None and run_id in set(skip_runs):
            self._previous = {}
            return
        known = {**self._previous, **responses}
        before = len(self.found)
        stored = self._stored_ids(list(responses))
        self._from_metadata(path.parent, metadata, known, stored, run_id)
        taken = {u.response.record_id for u in self.found if u.response.record_id}
        if run_id is not None and run_id in self.pages_of:
            self._pages(name, ordered, stored | taken, run_id)
        for rid in list(self.originals):
            if rid in responses and rid not in stored and rid not in taken:
                self.originals.discard(rid)
                rec = responses[rid][1]
                self.found.append(
                    Unstored(rec.target_uri or "", name, rec, run_id, "revisit original")
                )
        self._set_aside_superseded(before)
        self._previous = responses

    def _set_aside_superseded(self, start: int) -> None:
        """Move the pages found from ``start`` on that were stored again since they were
        written (see the module docstring) from ``found`` to ``superseded``."""
        candidates = [
            item
            for item in self.found[start:]
            if item.why in ("metadata", "page") and not (item.metadata or {}).get("recovered_from")
        ]
        if not candidates:
            return
        latest = last_stored(self.db, [item.url for item in candidates])
        for item in candidates:
            written = _utc(parse_date(item.response.headers.get("warc-date")))
            stored = [latest[form] for form in (item.url, _key(item.url)) if form in latest]
            if written is not None and stored and max(stored) >= written:
                self.found.remove(item)
                self.superseded.append(item)
                logger.warning(
                    "Not indexing %s written at %s: the page was stored again since",
                    item.url,
                    item.location,
                )

    # -- rules -------------------------------------------------------------------------------

    def _stored_ids(self, ids: list[str]) -> set[str]:
        """Which of these record ids a capture, a redirect hop, a probe or a requisite points
        at."""
        found: set[str] = set()
        with self.db.session(readonly=True) as session:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                found.update(
                    session.scalars(
                        select(Capture.warc_record_id).where(Capture.warc_record_id.in_(chunk))
                    )
                )
                found.update(
                    session.scalars(
                        select(Probe.warc_record_id).where(Probe.warc_record_id.in_(chunk))
                    )
                )
                found.update(
                    session.scalars(
                        select(Requisite.warc_record_id).where(Requisite.warc_record_id.in_(chunk))
                    )
                )
        return {rid for rid in found if rid}

    def _from_metadata(
        self,
        warc_dir: Path,
        metadata: list[tuple[RecordLocation, str]],
        known: dict[str, tuple[str, ScannedRecord]],
        stored: set[str],
        run_id: int | None,
    ) -> None:
        refs = [rid for _, rid in metadata if rid not in stored and rid in known]
        missing = set(refs) - self._stored_ids(refs)
        for loc, rid in metadata:
            if rid not in missing:
                continue
            try:
                data = _json(read_record(warc_dir, loc).payload)
            except ArchiveError as exc:
                logger.warning("Cannot read the metadata record at %s:%d: %s",
                               loc.file, loc.offset, exc)  # fmt: skip
                continue
            # A later extraction's record refers to a capture that had its row.
            if data is None or data.get("pass") == "extract":
                continue
            missing.discard(rid)
            name, rec = known[rid]
            url = str(data.get("url") or rec.target_uri or "")
            self.found.append(Unstored(url, name, rec, run_id, "metadata", data, loc))

    def _pages(
        self, name: str, ordered: list[ScannedRecord], referenced: set[str], run_id: int
    ) -> None:
        """The pages a run that did not finish wrote into this file and never stored."""
        by_url: dict[str, list[ScannedRecord]] = {}
        for rec in ordered:
            by_url.setdefault(rec.target_uri or "", []).append(rec)
        hop_of: dict[int, ScannedRecord] = {}  # offset of a response -> the hop leading to it
        for rec in ordered:
            location = rec.http_header("location")
            if rec.http_status and 300 <= rec.http_status < 400 and location:
                target = urljoin(rec.target_uri or "", location)
                nxt = next((r for r in by_url.get(target, []) if r.offset > rec.offset), None)
                if nxt is not None:
                    hop_of.setdefault(nxt.offset, rec)
        finals: dict[str, tuple[ScannedRecord, list[ScannedRecord]]] = {}
        for rec in ordered:
            is_hop = rec.http_status is not None and 300 <= rec.http_status < 400
            if is_hop and rec.http_header("location"):
                continue
            chain = [rec]
            while chain[0].offset in hop_of and len(chain) < 30:
                chain.insert(0, hop_of[chain[0].offset])
            if any(r.record_id in referenced for r in chain):
                continue
            head = chain[0].target_uri or ""
            finals[head] = (rec, chain[:-1])  # a later attempt replaces a retried one
        if not finals:
            return
        wanted = self._page_urls(list(finals), run_id)
        for head, (rec, hops) in finals.items():
            if head in wanted:
                self.found.append(
                    Unstored(head, name, rec, run_id, "page", hops=[(name, h) for h in hops])
                )

    def _page_urls(self, urls: list[str], run_id: int) -> set[str]:
        """Those of ``urls`` that the run fetched as pages (see the module docstring)."""
        run = self._run(run_id)
        kept = [
            u
            for u in urls
            if not u.endswith("/robots.txt") and not _PROBE_PATH.search(u.split("?", 1)[0])
        ]
        if run is None or run.kind not in ("crawl", "worker"):
            return set(kept)
        keys = {u: _key(u) for u in kept}
        listed: set[str] = {k for k in (_key(s) for s in (run.args or {}).get("sites") or []) if k}
        forms = sorted({*kept, *(k for k in keys.values() if k)})
        with self.db.session(readonly=True) as session:
            for start in range(0, len(forms), _BATCH):
                chunk = forms[start : start + _BATCH]
                for url in session.scalars(select(Discovery.url).where(Discovery.url.in_(chunk))):
                    listed.add(url)
                    key = _key(url)
                    if key:
                        listed.add(key)
        return {u for u in kept if u in listed or keys[u] in listed}

    def _run(self, run_id: int) -> Run | None:
        if run_id not in self._runs:
            with self.db.session(readonly=True) as session:
                run = session.get(Run, run_id)
                if run is not None:
                    session.expunge(run)
                self._runs[run_id] = run
        return self._runs[run_id]


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# -- indexing -----------------------------------------------------------------------------------


def _when(value: object, fallback: ScannedRecord) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parse_date(fallback.headers.get("warc-date")) or datetime.now(UTC)


def _extraction(data: object) -> Extraction | None:
    if not isinstance(data, dict):
        return None
    names = Extraction.__dataclass_fields__
    values = {k: v for k, v in data.items() if k in names}
    values["authors"] = tuple(values.get("authors") or ())
    values["field_sources"] = dict(values.get("field_sources") or {})
    try:
        return Extraction(**values)
    except TypeError:
        return None


def _hops_from_metadata(data: object) -> list[RedirectHop]:
    hops = []
    for hop in data if isinstance(data, list) else []:
        if not isinstance(hop, dict) or not hop.get("url"):
            continue
        record = None
        if hop.get("warc_file") and hop.get("warc_offset") is not None:
            record = RecordLocation(
                str(hop["warc_file"]), int(hop["warc_offset"]), int(hop.get("warc_length") or 0),
                str(hop.get("warc_record_id") or ""), None,
            )  # fmt: skip
        hops.append(RedirectHop(str(hop["url"]), int(hop.get("status") or 0),
                                hop.get("location"), record))  # fmt: skip
    return hops


def capture_record(item: Unstored) -> CaptureRecord:
    """The row to store for an unstored capture (see the module docstring)."""
    rec = item.response
    response = _location(item.file, rec)
    content_type = rec.http_header("content-type")
    data = item.metadata
    if data is not None:
        evidence = data.get("evidence")
        confidence = data.get("confidence")
        return CaptureRecord(
            url=item.url,
            fetched_at=_when(data.get("fetched_at"), rec),
            verdict=str(data.get("verdict") or "unreachable"),
            reason=str(data.get("reason") or "error"),
            final_url=data.get("final_url") or rec.target_uri,
            http_status=data.get("http_status", rec.http_status),
            content_type=content_type,
            redirects=_hops_from_metadata(data.get("redirects")),
            response=response,
            metadata=item.metadata_at,
            extraction=_extraction(data.get("extraction")),
            extract_error=data.get("extract_error"),
            error=data.get("error"),
            recovered_from=data.get("recovered_from"),
            run_id=item.run_id,
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            evidence=[str(e) for e in evidence] if isinstance(evidence, list) else [],
        )
    status = rec.http_status or 0
    verdict = verdict_for_status(status)
    hops = [
        RedirectHop(
            h.target_uri or "",
            h.http_status or 0,
            urljoin(h.target_uri or "", h.http_header("location") or ""),
            _location(name, h),
        )
        for name, h in item.hops
    ]
    return CaptureRecord(
        url=item.url,
        fetched_at=parse_date(rec.headers.get("warc-date")) or datetime.now(UTC),
        verdict=verdict.verdict,
        reason=verdict.reason,
        final_url=rec.target_uri,
        http_status=rec.http_status,
        content_type=content_type,
        redirects=hops,
        response=response,
        run_id=item.run_id,
    )


def index_unstored(db: Database, found: Iterable[Unstored]) -> list[int]:
    """Store a row for each unstored capture; returns the ids of those to extract (no metadata
    record, and a 2xx answer)."""
    items = list(found)
    if not items:
        return []
    run_ids = {i.run_id for i in items if i.run_id is not None}
    with db.session(readonly=True) as session:
        existing = set(session.scalars(select(Run.id).where(Run.id.in_(run_ids))))
    records = []
    for item in items:
        record = capture_record(item)
        if record.run_id not in existing:
            record.run_id = None
        records.append(record)
    ids = save_captures(db, records)
    for item in items:
        logger.warning(
            "Indexed %s (%s), written at %s but never stored", item.url, item.why, item.location
        )
    return [
        capture_id
        for capture_id, item, record in zip(ids, items, records, strict=True)
        if item.metadata is None and 200 <= (record.http_status or 0) < 300
    ]
