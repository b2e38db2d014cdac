"""A local pywb (an independent WARC reader) serving collections from a temp dir."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.readers import pywb


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PywbServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PywbServer:
        self.proc = subprocess.Popen(
            [pywb("wayback"), "-p", str(self.port), "-b", "127.0.0.1"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("pywb exited at start") from None
                time.sleep(0.2)
        raise RuntimeError("pywb did not start in 30 s")

    def fetch_raw(self, collection: str, url: str) -> bytes:
        """The archived body, as recorded (``id_`` mode: no rewriting)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/{collection}/id_/{url}",
            headers={"Accept-Encoding": "identity"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return bytes(resp.read())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
