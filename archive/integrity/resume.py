"""After a crash: finish the WARC files a dead process left, make the DB agree with them.

A WARC writer holds an exclusive ``flock`` on its ``*.warc.gz.open`` file until it closes it, so a
``.open`` file that can be locked belongs to no live process. Such a file is cut back to the end
of its last whole record (each record is one gzip member, so this drops at most a half-written
one) and renamed to its final name. A capture row pointing past the cut keeps its row and its
text and gets ``record_error`` (its page then counts as not archived, and the next crawl fetches
it again); one whose metadata record the cut took loses its pointer to it (the row holds what the
record held). Those two are the columns of ``captures`` this module writes. Runs that are dead by
their heartbeat, or whose process on this host is gone, are marked ``interrupted``
(``archive.db.heartbeat``). Records that a run which did not finish wrote and never
stored are indexed as captures of that run (``archive.integrity.unstored``), once per run
(``runs.reconciled_at``), unless their page was stored again since (then they are superseded).

``recover_interrupted`` is what ``morgue crawl`` runs first; ``morgue verify --repair``
(``archive.integrity.verify``) does the same over the whole archive with these same functions.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from archive.db.engine import Database
from archive.db.heartbeat import close_dead_runs
from archive.db.heartbeat import live_runs as running_and_alive
from archive.db.models import Capture, Run
from archive.integrity.unstored import UnstoredFinder, index_unstored, run_of_warcinfo
from archive.warc.records import OPEN_SUFFIX
from archive.warc.scan import ScannedRecord, complete_length, scan

__all__ = [
    "RecoveredFile",
    "Recovery",
    "extract_indexed",
    "finalise_stale_warcs",
    "finalise_warc",
    "held_by_writer",
    "live_runs",
    "mark_past_cut",
    "recover_interrupted",
    "warc_run",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecoveredFile:
    name: str  # final name (without ".open")
    size_before: int
    size_after: int


@dataclass(slots=True)
class Recovery:
    """What resumption did."""

    files: list[RecoveredFile] = field(default_factory=list)
    marked: int = 0  # rows whose record the cut took (record_error set)
    interrupted: list[int] = field(default_factory=list)  # runs found dead
    indexed: int = 0  # unstored captures given their row
    extracted: int = 0  # of those, extracted from their record
    superseded: int = 0  # unstored pages not indexed: another process stored them since

    @property
    def did_something(self) -> bool:
        return bool(
            self.files or self.marked or self.interrupted or self.indexed or self.superseded
        )


def held_by_writer(path: Path) -> bool:
    """True when a live process holds the writer's lock on ``path``."""
    try:
        with open(path, "rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def warc_run(path: Path) -> int | None:
    """The run that wrote ``path``, from its first record (``warcinfo``)."""
    try:
        for item in scan(path, digests=False, keep=lambda h: h.get("warc-type") == "warcinfo"):
            return run_of_warcinfo(item) if isinstance(item, ScannedRecord) else None
    except OSError:
        return None
    return None


def finalise_warc(path: Path) -> RecoveredFile:
    """Cut a WARC file back to the end of its last whole record and, for a ``.open`` file,
    give it its final name (an empty one is removed)."""
    size = path.stat().st_size
    keep = complete_length(path)
    if keep < size:
        with open(path, "r+b") as fh:
            fh.truncate(keep)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    if keep == 0:
        path.unlink()
        logger.warning("Removed empty WARC file %s", path.name)
    elif final != path:
        os.replace(path, final)
        logger.warning(
            "Closed WARC file %s left by a dead process (%d of %d bytes kept)",
            final.name, keep, size,
        )  # fmt: skip
    elif keep < size:
        logger.warning("Cut %s back to its last whole record (%d of %d bytes)", path, keep, size)
    return RecoveredFile(final.name, size, keep)


def finalise_stale_warcs(warc_dir: Path) -> list[RecoveredFile]:
    """Truncate and close every ``.open`` WARC file in ``warc_dir`` that no writer holds."""
    if not warc_dir.is_dir():
        return []
    return [
        finalise_warc(path)
        for path in sorted(warc_dir.glob(f"*{OPEN_SUFFIX}"))
        if not held_by_writer(path)
    ]


def mark_past_cut(db: Database, files: Iterable[RecoveredFile]) -> int:
    """Set ``record_error`` on the captures whose response record a cut took (returns how
    many), and clear the pointers of those whose metadata record it took: the row holds what
    that record held."""
    count = 0
    with db.session() as session:
        for item in files:
            if item.size_after >= item.size_before:
                continue
            message = (
                f"{item.name} ends at {item.size_after}: the record was cut off when the "
                "process writing it died"
            )
            result = session.execute(
                update(Capture)
                .where(
                    Capture.warc_file == item.name,
                    Capture.warc_offset + Capture.warc_length > item.size_after,
                    Capture.record_error.is_(None),
                )
                .values(record_error=message)
                .execution_options(synchronize_session=False)
            )
            marked = int(getattr(result, "rowcount", 0) or 0)
            session.execute(
                update(Capture)
                .where(
                    Capture.metadata_warc_file == item.name,
                    Capture.metadata_warc_offset + Capture.metadata_warc_length > item.size_after,
                )
                .values(metadata_warc_file=None, metadata_warc_offset=None,
                        metadata_warc_length=None, metadata_record_id=None)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            if marked:
                logger.warning("%d captures lost their record when %s was cut", marked, item.name)
            count += marked
    return count


def live_runs(db: Database, warc_dir: Path) -> set[int]:
    """Runs that may still be writing: ``running`` and not known dead. A run that records no
    process (``morgue archive``) is live while a WARC file it writes is held open."""
    with db.session(readonly=True) as session:
        running = list(session.scalars(select(Run).where(Run.status == "running")))
        alive = running_and_alive(session, [run.id for run in running])
    # Runs from before heartbeats that recorded no process either: live only while they hold
    # a WARC file open.
    unknown = {
        run.id for run in running if run.alive_until is None and not (run.args or {}).get("pid")
    }
    live = alive - unknown
    if unknown and warc_dir.is_dir():
        for path in warc_dir.glob(f"*{OPEN_SUFFIX}"):
            if held_by_writer(path):
                run_id = warc_run(path)
                if run_id in unknown:
                    live.add(run_id)
    return live


def _close_dead_runs(db: Database) -> list[int]:
    with db.session() as session:
        return close_dead_runs(session)


def _runs_to_reconcile(db: Database) -> dict[int, datetime]:
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Run.id, Run.started_at).where(
                Run.status.in_(("interrupted", "failed")), Run.reconciled_at.is_(None)
            )
        ).all()
    return {run_id: started for run_id, started in rows}


