"""Start a crawl in a child process and follow its progress events.

A Twisted reactor runs once per process, and a crawl that crashes or is killed must not take
its caller with it, so every crawl runs as ``python -m crawler.run`` with a JSON job on the first
line of its stdin. The child prints one JSON event per line on stdout; its log goes to a file
in the data dir. Its stdin stays open, with nothing more written, until the child has exited:
its end of file tells the child that this process died (crawler.lifeline).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.exceptions import ArchiveError

__all__ = ["CrawlJob", "CrawlResult", "run_crawl_process"]

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


def run_crawl_process(
    job: CrawlJob,
    on_event: Callable[[Mapping[str, Any]], None] | None = None,
    python: str | None = None,
) -> CrawlResult:
    """Run ``job`` to the end in a child process, calling ``on_event`` for each event line."""
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
    payload = json.dumps(
        {"spider": job.spider, "spider_args": job.spider_args, "settings": settings}
    )
    env = dict(os.environ)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    try:
        child = subprocess.Popen(
            [python or sys.executable, "-m", "crawler.run"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
    except OSError as exc:
        raise ArchiveError(f"cannot start the crawler: {exc}") from exc
    result = CrawlResult(returncode=0, log_file=job.log_file)
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(payload + "\n")
        child.stdin.flush()
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
        # wait for it so its WARC files are closed and its last rows written.
        result.interrupted = True
        _wait_after_interrupt(child)
    finally:
        child.stdout.close()
    result.returncode = child.wait()
    child.stdin.close()
    if result.finish_reason == "shutdown":
        result.interrupted = True
    return result


def _wait_after_interrupt(child: subprocess.Popen[str]) -> None:
    try:
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
