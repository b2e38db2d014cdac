"""Exports that other tools read: JSON Lines with text, WACZ packages, CDXJ indexes.

- ``export_jsonl``: one JSON object per capture, the contract fields plus the article text.
- ``export_wacz``: the WARC records of the chosen captures (response, redirect hops, metadata)
  copied byte for byte into one WARC file, packaged by py-wacz with a ``pages.jsonl`` made from
  the DB (title, capture time and article text of each page), for ReplayWeb.page.
- ``write_cdxj_index``: a sorted CDXJ index of the data directory's closed WARC files
  (cdxj-indexer), whose ``filename`` fields are relative to the WARC directory, so that a pywb
  collection whose ``archive_paths`` is that directory replays them.

Each writes to a temporary file beside its destination and renames it at the end: an error
leaves nothing half-written.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive import __version__
from archive.db import Database
from archive.exceptions import InvalidInput, WarcError
from archive.models import Capture
from archive.probe_sharing import is_probe_url
from archive.query import CaptureQuery, iter_query
from archive.store import capture_by_record_id, capture_to_json
from archive.warc import OPEN_SUFFIX
from archive.warcscan import Damage, scan

__all__ = [
    "IndexResult",
    "WaczResult",
    "export_jsonl",
    "export_wacz",
    "jsonl_record",
    "warc_files",
    "write_cdxj_index",
]

# The WARC record types a replay index needs (metadata and request records are not pages).
_INDEXED_RECORDS = "response,revisit,resource"


def _umask() -> int:
    """The process's umask, read from /proc where it can be (setting it is process-wide)."""
    try:
        with open("/proc/self/status", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _replacing(dest: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A temporary file beside ``dest`` that becomes ``dest`` only if the block succeeds."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write {dest}: {exc.strerror or exc}") from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            # mkstemp makes the file private (0600); an export is for other readers (a web
            # server, pywb under another user): the mode open() would give, 0666 less the umask.
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            yield fh
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat().replace("+00:00", "Z"))


def jsonl_record(capture: Capture) -> dict[str, Any]:
    """The contract fields, then the page, its state and the article's description and text."""
    data = capture_to_json(capture)
    data.update(
        {
            "page_url": capture.page.url,
            "state": capture.page.state,
            "dead_since": _iso(capture.page.dead_since),
            "canonical_url": capture.canonical_url,
            "content_type": capture.content_type,
            "description": capture.description,
            "text": capture.text,
        }
    )
    return data


def export_jsonl(db: Database, q: CaptureQuery, dest: Path | None) -> int:
    """Write the captures ``q`` finds as JSON Lines to ``dest`` (None: stdout); returns how many."""
    query = CaptureQuery(**{**_fields(q), "with_text": True, "snippets": False})
    if dest is None:
        return _write_jsonl(db, query, sys.stdout)
    with _replacing(dest) as fh:
        return _write_jsonl(db, query, fh)


def _write_jsonl(db: Database, q: CaptureQuery, fh: IO[str]) -> int:
    count = 0
    for row in iter_query(db, q):
        fh.write(json.dumps(jsonl_record(row.capture), ensure_ascii=False) + "\n")
        count += 1
    fh.flush()
    return count


def _fields(q: CaptureQuery) -> dict[str, Any]:
    return {name: getattr(q, name) for name in CaptureQuery.__dataclass_fields__}


# -- WACZ ---------------------------------------------------------------------------------------


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


def _wacz_tool() -> list[str]:
    return [sys.executable, "-m", "archive.wacz_tool"]


