"""The library's errors. The CLI turns each into one line on stderr: exit status 2 for bad input
(``InvalidInput``), 1 for the others."""

__all__ = [
    "ArchiveError",
    "DatabaseError",
    "ExtractError",
    "ExtractTimeout",
    "InvalidInput",
    "InvalidURL",
    "WarcError",
    "WarcWriteError",
]


class ArchiveError(Exception):
    """Base class for every error morgue raises on purpose."""


class InvalidInput(ArchiveError):
    """Input a user gave cannot be used (an unreadable file, a bad option value)."""


class InvalidURL(InvalidInput):
    """A URL that is malformed or uses a scheme morgue cannot fetch."""


class WarcError(ArchiveError):
    """A WARC file cannot be written or a record cannot be read back."""


class WarcWriteError(WarcError):
    """Writing WARC records failed (a full disk, a read-only file system): a fault that stops
    a crawl, since every later page would fail the same way."""


class DatabaseError(ArchiveError):
    """The metadata database cannot be opened, migrated or written."""


class ExtractError(ArchiveError):
    """Article extraction failed for one page."""


class ExtractTimeout(ExtractError):
    """Extraction of one page ran past its time limit and its worker was killed."""
