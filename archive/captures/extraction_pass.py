"""Extraction after the crawl: read archived bodies back from the WARC files, extract, judge.

A crawl run with ``--extract later`` archives and classifies by status only; ``morgue extract``
then fills in the article, the metadata and the soft-404 verdicts here, on every core. The same
pass re-extracts an archive after trafilatura or morgue's rules improve (``--all``).

Workers read their record from the WARC file themselves, so only a (file, offset) pair crosses
the process boundary, not the page. The WARC files are append-only: each new extraction is
written as a new ``metadata`` record (``WARC-Concurrent-To`` the response record) in a new WARC
file, and the capture's metadata pointer moves to it; the old record stays as history.

This module updates the capture rows it extracts (``archive.captures.table`` adds them): their
extraction columns, verdict, reason, confidence, evidence, ``extract_error``, links and
metadata-record pointer, and their pages' state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

import archive.defaults as defaults
from archive.captures.table import extraction_columns, update_page_state
from archive.db.engine import Database, one_of
from archive.db.models import Capture, Link, Page
from archive.exceptions import ArchiveError, ExtractError
from archive.extraction.article import WORKER_PRELOAD, ExtractResult, extract_page
from archive.extraction.pool import KillablePool
from archive.liveness.judging import (
    STUB_STRIPPED,
    Fetch,
    PageJudgement,
    is_html,
    judge_page,
    lost_its_article,
    metadata_record,
    wants_probe,
)
from archive.liveness.lost_article import prior_article
from archive.liveness.page_state import DEFAULT_RULE, StateRule
from archive.liveness.probe_store import StoredProbes
from archive.liveness.redirects import RedirectTargets, stored_redirects, target_key
from archive.liveness.site_samples import (
    drop_site_sample,
    keep_site_samples,
    site_closings,
    site_samples,
)
from archive.liveness.site_template import is_site_sample, may_lack_site_article, site_stubs
from archive.liveness.verdicts import check_verdicts
from archive.warc.records import RecordLocation, WarcWriter, read_record

__all__ = [
    "EXTRACT_PREFIX",
    "ExtractOutcome",
    "Selection",
    "extract_archived",
    "extracted_texts",
    "pending_captures",
]

logger = logging.getLogger(__name__)

#: ``WARC_PREFIX`` of the files that hold the metadata records of an extraction pass.
EXTRACT_PREFIX = "morgue-extract"


@dataclass(frozen=True, slots=True)
class Selection:
    """Which captures to extract: by default those never extracted."""

    all: bool = False
    verdicts: tuple[str, ...] = ()
    domain: str | None = None
    url_prefix: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        check_verdicts(self.verdicts)  # a misspelt verdict is an error, not "nothing to extract"


@dataclass(frozen=True, slots=True)
class ExtractOutcome:
    capture_id: int
    url: str
    before: str
    verdict: str
    reason: str
    text_chars: int
    error: str | None
    #: The WARC record could not be read back: the capture was left as it was, but for its
    #: ``extract_error``.
    unreadable: bool = False


@dataclass(frozen=True, slots=True)
class _Job:
    capture_id: int
    warc_dir: str
    warc_file: str
    warc_offset: int
    url: str
    content_type: str | None
    #: Where else the same payload is (captures with the same payload digest): a revisit
    #: record holds no body, the record it refers to does.
    same_payload: tuple[tuple[str, int], ...] = ()


def pending_captures(db: Database, selection: Selection) -> list[int]:
    """Ids of the captures to extract, oldest first."""
    stmt: Select[int] = (
        select(Capture.id)
        .join(Page, Page.id == Capture.page_id)
        .where(
            Capture.warc_file.is_not(None),
            Capture.http_status >= 200,
            Capture.http_status < 300,
        )
    )
    # A record known to be gone (morgue verify) cannot be read, and a fetch that failed (a
    # body too large to decode) left no page: nothing to extract.
    stmt = stmt.where(Capture.record_error.is_(None), Capture.error.is_(None))
    if not selection.all:
        stmt = stmt.where(Capture.text.is_(None), Capture.extract_error.is_(None))
    if selection.verdicts:
        stmt = stmt.where(Capture.verdict.in_(selection.verdicts))
    if selection.domain:
        host = selection.domain.lower().strip().lstrip(".")
        stmt = stmt.where((Page.host == host) | Page.host.endswith("." + host))
    if selection.url_prefix:
        stmt = stmt.where(Capture.url.startswith(selection.url_prefix, autoescape=True))
    stmt = stmt.order_by(Capture.id)
    if selection.limit:
        stmt = stmt.limit(selection.limit)
    with db.session(readonly=True) as session:
        return list(session.scalars(stmt))


class _Unreadable(str):
    """An error message saying the record could not be read (not that extraction failed)."""

    __slots__ = ()


def _extract_job(job: _Job) -> tuple[int, ExtractResult | None, str | None]:
    """In a worker: read the response record and extract it."""
    try:
        record = read_record(Path(job.warc_dir), (job.warc_file, job.warc_offset))
        for place in job.same_payload:
            if record.rec_type != "revisit":
                break
            record = read_record(Path(job.warc_dir), place)
    except ArchiveError as exc:
        return job.capture_id, None, _Unreadable(f"cannot read the archived page: {exc}")
    if record.rec_type == "revisit":
        return job.capture_id, None, _Unreadable("a revisit whose original is not in the archive")
    try:
        if not is_html(job.content_type, record.content):
            return job.capture_id, None, None
        return job.capture_id, extract_page(record.content, job.url, job.content_type), None
    except (ArchiveError, ExtractError) as exc:
        return job.capture_id, None, str(exc)
    except Exception as exc:  # one odd page must not stop the pass
        return job.capture_id, None, f"{type(exc).__name__}: {exc}"


@dataclass(slots=True)
class _Evidence:
    """What the archive says about the hosts of the captures judged: probes and redirects."""

    probes: StoredProbes
    targets: RedirectTargets
    #: How far from a capture's fetch the site's article samples may be (the probes' age).
    window: timedelta
    #: Closing paragraphs of other articles of the site, by capture, beside the stored ones (a
    #: second look passes those of texts as extracted, before their stub was cut).
    extra_closings: Mapping[int, Sequence[Sequence[str]]] = field(default_factory=dict)


def _judge(
    session: Session,
    capture: Capture,
    result: ExtractResult | None,
    evidence: _Evidence,
) -> PageJudgement:
    """Judge a capture from its record's extraction, with the evidence a crawl would have had."""
    fetch = Fetch.stored(capture)
    baseline = None
    if wants_probe(fetch):
        baseline = evidence.probes.baseline(fetch.final_url or fetch.url, capture.fetched_at)
    shared = False
    key = target_key(fetch)
    if key is not None:
        if not evidence.targets.loaded(key):
            evidence.targets.load(key, stored_redirects(session, key[1]))
        shared = evidence.targets.shared(key, fetch.url, capture.fetched_at)
    closings: list[str] = []
    if fetch.served and fetch.recovered_from is None and result and result.extraction:
        by_url = site_closings(
            session, fetch.final_url or fetch.url, fetch.url, capture.fetched_at, evidence.window
        )
        others = [*by_url.values(), *evidence.extra_closings.get(capture.id, ())]
        closings = site_stubs(others, result.extraction.text)
    judgement = judge_page(
        fetch,
        result.extraction if result else None,
        result.facts if result else None,
        baseline=baseline,
        shared_target=shared,
        site_closings=closings,
    )
    if (
        judgement.verdict == "ok"
        and lost_its_article(judgement.evidence)
        and fetch.recovered_from is None
        and prior_article(session, capture.url, capture.fetched_at) is not None
    ):
        judgement = judge_page(
            fetch,
            result.extraction if result else None,
            result.facts if result else None,
            baseline=baseline,
            shared_target=shared,
            held_article=True,
            site_closings=closings,
        )
    elif (
        judgement.verdict == "ok"
        and result is not None
        and result.facts is not None
        and fetch.recovered_from is None
        and may_lack_site_article(fetch.final_url or fetch.url, result.facts, judgement.evidence)
    ):
        near = site_samples(
            session, fetch.final_url or fetch.url, fetch.url, capture.fetched_at, evidence.window
        )
        if near:
            judgement = judge_page(
                fetch,
                result.extraction,
                result.facts,
                baseline=baseline,
                shared_target=shared,
                site_samples=near,
                site_closings=closings,
            )
    return judgement


