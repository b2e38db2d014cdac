"""Walking a WARC file gzip member by gzip member, in bounded memory.

Each record of a morgue WARC file is one gzip member (``archive.warc.records``). ``scan`` reads a
file from a member boundary and yields, in file order, each record found (its WARC headers, where
its member starts and ends, and what is wrong with it: a digest that does not match, a block shorter
than its ``Content-Length``) or the damage found instead: a member that the end of the file cuts
short, data that does not inflate, bytes that are no gzip member at all. After damage it looks
for the next member that starts a WARC record and goes on from there, so one bad record costs
no other.

Members are inflated a piece at a time (at most ``_OUT`` bytes out for at most ``_CHUNK`` bytes
in), never whole: memory stays flat whatever the size of a record, and the time is linear in the
size of the file. The digests are checked as the bytes go by (``digests=True``).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "Damage",
    "ScannedRecord",
    "check_record",
    "complete_length",
    "read_member",
    "scan",
]

_CHUNK = 1 << 20  # compressed bytes read at a time
_OUT = 1 << 20  # decompressed bytes produced at a time
_FEED = 1 << 16  # compressed bytes given to zlib at a time
_MAX_HEAD = 1 << 20  # a WARC or HTTP head longer than this is damage, not a record
_GZIP_MAGIC = b"\x1f\x8b\x08"
_HTTP_TYPES = ("response", "request", "revisit")


@dataclass(slots=True)
class ScannedRecord:
    """One WARC record as read from its gzip member."""

    offset: int  # where its gzip member starts
    length: int  # the member's compressed length
    headers: dict[str, str]  # WARC headers, names lowercased, first value of each
    http_status: int | None = None  # response and revisit records
    http_headers: list[tuple[str, str]] = field(default_factory=list)
    payload: bytes | None = None  # the payload, only when ``keep`` asked for it
    problems: list[str] = field(default_factory=list)  # digests, lengths; empty when sound

    @property
    def rec_type(self) -> str:
        return self.headers.get("warc-type", "")

    @property
    def record_id(self) -> str | None:
        return self.headers.get("warc-record-id")

    @property
    def target_uri(self) -> str | None:
        return self.headers.get("warc-target-uri")

    @property
    def end(self) -> int:
        return self.offset + self.length

    def http_header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.http_headers:
            if key.lower() == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes of a WARC file that hold no readable record."""

    offset: int
    length: int  # up to the next readable member, or to the end of the file
    kind: str  # "cut": the file ends inside this member; "corrupt": it does not inflate;
    #            "not_gzip": these bytes are no gzip member; "not_warc": a member, but no record
    detail: str

    @property
    def end(self) -> int:
        return self.offset + self.length


class _Digest:
    """A running digest to compare with a ``WARC-*-Digest`` header (``sha1:BASE32`` or hex)."""

    def __init__(self, label: str) -> None:
        algorithm, _, self.expected = label.partition(":")
        self.algorithm = algorithm.strip().lower().replace("-", "")
        try:
            self.hash: hashlib._Hash | None = hashlib.new(self.algorithm)
        except (ValueError, TypeError):
            self.hash = None
        self.expected = self.expected.strip()

    def update(self, data: bytes | memoryview) -> None:
        if self.hash is not None:
            self.hash.update(data)

    def matches(self) -> bool:
        if self.hash is None:
            return True  # an algorithm we cannot compute is no evidence of damage
        digest = self.hash.digest()
        expected = self.expected.upper()
        return expected in (
            base64.b32encode(digest).decode("ascii"),
            digest.hex().upper(),
        ) or self.expected == base64.b64encode(digest).decode("ascii")


