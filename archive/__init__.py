"""morgue's plain library: WARC writing, extraction, liveness, the metadata DB and the CLI.

Nothing in this package imports Scrapy, so a notebook can open the DB and read a WARC record
back from a capture id without a crawler in sight.
"""

import logging

__all__ = ["PROJECT_URL", "USER_AGENT", "__version__"]

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/morgue-archive/morgue"
USER_AGENT = f"morgue/{__version__} (+{PROJECT_URL})"

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
