"""Start a crawl in a child process and follow its progress events.

A Twisted reactor runs once per process, and a crawl that crashes or is killed must not take
its caller with it, so every crawl runs as ``python -m crawler.run`` with a JSON job on the first
line of its stdin, written when the caller has it (the child imports meanwhile). The child prints
one JSON event per line on stdout; its log goes to a file in the data dir. Its stdin stays open,
with nothing more written, until the child has exited: its end of file tells the child that
this process died (crawler.lifeline).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.durations import parse_duration
from archive.exceptions import ArchiveError, InvalidInput
from archive.paths import DataPaths

__all__ = [
    "CrawlJob",
    "CrawlProcess",
    "CrawlResult",
    "check_settings",
    "extraction_enabled",
    "run_crawl_process",
    "run_job",
]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CrawlJob:
    spider: str
    spider_args: dict[str, Any]
    settings: dict[str, Any]
    log_file: Path | None = None


@dataclass(slots=True)
class CrawlResult:
    returncode: int
    stats: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    interrupted: bool = False
    log_file: Path | None = None  # the crawl's log, which the summary names

    @property
    def error(self) -> str | None:
        """The fault that stopped the crawl (a WARC or database write), as one line."""
        value = self.stats.get("crawl/error")
        return str(value) if value else None

    @property
    def status(self) -> str:
        """The run's status: ``failed`` on a fault, else ``interrupted`` or ``finished``."""
        if self.error or (self.returncode != 0 and not self.interrupted):
            return "failed"
        return "interrupted" if self.interrupted else "finished"

    def failure(self, log_file: Path | None) -> str | None:
        """What to tell the user when the crawl failed, in one line; None when it did not."""
        if self.error:
            return self.error
        if self.returncode == 0 or self.interrupted:
            return None
        how = (
            f"was killed by signal {-self.returncode}"
            if self.returncode < 0
            else f"failed (exit status {self.returncode})"
        )
        return f"the crawl process {how}" + (f"; see {log_file}" if log_file else "")


def check_settings(overrides: Mapping[str, Any]) -> None:
    """Refuse, before anything is recorded, a setting the crawl process would stop on."""
    value = overrides.get("REQUISITES_REFRESH_AFTER")
    if value is not None and value != "":
        try:
            parse_duration(str(value))
        except InvalidInput as exc:
            raise InvalidInput(f"REQUISITES_REFRESH_AFTER: {exc}") from None


def run_job(
    spider: str,
    spider_args: dict[str, Any],
    paths: DataPaths,
    run_id: int,
    overrides: Mapping[str, Any],
) -> CrawlJob:
    """The job of run ``run_id``: its WARC dir, database and log in ``paths``, ``overrides``
    on top (a setting given wins over the run's defaults)."""
    settings: dict[str, Any] = {
        "WARC_DIR": str(paths.warc_dir),
        "STORE_DB_URL": paths.db_url,
        "LIVENESS_DB_URL": paths.db_url,
        "REQUISITES_DB_URL": paths.db_url,
        "STORE_RUN_ID": run_id,
        "WARC_IS_PART_OF": f"morgue-run-{run_id}",
        **overrides,
    }
    return CrawlJob(spider, spider_args, settings, log_file=paths.log_dir / f"run-{run_id}.log")


def extraction_enabled(settings: Mapping[str, Any]) -> bool:
    """Whether a crawl with these settings extracts pages (``EXTRACT_ENABLED``, on by default)."""
    value = settings.get("EXTRACT_ENABLED", True)
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


