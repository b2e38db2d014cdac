"""The library's errors. The CLI turns each into one line on stderr and exit status 2."""

__all__ = [
    "ArchiveError",
    "DatabaseError",
    "ExtractError",
    "ExtractTimeout",
    "InvalidInput",
    "InvalidURL",
    "WarcError",
]


class ArchiveError(Exception):
    """Base class for every error morgue raises on purpose."""


class InvalidInput(ArchiveError):
    """Input a user gave cannot be used (an unreadable file, a bad option value)."""


class InvalidURL(InvalidInput):
    """A URL that is malformed or uses a scheme morgue cannot fetch."""


class WarcError(ArchiveError):
    """A WARC file cannot be written or a record cannot be read back."""


class DatabaseError(ArchiveError):
    """The metadata database cannot be opened, migrated or written."""


class ExtractError(ArchiveError):
    """Article extraction failed for one page."""


class ExtractTimeout(ExtractError):
    """Extraction of one page ran past its time limit and its worker was killed."""
