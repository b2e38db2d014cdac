"""Archive a list of URLs now: the library's ``archive_urls``, which every face calls.

One run: a run row, a crawl process that fetches each URL (page, soft-404 probe, web-archive
copy of a dead page), writes the WARC records and stores one capture per URL, then the run
recorded with how it ended. The captures come back in the order of the URLs given, a copy
recovered from a web archive right after the dead capture it stands in for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.captures.second_look import after_run
from archive.captures.table import capture_to_json, captures_for_run, finish_run, start_run
from archive.db.engine import open_database
from archive.db.heartbeat import beat
from archive.db.models import Capture
from archive.exceptions import ArchiveError, DatabaseError
from archive.paths import DataPaths, data_paths
from archive.policy.politeness import delay_overrides
from archive.runs.crawl_process import (
    CrawlProcess,
    CrawlResult,
    check_settings,
    extraction_enabled,
    run_job,
)
from archive.runs.events import CrawlEvent, EventHandler, event_adapter
from archive.runs.outcomes import requisite_counts, run_notes
from archive.urls import validate_url
from archive.warc.records import check_writable

__all__ = ["EXTRACT_LATER", "ArchiveRun", "archive_urls", "run_archive"]

#: Settings for "archive now, extract later": judge by status only, ``morgue extract`` after.
EXTRACT_LATER: dict[str, Any] = {"EXTRACT_ENABLED": False, "LIVENESS_PROBE_ENABLED": False}


@dataclass(slots=True)
class ArchiveRun:
    """What one ``archive_urls`` run stored and how it ended."""

    run_id: int
    status: str  # finished, interrupted
    #: One capture per URL in input order; a recovered copy follows the dead capture.
    captures: list[Capture] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # the crawl's Scrapy stats
    log_file: Path | None = None
    result: CrawlResult | None = None

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    @property
    def notes(self) -> list[str]:
        """Lines on what went wrong without stopping the run (Memento lookups, browser pages)."""
        return run_notes(self.stats)

    def requisites_line(self) -> str | None:
        """ "N pages, M requisites (K already archived)", or None when none were fetched."""
        count, already = requisite_counts(self.stats)
        if not count:
            return None
        pages = sum(1 for capture in self.captures if not capture.recovered_from)
        return f"{pages} page{'s' * (pages != 1)}, {count} requisites ({already} already archived)"

    def rows(self) -> list[dict[str, Any]]:
        """The captures as the JSON objects of the CLI contract (``--format json``)."""
        return [capture_to_json(capture) for capture in self.captures]


def archive_urls(
    urls: Iterable[str],
    *,
    data_dir: str | Path | None = None,
    db_url: str | None = None,
    settings: Mapping[str, Any] | None = None,
    on_event: Callable[[CrawlEvent], None] | None = None,
    requisites: bool = True,
) -> ArchiveRun:
    """Archive ``urls`` now, in a crawl process; one capture per URL, in the order given.

    ``settings`` are Scrapy settings for this run (e.g. ``{"DOWNLOAD_DELAY": 2}``, or
    ``EXTRACT_LATER``); ``on_event`` gets each progress event (a page stored, a source read).
    ``requisites``: also archive each page's images, stylesheets, fonts and scripts
    (``REQUISITES_ENABLED``; a setting given in ``settings`` wins).
    Raises ``InvalidInput`` for a URL that is not http(s), ``ArchiveError`` when a fault (a
    full disk, a database that cannot be written) stopped the run, after recording it failed.
    """
    checked = list(dict.fromkeys(validate_url(url) for url in urls))
    return run_archive(
        data_paths(data_dir, db_url),
        checked,
        {"REQUISITES_ENABLED": requisites, **(settings or {})},
        on_event=event_adapter(on_event),
    )


def run_archive(
    paths: DataPaths,
    urls: list[str],
    overrides: Mapping[str, Any],
    *,
    kind: str = "archive",
    on_event: EventHandler | None = None,
) -> ArchiveRun:
    """``archive_urls`` for faces that have validated their URLs and name the run's ``kind``
    (archive, recheck, links, demo); ``on_event`` gets the raw event mappings."""
    check_settings(overrides)
    check_writable(Path(overrides.get("WARC_DIR") or paths.warc_dir))
    # The crawl process imports while this one opens the database and records the run (the
    # CLI starts it even earlier: archive.cli.prestart).
    with CrawlProcess.take(extract=extraction_enabled(overrides)) as child:
        return _archive_in(child, paths, urls, overrides, kind, on_event)


def _archive_in(
    child: CrawlProcess,
    paths: DataPaths,
    urls: list[str],
    overrides: Mapping[str, Any],
    kind: str,
    on_event: EventHandler | None,
) -> ArchiveRun:
    db = open_database(paths.db_url)
    try:
        run_id = start_run(db, kind, {"urls": len(urls), "settings": dict(overrides)})
        beat(db, run_id)  # this process's until the crawl process takes the heartbeat over
        settings = {**delay_overrides(urls, overrides), **overrides}
        job = run_job("urls", {"urls": urls}, paths, run_id, settings)
        result = child.run(job, on_event)
        failure = result.failure(job.log_file)
        if failure is None:
            after_run(db, paths.warc_dir, run_id, settings)
        try:
            finish_run(db, run_id, result.status, result.stats)
            stored = captures_for_run(db, run_id)
        except DatabaseError as exc:
            if failure is None:
                raise
            failure = f"{failure}; and the run could not be recorded: {exc}"
            stored = []
    finally:
        db.close()
    fetched: dict[str, Capture] = {}
    recovered: dict[str, Capture] = {}
    for capture in stored:
        (recovered if capture.recovered_from else fetched).setdefault(capture.url, capture)
    captures = [
        capture
        for url in urls
        for capture in (fetched.get(url), recovered.get(url))
        if capture is not None
    ]
    if failure is not None:
        raise ArchiveError(
            f"{failure} (run {run_id} failed: {len(fetched)} of {len(urls)} URLs archived)"
        )
    return ArchiveRun(
        run_id=run_id,
        status=result.status,
        captures=captures,
        stats=result.stats,
        log_file=job.log_file,
        result=result,
    )
