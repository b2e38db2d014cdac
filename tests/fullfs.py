"""Real file systems that fail writes: a small tmpfs that fills up, a read-only one.

Mounting needs root (the CI container runs as root); elsewhere the test that asks is skipped
with the reason printed. Each mount is undone when the test ends, whatever happened.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["fill", "read_only", "tmpfs"]


@contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (``"4m"``) at ``path`` (created) for the ``with`` block."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; this test runs as a user")
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path}: {proc.stderr.strip() or proc.returncode}")
    try:
        yield path
    finally:
        # Lazy: a child that the test failed to stop must not keep the mount (and the test) up.
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path, leave: int) -> None:
    """Fill the file system of ``path`` until about ``leave`` bytes are free."""
    stat = os.statvfs(path)
    free = stat.f_bavail * stat.f_frsize
    if free > leave:
        with open(path / "filler", "wb") as fh:
            fh.write(b"\0" * (free - leave))


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` as a directory no write can reach: a read-only tmpfs for root (who may write
    through any mode bits), else a directory without write permission."""
    if os.geteuid() != 0:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    with tmpfs(path, "1m", read_only=True):
        yield path
