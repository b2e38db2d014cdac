"""WACZ packages (``morgue export --wacz``): the WARC records of the chosen captures (response,
redirect hops, metadata, the page's requisites and its screenshot) copied byte for byte into one
WARC file, packaged by py-wacz with a ``pages.jsonl`` made from the DB (title, capture time and
article text of each page), for ReplayWeb.page. A revisit record goes in with the record it
repeats, wherever that was written, so that the package replays on its own.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive import __version__
from archive.captures.table import capture_by_record_id
from archive.db.engine import Database
from archive.db.models import Capture, Requisite
from archive.exceptions import InvalidInput, WarcError
from archive.export.files import iso_time, replacing
from archive.query.capture_query import CaptureQuery, iter_query
from archive.warc.records import OPEN_SUFFIX

__all__ = ["WaczResult", "export_wacz"]


@dataclass(frozen=True, slots=True)
class WaczResult:
    path: Path
    pages: int  # captures with an archived response, listed in pages.jsonl
    records: int  # WARC records copied


def _locate(warc_dir: Path, name: str) -> Path:
    path = warc_dir / name
    if not path.exists() and (warc_dir / (name + OPEN_SUFFIX)).exists():
        return warc_dir / (name + OPEN_SUFFIX)
    return path


class _RecordCopier:
    """Copies whole gzip members (one record each) out of the data directory's WARC files."""

    def __init__(self, warc_dir: Path, out: IO[bytes]) -> None:
        self.warc_dir = warc_dir
        self.out = out
        self.copied: set[tuple[str, int]] = set()
        self._handles: dict[str, IO[bytes]] = {}

    def copy(self, name: str | None, offset: int | None, length: int | None) -> dict[str, str]:
        """Copy one record (once); returns its WARC headers."""
        if name is None or offset is None or length is None:
            return {}
        if name not in self._handles:
            path = _locate(self.warc_dir, name)
            try:
                self._handles[name] = open(path, "rb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise WarcError(f"cannot read {path}: {exc.strerror or exc}") from None
        fh = self._handles[name]
        fh.seek(offset)
        member = fh.read(length)
        if len(member) != length:
            raise WarcError(f"{name} ends before the record at offset {offset}")
        headers: dict[str, str] = {}
        for record in ArchiveIterator(io.BytesIO(member)):
            headers = dict(record.rec_headers.headers)
            break
        if (name, offset) not in self.copied:
            self.copied.add((name, offset))
            self.out.write(member)
        return headers

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()


def _copy_original(db: Database, copier: _RecordCopier, headers: dict[str, str]) -> None:
    """A revisit replays from the record it refers to: that record goes in the package too."""
    seen: set[str] = set()
    while headers.get("WARC-Type") == "revisit":
        refers = headers.get("WARC-Refers-To")
        if not refers or refers in seen:
            return
        seen.add(refers)
        original = capture_by_record_id(db, refers)
        if original is None:
            return  # morgue verify reports it
        headers = copier.copy(original.warc_file, original.warc_offset, original.warc_length)


def _copy_requisites(db: Database, copier: _RecordCopier, capture: Capture) -> None:
    """What the page loaded (images, stylesheets, fonts, scripts), each revisit with its
    original, and the screenshot of a page a browser rendered: the page replays as it was."""
    copier.copy(
        capture.screenshot_warc_file, capture.screenshot_warc_offset, capture.screenshot_warc_length
    )
    rows = select(Requisite).where(Requisite.capture_id == capture.id).order_by(Requisite.id)
    with db.session(readonly=True) as session:
        requisites = list(session.scalars(rows))
        for req in requisites:
            headers = copier.copy(req.warc_file, req.warc_offset, req.warc_length)
            if headers.get("WARC-Type") != "revisit" or not req.payload_digest:
                continue
            original = session.scalars(
                select(Requisite)
                .where(Requisite.payload_digest == req.payload_digest)
                .where(Requisite.revisit.is_(False))
                .where(Requisite.warc_file.is_not(None))
                .order_by(Requisite.id)
                .limit(1)
            ).first()
            if original is not None:
                copier.copy(original.warc_file, original.warc_offset, original.warc_length)


def _wacz_tool() -> list[str]:
    return [sys.executable, "-m", "archive.export.wacz_tool"]


def export_wacz(
    db: Database, q: CaptureQuery, warc_dir: Path, dest: Path, *, title: str = "morgue export"
) -> WaczResult:
    """Package the captures ``q`` finds as a WACZ file at ``dest``."""
    query = replace(q, with_text=True, snippets=False)
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="morgue-wacz-") as tmp:
        work = Path(tmp)
        warc_path = work / "morgue-export.warc.gz"
        pages_path = work / "pages.jsonl"
        pages = 0
        with open(warc_path, "wb") as warc_fh, open(pages_path, "w", encoding="utf-8") as pages_fh:
            writer = WARCWriter(warc_fh, gzip=True, warc_version="WARC/1.1")
            writer.write_record(
                writer.create_warcinfo_record(
                    warc_path.name,
                    {"software": f"morgue/{__version__}", "format": "WARC File Format 1.1"},
                )
            )
            header = {"format": "json-pages-1.0", "id": "pages", "title": title, "hasText": True}
            pages_fh.write(json.dumps(header) + "\n")
            copier = _RecordCopier(Path(warc_dir), warc_fh)
            try:
                for row in iter_query(db, query):
                    c = row.capture
                    for hop in c.redirects or []:
                        copier.copy(hop.get("warc_file"), hop.get("warc_offset"),
                                    hop.get("warc_length"))  # fmt: skip
                    response = copier.copy(c.warc_file, c.warc_offset, c.warc_length)
                    _copy_original(db, copier, response)
                    copier.copy(c.metadata_warc_file, c.metadata_warc_offset,
                                c.metadata_warc_length)  # fmt: skip
                    _copy_requisites(db, copier, c)
                    if not response:
                        continue  # nothing came back over HTTP: no page to replay
                    page = {
                        "id": f"capture-{c.id}",
                        "url": response.get("WARC-Target-URI") or c.final_url or c.url,
                        "ts": response.get("WARC-Date") or iso_time(c.fetched_at),
                        "title": c.title or c.url,
                        "text": c.text or "",
                    }
                    pages_fh.write(json.dumps(page, ensure_ascii=False) + "\n")
                    pages += 1
            finally:
                copier.close()
        if not pages:
            raise InvalidInput("no archived page matches: nothing to put in a WACZ file")
        packed = work / "export.wacz"
        proc = subprocess.run(
            [*_wacz_tool(), "create", "-o", str(packed), "--pages", str(pages_path),
             "--copy-pages", "--title", title, str(warc_path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0 or not packed.exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()
            raise WarcError(f"py-wacz could not create the package: {last[-1] if last else '?'}")
        with replacing(dest, "wb") as out, open(packed, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        return WaczResult(dest, pages, len(copier.copied))


# -- CDXJ ---------------------------------------------------------------------------------------
