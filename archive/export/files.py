"""Writing an export: to a temporary file beside its destination, renamed at the end (an error
leaves nothing half-written), with the mode the umask gives, as the WARC files have.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from archive.exceptions import InvalidInput

__all__ = ["iso_time", "replacing", "umask"]


def umask() -> int:
    """The process's umask, read from /proc where it can be (setting it is process-wide)."""
    try:
        with open("/proc/self/status", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def replacing(dest: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A temporary file beside ``dest`` that becomes ``dest`` only if the block succeeds."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write {dest}: {exc.strerror or exc}") from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            # mkstemp makes the file private (0600); an export is for other readers (a web
            # server, pywb under another user): the mode open() would give, 0666 less the umask.
            os.fchmod(fh.fileno(), 0o666 & ~umask())
            yield fh
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def iso_time(value: Any) -> str | None:
    return None if value is None else str(value.isoformat().replace("+00:00", "Z"))
