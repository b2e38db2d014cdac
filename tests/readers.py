"""The independent WARC readers (warcio, cdxj-indexer, pywb, py-wacz), run as their users run them.

warcio and pywb decode brotli bodies with brotlipy, whose ``brotli`` package clashes with the
brotli module Scrapy decodes responses with: in one environment one of them breaks. ``make
install`` keeps Scrapy's in the virtual environment and puts brotlipy in ``.venv/readers``; the
readers run with that directory first on their path, as they would in an environment of their
own (README, "Replaying in pywb").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["READERS_PATH", "reader", "reader_env"]

READERS_PATH = Path(sys.prefix) / "readers"


def reader(name: str) -> str:
    """The path of a reader's console script in this virtual environment."""
    return str(Path(sys.executable).parent / name)


def reader_env() -> dict[str, str]:
    """This process's environment with the readers' own packages first on PYTHONPATH."""
    if not (READERS_PATH / "brotli").is_dir():
        raise RuntimeError(f"{READERS_PATH} has no brotlipy: run `make install`")
    path = os.pathsep.join(filter(None, [str(READERS_PATH), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}
