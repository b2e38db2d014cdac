"""WARC/1.1 writing and reading back, on top of warcio.

Each record is one gzip member, written with a single ``write`` and flushed, so that a process
killed between records leaves a file whose every record is whole. A write that fails (a full
disk, a file system gone read-only) is cut back to where its group of records began, so the file
still ends with a whole record, and the writer refuses every later write with the same error:
the caller stops instead of losing page after page. A file is named
``PREFIX-TIMESTAMP-SERIAL-PID~HOST.warc.gz`` (the IIPC/Heritrix convention) and carries the suffix
``.open`` until it is closed; it is rotated once it grows past ``max_size``.

warcio compresses at level 9, about 26 MB/s per core on this project's machines; the level is a
parameter here, with a faster default.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import socket
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import BaseWARCWriter

import archive.defaults as defaults
from archive import USER_AGENT, __version__
from archive.exceptions import WarcError, WarcWriteError
from archive.warc.content_coding import decode_content
from archive.warc.scan import check_record, read_member

__all__ = [
    "DEFAULT_GZIP_LEVEL",
    "DEFAULT_MAX_SIZE",
    "METADATA_URI_PREFIX",
    "OPEN_SUFFIX",
    "REQUISITE_OF",
    "REVISIT_PROFILE",
    "ReadRecord",
    "RecordLocation",
    "WarcWriter",
    "check_writable",
    "payload_digest",
    "read_record",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = defaults.WARC_MAX_SIZE
DEFAULT_GZIP_LEVEL = defaults.WARC_GZIP_LEVEL  # why 4: archive.defaults
OPEN_SUFFIX = ".open"
METADATA_URI_PREFIX = "metadata://morgue/"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
#: A WARC extension field on the response (or revisit) record of a page requisite: the URL of
#: the page it was fetched for (an image, a stylesheet: not a page of its own).
REQUISITE_OF = "WARC-Requisite-Of"
# The body we store is de-chunked by the HTTP client, so a Transfer-Encoding header kept under its
# own name would make replay tools try to de-chunk it again.
_RENAMED_HEADERS = {"transfer-encoding": "X-Crawler-Transfer-Encoding"}


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where one record lives: enough to read it back with a single seek."""

    file: str  # file name relative to the WARC directory (final name, without ".open")
    offset: int  # byte offset of the record's gzip member
    length: int  # compressed length of the member
    record_id: str  # WARC-Record-ID, "<urn:uuid:...>"
    payload_digest: str | None  # WARC-Payload-Digest, "sha1:BASE32", None when no payload


class _DigestedBody(io.BytesIO):
    """A response body with its payload and block digests, computed once over the whole body.

    warcio would hash the body in 16 KiB pieces, twice, letting go of the GIL and taking it back
    for each piece: on the writer thread that means waiting on the reactor thread dozens of
    times per page. Two calls over the whole body do the same work with two handovers.
    """

    def __init__(self, body: bytes, http_head: bytes) -> None:
        super().__init__(body)
        block = hashlib.sha1(http_head)
        block.update(body)
        self.digests = (
            payload_digest(body),
            "sha1:" + base64.b32encode(block.digest()).decode("ascii"),
        )


class _Serializer(BaseWARCWriter):  # type: ignore[misc]
    """warcio's record builder, writing uncompressed so that we choose the gzip level."""

    def __init__(self, owner: WarcWriter) -> None:
        super().__init__(gzip=False, warc_version="1.1")
        self._owner = owner

    def ensure_digest(self, record: Any, block: bool = True, payload: bool = True) -> None:
        known = record.raw_stream.digests if isinstance(record.raw_stream, _DigestedBody) else None
        if known is None:
            super().ensure_digest(record, block=block, payload=payload)
            return
        # The headers go where warcio puts them: the payload digest when the record is built,
        # the block digest when it is written.
        if payload and not record.rec_headers.get_header("WARC-Payload-Digest"):
            record.rec_headers.add_header("WARC-Payload-Digest", known[0])
        if block and not record.rec_headers.get_header("WARC-Block-Digest"):
            record.rec_headers.add_header("WARC-Block-Digest", known[1])

    def _make_warc_id(self) -> str:
        return self._owner.new_record_id()

    def curr_warc_date(self) -> str:
        return self._owner.warc_date()

    def serialize(self, record: Any) -> bytes:
        buf = io.BytesIO()
        self._write_warc_record(buf, record)
        return buf.getvalue()


