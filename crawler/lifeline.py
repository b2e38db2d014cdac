"""The crawl process's tie to the CLI that started it, and to its run in the database.

A crawl runs in a child process of the CLI. When the CLI dies (``kill -9``, a closed terminal)
the crawl must not go on unsupervised, archiving pages no one will report while another crawl
takes the same pages. So the child learns that its parent is gone in three ways, whichever comes
first: the kernel sends it SIGHUP (``PR_SET_PDEATHSIG``, Linux), its stdin (which the parent
keeps open, writing nothing after the job) reaches end of file, or writing a progress event fails
with a broken pipe (``parent_gone``, sent by crawler.progress). It then stops gracefully (pages
in flight are finished, the WARC file closed whole) and, as no parent will, records its run
``interrupted`` in the database, which releases its page claims.

While it runs it renews its run's heartbeat (archive.db.heartbeat) every
``CRAWL_HEARTBEAT_INTERVAL`` seconds, so that crawls on any host can tell it is alive.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from archive.captures.table import finish_run
from archive.db.engine import Database, open_database
from archive.db.heartbeat import beat
from archive.exceptions import ArchiveError
from crawler.faults import crawl_error
from crawler.libc import glibc

__all__ = ["PARENT_GONE", "Lifeline", "parent_gone"]

logger = logging.getLogger(__name__)

#: The reason the spider closes with when its parent is gone.
PARENT_GONE = "parent_gone"
#: A signal any component sends when it finds the parent gone (a broken event pipe): ``why``.
parent_gone = object()

_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def _ask_for_sighup_on_parent_death() -> bool:
    """Ask Linux to send SIGHUP when the thread that started this process exits."""
    libc = glibc()
    if libc is None:
        return False
    try:
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


class Lifeline:
    def __init__(
        self,
        crawler: Crawler,
        *,
        parent_pid: int,
        db_url: str | None,
        run_id: int | None,
        interval: float,
    ) -> None:
        self.crawler = crawler
        self.parent_pid = parent_pid
        self.db_url = db_url
        self.run_id = run_id
        self.interval = interval
        self.gone: str | None = None  # why the parent is taken for gone
        self._stopping = False
        self._stop = threading.Event()
        self._beats: threading.Thread | None = None
        self._db: Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        parent_pid = settings.getint("CRAWL_PARENT_PID")
        run_id = settings.getint("STORE_RUN_ID") or None
        db_url = settings.get("STORE_DB_URL") if settings.getbool("STORE_ENABLED") else None
        if not parent_pid and not (run_id and db_url):
            raise NotConfigured("no parent to watch (CRAWL_PARENT_PID) and no run to keep alive")
        ext = cls(
            crawler,
            parent_pid=parent_pid,
            db_url=db_url if run_id else None,
            run_id=run_id,
            interval=settings.getfloat("CRAWL_HEARTBEAT_INTERVAL"),
        )
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.on_parent_gone, signal=parent_gone)
        if parent_pid:
            ext._watch_parent()
        return ext

    # -- the parent ----------------------------------------------------------------------------

    def _watch_parent(self) -> None:
        """Arm the three ways of learning that the parent is gone (in the main thread)."""
        signal.signal(signal.SIGHUP, self._on_sighup)
        _ask_for_sighup_on_parent_death()
        # Asked only now: a parent that died before could not send it. Then this process has
        # been handed to another (init, a subreaper).
        if os.getppid() != self.parent_pid:
            self.gone = "it was gone before the crawl started"
        threading.Thread(target=self._read_stdin, name="parent-pipe", daemon=True).start()

    # The reactor is imported where it is used: by then Scrapy has installed the one it runs.

    def _on_sighup(self, signum: int, frame: FrameType | None) -> None:
        from twisted.internet import reactor

        # Nothing else in a signal handler (not even logging): hand over to the reactor.
        reactor.callFromThread(self.on_parent_gone, "it died")

    def _read_stdin(self) -> None:
        """Block until the parent's end of stdin closes, which it does only when it dies."""
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        from twisted.internet import reactor

        reactor.callFromThread(self.on_parent_gone, "its pipe closed")

    def on_parent_gone(self, why: str) -> None:
        """Stop the crawl gracefully, once; on the reactor thread."""
        if self._stopping:
            return
        self._stopping = True
        self.gone = self.gone or why
        logger.warning("The process that started this crawl is gone (%s): stopping", self.gone)
        _silence_stdout()
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            closing = deferred_from_coro(engine.close_spider_async(reason=PARENT_GONE))
            closing.addErrback(lambda f: logger.error("Cannot stop the crawl: %s", f.value))

    # -- the run -------------------------------------------------------------------------------

    def engine_started(self) -> None:
        if self.gone is not None:
            self.on_parent_gone(self.gone)
        if self.db_url and self.run_id:
            self._beats = threading.Thread(target=self._beat_loop, name="heartbeat", daemon=True)
            self._beats.start()

    def _beat_loop(self) -> None:
        assert self.db_url is not None and self.run_id is not None
        while True:
            try:
                if self._db is None:
                    self._db = open_database(self.db_url, migrate=False)
                if not beat(self._db, self.run_id, interval=self.interval):
                    logger.warning("Run %d is no longer running in the database", self.run_id)
            except ArchiveError as exc:
                logger.warning("Cannot renew the heartbeat of run %d: %s", self.run_id, exc)
            if self._stop.wait(self.interval):
                return

    def spider_closed(self, reason: str) -> None:
        self._stop.set()
        if self._beats is not None:
            self._beats.join()
        if self.gone is not None and self.db_url and self.run_id:
            # No parent will record how the run ended: do it here, which releases its claims.
            status = "failed" if crawl_error(self.crawler) else (
                "finished" if reason == "finished" else "interrupted"
            )  # fmt: skip
            assert self.crawler.stats is not None
            try:
                if self._db is None:
                    self._db = open_database(self.db_url, migrate=False)
                finish_run(self._db, self.run_id, status, self.crawler.stats.get_stats())
                logger.warning("Recorded run %d as %s", self.run_id, status)
            except ArchiveError as exc:
                logger.error("Cannot record run %d as %s: %s", self.run_id, status, exc)
        if self._db is not None:
            self._db.close()


def _silence_stdout() -> None:
    """Point stdout at /dev/null: nothing reads it, and every write would fail with EPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