class CrawlProcess:
    """A crawl child process, started before its job is known.

    Starting the child is the slowest part of a short run (Python, Scrapy and the extraction
    workers import for about a second): the caller starts it first, then prepares the run
    (database, run row) while the child imports, then hands it the job with ``run``. A child
    that never gets a job exits quietly when ``cancel`` (or leaving the ``with`` block) closes
    its stdin.
    """

    def __init__(self, child: subprocess.Popen[str], *, extract: bool) -> None:
        self._child = child
        self._used = False
        self.extract = extract

    @classmethod
    def prestart(cls, *, extract: bool = True) -> None:
        """Start a process for this process's next ``take``, now (the CLI does, first thing)."""
        global _prestarted
        if _prestarted is None:
            _prestarted = cls.start(extract=extract)
            atexit.register(_drop_prestarted)

    @classmethod
    def take(cls, *, extract: bool = True) -> CrawlProcess:
        """The process ``prestart`` started if it suits ``extract``, else a new one."""
        global _prestarted
        early, _prestarted = _prestarted, None
        if early is not None and early.extract == extract:
            return early
        if early is not None:
            early.cancel(wait=False)
        return cls.start(extract=extract)

    @classmethod
    def start(cls, *, extract: bool = True, python: str | None = None) -> CrawlProcess:
        """Start the child; ``extract`` lets it boot its extraction workers at once."""
        env = dict(os.environ)
        env.pop("SCRAPY_SETTINGS_MODULE", None)
        argv = [python or sys.executable, "-m", "crawler.run"]
        if not extract:
            argv.append("--no-extract")
        try:
            child = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
            )
        except OSError as exc:
            raise ArchiveError(f"cannot start the crawler: {exc}") from exc
        return cls(child, extract=extract)

    def __enter__(self) -> CrawlProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    def cancel(self, *, wait: bool = True) -> None:
        """End a child that got no job (a no-op after ``run``); ``wait`` for it to exit."""
        if self._used:
            return
        self._used = True
        assert self._child.stdin is not None and self._child.stdout is not None
        with contextlib.suppress(OSError):
            self._child.stdin.close()  # the end of file where the job should be: it exits
        self._child.stdout.close()
        if not wait:
            # It exits at the end of its imports; a thread reaps it then, if this process
            # still runs (the CLI does not wait on it before exiting).
            threading.Thread(target=self._child.wait, name="reap-crawl", daemon=True).start()
            return
        try:
            # It is still importing Scrapy: on a loaded machine that takes many seconds.
            self._child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def run(
        self, job: CrawlJob, on_event: Callable[[Mapping[str, Any]], None] | None = None
    ) -> CrawlResult:
        """Run ``job`` to the end in the child, calling ``on_event`` for each event line."""
        if self._used:
            raise RuntimeError("a crawl process runs one job")
        self._used = True
        child = self._child
        assert child.stdin is not None and child.stdout is not None
        try:
            payload = _payload(job)
        except ArchiveError:
            self._used = False
            self.cancel()
            raise
        result = CrawlResult(returncode=0, log_file=job.log_file)
        try:
            try:
                child.stdin.write(payload + "\n")
                child.stdin.flush()
            except OSError:
                pass  # the child died at start: its exit status tells
            for line in child.stdout:
                event = _parse_event(line)
                if event is None:
                    continue
                if event.get("event") == "closed":
                    result.stats = dict(event.get("stats") or {})
                    result.finish_reason = event.get("reason")
                if on_event is not None:
                    on_event(event)
        except KeyboardInterrupt:
            # The child got the same SIGINT from the terminal and is shutting down gracefully:
            # wait for it so its WARC files are closed and its last rows written, reading what
            # it still says (its final stats; and a full pipe would stall its shutdown).
            result.interrupted = True
            _wait_after_interrupt(child, result)
        finally:
            child.stdout.close()
        result.returncode = child.wait()
        if result.returncode == _EXIT_INTERRUPTED:
            # A signal stopped the crawl (crawler.run), whether or not this process saw it:
            # one started with SIGINT ignored (nohup, some job runners) never does.
            result.interrupted = True
        with contextlib.suppress(OSError):
            child.stdin.close()
        if result.finish_reason == "shutdown":
            result.interrupted = True
        return result


_EXIT_INTERRUPTED = 130  # crawler.run.EXIT_INTERRUPTED (the library does not import crawler)

_prestarted: CrawlProcess | None = None


def _drop_prestarted() -> None:
    global _prestarted
    if _prestarted is not None:
        _prestarted.cancel(wait=False)
        _prestarted = None


def _payload(job: CrawlJob) -> str:
    settings = dict(job.settings)
    settings["PROGRESS_EVENTS_ENABLED"] = True
    # The child stops when this process dies (crawler.lifeline): it watches for SIGHUP from
    # the kernel and for the end of its stdin, which this process keeps open until the child
    # has exited.
    settings["CRAWL_PARENT_PID"] = os.getpid()
    if job.log_file is not None:
        try:
            job.log_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(
                f"cannot create the log directory {job.log_file.parent}: {exc.strerror or exc}"
            ) from exc
        settings.setdefault("LOG_FILE", str(job.log_file))
    return json.dumps({"spider": job.spider, "spider_args": job.spider_args, "settings": settings})


def run_crawl_process(
    job: CrawlJob,
    on_event: Callable[[Mapping[str, Any]], None] | None = None,
    python: str | None = None,
) -> CrawlResult:
    """Run ``job`` to the end in a new child process, calling ``on_event`` for each event."""
    child = CrawlProcess.start(extract=extraction_enabled(job.settings), python=python)
    return child.run(job, on_event)


def _wait_after_interrupt(child: subprocess.Popen[str], result: CrawlResult) -> None:
    try:
        assert child.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in child.stdout:
                event = _parse_event(line)
                if event is not None and event.get("event") == "closed":
                    result.stats = dict(event.get("stats") or {})
                    result.finish_reason = event.get("reason")
        child.wait()
    except KeyboardInterrupt:
        # A second Ctrl-C: tell the child to stop now (Scrapy flushes and exits).
        child.send_signal(signal.SIGINT)
        child.wait()


def _parse_event(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        logger.debug("Ignoring non-event output from the crawler: %r", line)
        return None
    return event if isinstance(event, dict) else None
