"""Undo the HTTP Content-Encoding of an archived body: gzip, deflate, br and zstd.

A WARC response record keeps the body as it came over the wire, so whoever reads it back (``morgue
show --html``, ``morgue extract``) must decode it as a browser would. Scrapy 2.19 asks servers for
all four codings, and CDNs in front of news sites answer with brotli or zstd as often as gzip.

The output is capped, so that a decompression bomb kept in the archive cannot take the reader
down; an unknown coding or a broken stream gives the body back as stored.
"""

from __future__ import annotations

import logging
import sys
import zlib
from collections.abc import Callable

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

__all__ = ["MAX_DECODED", "decode_content"]

logger = logging.getLogger(__name__)

MAX_DECODED = 256 * 1024 * 1024


def _gzip(data: bytes, limit: int) -> bytes:
    return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data, limit)


def _deflate(data: bytes, limit: int) -> bytes:
    # RFC 9110 deflate is a zlib stream, but some servers send raw deflate without the header.
    try:
        return zlib.decompressobj().decompress(data, limit)
    except zlib.error:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, limit)


def _brotli(data: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    if not hasattr(decompressor, "process"):
        # brotlipy (which pywb installs) shadows Google's module and has no output limit.
        out: bytes = brotli.decompress(data)
        return out[:limit]
    # The limit stops the decoder once it is passed, not at it.
    out = decompressor.process(data, output_buffer_limit=limit)
    return out[:limit]


def _zstd(data: bytes, limit: int) -> bytes:
    return zstd.ZstdDecompressor().decompress(data, max_length=limit)


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def decode_content(payload: bytes, content_encoding: str | None, limit: int = MAX_DECODED) -> bytes:
    """``payload`` with the codings of a ``Content-Encoding`` value undone, last applied first."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    data = payload
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            logger.debug("Unknown Content-Encoding %s: body kept as stored", coding)
            return payload
        try:
            data = decoder(data, limit)
        except Exception as exc:  # zlib.error, brotli.error, zstd.ZstdError: a broken stream
            logger.debug("Could not undo Content-Encoding %s: %s", coding, exc)
            return payload
    return data