def _keep_sample(session: Session, capture: Capture, result: ExtractResult | None) -> None:
    """Keep the capture as a sample of its site's article template, or forget it as one."""
    facts = result.facts if result is not None else None
    live = facts is not None and is_site_sample(
        capture.verdict, capture.evidence or (), capture.text, capture.recovered_from
    )
    if live and facts is not None:
        url = capture.final_url or capture.url
        chrome = result.chrome if result is not None else None
        keep_site_samples(session, [(capture.id, url, capture.fetched_at, facts.template,
                                     capture.text, chrome)])  # fmt: skip
    else:
        drop_site_sample(session, capture.id)


def _apply(capture: Capture, judgement: PageJudgement) -> None:
    capture.verdict, capture.reason = judgement.verdict, judgement.reason
    capture.confidence, capture.evidence = judgement.confidence, list(judgement.evidence) or None
    if judgement.extraction is None:
        # Nothing extracted this time (an error, or no HTML): the metadata read before stays.
        capture.text, capture.text_chars = None, 0
        return
    # The stored text is the article without its appended stub (judgement.extraction).
    for name, value in extraction_columns(judgement.extraction).items():
        setattr(capture, name, value)


def _metadata(capture: Capture, judgement: PageJudgement) -> dict[str, Any]:
    return metadata_record(
        pass_name="extract",
        url=capture.url,
        final_url=capture.final_url,
        fetched_at=capture.fetched_at,
        http_status=capture.http_status,
        verdict=capture.verdict,
        reason=capture.reason,
        confidence=capture.confidence,
        evidence=judgement.evidence,
        extraction=judgement.extraction,
        extract_error=capture.extract_error,
        error=capture.error,
        redirects=capture.redirects or [],
        recovered_from=capture.recovered_from,
        memento_datetime=None,  # not kept in the database; the crawl's record has it
    )


