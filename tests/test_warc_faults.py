"""The WARC writer on real failing file systems: a full tmpfs, a file size limit, a read-only
directory. A failed write is cut back to the last whole record and every later write refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive.exceptions import WarcWriteError
from archive.warc.records import (
    OPEN_SUFFIX,
    RecordLocation,
    WarcWriter,
    check_writable,
    read_record,
)
from tests.conftest import ROOT
from tests.corpus import corpus_pages
from tests.fullfs import fill, read_only, tmpfs
from tests.readers import reader, reader_env


def write_page(writer: WarcWriter, i: int, body: bytes) -> RecordLocation:
    resp, _req = writer.write_exchange(
        f"http://127.0.0.1:9/news/story-{i}.html",
        method="GET",
        request_headers=[("Host", "127.0.0.1:9")],
        request_body=b"",
        status=200,
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        body=body,
    )
    return resp


def assert_whole(path: Path) -> None:
    """Every gzip member whole (gzip -t) and every record valid (warcio check)."""
    gz = subprocess.run(["gzip", "-t", str(path)], capture_output=True, text=True)
    assert gz.returncode == 0, gz.stderr
    check = subprocess.run(
        [reader("warcio"), "check", str(path)], capture_output=True, text=True, env=reader_env()
    )
    assert check.returncode == 0, check.stdout + check.stderr


def assert_readable(directory: Path, written: list[RecordLocation], bodies: list[bytes]) -> None:
    for i, loc in enumerate(written):
        record = read_record(directory, loc)
        assert record.rec_type == "response"
        assert record.payload == bodies[i % len(bodies)]


def test_a_write_to_a_full_disk_is_cut_back_and_later_writes_are_refused(tmp_path: Path) -> None:
    bodies = [page.html for page in corpus_pages(limit=8)]
    with tmpfs(tmp_path / "warcs", "2m") as directory:
        writer = WarcWriter(directory, prefix="t")
        written: list[RecordLocation] = []
        with pytest.raises(WarcWriteError) as failed:
            for i in range(1000):
                written.append(write_page(writer, i, bodies[i % len(bodies)]))
        name = writer.current_file
        assert name is not None and len(written) >= 3
        message = str(failed.value)
        assert str(directory / name) in message and "No space left on device" in message
        open_path = directory / (name + OPEN_SUFFIX)
        assert_whole(open_path)  # the cut group is gone, the file ends with a whole record
        assert_readable(directory, written, bodies)
        # The cut freed room for a small record, but the writer stays stopped: the crawl stops.
        with pytest.raises(WarcWriteError, match="No space left on device"):
            write_page(writer, 9999, b"<p>small</p>")
        with pytest.raises(WarcWriteError):
            writer.write_metadata("http://127.0.0.1:9/", {"verdict": "ok"})
        writer.close()
        assert not open_path.exists() and writer.files_written == [name]
        assert_whole(directory / name)
        assert_readable(directory, written, bodies)


def test_a_disk_too_full_for_a_warcinfo_record_leaves_no_file(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "warcs", "1m") as directory:
        fill(directory, leave=0)
        writer = WarcWriter(directory, prefix="t")
        with pytest.raises(WarcWriteError, match="No space left on device"):
            write_page(writer, 0, b"<p>page</p>")
        writer.close()
        assert sorted(p.name for p in directory.iterdir()) == ["filler"]


_FSIZE_SCRIPT = """
import json, resource, signal, sys
from pathlib import Path
from archive.exceptions import WarcWriteError
from archive.warc.records import WarcWriter
from tests.test_warc_faults import write_page

directory, limit = Path(sys.argv[1]), int(sys.argv[2])
bodies = [Path(p).read_bytes() for p in sys.argv[3:]]
# Past the limit a write fails with EFBIG instead of killing the process with SIGXFSZ.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
writer = WarcWriter(directory, prefix="t")
try:
    for i in range(1000):
        loc = write_page(writer, i, bodies[i % len(bodies)])
        print(json.dumps([loc.file, loc.offset, loc.length, loc.record_id, None]))
except WarcWriteError as exc:
    print(json.dumps({"error": str(exc), "file": writer.current_file}))
try:
    write_page(writer, 9999, b"<p>small</p>")
except WarcWriteError as exc:
    print(json.dumps({"again": str(exc)}))
writer.close()
"""


def test_a_write_past_the_file_size_limit_is_cut_back_too(tmp_path: Path) -> None:
    """The same contract without root: RLIMIT_FSIZE makes the kernel refuse the write."""
    pages = corpus_pages(limit=6)
    files = []
    for page in pages:
        path = tmp_path / f"{page.id}.html"
        path.write_bytes(page.html)
        files.append(str(path))
    directory = tmp_path / "warcs"
    directory.mkdir()
    limit = 1_500_000
    proc = subprocess.run(
        [sys.executable, "-c", _FSIZE_SCRIPT, str(directory), str(limit), *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    *lines, failure, again = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "File too large" in failure["error"] and failure["file"] in failure["error"]
    assert again["again"] == failure["error"]
    written = [RecordLocation(*line) for line in lines]
    assert len(written) >= 3
    (path,) = directory.iterdir()
    assert path.name == failure["file"]  # closed: no ".open" suffix
    assert path.stat().st_size <= limit
    assert_whole(path)
    assert_readable(directory, written, [page.html for page in pages])


def test_a_read_only_directory_is_refused_before_and_at_the_first_write(tmp_path: Path) -> None:
    with read_only(tmp_path / "warcs") as read_only_dir:
        _refused(read_only_dir)


def _refused(read_only_dir: Path) -> None:
    with pytest.raises(WarcWriteError) as checked:
        check_writable(read_only_dir)
    assert str(read_only_dir) in str(checked.value)
    writer = WarcWriter(read_only_dir, prefix="t")
    for _ in range(2):  # the second write is refused with the same reason, at once
        with pytest.raises(WarcWriteError, match="cannot create a WARC file in"):
            write_page(writer, 0, b"<p>page</p>")
    writer.close()
    assert list(read_only_dir.iterdir()) == []
