"""Running the UI: uvicorn serves it on one port and the replay origin on another.

The replay origin is pywb (``archive.web.pywb_replay``: pages with their requisites, rewritten
to the archive) when one is found, a child process stopped with the UI; else morgue's own replay
app (``archive.web.replay``: the archived body as it is) in a thread of this process. Either
way nothing is left listening after Ctrl-C; uvicorn installs its signal handlers in the main
thread only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import uvicorn

from archive.exceptions import InvalidInput
from archive.paths import DataPaths
from archive.query.reader import open_archive

from .app import create_app
from .pywb_replay import PywbReplay, find_wayback
from .replay import create_replay_app
from .state import WebSettings

__all__ = ["serve"]

logger = logging.getLogger(__name__)


def _url_host(host: str) -> str:
    """The host to put in URLs the browser follows (a wildcard address is not one)."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(
    paths: DataPaths,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    replay_port: int | None = None,
    replay_url: str | None = None,
    job_settings: Mapping[str, Any] | None = None,
    replay: str = "auto",
) -> None:
    """Serve until interrupted; raises ``InvalidInput`` when there is no archive at ``paths``.

    ``replay``: ``pywb``, ``builtin``, or ``auto`` (pywb when ``find_wayback`` finds one).
    """
    replay_port = port + 1 if replay_port is None else replay_port
    replay_url = (replay_url or f"http://{_url_host(host)}:{replay_port}").rstrip("/")
    wayback = find_wayback() if replay != "builtin" else None
    if replay == "pywb" and wayback is None:
        raise InvalidInput(
            "no pywb found for --replay pywb: run `make install`, or set MORGUE_WAYBACK"
        )
    if wayback is not None:
        with PywbReplay(wayback, paths, host, replay_port) as pywb:
            settings = WebSettings(
                paths, token, replay_url, dict(job_settings or {}), pywb_refresh=pywb.refresh
            )
            logger.info("Replaying through pywb (%s) on port %d", wayback, replay_port)
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    ui_origin = f"http://{_url_host(host)}:{port}"
    settings = WebSettings(paths, token, replay_url, dict(job_settings or {}))
    app = create_app(settings)
    replay_archive = open_archive(paths.data_dir, paths.db_url)
    own_replay = uvicorn.Server(
        uvicorn.Config(
            create_replay_app(replay_archive, ui_origin),
            host=host,
            port=replay_port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=own_replay.run, name="replay", daemon=True)
    thread.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        own_replay.should_exit = True
        thread.join(5)
        replay_archive.close()
