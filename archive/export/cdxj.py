"""CDXJ indexes (``morgue index``): a sorted index of the data directory's closed WARC files
(cdxj-indexer), whose ``filename`` fields are relative to the WARC directory, so that a pywb
collection whose ``archive_paths`` is that directory replays them.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archive.exceptions import InvalidInput, WarcError
from archive.export.files import replacing
from archive.liveness.probe_sharing import is_probe_url
from archive.warc.records import OPEN_SUFFIX
from archive.warc.scan import Damage, scan

__all__ = ["IndexResult", "warc_files", "write_cdxj_index"]


# The WARC record types a replay index needs (metadata and request records are not pages).
_INDEXED_RECORDS = "response,revisit,resource"


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
    (sibling URLs made not to exist, ``archive.liveness.probe_sharing``) stay in the WARC files but
    are left out of the index unless ``include_probes``: they are no pages of the site, and a
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
        with replacing(dest) as fh:
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