class WarcWriter:
    """Writes records into rotating WARC files in one directory.

    ``hostname``, ``now`` and ``new_record_id`` are the seams a test overrides to get byte-exact
    output. Thread-safe: several threads may write at once, each group of records (request and
    response, or metadata) written whole and together into one file.
    """

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = defaults.WARC_PREFIX,
        max_size: int = DEFAULT_MAX_SIZE,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        info: Mapping[str, str] | None = None,
        hostname: str | None = None,
    ) -> None:
        if not 0 <= gzip_level <= 9:
            raise WarcError(f"gzip level must be between 0 and 9, not {gzip_level}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.gzip_level = gzip_level
        self.info = dict(info or {})
        self.hostname = hostname or socket.gethostname()
        self._serializer = _Serializer(self)
        self._lock = threading.Lock()
        # Unbuffered: a failed write must leave no bytes behind in a buffer that a later flush
        # or close would append after the cut.
        self._file: io.FileIO | None = None
        self._name: str | None = None
        self._serial = 0
        self._warcinfo_id: str | None = None
        self._sealed = False
        self._failed: str | None = None  # why writing stopped for good (a write error)
        self._torn = False  # the current file could not be cut back after a failed write
        self.files_written: list[str] = []
        self.records_written = 0
        self.bytes_written = 0

    @classmethod
    def from_settings(
        cls,
        directory: Path,
        settings: defaults.SettingsLike | None = None,
        *,
        prefix: str | None = None,
    ) -> WarcWriter:
        """A writer as a crawl's settings make one (``WARC_PREFIX``, ``WARC_MAX_SIZE``,
        ``WARC_GZIP_LEVEL``, ``WARC_HOSTNAME``, and for the warcinfo record ``USER_AGENT``,
        ``ROBOTSTXT_OBEY`` and ``WARC_IS_PART_OF``); what ``settings`` leaves out has its
        default. The crawl and ``morgue extract`` both build theirs here."""
        given: defaults.SettingsLike = settings if settings is not None else {}
        info = {"http-header-user-agent": str(given.get("USER_AGENT") or USER_AGENT)}
        robots = given.get("ROBOTSTXT_OBEY")
        if robots is not None:  # a pass that fetches nothing has no robots policy to state
            info["robots"] = "obey" if defaults.flag(robots) else "ignore"
        info["isPartOf"] = str(given.get("WARC_IS_PART_OF") or "")
        return cls(
            Path(directory),
            prefix=prefix or str(defaults.setting(settings, "WARC_PREFIX")),
            max_size=int(defaults.setting(settings, "WARC_MAX_SIZE")),
            gzip_level=int(defaults.setting(settings, "WARC_GZIP_LEVEL")),
            info=info,
            # A distributed worker's id: the host part of its files' IIPC names.
            hostname=str(given.get("WARC_HOSTNAME") or "") or None,
        )

    # -- seams -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_record_id(self) -> str:
        return str(self._serializer.parser.make_warc_id())

    def host_tag(self) -> str:
        """The HOST part of file names: process id and host name, so writers never collide."""
        return f"{os.getpid()}~{self.hostname}".replace("-", "_").replace("/", "_")

    def warc_date(self) -> str:
        return str(datetime_to_iso_date(self.now().replace(tzinfo=None), use_micros=True))

    # -- files -------------------------------------------------------------------------------

    @property
    def current_file(self) -> str | None:
        return self._name

    def _next_name(self) -> str:
        stamp = self.now().strftime("%Y%m%d%H%M%S%f")[:17]
        return f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host_tag()}.warc.gz"

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            name = self._next_name()
            self._serial += 1
            try:
                # "x": two writers that pick the same name must not share a file.
                self._file = open(self.directory / (name + OPEN_SUFFIX), "xb", buffering=0)  # noqa: SIM115
            except FileExistsError:
                continue
            except OSError as exc:
                self._failed = f"cannot create a WARC file in {self.directory}: {_os_error(exc)}"
                raise WarcWriteError(self._failed) from exc
            break
        # Held until the file is closed: a ``.open`` file nobody holds is left over from a
        # killed process (archive.integrity.resume finalises those).
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # pragma: no cover - a fresh "x" file cannot be locked by another
            logger.warning("Cannot lock %s", name)
        self._name = name
        logger.info("Opened WARC file %s", name)
        info = {
            "software": f"morgue/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "hostname": self.hostname,
            **self.info,
        }
        record = self._serializer.create_warcinfo_record(name, info)
        record.rec_headers.replace_header("Content-Type", "application/warc-fields")
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._append_locked([record], [self._member(record)])

    def close(self) -> None:
        """Close the current file and drop its ``.open`` suffix."""
        with self._lock:
            self._close_locked()

    def seal(self) -> None:
        """Close the current file for good: any later write raises ``WarcError``.

        For a crawl stopped by force, whose threads may still be storing: a record written
        after the files were closed would land in a new file that nobody closes.
        """
        with self._lock:
            self._sealed = True
            self._close_locked()

    def _close_locked(self) -> None:
        if self._file is None or self._name is None:
            return
        name, file = self._name, self._file
        self._file = None
        self._name = None
        self._warcinfo_id = None
        open_path = self.directory / (name + OPEN_SUFFIX)
        try:
            empty = file.tell() == 0
            file.close()
            if self._torn:
                # Its end is a record cut short: leave it open for archive.integrity.resume to cut
                # back.
                logger.error("Left %s open: it ends with a record cut short", open_path.name)
            elif empty:  # not even its warcinfo record could be written
                open_path.unlink()
            else:
                os.replace(open_path, self.directory / name)
                logger.info("Closed WARC file %s", name)
                self.files_written.append(name)
        except OSError as exc:
            # Its records are whole: the next crawl's resumption closes it.
            logger.error("Cannot close WARC file %s: %s", open_path, _os_error(exc))

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- records -----------------------------------------------------------------------------

    def _member(self, record: Any) -> bytes:
        raw = self._serializer.serialize(record)
        compressor = zlib.compressobj(self.gzip_level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return compressor.compress(raw) + compressor.flush()

    def _members(self, records: Sequence[Any], warcinfo_id: str | None) -> list[bytes]:
        members = []
        for record in records:
            if warcinfo_id:
                record.rec_headers.replace_header("WARC-Warcinfo-ID", warcinfo_id)
            stream = getattr(record, "raw_stream", None)
            if stream is not None:
                stream.seek(0)  # serialised again after a rotation: read the payload anew
            members.append(self._member(record))
        return members

    def _ready_locked(self) -> str | None:
        """Make sure a file with room is open; returns its warcinfo record's id."""
        if self._failed is not None:
            raise WarcWriteError(self._failed)
        if self._sealed:
            raise WarcError("the WARC writer is sealed: the crawl was stopped")
        if self._file is not None and self._file.tell() >= self.max_size:
            self._close_locked()
        if self._file is None:
            self._open()
        return self._warcinfo_id

    def _append_locked(self, records: Sequence[Any], members: list[bytes]) -> list[RecordLocation]:
        """Append compressed records to the current file: one write and one flush for all.

        On a writer thread each call into the OS lets go of the GIL, and taking it back means
        waiting for the reactor thread.
        """
        assert self._file is not None and self._name is not None
        offset = self._file.tell()
        try:
            _write_all(self._file, b"".join(members))
        except OSError as exc:
            self._cut(offset)
            self._failed = (
                f"cannot write to WARC file {self.directory / self._name}: {_os_error(exc)}"
            )
            raise WarcWriteError(self._failed) from exc
        locations = []
        for record, member in zip(records, members, strict=True):
            locations.append(
                RecordLocation(
                    file=self._name,
                    offset=offset,
                    length=len(member),
                    record_id=record.rec_headers.get_header("WARC-Record-ID"),
                    payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
                )
            )
            offset += len(member)
        self.records_written += len(members)
        self.bytes_written += sum(len(m) for m in members)
        return locations

    def _cut(self, offset: int) -> None:
        """Take a failed write's bytes off the end of the current file (needs no free space)."""
        assert self._file is not None
        try:
            os.ftruncate(self._file.fileno(), offset)
            self._file.seek(offset)
        except OSError as exc:
            self._torn = True
            logger.error("Cannot cut %s back to %d: %s", self._name, offset, _os_error(exc))

    @property
    def failed(self) -> str | None:
        """Why this writer refuses to write (a write error), or None while it writes."""
        return self._failed

    def _write_group(self, records: Sequence[Any]) -> list[RecordLocation]:
        # Records are serialised and compressed outside the lock, so that writer threads
        # compress side by side (zlib lets go of the GIL); the lock covers the file only.
        with self._lock:
            warcinfo_id = self._ready_locked()
        members = self._members(records, warcinfo_id)
        with self._lock:
            if self._ready_locked() != warcinfo_id:  # another file since: name its warcinfo
                members = self._members(records, self._warcinfo_id)
            return self._append_locked(records, members)

    def _response_record(
        self,
        url: str,
        *,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        protocol: str,
        reason: str | None,
        ip_address: str | None,
        date: str,
        extra: Mapping[str, str] | None = None,
    ) -> Any:
        http_headers = _response_head(status, reason, headers, protocol)
        warc_headers = _exchange_headers(date, ip_address)
        warc_headers.update(extra or {})
        return self._serializer.create_warc_record(
            url,
            "response",
            payload=_DigestedBody(body, http_headers.to_ascii_bytes()),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )

    def write_exchange(
        self,
        url: str,
        *,
        method: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes,
        status: int,
        response_headers: Iterable[tuple[str, str]],
        body: bytes,
        protocol: str = "HTTP/1.1",
        reason: str | None = None,
        ip_address: str | None = None,
        warc_headers: Mapping[str, str] | None = None,
        date: str | None = None,
    ) -> tuple[RecordLocation, RecordLocation]:
        """Write a response record and the request that produced it; return both locations.

        ``body`` is the payload exactly as received (still content-encoded). The request line
        carries the path and query string of ``url``. ``warc_headers`` are added to the response
        record (the provenance of a memento: ``WARC-Refers-To-Target-URI`` and ``-Date``).
        ``date`` is the records' WARC-Date (now when not given), for a caller that keeps it: a
        later revisit of the same payload refers to it.
        """
        date = date or self.warc_date()
        response = self._response_record(
            url,
            status=status,
            headers=response_headers,
            body=body,
            protocol=protocol,
            reason=reason,
            ip_address=ip_address,
            date=date,
            extra=warc_headers,
        )
        request = self._request_record(
            url, method, request_headers, request_body, protocol, date, response
        )
        resp_loc, req_loc = self._write_group([response, request])
        return resp_loc, req_loc

    def _request_record(
        self,
        url: str,
        method: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        protocol: str,
        date: str,
        response: Any,
    ) -> Any:
        request_http = StatusAndHeaders(
            # warcio splits the method off as its "protocol" field for requests.
            f"{method} {_request_target(url)} {protocol}",
            list(headers),
            is_http_request=True,
        )
        return self._serializer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=request_http,
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )

    def write_revisit(
        self,
        url: str,
        *,
        method: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes,
        status: int,
        response_headers: Iterable[tuple[str, str]],
        refers_to_uri: str,
        refers_to_date: str,
        refers_to_id: str | None,
        digest: str,
        protocol: str = "HTTP/1.1",
        reason: str | None = None,
        ip_address: str | None = None,
        warc_headers: Mapping[str, str] | None = None,
    ) -> tuple[RecordLocation, RecordLocation]:
        """Write a ``revisit`` record (profile identical-payload-digest) and its request.

        For a payload identical to one already archived (a 304 answer to a conditional request,
        or the same bytes again): the record holds the new response head, no body, and points at
        the earlier record with ``WARC-Refers-To-Target-URI``, ``-Date`` and ``WARC-Refers-To``.
        """
        date = self.warc_date()
        http_headers = _response_head(status, reason, response_headers, protocol)
        extra = _exchange_headers(date, ip_address)
        if refers_to_id:
            extra["WARC-Refers-To"] = refers_to_id
        extra.update(warc_headers or {})
        revisit = self._serializer.create_revisit_record(
            url,
            digest=digest,
            refers_to_uri=refers_to_uri,
            refers_to_date=refers_to_date,
            http_headers=http_headers,
            warc_headers_dict=extra,
        )
        revisit.rec_headers.replace_header("WARC-Profile", REVISIT_PROFILE)
        request = self._request_record(
            url, method, request_headers, request_body, protocol, date, revisit
        )
        rev_loc, req_loc = self._write_group([revisit, request])
        return rev_loc, req_loc

    def write_resource(
        self,
        url: str,
        payload: bytes,
        content_type: str,
        *,
        concurrent_to: str | None = None,
        warc_headers: Mapping[str, str] | None = None,
    ) -> RecordLocation:
        """Write a ``resource`` record: bytes morgue made of a capture (a screenshot, a
        rendered DOM), linked to its response record by ``WARC-Concurrent-To``.

        ``url`` is the record's own URI (``urn:screenshot:`` and the page's URL, say), never the
        page's: replay tools would serve it in place of the page.
        """
        headers = {"Content-Type": content_type, **(warc_headers or {})}
        if concurrent_to:
            headers["WARC-Concurrent-To"] = concurrent_to
        record = self._serializer.create_warc_record(
            url,
            "resource",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type=content_type,
            warc_headers_dict=headers,
        )
        return self._write_group([record])[0]

    def write_metadata(
        self, url: str, data: Mapping[str, Any], *, refers_to: str | None = None
    ) -> RecordLocation:
        """Write a ``metadata`` record holding ``data`` as JSON, linked to a response record.

        Its target URI is ``METADATA_URI_PREFIX + url``, not the page's URL: replay tools such as
        pywb would otherwise serve the JSON in place of the page.
        """
        url = METADATA_URI_PREFIX + url
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()
        warc_headers = {"Content-Type": "application/json"}
        if refers_to:
            warc_headers["WARC-Concurrent-To"] = refers_to
            warc_headers["WARC-Refers-To"] = refers_to
        record = self._serializer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type="application/json",
            warc_headers_dict=warc_headers,
        )
        return self._write_group([record])[0]


