"""Which payloads are already archived: the deduplication of page requisites by digest.

A logo or a stylesheet shared by a thousand articles is stored once; every later fetch of the
same bytes is written as a ``revisit`` record that names the first one. The index answers "is
this payload archived, and where" from what this crawl wrote, then from the ``requisites`` table
(earlier runs). It is used from the WARC writer threads, so it is thread-safe, and two threads
that meet the same new payload at once do not both write it: the second waits for the first
(``claim``, then ``settle``).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive.db.engine import Database
from archive.db.models import Requisite

__all__ = ["ArchivedPayload", "PayloadIndex"]

logger = logging.getLogger(__name__)

# Digests remembered in memory at most: a crawl's distinct requisites, bounded so that memory
# stays flat on a long crawl (the DB answers for the ones forgotten).
_MAX_REMEMBERED = 100_000


@dataclass(frozen=True, slots=True)
class ArchivedPayload:
    """The record that holds a payload: what a revisit record refers to."""

    target_uri: str
    warc_date: str
    record_id: str | None


class PayloadIndex:
    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._known: dict[str, Future[ArchivedPayload | None]] = {}

    def claim(self, digest: str) -> ArchivedPayload | None:
        """Where ``digest``'s payload is archived, or None: the caller is then to write it and
        call ``settle`` (every other caller with this digest waits for that)."""
        while True:
            with self._lock:
                pending = self._known.get(digest)
                if pending is None:
                    if len(self._known) >= _MAX_REMEMBERED:
                        self._forget_settled()
                    mine = self._known[digest] = Future()
                    break
            found = pending.result()
            if found is not None:
                return found
            # Its writer failed: the first caller to see it becomes the owner instead.
            with self._lock:
                if self._known.get(digest) is pending:
                    mine = self._known[digest] = Future()
                    break
        stored = self._stored(digest)
        if stored is not None:
            mine.set_result(stored)
        return stored

    def settle(self, digest: str, payload: ArchivedPayload | None) -> None:
        """The claimed payload is written (``payload``), or could not be (None)."""
        with self._lock:
            pending = self._known.get(digest)
        if pending is not None and not pending.done():
            pending.set_result(payload)

    def _forget_settled(self) -> None:
        for digest in [d for d, f in self._known.items() if f.done()][: _MAX_REMEMBERED // 2]:
            del self._known[digest]

    def _stored(self, digest: str) -> ArchivedPayload | None:
        """The first record of an earlier run with this payload, from the DB."""
        if self.db is None:
            return None
        stmt = (
            select(Requisite.url, Requisite.warc_date, Requisite.warc_record_id)
            .where(Requisite.payload_digest == digest)
            .where(Requisite.revisit.is_(False))
            .where(Requisite.warc_record_id.is_not(None))
            .where(Requisite.warc_date.is_not(None))
            .order_by(Requisite.id)
            .limit(1)
        )
        try:
            with self.db.session(readonly=True) as session:
                row = session.execute(stmt).first()
        except SQLAlchemyError as exc:
            # Without it the payload is written again: more bytes, nothing lost.
            logger.info("Cannot look up archived payloads: %s", exc)
            return None
        if row is None:
            return None
        url, warc_date, record_id = row
        return ArchivedPayload(url, str(warc_date), record_id)
