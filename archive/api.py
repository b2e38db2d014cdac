"""morgue's public Python API: archive URLs, crawl sources, read the archive.

Everything here is importable without the command line (no Typer, no Rich) and is what the
CLI, the scheduler and later faces call. ``import archive`` gives the same names::

    import archive

    run = archive.archive_urls(["https://example.org/news/story.html"], data_dir="news")
    with archive.open_archive("news") as arch:
        for row in arch.query(verdicts="ok", limit=10):
            print(row.capture.title, arch.record(row.capture.id).html()[:80])

See docs/api.md for each function, its results and its errors.
"""

from __future__ import annotations

from archive.db.models import Capture
from archive.distributed.enqueue import Enqueued, enqueue_crawl, enqueue_urls
from archive.distributed.status import FrontierStatus, frontier_status
from archive.distributed.worker_run import WorkerSummary, run_worker
from archive.exceptions import ArchiveError, DatabaseError, InvalidInput, WarcError
from archive.paths import DataPaths, data_paths
from archive.query.capture_query import PageHistory, QueryRow
from archive.query.reader import Archive, ArchivedRecord, open_archive
from archive.runs.archiving import EXTRACT_LATER, ArchiveRun, archive_urls
from archive.runs.crawling import CrawlSpec, CrawlSummary, crawl
from archive.runs.events import CrawlEvent

__all__ = [
    "EXTRACT_LATER",
    "Archive",
    "ArchiveError",
    "ArchiveRun",
    "ArchivedRecord",
    "Capture",
    "CrawlEvent",
    "CrawlSpec",
    "CrawlSummary",
    "DataPaths",
    "DatabaseError",
    "Enqueued",
    "FrontierStatus",
    "InvalidInput",
    "PageHistory",
    "QueryRow",
    "WarcError",
    "WorkerSummary",
    "archive_urls",
    "crawl",
    "data_paths",
    "enqueue_crawl",
    "enqueue_urls",
    "frontier_status",
    "open_archive",
    "run_worker",
]
