"""Which Content-Encodings a crawl asks for: only those Scrapy can decode here.

Scrapy asks every server for ``gzip, deflate, br, zstd`` and decodes brotli with Google's
``brotli`` module. pywb installs brotlipy, whose ``brotli`` package shadows Google's and lacks its
API: in such an environment every brotli response would fail to decode, and the page would be
lost to an error. A crawl there asks for the other codings only, and says so in its log.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

__all__ = ["accept_encoding", "brotli_decodes"]

logger = logging.getLogger(__name__)

_ALL = ("gzip", "deflate", "br", "zstd")


def brotli_decodes(module: ModuleType | None = None) -> bool:
    """Whether the ``brotli`` module Scrapy would import has the streaming API it calls."""
    if module is None:
        for name in ("brotli", "brotlicffi"):  # Scrapy's order
            try:
                module = importlib.import_module(name)
                break
            except ImportError:
                continue
        else:
            return False
    return hasattr(getattr(module, "Decompressor", None), "process")


def accept_encoding(brotli_ok: bool | None = None) -> str | None:
    """The Accept-Encoding header to send, or None when Scrapy's own (all four) will do."""
    if brotli_ok is None:
        brotli_ok = brotli_decodes()
    if brotli_ok:
        return None
    logger.warning(
        "The brotli module here cannot decode responses (brotlipy, from pywb, shadows it?): "
        "not asking servers for br"
    )
    return ", ".join(c for c in _ALL if c != "br")
