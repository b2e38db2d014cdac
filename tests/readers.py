"""The independent WARC readers (warcio, cdxj-indexer, pywb, py-wacz), run as their users run them.

warcio and pywb decode brotli bodies with brotlipy, whose ``brotli`` package clashes with the
brotli module Scrapy decodes responses with: in one environment one of them breaks. ``make
install`` keeps Scrapy's in the virtual environment and puts brotlipy in ``.venv/readers``; the
readers run with that directory first on their path, as they would in an environment of their
own (README, "Replaying in pywb").

pywb pins ``redis==2.10.6``, older than the distributed crawl's scrapy-redis can run on, so it
lives in a virtual environment of its own, ``.venv-pywb`` beside ``.venv`` (``make install``
makes both; ``MORGUE_PYWB_VENV`` names another). :func:`pywb` finds its console scripts there,
for the tests and for anything else that replays with it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["READERS_PATH", "pywb", "pywb_venv", "reader", "reader_env"]

READERS_PATH = Path(sys.prefix) / "readers"
_ROOT = Path(__file__).resolve().parent.parent


def reader(name: str) -> str:
    """The path of a reader's console script in this virtual environment."""
    return str(Path(sys.executable).parent / name)


def reader_env() -> dict[str, str]:
    """This process's environment with the readers' own packages first on PYTHONPATH."""
    if not (READERS_PATH / "brotli").is_dir():
        raise RuntimeError(f"{READERS_PATH} has no brotlipy: run `make install`")
    path = os.pathsep.join(filter(None, [str(READERS_PATH), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def pywb_venv() -> Path:
    """pywb's own virtual environment: ``MORGUE_PYWB_VENV``, else ``.venv-pywb`` at the root."""
    named = os.environ.get("MORGUE_PYWB_VENV")
    return Path(named) if named else _ROOT / ".venv-pywb"


def pywb(name: str) -> str:
    """The path of one of pywb's console scripts (``wayback``, ``wb-manager``)."""
    script = pywb_venv() / "bin" / name
    if not script.is_file():
        raise RuntimeError(f"{script} is missing: run `make install`")
    return str(script)
