"""Crawl feeds, sitemaps and sites: the library's ``crawl``, which every face calls.

One run: what an interrupted run left is recovered first (its WARC files closed, the pages
it wrote but never stored indexed); then a run row, a crawl process reading the sources and
archiving every article they lead to, and the run recorded with its summary (``CrawlSummary``,
kept in the run's stats). Sources that could not be read are in the summary, each with its
reason; a crawl none of whose sources could be read says so (``all_sources_failed``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.captures.second_look import after_run
from archive.captures.table import (
    capture_to_json,
    finish_run,
    iter_captures_for_run,
    run_tally,
    start_run,
)
from archive.db.engine import Database, open_database
from archive.db.heartbeat import beat
from archive.durations import format_duration, parse_duration, parse_since
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput
from archive.integrity.resume import Recovery, recover_interrupted
from archive.paths import DataPaths, data_paths
from archive.policy.frontier import compile_patterns
from archive.runs.crawl_process import CrawlResult, check_settings, run_crawl_process, run_job
from archive.runs.events import CrawlEvent, EventHandler, event_adapter
from archive.runs.outcomes import (
    SourceOutcome,
    all_failed,
    memento_failures,
    requisite_counts,
    run_notes,
)
from archive.runs.schedules import attach_run
from archive.sources.registry import link_discoveries, reconcile_published, sources_of_pages
from archive.urls import validate_url
from archive.warc.records import check_writable

__all__ = [
    "EXIT_NO_SOURCE",
    "CrawlSpec",
    "CrawlSummary",
    "build_spec",
    "crawl",
    "describe_recovery",
    "recover_first",
    "request_from_json",
    "request_json",
    "request_redis",
    "run_crawl",
    "run_rows",
]

LISTED_FAILURES = 20  # failed sources named one by one in the summary
#: Exit status of a crawl none of whose sources could be read.
EXIT_NO_SOURCE = 1


@dataclass(slots=True)
class CrawlSpec:
    """What to crawl, as given on the command line (validated)."""

    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    depth: int = 1
    max_pages: int | None = None
    since: str | None = None  # ISO datetime, UTC
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    recrawl_after: float | None = None  # seconds

    @property
    def roots(self) -> list[str]:
        """The sources as given: what "every source failed" is about."""
        return [*self.feeds, *self.sitemaps, *self.sites]

    def to_json(self) -> dict[str, Any]:
        return self.spider_args()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrawlSpec:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})

    def spider_args(self) -> dict[str, Any]:
        return {
            "feeds": self.feeds,
            "sitemaps": self.sitemaps,
            "sites": self.sites,
            "depth": self.depth,
            "max_pages": self.max_pages,
            "since": self.since,
            "allow": self.allow,
            "deny": self.deny,
            "recrawl_after": self.recrawl_after,
        }


@dataclass(slots=True)
class CrawlSummary:
    """The figures printed at the end of a crawl and kept in the run's stats."""

    run_id: int
    status: str
    pages: int
    verdicts: dict[str, int]
    recovered: int
    revisits: int
    skipped_archived: int
    entries: int
    new_entries: int
    errors: int
    duration_s: float
    skipped_claimed: int = 0  # pages left to another crawl running at the same time
    sources: list[SourceOutcome] = field(default_factory=list)  # each source tried, in order
    all_sources_failed: bool = False
    stats: dict[str, Any] = field(default_factory=dict)  # the crawl's, for run_notes
    log_file: str | None = None

    @property
    def failed_sources(self) -> list[SourceOutcome]:
        return [outcome for outcome in self.sources if not outcome.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "pages": self.pages,
            "verdicts": self.verdicts,
            "recovered": self.recovered,
            "revisits": self.revisits,
            "skipped_archived": self.skipped_archived,
            "skipped_claimed": self.skipped_claimed,
            "entries": self.entries,
            "new_entries": self.new_entries,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "sources_read": sum(outcome.ok for outcome in self.sources),
            "failed_sources": [outcome.to_json() for outcome in self.failed_sources],
            "all_sources_failed": self.all_sources_failed,
            "memento_failed": memento_failures(self.stats),
            "needs_browser": int(self.stats.get("liveness/needs_browser") or 0),
            "requisites": requisite_counts(self.stats)[0],
            "requisites_already_archived": requisite_counts(self.stats)[1],
            "log": self.log_file,
        }

    def line(self) -> str:
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(self.verdicts.items())) or "none"
        claimed = f"{self.skipped_claimed} left to another crawl, " if self.skipped_claimed else ""
        count, already = requisite_counts(self.stats)
        requisites = f"{count} requisites ({already} already archived), " if count else ""
        return (
            f"crawl {self.status}: {self.pages} pages ({verdicts}), {requisites}"
            f"{self.revisits} unchanged, "
            f"{self.skipped_archived} already archived, {claimed}{self.recovered} recovered, "
            f"{self.errors} errors in {format_duration(self.duration_s)} (run {self.run_id})"
        )

    def lines(self) -> list[str]:
        """``line()``, then each source that failed and what else went wrong, and the log."""
        out = [self.line()]
        failed = self.failed_sources
        if failed:
            if self.all_sources_failed:
                out.append(f"every source failed, nothing to crawl (exit status {EXIT_NO_SOURCE}):")
            else:
                out.append(f"{len(failed)} of {len(self.sources)} sources failed:")
            out.extend(f"  {outcome.line()}" for outcome in failed[:LISTED_FAILURES])
            if len(failed) > LISTED_FAILURES:
                out.append(f"  ... and {len(failed) - LISTED_FAILURES} more (see the log)")
        notes = run_notes(self.stats)
        out.extend(notes)
        if self.log_file and (failed or notes or self.errors):
            out.append(f"log: {self.log_file}")
        return out


