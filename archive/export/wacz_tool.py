"""py-wacz, run by ``morgue export --wacz`` as ``python -m archive.export.wacz_tool``, able to read
brotli.

py-wacz reads records through warcio, which decodes ``Content-Encoding: br`` with brotlipy's API
(``Decompressor.decompress`` and ``unused_data``). Scrapy needs Google's brotli module, which has
another API, so in morgue's environment warcio fails on every brotli record, and news sites
behind CDNs serve many. Before py-wacz starts, warcio's brotli decoder is replaced by one over
Google's API; where brotlipy is what ``brotli`` imports, warcio's own stays.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["BrotliDecompressor", "install", "main"]


class BrotliDecompressor:
    """Google's ``brotli.Decompressor`` with the zlib-like face warcio's readers expect."""

    def __init__(self) -> None:
        import brotli

        self._inner: Any = brotli.Decompressor()
        # warcio reads this to find where the next gzip member would start; brotli has none.
        self.unused_data = b""

    def decompress(self, data: bytes) -> bytes:
        out: bytes = self._inner.process(data)
        return out

    def flush(self) -> bytes:
        return b""


def install() -> bool:
    """Give warcio a brotli decoder that works with Google's module; True when it was needed."""
    import brotli
    from warcio.bufferedreaders import BufferedReader

    if not hasattr(brotli.Decompressor, "process"):
        return False  # brotlipy: warcio's own decoder works
    BufferedReader.DECOMPRESSORS["br"] = BrotliDecompressor
    return True


def main() -> None:
    install()
    from wacz.main import main as wacz_main

    sys.argv[0] = "wacz"
    sys.exit(wacz_main())


if __name__ == "__main__":
    main()
