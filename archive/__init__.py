"""morgue's plain library: WARC writing, extraction, liveness, the metadata DB and the CLI.

Nothing in this package imports Scrapy, so a notebook can open the DB and read a WARC record
back from a capture id without a crawler in sight. The public API (archive.api) is reachable
from here too: ``archive.archive_urls``, ``archive.crawl``, ``archive.open_archive``...,
imported on first use so that importing one module of the package stays cheap.
"""

import importlib
import logging
from typing import Any

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/morgue-archive/morgue"
USER_AGENT = f"morgue/{__version__} (+{PROJECT_URL})"

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    api = importlib.import_module("archive.api")  # not `from archive import`: that recurses
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'archive' has no attribute {name!r}")