class _RecordParser:
    """Takes the decompressed bytes of one member and makes a ``ScannedRecord`` of them."""

    def __init__(
        self, offset: int, digests: bool, keep: Callable[[dict[str, str]], bool], max_keep: int
    ) -> None:
        self.offset = offset
        self.digests = digests
        self.keep_test = keep
        self.max_keep = max_keep
        self.head = bytearray()
        self.record: ScannedRecord | None = None
        self.failed: str | None = None
        self.remaining = 0  # block bytes still to come
        self.block_seen = 0
        self.trailer = bytearray()
        self.extra = 0  # bytes after the record's trailer
        self.block_digest: _Digest | None = None
        self.payload_digest: _Digest | None = None
        self.http_head: bytearray | None = None  # collecting the HTTP head of the block
        self.kept: bytearray | None = None

    def feed(self, data: bytes) -> None:
        if self.failed is not None or not data:
            return
        if self.record is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > _MAX_HEAD:
                    self.failed = "no end to the WARC header"
                return
            rest = bytes(self.head[end + 4 :])
            self._start(bytes(self.head[:end]))
            self.head = bytearray()
            if self.failed is not None:
                return
            data = rest
        self._block(data)

    def _start(self, head: bytes) -> None:
        lines = head.decode("utf-8", errors="replace").split("\r\n")
        if not lines[0].startswith("WARC/"):
            self.failed = "not a WARC record"
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        try:
            self.remaining = int(headers.get("content-length", ""))
        except ValueError:
            self.failed = "no Content-Length in the WARC header"
            return
        record = ScannedRecord(self.offset, 0, headers)
        self.record = record
        rec_type = record.rec_type
        if self.digests and headers.get("warc-block-digest"):
            self.block_digest = _Digest(headers["warc-block-digest"])
        is_http = headers.get("content-type", "").startswith("application/http")
        if is_http and rec_type in _HTTP_TYPES:
            self.http_head = bytearray()
        elif self.digests and headers.get("warc-payload-digest"):
            self.payload_digest = _Digest(headers["warc-payload-digest"])
        if self.keep_test(headers):
            self.kept = bytearray()

    def _block(self, data: bytes) -> None:
        if self.remaining:
            part = data[: self.remaining]
            data = data[self.remaining :]
            self.remaining -= len(part)
            self.block_seen += len(part)
            if self.block_digest is not None:
                self.block_digest.update(part)
            if self.http_head is not None:
                part = self._http(part)
            if part:
                if self.payload_digest is not None:
                    self.payload_digest.update(part)
                if self.kept is not None and len(self.kept) < self.max_keep:
                    self.kept += part[: self.max_keep - len(self.kept)]
        if data:
            need = 4 - len(self.trailer)
            self.trailer += data[:need]
            self.extra += len(data[need:])

    def _http(self, part: bytes) -> bytes:
        """Collect the HTTP head at the start of the block; returns what follows it."""
        assert self.http_head is not None and self.record is not None
        self.http_head += part
        end = self.http_head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.http_head) > _MAX_HEAD:
                self.record.problems.append("no end to the HTTP header")
                self.http_head = None
            return b""
        rest = bytes(self.http_head[end + 4 :])
        lines = bytes(self.http_head[:end]).decode("latin-1").split("\r\n")
        self.http_head = None
        self.record.http_headers = [
            (name.strip(), value.strip())
            for name, sep, value in (line.partition(":") for line in lines[1:])
            if sep
        ]
        first = lines[0].split(" ", 2)
        if self.record.rec_type != "request" and len(first) > 1 and first[1].isdigit():
            self.record.http_status = int(first[1])
        payload = self.record.headers.get("warc-payload-digest")
        # A revisit's payload digest is that of the record it refers to.
        if self.digests and payload and self.record.rec_type != "revisit":
            self.payload_digest = _Digest(payload)
        return rest

    def finish(self, length: int) -> ScannedRecord | str:
        """The record, or why the member held none."""
        if self.failed is not None:
            return self.failed
        if self.record is None:
            return "the gzip member ends inside the WARC header"
        record = self.record
        record.length = length
        if self.remaining:
            record.problems.append(
                f"block shorter than its Content-Length ({self.block_seen} of "
                f"{self.block_seen + self.remaining} bytes)"
            )
        elif bytes(self.trailer) != b"\r\n\r\n" or self.extra:
            record.problems.append("no record separator after the block, or bytes after it")
        if self.http_head is not None and not self.remaining:
            record.problems.append("no end to the HTTP header")
        if self.block_digest is not None and not self.remaining and not self.block_digest.matches():
            record.problems.append("block digest does not match WARC-Block-Digest")
        if (
            self.payload_digest is not None
            and not self.remaining
            and not self.payload_digest.matches()
        ):
            record.problems.append("payload digest does not match WARC-Payload-Digest")
        if self.kept is not None:
            record.payload = bytes(self.kept)
        return record


def _never(headers: dict[str, str]) -> bool:
    return False


def scan(
    path: Path,
    *,
    start: int = 0,
    digests: bool = True,
    keep: Callable[[dict[str, str]], bool] = _never,
    max_keep: int = 16 << 20,
) -> Iterator[ScannedRecord | Damage]:
    """The records and damage of the WARC file at ``path``, from offset ``start`` on.

    ``digests``: check block and payload digests (verification); off, only the structure is
    read (recovery). ``keep(headers)`` says which records' payloads to keep (up to
    ``max_keep`` bytes each), e.g. metadata records.
    """
    with open(path, "rb") as fh:
        fh.seek(start)
        yield from _Scanner(fh, start, digests, keep, max_keep).run()