def extract_archived(
    db: Database,
    warc_dir: Path,
    capture_ids: list[int],
    *,
    workers: int | None = None,
    timeout: float = defaults.EXTRACT_TIMEOUT,
    writer: WarcWriter | None = None,
    rule: StateRule = DEFAULT_RULE,
    probe_max_age: timedelta = timedelta(days=defaults.LIVENESS_PROBE_MAX_AGE),
    on_done: Callable[[ExtractOutcome], None] | None = None,
    only_changed: bool = False,
    extra_closings: Mapping[int, Sequence[Sequence[str]]] | None = None,
) -> Iterator[ExtractOutcome]:
    """Extract the given captures from their WARC records, judge them, store the results.

    Yields one outcome per capture, in completion order. Each result is committed as it
    arrives, with its new metadata record written first (the DB never points at a record that
    does not exist). A page whose extraction runs past ``timeout`` seconds has its worker
    killed and is recorded with an extraction error, as in a crawl; the pass goes on. Each
    capture is judged as its crawl judged it (``archive.liveness.judging``), with the probes stored
    within ``probe_max_age`` of its fetch and the redirects stored up to it. With
    ``only_changed``, a capture whose verdict and reason come out as stored, and from which no
    stub is newly cut, is left as it was (no new metadata record): a second look, not a new
    extraction. ``extra_closings`` gives, by capture, closing paragraphs of other articles of
    its site beside those stored (``archive.liveness.site_template.site_stubs``).
    """
    jobs = _jobs(db, warc_dir, capture_ids)
    if not jobs:
        return
    evidence = _Evidence(
        StoredProbes(db, probe_max_age), RedirectTargets(), probe_max_age, extra_closings or {}
    )
    pool = KillablePool(_extract_job, workers=workers, timeout=timeout, preload=WORKER_PRELOAD)
    with pool:
        futures = {pool.submit(job): job.capture_id for job in jobs}
        for future in as_completed(futures):
            try:
                capture_id, result, error = future.result()
            except ExtractError as exc:  # a timeout (the worker was killed) or a dead worker
                capture_id, result, error = futures[future], None, str(exc)
            outcome = _store(db, capture_id, result, error, writer, evidence, rule, only_changed)
            if on_done is not None:
                on_done(outcome)
            yield outcome


def extracted_texts(
    db: Database,
    warc_dir: Path,
    capture_ids: list[int],
    *,
    timeout: float = defaults.EXTRACT_TIMEOUT,
) -> dict[int, str]:
    """The article text of each capture as extracted from its WARC record again, before any
    judging (no stub cut); captures that give none, or whose extraction runs past ``timeout``
    (its worker killed, as in a crawl), are left out."""
    jobs = _jobs(db, warc_dir, capture_ids)
    if not jobs:
        return {}
    texts: dict[int, str] = {}
    pool = KillablePool(_extract_job, workers=1, timeout=timeout, preload=WORKER_PRELOAD)
    with pool:
        for future in as_completed([pool.submit(job) for job in jobs]):
            try:
                capture_id, result, _error = future.result()
            except ExtractError:  # a timeout or a dead worker: that page tells nothing
                continue
            if result is not None and result.extraction is not None and result.extraction.text:
                texts[capture_id] = result.extraction.text
    return texts


