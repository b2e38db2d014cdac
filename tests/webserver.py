"""``morgue serve``'s two servers (UI and replay origin) on free ports, in threads of the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import uvicorn

from archive.paths import DataPaths
from archive.query.reader import Archive, open_archive
from archive.web.app import create_app
from archive.web.replay import create_replay_app
from archive.web.state import WebSettings

__all__ = ["LiveServer"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The UI at ``url`` and the replay origin at ``replay_url``, until the block ends."""

    def __init__(
        self, paths: DataPaths, token: str | None, job_settings: Mapping[str, Any]
    ) -> None:
        self.port, self.replay_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.replay_url = f"http://127.0.0.1:{self.replay_port}"
        settings = WebSettings(paths, token, self.replay_url, dict(job_settings))
        self.app = create_app(settings)
        self._archive: Archive = open_archive(paths.data_dir, paths.db_url)
        replay = create_replay_app(self._archive, self.url)
        self._servers = [
            uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            for app, port in ((self.app, self.port), (replay, self.replay_port))
        ]
        self._threads = [threading.Thread(target=s.run, daemon=True) for s in self._servers]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 20
        while not all(server.started for server in self._servers):
            if time.monotonic() > deadline:
                raise RuntimeError("the web servers did not start")
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in self._servers:
            server.should_exit = True
        for thread in self._threads:
            thread.join(10)
        self.app.state.web.jobs.join(60)
        self._archive.close()
