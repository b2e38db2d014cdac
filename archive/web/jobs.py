"""Background archive jobs: "archive this URL" and "recheck" run ``archive_urls`` in a thread.

A job keeps what its page shows while it runs: a line per event, the captures it stored and how
it ended. Jobs live in memory; the captures they store are in the archive like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archive.exceptions import ArchiveError
from archive.paths import DataPaths
from archive.runs.archiving import ArchiveRun, archive_urls
from archive.runs.events import CrawlEvent

__all__ = ["Job", "JobBoard", "Runner"]

logger = logging.getLogger(__name__)

Runner = Callable[..., ArchiveRun]  # archive_urls' signature


@dataclass(slots=True)
class Job:
    id: int
    kind: str  # archive, recheck
    urls: list[str]
    status: str = "queued"  # queued, running, finished, interrupted, failed
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    lines: list[str] = field(default_factory=list)
    capture_ids: list[int] = field(default_factory=list)
    run_id: int | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status not in ("queued", "running")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "urls": self.urls,
            "status": self.status,
            "done": self.done,
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "lines": list(self.lines),
            "capture_ids": list(self.capture_ids),
            "run_id": self.run_id,
            "error": self.error,
        }


class JobBoard:
    """Starts jobs and answers for them; one lock guards every job's fields."""

    def __init__(
        self,
        paths: DataPaths,
        settings: Mapping[str, Any] | None = None,
        runner: Runner = archive_urls,
    ) -> None:
        self.paths = paths
        self.settings = dict(settings or {})
        self.runner = runner
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, kind: str, urls: Sequence[str]) -> Job:
        with self._lock:
            job = Job(len(self._jobs) + 1, kind, list(urls))
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job,), name=f"job-{job.id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return job

    def get(self, job_id: int) -> dict[str, Any] | None:
        """A snapshot of the job, as JSON (None when there is no such job)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.to_json()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the jobs started so far (tests, and a server that stops)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _event(self, job: Job, event: CrawlEvent) -> None:
        if event.kind == "capture":
            line = f"{event.verdict or '?'} {event.url or ''}"
        elif event.kind == "source":
            line = f"source {event.data.get('url', '')}"
        else:
            return
        with self._lock:
            job.lines.append(line)

    def _run(self, job: Job) -> None:
        with self._lock:
            job.status = "running"
        try:
            run = self.runner(
                job.urls,
                data_dir=self.paths.data_dir,
                db_url=self.paths.db_url,
                settings=self.settings or None,
                on_event=lambda event: self._event(job, event),
            )
        except ArchiveError as exc:
            with self._lock:
                job.status, job.error = "failed", str(exc)
            return
        except Exception as exc:  # a job must end with a status the page can show
            logger.exception("Job %s failed", job.id)
            with self._lock:
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            job.run_id = run.run_id
            job.capture_ids = [capture.id for capture in run.captures]
            job.status = run.status