def crawl(
    feeds: Iterable[str] = (),
    sitemaps: Iterable[str] = (),
    sites: Iterable[str] = (),
    *,
    data_dir: str | Path | None = None,
    db_url: str | None = None,
    depth: int = 1,
    max_pages: int | None = None,
    since: str | None = None,
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    recrawl_after: str | None = None,
    settings: Mapping[str, Any] | None = None,
    on_event: Callable[[CrawlEvent], None] | None = None,
    requisites: bool = False,
) -> CrawlSummary:
    """Crawl feeds, sitemaps and site start pages; archive every article they lead to.

    ``requisites``: also archive each page's images, stylesheets, fonts and scripts
    (``REQUISITES_ENABLED``; a setting given in ``settings`` wins).

    ``since`` is a date (``2024-05-01``, an ISO datetime or ``7d`` ago), ``recrawl_after`` a
    duration (``6h``); ``allow``/``deny`` are regular expressions for a site crawl's links;
    ``settings`` are Scrapy settings for this run. ``on_event`` gets each progress event.
    Raises ``InvalidInput`` for bad arguments, ``ArchiveError`` when a fault stopped the
    crawl (after recording the run failed).
    """
    spec = build_spec(
        list(feeds),
        list(sitemaps),
        list(sites),
        depth=depth,
        max_pages=max_pages,
        since=since,
        allow=list(allow),
        deny=list(deny),
        recrawl_after=recrawl_after,
    )
    paths = data_paths(data_dir, db_url)
    overrides = {"REQUISITES_ENABLED": requisites, **(settings or {})}
    summary, _ = run_crawl(paths, spec, overrides, on_event=event_adapter(on_event))
    return summary


