"""JSON Lines: one JSON object per capture, the contract fields plus the page, its state and
the article text (``morgue export --jsonl``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from archive.captures.table import capture_to_json
from archive.db.engine import Database
from archive.db.models import Capture
from archive.export.files import iso_time, replacing
from archive.query.capture_query import CaptureQuery, iter_query

__all__ = ["export_jsonl", "jsonl_record"]


def jsonl_record(capture: Capture) -> dict[str, Any]:
    """The contract fields, then the page, its state and the article's description and text."""
    data = capture_to_json(capture)
    data.update(
        {
            "page_url": capture.page.url,
            "state": capture.page.state,
            "dead_since": iso_time(capture.page.dead_since),
            "canonical_url": capture.canonical_url,
            "content_type": capture.content_type,
            "description": capture.description,
            "text": capture.text,
        }
    )
    return data


def export_jsonl(db: Database, q: CaptureQuery, dest: Path | None) -> int:
    """Write the captures ``q`` finds as JSON Lines to ``dest`` (None: stdout); returns how many."""
    query = replace(q, with_text=True, snippets=False)
    if dest is None:
        return _write_jsonl(db, query, sys.stdout)
    with replacing(dest) as fh:
        return _write_jsonl(db, query, fh)


def _write_jsonl(db: Database, q: CaptureQuery, fh: IO[str]) -> int:
    count = 0
    for row in iter_query(db, q):
        fh.write(json.dumps(jsonl_record(row.capture), ensure_ascii=False) + "\n")
        count += 1
    fh.flush()
    return count
