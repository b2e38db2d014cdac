"""Task functions for tests/test_extract_pool.py; worker processes import them by name."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

__all__ = [
    "exit_hard",
    "getpid",
    "is_loaded",
    "raise_stubborn",
    "raise_value_error",
    "rendezvous",
    "return_unpicklable",
    "sleep_then_pid",
    "square",
]


class StubbornError(Exception):
    """Pickles but cannot be unpickled (``__init__`` wants two arguments)."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


def square(x: int) -> int:
    return x * x


def getpid() -> int:
    return os.getpid()


def is_loaded(module: str) -> bool:
    return module in sys.modules


def sleep_then_pid(seconds: float, pid_file: str | None = None) -> int:
    if pid_file is not None:
        Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def raise_value_error(message: str) -> None:
    raise ValueError(message)


def raise_stubborn() -> None:
    raise StubbornError("cannot", "unpickle")


def return_unpicklable() -> threading.Lock:
    return threading.Lock()


def exit_hard(code: int) -> None:
    os._exit(code)


def rendezvous(directory: str, me: str, other: str, patience: float) -> tuple[int, bool]:
    """Announce ``me``, then wait for ``other``: both can only meet if they run at once."""
    Path(directory, me).touch()
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if Path(directory, other).exists():
            return os.getpid(), True
        time.sleep(0.01)
    return os.getpid(), False