def check_writable(directory: Path) -> None:
    """Raise ``WarcWriteError`` unless WARC files can be created in ``directory`` (made if
    missing): a crawl checks before it fetches anything, rather than fail on its first page."""
    directory = Path(directory)
    probe = directory / f".morgue-write-check-{os.getpid()}-{threading.get_ident()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with open(probe, "xb", buffering=0) as fh:
            _write_all(fh, b"WARC/1.1\r\n")
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        raise WarcWriteError(f"cannot write WARC files in {directory}: {_os_error(exc)}") from exc


def _write_all(file: io.FileIO, data: bytes) -> None:
    """Write all of ``data``: a raw write may take only part of it (the last free blocks)."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:  # pragma: no cover - only for a non-blocking file
            raise OSError(f"wrote nothing of {len(view)} bytes")
        view = view[written:]


def _os_error(exc: OSError) -> str:
    """An OS error as people read it: "No space left on device", without the errno prefix."""
    return exc.strerror or str(exc)


def payload_digest(body: bytes) -> str:
    """``WARC-Payload-Digest`` of a body, as warcio writes it: ``sha1:`` and base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _response_head(
    status: int, reason: str | None, headers: Iterable[tuple[str, str]], protocol: str
) -> StatusAndHeaders:
    """The HTTP status line and headers of a response as it came, ``Transfer-Encoding`` renamed
    (``_RENAMED_HEADERS``): the body is stored without its chunking."""
    phrase = reason if reason is not None else _standard_phrase(status)
    return StatusAndHeaders(
        f"{status} {phrase}".rstrip(),
        [(_RENAMED_HEADERS.get(k.lower(), k), v) for k, v in headers],
        protocol=protocol,
    )