def _files_since(warc_dir: Path, since: datetime) -> list[Path]:
    """Closed WARC files written to since ``since`` (their modification time says so)."""
    if not warc_dir.is_dir():
        return []
    cutoff = (since - timedelta(seconds=5)).timestamp()
    return sorted(p for p in warc_dir.glob("*.warc.gz") if p.stat().st_mtime >= cutoff)


def extract_indexed(db: Database, warc_dir: Path, capture_ids: list[int]) -> int:
    """Extract and judge captures indexed from their records, as ``morgue extract`` does;
    returns how many were extracted."""
    if not capture_ids:
        return 0
    from archive.captures.extraction_pass import EXTRACT_PREFIX, extract_archived
    from archive.warc.records import WarcWriter

    writer = WarcWriter.from_settings(warc_dir, prefix=EXTRACT_PREFIX)
    try:
        return sum(1 for _ in extract_archived(db, warc_dir, capture_ids, writer=writer))
    finally:
        writer.close()


def recover_interrupted(db: Database, warc_dir: Path, *, extract: bool = True) -> Recovery:
    """Finish what dead processes left: close their WARC files, mark the rows a cut took, close
    their runs, index what they wrote and never stored (and extract it, unless ``extract`` is
    off). Runs of live processes and files held by a writer are left alone."""
    report = Recovery()
    report.files = finalise_stale_warcs(warc_dir)
    report.marked = mark_past_cut(db, report.files)
    report.interrupted = _close_dead_runs(db)
    runs = _runs_to_reconcile(db)
    if not runs:
        return report
    finder = UnstoredFinder(db, pages_of=runs)
    live = live_runs(db, warc_dir)
    for path in _files_since(warc_dir, min(runs.values())):
        try:
            finder.scan_file(path, skip_runs=live)
        except OSError as exc:
            logger.warning("Cannot read %s: %s", path.name, exc)
    ids = index_unstored(db, finder.found)
    report.indexed = len(finder.found)
    report.superseded = len(finder.superseded)
    if extract:
        report.extracted = extract_indexed(db, warc_dir, ids)
    with db.session() as session:
        session.execute(
            update(Run).where(Run.id.in_(list(runs))).values(reconciled_at=datetime.now(UTC))
        )
    return report
