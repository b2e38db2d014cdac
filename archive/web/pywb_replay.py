"""The replay origin through pywb: archived pages with their images, stylesheets and fonts.

morgue's own replay app (``archive.web.replay``) serves an archived body as it is, so a page's
links still point at the live web and its requisites do not load. pywb rewrites them to the
archive. ``morgue serve`` starts pywb's ``wayback`` on the replay port over the data directory:
its WARC files in place, and a CDXJ index of them that morgue writes (``archive.export.cdxj``)
into a directory of its own, rebuilt when WARC files have closed since. The UI frames
``/morgue/<timestamp>mp_/<url>``: the page rewritten, without pywb's own top frame, which could
not work inside the UI's sandboxed iframe.

pywb pins old libraries (redis 2.10), so it lives in a virtual environment of its own: ``make
install`` builds ``.venv-pywb/``. ``MORGUE_WAYBACK`` names another ``wayback``; without one,
``morgue serve`` replays with its own app.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from archive.exceptions import ArchiveError
from archive.export.cdxj import warc_files, write_cdxj_index
from archive.paths import DataPaths
from archive.runs.orphans import die_with_parent

__all__ = ["COLLECTION", "PywbReplay", "find_wayback", "replay_path"]

logger = logging.getLogger(__name__)

COLLECTION = "morgue"
_START_TIMEOUT = 60.0


def find_wayback() -> str | None:
    """``MORGUE_WAYBACK``, else the checkout's ``.venv-pywb/bin/wayback``, else one on PATH."""
    named = os.environ.get("MORGUE_WAYBACK")
    if named:
        return named
    beside = Path(__file__).resolve().parents[2] / ".venv-pywb" / "bin" / "wayback"
    if beside.is_file():
        return str(beside)
    return shutil.which("wayback")


def replay_path(url: str, fetched_at: datetime) -> str:
    """The path pywb replays ``url`` at, as archived closest to ``fetched_at``, rewritten."""
    return f"/{COLLECTION}/{fetched_at.strftime('%Y%m%d%H%M%S')}mp_/{url}"


class PywbReplay:
    """``wayback`` on ``host:port`` over ``paths``' WARC files, for the time of a ``with``."""

    def __init__(self, wayback: str, paths: DataPaths, host: str, port: int) -> None:
        self.wayback, self.paths, self.host, self.port = wayback, paths, host, port
        self._root = Path(tempfile.mkdtemp(prefix="morgue-pywb-"))
        self._index = self._root / "indexes" / "index.cdxj"
        self._indexed: tuple[tuple[str, float], ...] | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.refresh()
        (self._root / "config.yaml").write_text(
            f"collections:\n  {COLLECTION}:\n"
            f"    archive_paths: {self.paths.warc_dir}/\n"
            f"    index_paths: {self._index.parent}/\n"
            "framed_replay: false\n",
            encoding="utf-8",
        )
        try:
            self._proc = subprocess.Popen(
                [self.wayback, "-p", str(self.port), "-b", self.host],
                cwd=self._root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # uvicorn ends on SIGTERM by raising it again once it has shut down: this
                # process then dies before any clean-up of ours runs, and pywb must go with it.
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            self.__exit__(None, None, None)
            raise ArchiveError(
                f"cannot start pywb ({self.wayback}): {exc.strerror or exc}"
            ) from None
        deadline = time.monotonic() + _START_TIMEOUT
        while not _listening(self.host, self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise ArchiveError(f"pywb ({self.wayback}) did not start on port {self.port}")
            time.sleep(0.2)
        return self

    def refresh(self) -> None:
        """Index the WARC files again when closed ones were added or changed since."""
        with self._lock:
            files = tuple((f.name, f.stat().st_mtime) for f in warc_files(self.paths.warc_dir))
            if files == self._indexed:
                return
            result = write_cdxj_index(self.paths.warc_dir, self._index)
            self._indexed = files
            logger.info("Indexed %d WARC files for replay", result.files)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._root, ignore_errors=True)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