def _exchange_headers(date: str, ip_address: str | None) -> dict[str, str]:
    headers = {"WARC-Date": date}
    if ip_address:
        headers["WARC-IP-Address"] = ip_address
    return headers


def _standard_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _request_target(url: str) -> str:
    """The request-target of an origin-form request line: path and query, never the fragment."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    question = rest.find("?")
    cut = [i for i in (slash, question) if i >= 0]
    target = rest[min(cut) :] if cut else "/"
    target = target.split("#", 1)[0]
    return target if target.startswith("/") else "/" + target


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """A record read back from a WARC file."""

    rec_type: str
    target_uri: str | None
    warc_headers: list[tuple[str, str]]
    http_status: int | None
    http_headers: list[tuple[str, str]]
    payload: bytes  # as stored: for a response, the body as it came over the wire
    content: bytes  # payload with Content-Encoding (gzip, deflate, br, zstd) undone


_GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 1 << 16
# A record of ours holds at most a DOWNLOAD_MAXSIZE body; a member that inflates past this is
# not one of ours, and must not take the reader's memory.
_MAX_RECORD = 1 << 30


def read_record(directory: Path, location: RecordLocation | tuple[str, int]) -> ReadRecord:
    """Read one record at a recorded offset, from the closed file or its ``.open`` twin.

    Raises ``WarcError`` naming ``file:offset`` when no whole, sound record is there: the file
    is missing, cut short inside the record, its gzip data does not inflate, or the record's
    digests do not match its bytes. A damaged record is never returned as an empty one.
    """
    name, offset = (
        (location.file, location.offset) if isinstance(location, RecordLocation) else location
    )
    path = Path(directory) / name
    if not path.exists() and (Path(directory) / (name + OPEN_SUFFIX)).exists():
        path = Path(directory) / (name + OPEN_SUFFIX)
    where = f"{name}:{offset}"
    try:
        with open(path, "rb") as fh:
            data = read_member(fh, offset)
    except OSError as exc:
        raise WarcError(f"cannot read {where}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise WarcError(f"no readable WARC record at {where}: {exc}") from exc
    try:
        problems = check_record(data, offset).problems
    except ValueError as exc:
        raise WarcError(f"no readable WARC record at {where}: {exc}") from exc
    if problems:
        raise WarcError(f"the WARC record at {where} is damaged: {problems[0]}")
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            payload = record.raw_stream.read()
            content = payload
            if record.http_headers is not None:
                content = decode_content(
                    payload, record.http_headers.get_header("Content-Encoding")
                )
            return ReadRecord(
                rec_type=record.rec_type,
                target_uri=record.rec_headers.get_header("WARC-Target-URI"),
                warc_headers=list(record.rec_headers.headers),
                http_status=(
                    int(record.http_headers.get_statuscode())
                    if record.http_headers is not None and record.rec_type == "response"
                    else None
                ),
                http_headers=(list(record.http_headers.headers) if record.http_headers else []),
                payload=payload,
                content=content,
            )
    except Exception as exc:  # warcio raises assorted errors on a record it cannot parse
        raise WarcError(f"no readable WARC record at {where}: {exc}") from exc
    raise WarcError(f"no WARC record at {where}")
