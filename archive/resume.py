"""Clean up after a crawl that was killed: finish its WARC files, make the DB agree with them.

A WARC writer holds an exclusive ``flock`` on its ``*.warc.gz.open`` file until it closes it, so a
``.open`` file that can be locked belongs to no live process. Such a file is cut back to its last
whole gzip member (each record is one member, so this drops at most a half-written record) and
renamed to its final name; capture rows pointing past the cut are removed (their URLs are then
not archived, and the next crawl fetches them again). Response records no capture points at
(``orphan_responses``) let that crawl re-fetch their URLs as revisits. Runs that are dead by
their heartbeat, or whose process on this host is gone, are marked ``interrupted``
(``archive.heartbeat``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, or_, select
from warcio.archiveiterator import ArchiveIterator

from archive.db import Database
from archive.heartbeat import close_dead_runs
from archive.models import Capture
from archive.sitemaps import parse_date
from archive.sources import PriorCapture
from archive.warc import OPEN_SUFFIX

__all__ = [
    "RecoveredFile",
    "complete_length",
    "finalise_stale_warcs",
    "orphan_responses",
    "recover_interrupted",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class RecoveredFile:
    name: str  # final name (without ".open")
    size_before: int
    size_after: int


def complete_length(path: Path) -> int:
    """Bytes of ``path`` taken up by whole gzip members, from the start."""
    end = 0
    pos = 0
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    member_start = 0
    try:
        with open(path, "rb") as fh:
            pending = b""
            while True:
                if not pending:
                    pending = fh.read(_CHUNK)
                    if not pending:
                        break
                    pos += len(pending)
                data = pending
                pending = b""
                while data:
                    decomp.decompress(data, _CHUNK)
                    while decomp.unconsumed_tail:
                        decomp.decompress(decomp.unconsumed_tail, _CHUNK)
                    if decomp.eof:
                        rest = decomp.unused_data
                        end = pos - len(rest) - len(pending)
                        member_start = end
                        decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
                        data = rest
                    else:
                        data = b""
    except zlib.error:
        logger.info("Corrupt gzip member at %d in %s", member_start, path)
    return end


def _unlocked(path: Path) -> bool:
    """True when no process holds the writer's lock on ``path``."""
    try:
        with open(path, "rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return True
    except OSError:
        return False


def finalise_stale_warcs(warc_dir: Path) -> list[RecoveredFile]:
    """Truncate and close every ``.open`` WARC file in ``warc_dir`` that no writer holds."""
    done: list[RecoveredFile] = []
    if not warc_dir.is_dir():
        return done
    for path in sorted(warc_dir.glob(f"*{OPEN_SUFFIX}")):
        if not _unlocked(path):
            continue
        size = path.stat().st_size
        keep = complete_length(path)
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        if keep < size:
            with open(path, "r+b") as fh:
                fh.truncate(keep)
        if keep == 0:
            path.unlink()
            logger.warning("Removed empty WARC file %s left by a killed crawl", path.name)
        else:
            os.replace(path, final)
            logger.warning(
                "Closed WARC file %s left by a killed crawl (%d of %d bytes kept)",
                final.name,
                keep,
                size,
            )
        done.append(RecoveredFile(final.name, size, keep))
    return done


def recover_interrupted(db: Database, warc_dir: Path) -> list[RecoveredFile]:
    """Finalise stale WARC files, drop captures pointing past their end, close dead runs."""
    recovered = finalise_stale_warcs(warc_dir)
    with db.session() as session:
        for item in recovered:
            removed = session.execute(
                delete(Capture)
                .where(
                    or_(
                        (Capture.warc_file == item.name)
                        & (Capture.warc_offset + Capture.warc_length > item.size_after),
                        (Capture.metadata_warc_file == item.name)
                        & (
                            Capture.metadata_warc_offset + Capture.metadata_warc_length
                            > item.size_after
                        ),
                    )
                )
                .execution_options(synchronize_session=False)
            )
            count = int(getattr(removed, "rowcount", 0) or 0)
            if count:
                logger.warning("Removed %d captures whose records %s lost", count, item.name)
        close_dead_runs(session)
    return recovered


def orphan_responses(
    db: Database, warc_dir: Path, files: list[RecoveredFile]
) -> list[PriorCapture]:
    """Response records of recovered files that no capture points at: pages the killed crawl had
    fetched and written but not yet stored. The next crawl re-fetches those URLs as re-visits of
    these records, so that their payload is not archived a second time."""
    found: list[PriorCapture] = []
    for item in files:
        path = warc_dir / item.name
        if not path.exists():
            continue
        try:
            with open(path, "rb") as fh:
                it = ArchiveIterator(fh)
                for record in it:
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    headers = record.rec_headers
                    http = {k.lower(): v for k, v in record.http_headers.headers}
                    when = parse_date(headers.get_header("WARC-Date"))
                    found.append(
                        PriorCapture(
                            url=headers.get_header("WARC-Target-URI") or "",
                            fetched_at=when or datetime.now(UTC),
                            http_status=int(record.http_headers.get_statuscode() or 0) or None,
                            warc_file=item.name,
                            warc_offset=it.get_record_offset(),
                            warc_record_id=headers.get_header("WARC-Record-ID"),
                            payload_digest=headers.get_header("WARC-Payload-Digest"),
                            warc_date=headers.get_header("WARC-Date"),
                            target_uri=headers.get_header("WARC-Target-URI"),
                            etag=http.get("etag"),
                            last_modified=http.get("last-modified"),
                        )
                    )
        except Exception as exc:  # warcio raises assorted errors on a damaged file
            logger.warning("Cannot read %s for orphan records: %s", item.name, exc)
    if not found:
        return found
    ids = [p.warc_record_id for p in found if p.warc_record_id]
    stored: set[str | None] = set()
    with db.session(readonly=True) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stored.update(
                session.scalars(
                    select(Capture.warc_record_id).where(Capture.warc_record_id.in_(chunk))
                )
            )
    return [p for p in found if p.warc_record_id not in stored and p.payload_digest and p.url]
