"""How much a sweep over the corpus covers: every third page by default (``make test``, CI),
every page with ``MORGUE_TEST_FULL=1`` (``make test-full``).

A sweep asserts a property of each page it reads (no live article judged dead, no page worse
than plain trafilatura); the benchmarks in ``bench/`` measure the same over every page. A third,
taken in manifest order, spreads over the corpus's sites and languages and keeps the suite
within its time on a two-core machine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["FULL", "sweep"]

T = TypeVar("T")

FULL = os.environ.get("MORGUE_TEST_FULL") == "1"


def sweep(items: Sequence[T]) -> list[T]:
    """``items`` whole under ``MORGUE_TEST_FULL=1``, otherwise every third one."""
    return list(items) if FULL else list(items[::3])
