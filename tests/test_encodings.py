"""A crawl never asks for a Content-Encoding it could not decode."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from crawler.encodings import accept_encoding, brotli_decodes
from crawler.run import crawl_settings


class _GoogleDecompressor:
    def process(self, data: bytes, output_buffer_limit: int = 0) -> bytes:
        return data


class _BrotlipyDecompressor:
    def decompress(self, data: bytes) -> bytes:
        return data


def test_brotlipy_is_told_from_googles_brotli() -> None:
    assert brotli_decodes(cast(Any, SimpleNamespace(Decompressor=_GoogleDecompressor)))
    assert not brotli_decodes(cast(Any, SimpleNamespace(Decompressor=_BrotlipyDecompressor)))


def test_br_is_left_out_only_when_it_cannot_be_decoded() -> None:
    assert accept_encoding(brotli_ok=True) is None
    assert accept_encoding(brotli_ok=False) == "gzip, deflate, zstd"


def test_this_environment_decodes_brotli_so_scrapy_asks_for_everything() -> None:
    # make install removes brotlipy (tests/README): the crawl's headers are Scrapy's own.
    assert brotli_decodes()
    headers = crawl_settings().getdict("DEFAULT_REQUEST_HEADERS")
    assert "Accept-Encoding" not in headers
