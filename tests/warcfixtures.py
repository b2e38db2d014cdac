"""WARC files of real-size corpus pages for the recovery and verification tests, and ways to
damage them as crashes, full disks and bad media do."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from archive.warc.records import OPEN_SUFFIX, RecordLocation, WarcWriter
from tests.corpus import corpus_pages

__all__ = [
    "cut_inside",
    "flip_inside",
    "recompress_altered",
    "write_corpus_warc",
]


def write_corpus_warc(
    directory: Path, count: int, *, prefix: str = "t", close: bool = True
) -> tuple[Path, list[RecordLocation]]:
    """A WARC file of ``count`` corpus articles (response and request records each); returns
    its path (``.open`` when not closed) and the response records' locations."""
    pages = corpus_pages(limit=count)
    writer = WarcWriter(directory, prefix=prefix)
    responses = []
    for i in range(count):
        page = pages[i % len(pages)]
        resp, _req = writer.write_exchange(
            f"http://127.0.0.1:9/news/story-{i}.html",
            method="GET",
            request_headers=[("Host", "127.0.0.1:9")],
            request_body=b"",
            status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
            body=page.html,
        )
        responses.append(resp)
    name = writer.current_file
    assert name is not None
    if close:
        writer.close()
        return directory / name, responses
    # As a kill leaves it: the descriptor (and its lock) gone, the suffix still there.
    assert writer._file is not None
    writer._file.close()
    return directory / (name + OPEN_SUFFIX), responses


def cut_inside(path: Path, record: RecordLocation, keep: float = 0.5) -> None:
    """Cut the file in the middle of ``record``'s gzip member, dropping everything after it."""
    with open(path, "r+b") as fh:
        fh.truncate(record.offset + int(record.length * keep))


def flip_inside(path: Path, record: RecordLocation) -> None:
    """Invert a few bytes in the middle of ``record``'s compressed data (bad media)."""
    with open(path, "r+b") as fh:
        fh.seek(record.offset + record.length // 2)
        chunk = fh.read(8)
        fh.seek(record.offset + record.length // 2)
        fh.write(bytes(b ^ 0xFF for b in chunk))


def recompress_altered(path: Path, record: RecordLocation, old: bytes, new: bytes) -> None:
    """Replace ``record``'s member by one whose content has ``old`` replaced by ``new`` (same
    length): the gzip member is sound, the record's digests no longer match."""
    assert len(old) == len(new)
    data = path.read_bytes()
    member = data[record.offset : record.offset + record.length]
    content = gzip.decompress(member)
    assert old in content
    compressor = zlib.compressobj(4, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    altered = compressor.compress(content.replace(old, new, 1)) + compressor.flush()
    path.write_bytes(data[: record.offset] + altered + data[record.offset + record.length :])
