"""A real Memento TimeGate for tests: pywb on 127.0.0.1 serving captures the test chose.

    with MementoArchive(tmp_path, captures=[(url, when, status, body), ...]) as tg:
        tg.timegate + url          # a TimeGate (RFC 7089) for url
        tg.timemap(url)            # its TimeMap, application/link-format

The captures are written with archive.warc.records.WarcWriter (its clock set to each capture's time,
which becomes the WARC-Date and so pywb's memento timestamp), indexed, and served by ``wayback``
in a subprocess that is terminated on exit.

``style`` picks how the TimeGate answers (see archive/liveness/memento.py's docstring for the
headers): ``"redirect"`` (``redirect_to_exact: true``, the Wayback Machine's 302-style, our
default), ``"framed"`` (pywb's default: 200 with its frame page, the memento only in the Link
header) or ``"direct"`` (200 with the rewritten memento and Content-Location).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.pywb_collection import Capture, PywbCollection
from tests.pywb_server import PywbServer

__all__ = ["Capture", "MementoArchive"]

Style = Literal["redirect", "framed", "direct"]

_CONFIG: dict[Style, dict[str, bool | str]] = {
    "redirect": {"enable_memento": True, "redirect_to_exact": True},
    "framed": {"enable_memento": True},
    "direct": {"enable_memento": True, "framed_replay": False},
}


class MementoArchive:
    def __init__(
        self,
        root: Path,
        captures: Sequence[Capture | tuple[str, datetime, int, bytes]],
        *,
        collection: str = "web",
        style: Style = "redirect",
    ) -> None:
        self.collection = PywbCollection(Path(root), collection)
        self.captures = [c if isinstance(c, Capture) else Capture(*c) for c in captures]
        self.style = style
        self.warc_files: list[Path] = []
        self._server: PywbServer | None = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT/COLLECTION/``: replay prefix, and TimeGate when a URL follows."""
        if self._server is None:
            raise RuntimeError("MementoArchive is not running (use it as a context manager)")
        return f"http://127.0.0.1:{self._server.port}/{self.collection.name}/"

    @property
    def timegate(self) -> str:
        return self.base

    def timemap(self, url: str) -> str:
        return f"{self.base}timemap/link/{url}"

    def __enter__(self) -> MementoArchive:
        self.warc_files = self.collection.write(self.captures)
        self.collection.write_config(_CONFIG[self.style])
        server = PywbServer(self.collection.root)
        try:
            server.__enter__()
        except BaseException:
            server.__exit__(None, None, None)  # a pywb that never answered must not outlive us
            raise
        self._server = server
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.__exit__(exc_type, exc, tb)
            self._server = None
