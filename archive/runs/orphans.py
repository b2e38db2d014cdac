"""Child processes that die with their parent, however the parent ends.

A helper that morgue starts (pywb for replay, Chromium for browser capture) must not outlive the
process that started it: an ``atexit`` handler or a ``finally`` block runs on a clean exit, not
when the parent is killed or ends on a re-raised SIGTERM. Linux lets a child ask for a signal
when its parent dies (``PR_SET_PDEATHSIG``); ``die_with_parent`` is the ``preexec_fn`` that asks
for it, between fork and exec. Elsewhere it does nothing and the caller's own clean-up is all.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def die_with_parent(sig: int = signal.SIGKILL) -> None:  # pragma: no cover - runs in the child
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