def export_wacz(
    db: Database, q: CaptureQuery, warc_dir: Path, dest: Path, *, title: str = "morgue export"
) -> WaczResult:
    """Package the captures ``q`` finds as a WACZ file at ``dest``."""
    query = CaptureQuery(**{**_fields(q), "with_text": True, "snippets": False})
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
                    if not response:
                        continue  # nothing came back over HTTP: no page to replay
                    page = {
                        "id": f"capture-{c.id}",
                        "url": response.get("WARC-Target-URI") or c.final_url or c.url,
                        "ts": response.get("WARC-Date") or _iso(c.fetched_at),
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
        with _replacing(dest, "wb") as out, open(packed, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        return WaczResult(dest, pages, len(copier.copied))


# -- CDXJ ---------------------------------------------------------------------------------------


def warc_files(warc_dir: Path, *, include_open: bool = False) -> list[Path]:
    """The WARC files of a data directory, in name order (open ones only when asked)."""
    directory = Path(warc_dir)
    if not directory.is_dir():
        return []
    found = sorted(directory.glob("*.warc.gz"))
    if include_open:
        found += sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}"))
    return found


class _WithoutProbes:
    """A text writer that passes CDXJ lines on, except those of soft-404 probes."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.left_out = 0
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            if _is_probe_line(line):
                self.left_out += 1
            else:
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.write("\n")
        self.out.flush()


def _is_probe_line(line: str) -> bool:
    if "morgue-" not in line:  # every probe URL has it; most lines do not: skip the JSON
        return False
    try:
        fields = json.loads(line.split(" ", 2)[2])
    except (IndexError, ValueError):
        return False
    return isinstance(fields, dict) and is_probe_url(str(fields.get("url") or ""))


@dataclass(frozen=True, slots=True)
class IndexResult:
    files: int
    lines: int
    #: ``file:offset`` of each stretch of a file that holds no readable record (a record cut
    #: short, gzip data that does not inflate): what the index could not include.
    unreadable: list[str]
    probes_left_out: int = 0


class _Stretch(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a WARC file, as a file whose ``tell`` is the position in
    the whole file: the indexer records the offsets a reader will seek to."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self.path = path
        self._fh = open(path, "rb")  # noqa: SIM115 - closed with this object
        self._fh.seek(start)
        self._pos, self._end = start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._end - self._pos)
        if want <= 0:
            return 0
        data = self._fh.read(want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def __fspath__(self) -> str:  # the name the index gives, relative to the WARC directory
        return str(self.path)

    def close(self) -> None:
        self._fh.close()
        super().close()


def _readable_stretches(path: Path) -> tuple[list[tuple[int, int]], list[str]]:
    """The stretches of ``path`` made of whole records, and where each damaged one starts."""
    stretches: list[tuple[int, int]] = []
    damaged: list[str] = []
    start: int | None = None
    end = 0
    for item in scan(path, digests=False):
        if isinstance(item, Damage):
            if start is not None:
                stretches.append((start, end))
            start = None
            damaged.append(f"{path.name}:{item.offset}")
        else:
            start = item.offset if start is None else start
            end = item.end
    if start is not None:
        stretches.append((start, end))
    return stretches, damaged


def write_cdxj_index(
    warc_dir: Path, dest: Path, *, include_open: bool = False, include_probes: bool = False
) -> IndexResult:
    """Index the WARC files into a sorted CDXJ file.

    A damaged stretch of a file (a record cut short, data that does not inflate) is left out
    and named in the result; the records before and after it are indexed. The soft-404 probes
    (sibling URLs made not to exist, ``archive.probe_sharing``) stay in the WARC files but are
    left out of the index unless ``include_probes``: they are no pages of the site, and a
    replay's URL listing would be full of them.
    """
    from cdxj_indexer.main import CDXJIndexer  # imported when used: it loads surt, tldextract

    files = warc_files(warc_dir, include_open=include_open)
    if not files:
        raise InvalidInput(f"no WARC files in {warc_dir}")
    inputs: list[_Stretch] = []
    unreadable: list[str] = []
    try:
        for path in files:
            stretches, damaged = _readable_stretches(path)
            unreadable += damaged
            inputs += [_Stretch(path, start, end) for start, end in stretches]
        opts = {"sort": True, "records": _INDEXED_RECORDS, "dir_root": str(Path(warc_dir))}
        with _replacing(dest) as fh:
            out = fh if include_probes else _WithoutProbes(fh)
            try:
                CDXJIndexer(out, inputs, **opts).process_all()
            except Exception as exc:  # the indexer raises plain errors on a damaged file
                raise WarcError(f"cannot index {warc_dir}: {exc}") from exc
            out.flush()
    except OSError as exc:
        raise WarcError(f"cannot read {warc_dir}: {exc.strerror or exc}") from exc
    finally:
        for stretch in inputs:
            stretch.close()
    with open(dest, encoding="utf-8") as fh:
        lines = sum(1 for line in fh if line.strip())
    left_out = out.left_out if isinstance(out, _WithoutProbes) else 0
    return IndexResult(len(files), lines, unreadable, left_out)
