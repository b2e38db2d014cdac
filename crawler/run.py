"""The one place that starts a crawl.

``run_crawl`` runs a spider to the end in this process. The CLI never calls it directly: it
starts ``python -m crawler.run`` with a JSON job on stdin, because a Twisted reactor runs once per
process, and a crash or kill of the crawl must not take the CLI down with it.

The job is one line of JSON on stdin. Its fields: ``spider`` (name), ``spider_args`` (dict),
``settings`` (dict of Scrapy settings, applied at command-line priority, e.g. ``WARC_DIR``,
``STORE_DB_URL``, ``STORE_RUN_ID``, ``CRAWL_PARENT_PID``).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from archive.extraction.article import WORKER_PRELOAD, extract_page
from archive.extraction.pool import start_forkserver
from crawler.libc import glibc

if TYPE_CHECKING:
    from scrapy.settings import Settings

__all__ = ["crawl_settings", "main", "run_crawl", "tune_process"]


def crawl_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's settings module with overrides on top, as ``scrapy crawl -s`` would."""
    from scrapy.settings import Settings

    from crawler.encodings import accept_encoding

    settings = Settings()
    settings.setmodule("settings", priority="project")
    header = accept_encoding()
    if header is not None:
        headers = dict(settings.getdict("DEFAULT_REQUEST_HEADERS"))
        headers.setdefault("Accept-Encoding", header)
        settings.set("DEFAULT_REQUEST_HEADERS", headers, priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def _set_mmap_threshold(size: int) -> bool:
    """glibc's mmap threshold, fixed; False where the C library is not glibc."""
    libc = glibc()
    if libc is None:
        return False
    try:
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, size))
    except (OSError, AttributeError):
        return False


def tune_process(settings: Settings) -> dict[str, Any]:
    """Set what a crawl's settings say of the whole process; returns what was applied."""
    applied: dict[str, Any] = {}
    # The WARC writer and store threads let go of the GIL at every zlib, hashlib, file and
    # SQLite call, and each time wait for the reactor thread to hand it back, which by default
    # it does only every 5 ms: at 0.1 ms a deferred crawl archives a quarter more pages a second.
    interval = settings.getfloat("CRAWL_SWITCH_INTERVAL")
    if interval > 0:
        sys.setswitchinterval(interval)
        applied["switch_interval"] = interval
    # glibc raises its mmap threshold each time a large block is freed, up to 32 MiB, so after
    # a while page bodies come from the heap, which fragments and grows with the crawl. A fixed
    # threshold keeps large blocks mapped and given back (peak RSS at 10k pages: -15 %).
    threshold = settings.getint("CRAWL_MALLOC_MMAP_THRESHOLD")
    if threshold > 0 and _set_mmap_threshold(threshold):
        applied["mmap_threshold"] = threshold
    return applied


#: Set in the stats ``run_crawl`` returns when a signal (Ctrl-C, SIGTERM) stopped the crawl.
STAT_SIGNALLED = "crawl/signalled"

#: The exit status of a crawl process that a signal stopped, as a shell gives it to Ctrl-C.
EXIT_INTERRUPTED = 130


def _crawler_process_class() -> type[Any]:
    from scrapy.crawler import CrawlerProcess

    class SignalAwareProcess(CrawlerProcess):
        """Remembers that a signal stopped it: a second Ctrl-C stops the reactor before the
        spider closes, so the stats alone cannot tell an interrupted crawl from a finished one."""

        signalled = False

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            self.signalled = True
            super()._signal_shutdown(signum, frame)

    return SignalAwareProcess


def run_crawl(
    spider: str, spider_args: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    """Run one spider to completion and return its final stats."""
    from crawler.warc_capture import find_capture

    process_class = _crawler_process_class()

    # Scrapy's cookie middleware splits domains with tldextract, which by default downloads the
    # Public Suffix List on first use: a request outside the crawl (not archived, not throttled,
    # and failing on a machine without internet). The list bundled with tldextract serves, unless
    # the environment names lists of its own. Read when the middleware's module is imported.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    settings = crawl_settings(overrides)
    tune_process(settings)
    process = process_class(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spider_args)
    process.start()
    # A second Ctrl-C stops the reactor without closing the spider, so its WARC file would keep
    # its .open suffix until the next crawl finalised it. Its records are whole: close it here.
    capture = find_capture(crawler) if crawler.extensions is not None else None
    if capture is not None:
        capture.writer.seal()
    assert crawler.stats is not None
    stats = dict(crawler.stats.get_stats())
    if process.signalled:
        stats[STAT_SIGNALLED] = True
    return stats


def _events_channel() -> None:
    """Keep stdout, the caller's event pipe, for events only, and out of child processes.

    The extraction forkserver and its workers inherit fds 0-2: holding the pipe, they would
    keep the caller reading after this process ended, and a stray print would reach it. The
    pipe moves to a descriptor children do not inherit; fd 1 becomes a copy of stderr.
    """
    events = os.dup(sys.stdout.fileno())  # os.dup makes a non-inheritable descriptor
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = open(events, "w", buffering=1, encoding="utf-8")  # noqa: SIM115 - for life


class _JobLine:
    """The job, the first line of stdin (the caller keeps stdin open after it:
    crawler.lifeline), read beside the imports. A caller that gives up before it sends one (bad
    usage, found once this process was started) closes stdin: the process ends at once instead
    of finishing two seconds of imports that nothing will use."""

    def __init__(self) -> None:
        self._line = ""
        self._read = threading.Event()
        threading.Thread(target=self._read_line, name="job-line", daemon=True).start()

    def _read_line(self) -> None:
        self._line = sys.stdin.readline()
        if not self._line.strip():
            os._exit(0)  # nothing was started that needs closing: no file, no crawl
        self._read.set()

    def wait(self) -> str:
        self._read.wait()
        return self._line


def _import_crawl() -> None:
    # Scrapy and the crawl's components import (~0.5 s) while the caller prepares the job,
    # without garbage collection (it finds nothing among new modules); frozen afterwards, so
    # that the crawl's collections do not walk them again.
    gc.disable()
    try:
        import scrapy.crawler  # noqa: F401

        import crawler.warc_capture  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    # The log file may sit on the disk that just filled up: a log line that cannot be written
    # is dropped, not reported with a traceback on stderr (the fault reaches the CLI as an
    # event). This is the switch logging documents for production use.
    logging.raiseExceptions = False
    argv = sys.argv[1:] if argv is None else argv
    _events_channel()
    job_line = _JobLine()
    if "--no-extract" not in argv:
        # The extraction workers' imports and warm-up (~0.7 s) run beside Scrapy's and the
        # caller's: for one URL they were the longest wait.
        start_forkserver(extract_page, WORKER_PRELOAD)
    _import_crawl()
    line = job_line.wait()
    job = json.loads(line)
    stats = run_crawl(job["spider"], job.get("spider_args", {}), job.get("settings", {}))
    from crawler.faults import STAT_ERROR

    if stats.get(STAT_ERROR):
        return 1
    if stats.get(STAT_SIGNALLED):
        return EXIT_INTERRUPTED
    return 0 if stats.get("finish_reason") in ("finished", "shutdown", None) else 1


def _exit(status: int) -> None:
    """Exit without the interpreter's teardown (~0.3 s), once everything is written."""
    sys.stdout.flush()
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    _exit(main())