def _jobs(db: Database, warc_dir: Path, capture_ids: list[int]) -> list[_Job]:
    rows: list[Any] = []
    with db.session(readonly=True) as session:
        for listed in one_of(Capture.id, capture_ids, db.dialect):
            rows.extend(
                session.execute(
                    select(
                        Capture.id,
                        Capture.warc_file,
                        Capture.warc_offset,
                        Capture.final_url,
                        Capture.url,
                        Capture.content_type,
                        Capture.payload_digest,
                    ).where(listed)
                ).all()
            )
        digests = sorted({row[6] for row in rows if row[6]})
        places: dict[str, list[tuple[int, str, int]]] = {}
        for listed in one_of(Capture.payload_digest, digests, db.dialect):
            for cid, digest, wfile, offset in session.execute(
                select(Capture.id, Capture.payload_digest, Capture.warc_file, Capture.warc_offset)
                .where(
                    listed,
                    Capture.warc_file.is_not(None),
                    Capture.record_error.is_(None),
                )
                .order_by(Capture.id)
            ):  # fmt: skip
                found = places.setdefault(digest or "", [])
                if len(found) < 4 and wfile is not None and offset is not None:
                    found.append((cid, wfile, offset))
    return [
        _Job(
            cid,
            str(warc_dir),
            wfile,
            offset,
            final or url,
            ctype,
            tuple((f, o) for other, f, o in places.get(digest or "", []) if other != cid)[:3],
        )
        for cid, wfile, offset, final, url, ctype, digest in sorted(rows)
        if wfile is not None and offset is not None
    ]


def _store(
    db: Database,
    capture_id: int,
    result: ExtractResult | None,
    error: str | None,
    writer: WarcWriter | None,
    evidence: _Evidence,
    rule: StateRule,
    only_changed: bool = False,
) -> ExtractOutcome:
    with db.session() as session:
        capture = session.get(Capture, capture_id)
        if capture is None:  # deleted meanwhile
            return ExtractOutcome(capture_id, "", "", "", "", 0, "capture deleted")
        before = capture.verdict
        if isinstance(error, _Unreadable):
            # What the record gave before stays: text, verdict and links are not replaced by
            # the nothing a damaged file gives now.
            capture.extract_error = str(error)
            return ExtractOutcome(
                capture_id, capture.url, before, capture.verdict, capture.reason,
                capture.text_chars, capture.extract_error, unreadable=True,
            )  # fmt: skip
        judgement = _judge(session, capture, result, evidence)
        newly_cut = STUB_STRIPPED in judgement.evidence and STUB_STRIPPED not in (
            capture.evidence or ()
        )
        if (
            only_changed
            and (judgement.verdict, judgement.reason) == (before, capture.reason)
            and not newly_cut
        ):
            return ExtractOutcome(
                capture_id, capture.url, before, capture.verdict, capture.reason,
                capture.text_chars, capture.extract_error,
            )  # fmt: skip
        capture.extract_error = error
        _apply(capture, judgement)
        if writer is not None:
            loc: RecordLocation = writer.write_metadata(
                capture.final_url or capture.url,
                _metadata(capture, judgement),
                refers_to=capture.warc_record_id,
            )
            capture.metadata_warc_file, capture.metadata_warc_offset = loc.file, loc.offset
            capture.metadata_warc_length, capture.metadata_record_id = loc.length, loc.record_id
        session.execute(delete(Link).where(Link.capture_id == capture_id))
        if result is not None:
            for i, anchor in enumerate(result.links):
                session.add(
                    Link(capture_id=capture_id, position=i, url=anchor.url, text=anchor.text)
                )
        _keep_sample(session, capture, result)
        session.flush()
        update_page_state(session, capture.page_id, rule)
        return ExtractOutcome(
            capture_id,
            capture.url,
            before,
            capture.verdict,
            capture.reason,
            capture.text_chars,
            capture.extract_error,
        )
