"""Read an archive: the library's ``open_archive``, and the archived record of a capture.

``Archive`` is what a face (or a notebook) holds while it reads: ``query`` finds captures
with the filters of ``morgue query``, ``capture`` gets one by id or newest by URL,
``history`` lists a page's captures, ``text`` gives the extracted article and ``record`` the
archived response from the WARC file, following a revisit to the record it repeats.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from archive.captures.table import capture_by_record_id, get_capture, latest_capture
from archive.db.engine import Database, open_existing_database
from archive.db.models import Capture
from archive.exceptions import InvalidInput, WarcError
from archive.extraction.article import decode_html
from archive.paths import DataPaths, data_paths
from archive.query.capture_query import (
    CaptureQuery,
    PageHistory,
    QueryRow,
    iter_query,
    page_history,
)
from archive.warc.records import ReadRecord, read_record

__all__ = ["Archive", "ArchivedRecord", "archived_record", "open_archive"]


@dataclass(frozen=True, slots=True)
class ArchivedRecord:
    """The response a capture archived: its WARC record (the original one for a revisit)."""

    capture_id: int
    warc_file: str
    warc_offset: int
    record: ReadRecord
    content_type: str | None

    @property
    def content(self) -> bytes:
        """The response body, as it came over the wire (content coding removed)."""
        return self.record.content

    @property
    def headers(self) -> dict[str, str]:
        """The WARC headers of the record."""
        return dict(self.record.warc_headers)

    def html(self) -> str:
        """The body decoded with the page's own character set."""
        return decode_html(self.content, self.content_type)


def archived_record(db: Database, warc_dir: Path, capture: Capture) -> ArchivedRecord:
    """The archived response of ``capture``, following revisits to the record they repeat.

    Raises ``InvalidInput`` when the capture archived no response (an unreachable page) and
    ``WarcError`` when its record is lost, damaged or a revisit of a record not here.
    """
    if capture.warc_file is None or capture.warc_offset is None:
        raise InvalidInput(f"capture {capture.id} has no archived response ({capture.reason})")
    if capture.record_error:
        raise WarcError(f"capture {capture.id}'s archived page is lost: {capture.record_error}")
    where = (capture.warc_file, capture.warc_offset)
    record = read_record(warc_dir, where)
    seen = {capture.warc_record_id}
    while record.rec_type == "revisit":
        # An unchanged page was stored as a revisit: its body is in the record it refers to.
        refers_to = dict(record.warc_headers).get("WARC-Refers-To")
        original = capture_by_record_id(db, refers_to) if refers_to else None
        if original is None or original.warc_record_id in seen:
            # Damage to the archive, not bad input (morgue verify --repair mends it).
            raise WarcError(
                f"capture {capture.id} is a revisit of {refers_to or 'an unknown record'}, "
                "which is not in this archive"
            )
        seen.add(original.warc_record_id)
        assert original.warc_file is not None and original.warc_offset is not None
        where = (original.warc_file, original.warc_offset)
        record = read_record(warc_dir, where)
    return ArchivedRecord(capture.id, where[0], where[1], record, capture.content_type)


class Archive:
    """An open archive; close it (or use ``with``) when done."""

    def __init__(self, paths: DataPaths, db: Database) -> None:
        self.paths = paths
        self.db = db

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def query(self, **filters: Any) -> Iterator[QueryRow]:
        """Captures matching ``filters``, the fields of ``CaptureQuery``: ``verdicts``,
        ``domains``, ``url_prefix``, ``since``, ``until``, ``states``, ``search``, ``latest``,
        ``sort``, ``limit``, ``with_text``, ``snippets``. A lone string for a tuple field is
        taken as one value. Newest first, or by relevance for a search."""
        for name in ("verdicts", "domains", "states"):
            if isinstance(filters.get(name), str):
                filters[name] = (filters[name],)
            elif name in filters:
                filters[name] = tuple(filters[name])
        try:
            query = CaptureQuery(**filters)
        except TypeError as exc:
            raise InvalidInput(f"unknown query filter: {exc}") from None
        return iter_query(self.db, query)

    def capture(self, target: int | str) -> Capture:
        """The capture with this id, or the newest capture of this URL."""
        found = (
            get_capture(self.db, target)
            if isinstance(target, int)
            else latest_capture(self.db, target)
        )
        if found is None:
            raise InvalidInput(
                f"no capture {'with id ' if isinstance(target, int) else 'of '}{target}"
            )
        return found

    def history(self, url: str) -> PageHistory:
        """Every capture of the page at ``url``, oldest first, with what changed."""
        return page_history(self.db, url)

    def text(self, target: int | str) -> str | None:
        """The extracted article text of a capture (None when there is none)."""
        return self.capture(target).text

    def record(self, target: int | str) -> ArchivedRecord:
        """The archived response of a capture, read from its WARC file."""
        return archived_record(self.db, self.paths.warc_dir, self.capture(target))


def open_archive(data_dir: str | Path | None = None, db_url: str | None = None) -> Archive:
    """Open an existing archive for reading (``InvalidInput`` when there is none there)."""
    paths = data_paths(data_dir, db_url)
    return Archive(paths, open_existing_database(paths.db_url))