def run_crawl(
    paths: DataPaths,
    spec: CrawlSpec,
    overrides: Mapping[str, Any],
    *,
    on_event: EventHandler | None = None,
    schedule_run: int | None = None,
) -> tuple[CrawlSummary, CrawlResult]:
    """``crawl`` for faces: a validated spec, raw events, the crawl process's result too.

    ``schedule_run`` is the ``schedule_runs`` row this crawl runs for (the scheduler's). What
    an interrupted run left is recovered first and reported as a ``recovery`` event.
    """
    check_settings(overrides)
    check_writable(Path(overrides.get("WARC_DIR") or paths.warc_dir))
    db = open_database(paths.db_url)
    started = time.monotonic()
    try:
        recover_first(db, paths.warc_dir, on_event)
        args = {
            **spec.spider_args(),
            "settings": dict(overrides),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        run_id = start_run(db, "crawl", args)
        beat(db, run_id)  # this process's until the crawl process takes the heartbeat over
        if schedule_run is not None:
            attach_run(db, schedule_run, run_id)
        job = run_job("sources", spec.spider_args(), paths, run_id, overrides)
        sources: list[SourceOutcome] = []

        def collect(event: Mapping[str, Any]) -> None:
            if event.get("event") == "source":
                sources.append(SourceOutcome.from_json(event))
            if on_event is not None:
                on_event(event)

        result = run_crawl_process(job, collect)
        failure = result.failure(job.log_file)
        duration = time.monotonic() - started
        if failure is None:
            after_run(db, paths.warc_dir, run_id, overrides)
            summary = _summarise(db, run_id, result, duration, sources=sources, spec=spec)
            return summary, result
        raise ArchiveError(_record_failure(db, run_id, result, failure, duration))
    finally:
        db.close()


def _record_failure(
    db: Database, run_id: int, result: CrawlResult, failure: str, duration: float
) -> str:
    """Record a run that a fault stopped; returns the one line that tells the user.

    The disk that filled up may hold the database too: the run's own row is written first, in
    the smallest transaction there is, and the rest is left to the next crawl if it cannot be.
    """
    try:
        finish_run(db, run_id, "failed", result.stats)
    except DatabaseError as exc:
        return f"{failure}; and run {run_id} could not be recorded: {exc}"
    try:
        pages = _summarise(db, run_id, result, duration).pages
    except DatabaseError:
        # Its discoveries are linked to their pages by the next crawl; only the dates its
        # sources gave are not copied to its captures.
        pages = run_tally(db, run_id).pages
    return f"{failure} (run {run_id} failed after {pages} pages)"


def _summarise(
    db: Database,
    run_id: int,
    result: CrawlResult,
    duration: float,
    *,
    sources: list[SourceOutcome] | None = None,
    spec: CrawlSpec | None = None,
) -> CrawlSummary:
    """Link the run's discoveries, count what it stored and record how it ended."""
    link_discoveries(db)
    reconcile_published(db, run_id)
    tally = run_tally(db, run_id)
    stats = result.stats
    summary = CrawlSummary(
        run_id=run_id,
        status=result.status,
        pages=tally.pages,
        verdicts=tally.verdicts,
        recovered=tally.recovered,
        revisits=int(stats.get("warc/revisits_written", 0)),
        skipped_archived=int(stats.get("sources/skipped_archived", 0)),
        skipped_claimed=int(stats.get("sources/skipped_claimed", 0)),
        entries=int(stats.get("sources/entries", 0)),
        new_entries=int(stats.get("sources/new_entries", 0)),
        errors=int(stats.get("sources/errors", 0)) + int(stats.get("log_count/ERROR", 0)),
        duration_s=duration,
        sources=list(sources or []),
        all_sources_failed=(
            spec is not None
            and not result.interrupted
            and all_failed(list(sources or []), spec.roots)
        ),
        stats=stats,
        log_file=str(result.log_file) if result.log_file else None,
    )
    finish_run(db, run_id, summary.status, {**stats, "summary": summary.to_json()})
    return summary


def request_json(
    spec: CrawlSpec, overrides: Mapping[str, Any], *, redis: tuple[str, str] | None = None
) -> dict[str, Any]:
    """A crawl as data (what a schedule keeps): its spec and its settings, and the Redis
    (URL, key prefix) to queue it in for the workers instead of running it here."""
    data: dict[str, Any] = {"spec": spec.to_json(), "settings": dict(overrides)}
    if redis is not None:
        data["redis"] = {"url": redis[0], "prefix": redis[1]}
    return data


def request_from_json(data: Mapping[str, Any]) -> tuple[CrawlSpec, dict[str, Any]]:
    """The spec and settings of ``request_json``."""
    return CrawlSpec.from_json(data.get("spec") or {}), dict(data.get("settings") or {})


def request_redis(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The Redis (URL, key prefix) a request is queued in for the workers; None: run here."""
    redis = data.get("redis")
    if not isinstance(redis, Mapping) or not redis.get("url"):
        return None
    return str(redis["url"]), str(redis.get("prefix") or "morgue")


def recover_first(db: Database, warc_dir: Path, on_event: EventHandler | None) -> None:
    """What a crashed or killed run left: its files closed, its unstored pages indexed; told
    as a ``recovery`` event when there was anything."""
    recovery = recover_interrupted(db, warc_dir)
    if recovery.did_something and on_event is not None:
        on_event({"event": "recovery", "line": describe_recovery(recovery)})


def describe_recovery(recovery: Recovery) -> str:
    """One line on what recovering an interrupted run did."""
    done = []
    if recovery.files:
        done.append(f"{len(recovery.files)} WARC file(s) closed")
    if recovery.interrupted:
        done.append(f"{len(recovery.interrupted)} run(s) marked interrupted")
    if recovery.indexed:
        done.append(f"{recovery.indexed} page(s) they had written but not stored indexed")
    if recovery.marked:
        done.append(f"{recovery.marked} capture(s) whose record was cut off marked")
    if recovery.superseded:
        done.append(
            f"{recovery.superseded} page(s) they had written and another process stored since "
            "left unindexed (superseded)"
        )
    return "after an interrupted run: " + ", ".join(done)


def run_rows(db_url: str, run_id: int, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The contract rows of a run's captures, in storing order, read a chunk at a time.

    For after ``crawl``, which has brought the schema up to date: no migration check again.
    """
    db = open_database(db_url, migrate=False)
    try:
        for captures in iter_captures_for_run(db, run_id, limit=limit):
            listed = sources_of_pages(db, (c.page_id for c in captures))
            # The contract fields, then the sources that listed each page.
            for c in captures:
                yield {**capture_to_json(c), "sources": listed.get(c.page_id, [])}
    finally:
        db.close()


def build_spec(
    feeds: list[str] | None,
    sitemaps: list[str] | None,
    sites: list[str] | None,
    *,
    depth: int = 1,
    max_pages: int | None = None,
    since: str | None = None,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
    recrawl_after: str | None = None,
) -> CrawlSpec:
    """Validate the command-line sources and options into a ``CrawlSpec``."""

    def urls(values: list[str] | None) -> list[str]:
        return list(dict.fromkeys(validate_url(v) for v in values or []))

    spec = CrawlSpec(
        feeds=urls(feeds),
        sitemaps=urls(sitemaps),
        sites=urls(sites),
        depth=depth,
        max_pages=max_pages,
        since=parse_since(since).isoformat() if since else None,
        allow=list(allow or []),
        deny=list(deny or []),
        recrawl_after=parse_duration(recrawl_after) if recrawl_after is not None else None,
    )
    if not (spec.feeds or spec.sitemaps or spec.sites):
        raise InvalidInput("no sources given: pass --feed URL, --sitemap URL or --site URL")
    compile_patterns(spec.allow)
    compile_patterns(spec.deny)
    return spec
