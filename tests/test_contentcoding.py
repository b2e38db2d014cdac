"""Archived bodies read back as a browser would decode them: every coding Scrapy asks for."""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.export import wacz_tool
from archive.warc.content_coding import decode_content
from archive.warc.records import WarcWriter

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

PAGE = (
    b"<html><body><p>" + b"The ferry resumes its crossings on Monday. " * 50 + b"</p></body></html>"
)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("x-gzip", gzip.compress(PAGE)),
        ("deflate", zlib.compress(PAGE)),
        ("deflate", _raw_deflate(PAGE)),  # what some servers send under that name
        ("br", brotli.compress(PAGE)),
        ("zstd", zstd.compress(PAGE)),
        (" BR ", brotli.compress(PAGE)),
        ("identity", PAGE),
        (None, PAGE),
    ],
)
def test_each_coding_is_undone(coding: str | None, encoded: bytes) -> None:
    assert decode_content(encoded, coding) == PAGE


def test_stacked_codings_are_undone_last_first() -> None:
    assert decode_content(brotli.compress(gzip.compress(PAGE)), "gzip, br") == PAGE


@pytest.mark.parametrize("coding", ["compress", "gzip, snappy"])
def test_an_unknown_coding_leaves_the_body_as_stored(coding: str) -> None:
    stored = gzip.compress(PAGE)
    assert decode_content(stored, coding) == stored


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd", "deflate"])
def test_a_broken_stream_leaves_the_body_as_stored(coding: str) -> None:
    assert (
        decode_content(b"\x00\x01 not compressed at all", coding)
        == b"\x00\x01 not compressed at all"
    )


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", gzip.compress), ("br", brotli.compress), ("zstd", zstd.compress)],
)
def test_a_bomb_is_cut_at_the_limit(coding: str, compress: object) -> None:
    bomb = compress(b"\0" * 5_000_000)  # type: ignore[operator]
    assert len(bomb) < 50_000
    assert len(decode_content(bomb, coding, limit=100_000)) == 100_000


def test_warcio_reads_brotli_records_through_the_adapter(tmp_path: Path) -> None:
    # What py-wacz does with each record (morgue export --wacz runs it with the adapter).
    writer = WarcWriter(tmp_path, prefix="t")
    loc, _ = writer.write_exchange(
        "http://news.test/br.html",
        method="GET",
        request_headers=[("Host", "news.test")],
        request_body=b"",
        status=200,
        response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "br")],
        body=brotli.compress(PAGE),
    )
    writer.close()
    assert wacz_tool.install()  # Google's brotli is the one here (make install sees to it)
    with open(tmp_path / loc.file, "rb") as fh:
        fh.seek(loc.offset)
        record = next(iter(ArchiveIterator(fh)))
        assert record.content_stream().read() == PAGE
