"""Build a pywb collection in a directory from WARC files the test writes itself.

The collection is laid out as ``wb-manager init`` would (``collections/NAME/archive`` and
``collections/NAME/indexes``) and indexed with ``wb-manager reindex`` in a subprocess: importing
pywb's indexer in the test process would trip ``filterwarnings = error`` (pywb imports ``cgi``).
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive.warc.records import WarcWriter
from tests.readers import pywb

__all__ = ["Capture", "ClockedWriter", "PywbCollection"]


class ClockedWriter(WarcWriter):
    """A WarcWriter whose clock the test sets before each write: the capture time of a record.

    Record ids are counted so that two runs write the same bytes.
    """

    def __init__(self, directory: Path, clock: datetime) -> None:
        super().__init__(directory, prefix="memento", hostname="testhost")
        self.clock = clock
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return self.clock

    def new_record_id(self) -> str:
        return f"<urn:uuid:00000000-0000-0000-0000-{next(self._ids):012d}>"

    def host_tag(self) -> str:
        return "1~testhost"


@dataclass(frozen=True, slots=True)
class Capture:
    """One page as an archive once saw it: URL, capture time (aware, UTC), status, body."""

    url: str
    when: datetime
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(
        default=(("Content-Type", "text/html; charset=utf-8"),)
    )


class PywbCollection:
    """``root/collections/NAME`` holding one WARC file of the given captures, indexed."""

    def __init__(self, root: Path, name: str = "web") -> None:
        self.root = Path(root)
        self.name = name
        self.archive_dir = self.root / "collections" / name / "archive"
        self.index_dir = self.root / "collections" / name / "indexes"

    def write(self, captures: Iterable[Capture]) -> list[Path]:
        """Write the captures into WARC files (one per capture time order) and index them."""
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        captures = list(captures)
        if not captures:
            raise ValueError("a collection needs at least one capture")
        writer = ClockedWriter(self.archive_dir, captures[0].when)
        with writer:
            for capture in captures:
                writer.clock = capture.when
                host = capture.url.split("://", 1)[-1].split("/", 1)[0]
                writer.write_exchange(
                    capture.url,
                    method="GET",
                    request_headers=[("Host", host), ("User-Agent", "morgue-test")],
                    request_body=b"",
                    status=capture.status,
                    response_headers=[
                        *capture.headers,
                        ("Content-Length", str(len(capture.body))),
                    ],
                    body=capture.body,
                )
        self.reindex()
        return [self.archive_dir / name for name in writer.files_written]

    def reindex(self) -> None:
        subprocess.run(
            [pywb("wb-manager"), "reindex", self.name],
            cwd=self.root,
            check=True,
            capture_output=True,
        )

    def write_config(self, settings: Mapping[str, bool | str]) -> None:
        """``root/config.yaml``, read by ``wayback`` started in ``root``."""
        lines = [f"{key}: {_yaml_scalar(value)}" for key, value in settings.items()]
        (self.root / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _yaml_scalar(value: bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