class _Scanner:
    """Reads the file into a buffer that is never copied: zlib is fed slices of it, at most
    ``_FEED`` bytes at a time, so that what it copies past a member's end stays small."""

    def __init__(
        self,
        fh: BinaryIO,
        start: int,
        digests: bool,
        keep: Callable[[dict[str, str]], bool],
        max_keep: int,
    ) -> None:
        self.fh = fh
        self.digests = digests
        self.keep = keep
        self.max_keep = max_keep
        self.buf = b""  # bytes read from the file, from offset ``base`` on
        self.base = start
        self.at = 0  # index in ``buf`` of the current position

    @property
    def pos(self) -> int:
        return self.base + self.at

    def _fill(self, want: int) -> bool:
        """Have at least ``want`` bytes from the current position if the file has them."""
        if len(self.buf) - self.at >= want:
            return True
        rest = self.buf[self.at :]
        self.base += self.at
        self.at = 0
        chunks = [rest]
        have = len(rest)
        while have < want:
            chunk = self.fh.read(max(_CHUNK, want - have))
            if not chunk:
                break
            chunks.append(chunk)
            have += len(chunk)
        self.buf = b"".join(chunks)
        return have >= want

    def run(self) -> Iterator[ScannedRecord | Damage]:
        while True:
            if not self._fill(1):
                return
            start = self.pos
            if not self._fill(3) or not self.buf.startswith(_GZIP_MAGIC, self.at):
                yield self._skip(start, "not_gzip", "bytes that are no gzip member")
                continue
            yield self._member(start)

    def _member(self, start: int) -> ScannedRecord | Damage:
        parser = _RecordParser(start, self.digests, self.keep, self.max_keep)
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        view = memoryview(self.buf)
        try:
            while True:
                if self.at >= len(self.buf):
                    view.release()
                    if not self._fill(1):
                        parser.feed(inflater.flush())
                        if not inflater.eof:
                            return Damage(start, self.pos - start, "cut",
                                          "the file ends inside this record")  # fmt: skip
                        break
                    view = memoryview(self.buf)
                piece = view[self.at : self.at + _FEED]
                parser.feed(inflater.decompress(piece, _OUT))
                if inflater.eof:
                    self.at += len(piece) - len(inflater.unused_data)
                    break
                # Only what zlib has not consumed yet: after the end of a member it would keep
                # everything given to it, and a loop over that tail would never end.
                self.at += len(piece) - len(inflater.unconsumed_tail)
        except zlib.error as exc:
            view.release()
            return self._skip(start, "corrupt", f"gzip data does not inflate ({exc})")
        view.release()
        end = self.pos
        result = parser.finish(end - start)
        if isinstance(result, str):
            return Damage(start, end - start, "not_warc", result)
        return result

    def _skip(self, start: int, kind: str, detail: str) -> Damage:
        """Move past damage starting at ``start`` to the next member that holds a record."""
        self.at = max(self.at, start + 1 - self.base)
        while True:
            if not self._fill(3):
                self.at = len(self.buf)
                return Damage(start, self.pos - start, kind, detail)
            found = self.buf.find(_GZIP_MAGIC, self.at)
            if found < 0:
                self.at = len(self.buf) - 2
                continue
            self.at = found
            if self._starts_record():
                return Damage(start, self.pos - start, kind, detail)
            self.at += 1

    def _starts_record(self) -> bool:
        self._fill(4096)
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            head = inflater.decompress(self.buf[self.at : self.at + 4096], 16)
        except zlib.error:
            return False
        return head.startswith(b"WARC/")


def complete_length(path: Path, start: int = 0) -> int:
    """Where the last whole record of ``path`` ends: the length to cut a file back to when its
    writer died in the middle of a record. Damage before that record is left in place (cutting
    there would throw whole records away). ``start`` must be the offset of a record (or 0)."""
    end = start
    for item in scan(path, start=start, digests=False):
        if isinstance(item, ScannedRecord):
            end = item.end
    return end


def read_member(fh: BinaryIO, offset: int, limit: int | None = None) -> bytes:
    """The decompressed bytes of the gzip member at ``offset``; ``ValueError`` saying why when
    there is no whole, sound member there. ``limit``: refuse members that inflate past it."""
    fh.seek(offset)
    first = fh.read(_CHUNK)
    if not first.startswith(_GZIP_MAGIC):
        raise ValueError("no gzip member starts there" if first else "past the end of the file")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = bytearray()
    data = first
    try:
        while True:
            if not data:
                data = fh.read(_CHUNK)
                if not data:
                    out += inflater.flush()
                    if inflater.eof:
                        break
                    raise ValueError("the file ends inside the record (cut short)")
            out += inflater.decompress(data, _OUT)
            if limit is not None and len(out) > limit:
                raise ValueError(f"the record inflates past {limit} bytes")
            if inflater.eof:
                break
            data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise ValueError(f"its gzip data does not inflate ({exc})") from None
    return bytes(out)


def check_record(data: bytes, offset: int = 0) -> ScannedRecord:
    """Parse and check one decompressed record (``read_member``'s bytes); ``ValueError`` when
    they hold no WARC record. The record's ``problems`` say what is wrong with it."""
    parser = _RecordParser(offset, True, _never, 0)
    view = memoryview(data)
    for start in range(0, len(data), _OUT):
        parser.feed(bytes(view[start : start + _OUT]))
    result = parser.finish(0)
    if isinstance(result, str):
        raise ValueError(result)
    return result
