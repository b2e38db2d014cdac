"""The C library of this process, for the few calls Python does not wrap (prctl, mallopt).

``ctypes.util.find_library`` runs ``ldconfig -p`` and ``platform.libc_ver`` reads the whole
Python binary: both cost a crawl's start measurable time. The C library is already loaded in
this process, so its symbols are reached through the process's own handle.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["glibc"]


def glibc() -> ctypes.CDLL | None:
    """The process's glibc, or None on another system or C library."""
    if sys.platform != "linux":
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None  # musl and others have no such name
        return ctypes.CDLL(None, use_errno=True)
    except (OSError, ValueError):
        return None
