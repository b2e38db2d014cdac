"""A local mock news site for the tests, run in a subprocess (as Scrapy's own tests do).

Example::

    with MockServer() as server:
        urlopen(server.url("/articles/alpha.html"))
        assert server.requests()[-1]["path"] == "/articles/alpha.html"

The routes are listed in ``tests/mockserver/app.py``.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["MockServer"]

_ROOT = Path(__file__).resolve().parents[2]


class MockServer:
    """Starts ``python -m tests.mockserver`` on a free port and stops it on exit."""

    def __init__(self, startup_timeout: float = 20.0) -> None:
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._proc is not None:
            return
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.mockserver"],
            cwd=_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], self.startup_timeout)
        line = self._proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"mock server did not report its port (got {line!r})")
        self.port = int(line)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        if not self.port:
            raise RuntimeError("MockServer is not running")
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def requests(self) -> list[dict[str, Any]]:
        """Every request the server received so far: ``{method, path, headers}``, oldest first."""
        with urllib.request.urlopen(self.url("/__requests"), timeout=10) as response:
            result: list[dict[str, Any]] = json.load(response)
        return result

    def clear_requests(self) -> None:
        request = urllib.request.Request(self.url("/__requests"), method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass
