"""The JSON API under /api/: the objects ``morgue query --format json`` and ``morgue history
--format json`` print, made by the same library functions, so that the two never differ."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from archive.captures.table import CAPTURE_FIELDS, capture_to_json, csv_value
from archive.exceptions import InvalidInput
from archive.query.capture_query import QueryRow, history_to_json, iter_query, page_history
from archive.query.overview import get_page
from archive.query.stats import capture_stats

from .searchform import SearchForm
from .state import state_of

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["archive"])
DEFAULT_LIMIT = 100


def _jsonl(rows: Iterator[QueryRow]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps(capture_to_json(row.capture), ensure_ascii=False) + "\n").encode()


def _csv(rows: Iterator[QueryRow]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CAPTURE_FIELDS)
    for row in rows:
        values = capture_to_json(row.capture)
        writer.writerow([csv_value(values[name]) for name in CAPTURE_FIELDS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@router.get("/captures", summary="Captures, filtered as `morgue query` filters them")
def captures(request: Request) -> Response:
    """Parameters: `q` (full text), `verdict`, `domain`, `url_prefix`, `since`, `until`,
    `state`, `latest`, `sort` (those of `morgue query`), `limit` (default 100, 0 for all),
    `offset`, and `format`: `json` (a JSON array, the default), `jsonl` (JSON Lines, exactly
    what `morgue query --format json` prints) or `csv` (what `--format csv` prints)."""
    params = request.query_params
    form = SearchForm.from_params(params)
    limit = _whole(params.get("limit"), DEFAULT_LIMIT, "limit")
    offset = _whole(params.get("offset"), 0, "offset")
    fmt = params.get("format", "json")
    if fmt not in ("json", "jsonl", "csv"):
        raise InvalidInput(f"unknown format {fmt!r}; expected json, jsonl or csv")
    query = form.query(limit=limit or None, offset=offset)
    rows = iter_query(state_of(request).archive.db, query)
    if fmt == "jsonl":
        return StreamingResponse(_jsonl(rows), media_type="application/jsonl; charset=utf-8")
    if fmt == "csv":
        return StreamingResponse(
            _csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="captures.csv"'},
        )
    return JSONResponse([capture_to_json(row.capture) for row in rows])


def _whole(raw: str | None, default: int, name: str) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise InvalidInput(f"{name} must be 0 or more")
    return value


@router.get("/captures/{capture_id}", summary="One capture")
def capture(request: Request, capture_id: int) -> dict[str, Any]:
    """The `--format json` object, with the verdict's confidence and evidence, the page's
    state and the extracted text besides."""
    found = state_of(request).archive.capture(capture_id)
    data = capture_to_json(found)
    data.update(
        confidence=found.confidence,
        evidence=found.evidence,
        page_url=found.page.url,
        page_state=found.page.state,
        text=found.text,
    )
    return data


@router.get("/pages/history", summary="Every capture of a URL, oldest first")
def history_by_url(request: Request, url: str) -> list[dict[str, Any]]:
    """What `morgue history --format json URL` prints, as a JSON array."""
    history = page_history(state_of(request).archive.db, url)
    if not history.entries:
        raise InvalidInput(f"no capture of {url}")
    return history_to_json(history)


@router.get("/pages/{page_id}/history", summary="Every capture of a page, oldest first")
def history_by_id(request: Request, page_id: int) -> list[dict[str, Any]]:
    db = state_of(request).archive.db
    page = get_page(db, page_id)
    if page is None:
        raise InvalidInput(f"no capture of a page {page_id}")
    return history_to_json(page_history(db, page.url))


@router.get("/stats", summary="Counts by verdict, page state, domain and day")
def stats(request: Request) -> dict[str, Any]:
    """What `morgue stats --format json` prints (the same filters as /api/captures apply)."""
    form = SearchForm.from_params(request.query_params)
    return capture_stats(state_of(request).archive.db, form.query(limit=None)).to_json()


@router.get("/jobs/{job_id}", summary="A background archive job's progress")
def job(request: Request, job_id: int) -> dict[str, Any]:
    found = state_of(request).jobs.get(job_id)
    if found is None:
        raise InvalidInput(f"no capture job {job_id}")
    return found
