"""The WARC writer: byte-exact records, digests, rotation, read-back, independent readers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import subprocess
import sys
import threading
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.exceptions import WarcError
from archive.warc.records import OPEN_SUFFIX, WarcWriter, read_record

BODY = b"<html><body><h1>Hello</h1><p>Caf\xc3\xa9 news.</p></body></html>"


class FixedWriter(WarcWriter):
    """The determinism seams set: a fixed clock, counted record ids, a fixed host tag."""

    def __init__(self, directory: Path, **kwargs: object) -> None:
        super().__init__(directory, hostname="testhost", **kwargs)  # type: ignore[arg-type]
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    def new_record_id(self) -> str:
        return f"<urn:uuid:00000000-0000-0000-0000-{next(self._ids):012d}>"

    def host_tag(self) -> str:
        return "1~testhost"


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def write_sample(directory: Path, **kwargs: object) -> tuple[FixedWriter, object, object]:
    writer = FixedWriter(directory, **kwargs)
    resp, req = writer.write_exchange(
        "http://news.test:8080/a/story.html?id=7&x=1",
        method="GET",
        request_headers=[("Host", "news.test:8080"), ("User-Agent", "morgue-test")],
        request_body=b"",
        status=200,
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Transfer-Encoding", "chunked"),
        ],
        body=BODY,
        protocol="HTTP/1.1",
        ip_address="127.0.0.1",
    )
    writer.close()
    return writer, resp, req


def members(path: Path) -> list[bytes]:
    """Split a .warc.gz into its gzip members and return each one decompressed."""
    data = path.read_bytes()
    out = []
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def test_golden_response_record_is_byte_exact(tmp_path: Path) -> None:
    writer, _resp, _ = write_sample(tmp_path)
    name = "morgue-20260102030405678-00000-1~testhost.warc.gz"
    assert writer.files_written == [name]
    records = members(tmp_path / name)
    assert len(records) == 3  # warcinfo, response, request: one gzip member each
    http_block = (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"Set-Cookie: a=1\r\n"
        b"Set-Cookie: b=2\r\n"
        b"X-Crawler-Transfer-Encoding: chunked\r\n"
        b"\r\n"
    )
    expected = (
        b"WARC/1.1\r\n"
        b"WARC-Date: 2026-01-02T03:04:05.678901Z\r\n"
        b"WARC-IP-Address: 127.0.0.1\r\n"
        b"WARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Target-URI: http://news.test:8080/a/story.html?id=7&x=1\r\n"
        b"WARC-Payload-Digest: " + sha1_b32(BODY).encode() + b"\r\n"
        # Records are built before the file (and its warcinfo) is opened, hence id 3.
        b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-0000-0000-000000000003>\r\n"
        b"WARC-Block-Digest: " + sha1_b32(http_block + BODY).encode() + b"\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(http_block) + len(BODY)).encode() + b"\r\n"
        b"\r\n" + http_block + BODY + b"\r\n\r\n"
    )
    assert records[1] == expected


def test_request_record_has_full_request_line_and_link(tmp_path: Path) -> None:
    writer, _resp, _req = write_sample(tmp_path)
    request = members(tmp_path / writer.files_written[0])[2]
    assert b"WARC-Type: request\r\n" in request
    assert b"WARC-Concurrent-To: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n" in request
    assert b"\r\n\r\nGET /a/story.html?id=7&x=1 HTTP/1.1\r\nHost: news.test:8080\r\n" in request


def test_golden_file_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    wa, *_ = write_sample(a)
    wb, *_ = write_sample(b)
    assert (a / wa.files_written[0]).read_bytes() == (b / wb.files_written[0]).read_bytes()


def test_locations_read_back_and_open_suffix(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, gzip_level=1)
    resp, req = writer.write_exchange(
        "http://news.test/x",
        method="GET",
        request_headers=[],
        request_body=b"",
        status=404,
        response_headers=[("Content-Encoding", "gzip")],
        body=gzip.compress(BODY),
    )
    meta = writer.write_metadata(
        "http://news.test/x", {"verdict": "not_found"}, refers_to=resp.record_id
    )
    # While open, the file carries the .open suffix and records still read back.
    assert (tmp_path / (resp.file + OPEN_SUFFIX)).exists()
    assert read_record(tmp_path, resp).http_status == 404
    writer.close()
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))
    record = read_record(tmp_path, resp)
    assert record.rec_type == "response"
    assert record.payload == gzip.compress(BODY)  # stored as it came over the wire
    assert record.content == BODY  # decoded on the way out
    assert resp.payload_digest == sha1_b32(gzip.compress(BODY))
    assert read_record(tmp_path, req).rec_type == "request"
    metadata = read_record(tmp_path, meta)
    assert metadata.rec_type == "metadata"
    assert b'"verdict": "not_found"' in metadata.payload
    assert ("WARC-Refers-To", resp.record_id) in metadata.warc_headers
    # Each location's length is exactly one gzip member.
    raw = (tmp_path / resp.file).read_bytes()[resp.offset : resp.offset + resp.length]
    assert zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(raw).startswith(b"WARC/1.1\r\n")


def test_rotation_at_max_size(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, max_size=2_000)
    locations = []
    for i in range(6):
        resp, _ = writer.write_exchange(
            f"http://news.test/{i}",
            method="GET",
            request_headers=[],
            request_body=b"",
            status=200,
            response_headers=[],
            body=bytes(range(256)) * 8,  # incompressible enough to pass 2 kB per pair
        )
        locations.append(resp)
    writer.close()
    assert len(writer.files_written) >= 3
    serials = [name.split("-")[2] for name in writer.files_written]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    for loc in locations:
        assert read_record(tmp_path, loc).target_uri == loc_uri(locations, loc)
    for name in writer.files_written:
        with open(tmp_path / name, "rb") as fh:
            types = [r.rec_type for r in ArchiveIterator(fh)]
        assert types[0] == "warcinfo"  # every file starts with its own warcinfo


def loc_uri(locations: list[object], loc: object) -> str:
    return f"http://news.test/{locations.index(loc)}"


def test_files_pass_warcio_check(tmp_path: Path) -> None:
    writer, *_ = write_sample(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "warcio.cli",
            "check",
            "-v",
            str(tmp_path / writer.files_written[0]),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "digest pass" in proc.stdout


def test_compression_level_is_a_choice(tmp_path: Path) -> None:
    with pytest.raises(WarcError):
        WarcWriter(tmp_path, gzip_level=12)
    sizes = {}
    for level in (1, 9):
        writer = WarcWriter(tmp_path / str(level), gzip_level=level)
        writer.write_metadata("http://news.test/", {"text": "news " * 5000})
        writer.close()
        sizes[level] = (tmp_path / str(level) / writer.files_written[0]).stat().st_size
    assert sizes[9] < sizes[1]


def test_bad_offset_is_a_warc_error(tmp_path: Path) -> None:
    writer, _resp, _ = write_sample(tmp_path)
    with pytest.raises(WarcError):
        read_record(tmp_path, (writer.files_written[0], 3))
    with pytest.raises(WarcError):
        read_record(tmp_path, ("missing.warc.gz", 0))


def test_a_sealed_writer_closes_its_file_and_refuses_more(tmp_path: Path) -> None:
    writer = FixedWriter(tmp_path)
    loc = writer.write_metadata("http://news.test/a", {"verdict": "ok"})
    assert (tmp_path / (loc.file + OPEN_SUFFIX)).exists()
    writer.seal()
    assert (tmp_path / loc.file).exists() and not list(tmp_path.glob("*" + OPEN_SUFFIX))
    with pytest.raises(WarcError, match="sealed"):
        writer.write_metadata("http://news.test/b", {"verdict": "ok"})
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))  # no new file was started
    assert read_record(tmp_path, (loc.file, loc.offset)).target_uri.endswith("//news.test/a")


def test_threads_writing_at_once_keep_each_exchange_whole_and_in_its_file(
    tmp_path: Path,
) -> None:
    # Small files: rotations happen while other threads have records compressed for the old one.
    writer = WarcWriter(tmp_path, max_size=20_000)
    bodies = {
        f"http://news.test/{t}/{i}": bytes([t, i]) * 2_000 for t in range(4) for i in range(25)
    }
    written: dict[str, object] = {}

    def work(thread: int) -> None:
        for i in range(25):
            url = f"http://news.test/{thread}/{i}"
            resp, _ = writer.write_exchange(
                url,
                method="GET",
                request_headers=[("Host", "news.test")],
                request_body=b"",
                status=200,
                response_headers=[("Content-Type", "text/plain")],
                body=bodies[url],
            )
            writer.write_metadata(url, {"n": i}, refers_to=resp.record_id)
            written[url] = resp

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()

    assert len(writer.files_written) > 5
    for url, loc in written.items():
        record = read_record(tmp_path, loc)  # type: ignore[arg-type]
        assert record.target_uri == url and record.payload == bodies[url]
        assert loc.payload_digest == sha1_b32(bodies[url])  # type: ignore[attr-defined]
    seen = 0
    for name in writer.files_written:
        with open(tmp_path / name, "rb") as fh:
            records = [
                (r.rec_type, r.rec_headers.get_header("WARC-Record-ID"),
                 r.rec_headers.get_header("WARC-Warcinfo-ID"),
                 r.rec_headers.get_header("WARC-Concurrent-To"))
                for r in ArchiveIterator(fh)
            ]  # fmt: skip
        assert records[0][0] == "warcinfo"
        info_id = records[0][1]
        assert all(rec[2] == info_id for rec in records[1:]), name
        for before, rec in itertools.pairwise(records):
            if rec[0] == "request":  # right after the response it belongs to
                assert before[0] == "response" and rec[3] == before[1]
        seen += sum(1 for rec in records if rec[0] == "response")
        proc = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", str(tmp_path / name)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seen == len(written) == 100
