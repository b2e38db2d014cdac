"""The UI's pages: home, search, a page's timeline, a capture, dead links, runs, jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from archive.captures.table import latest_capture, run_tally
from archive.db.models import Capture
from archive.exceptions import InvalidInput
from archive.query.capture_query import CaptureQuery, PageHistory, iter_query, page_history
from archive.query.link_rot import cited_links
from archive.query.overview import (
    dead_pages,
    dead_per_domain,
    get_page,
    page_listings,
    recent_runs,
    soft404_reasons,
    verdict_counts,
)
from archive.runs.schedules import list_schedules
from archive.urls import validate_url

from .charts import bar_chart, stacked_chart
from .pywb_replay import replay_path
from .rendering import templates
from .searchform import SearchForm
from .security import check_write, csrf_token
from .state import WebSettings, WebState, state_of
from .textdiff import text_diff

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    web = state_of(request)
    page = templates.get_template(name).render(
        request=request,
        csrf=csrf_token(request),
        writable=web.writable,
        replay_url=web.settings.replay_url,
        **context,
    )
    return HTMLResponse(page, status_code=status)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    web = state_of(request)
    db = web.archive.db
    week_ago = datetime.now(UTC) - timedelta(days=7)
    return render(
        request,
        "home.html",
        counts=verdict_counts(db),
        recent=list(iter_query(db, CaptureQuery(limit=20))),
        died=dead_pages(db, since=week_ago, limit=20),
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request) -> HTMLResponse:
    web = state_of(request)
    form = SearchForm.from_params(request.query_params)
    rows = list(iter_query(web.archive.db, form.page_query(snippets=bool(form.q))))
    more = len(rows) > form.per_page
    return render(request, "search.html", form=form, rows=rows[: form.per_page], more=more)


def _page_view(request: Request, web: WebState, history: PageHistory) -> HTMLResponse:
    if not history.entries:
        raise InvalidInput(f"no capture of {history.url}")
    captures = [entry.capture for entry in history.entries]
    by_id = {capture.id: capture for capture in captures}
    with_text = [capture for capture in captures if capture.text]
    params = request.query_params
    after = by_id.get(_int(params.get("b")) or 0) or (with_text[-1] if with_text else None)
    before = by_id.get(_int(params.get("a")) or 0)
    if before is None:
        older = [c for c in with_text if after is not None and c.fetched_at <= after.fetched_at]
        before = next((c for c in reversed(older) if after is None or c.id != after.id), None)
    diff = text_diff(before.text, after.text) if before and after else []
    page = history.page
    listings = page_listings(web.archive.db, page.id) if page else []
    cited_from, links = cited_links(web.archive.db, captures[-1].url)
    cited = []
    for link in links[:100]:
        target = latest_capture(web.archive.db, link.url)
        cited.append((link, target))
    return render(
        request,
        "page.html",
        history=history,
        page=page,
        entries=list(reversed(history.entries)),
        before=before,
        after=after,
        diff=diff,
        listings=listings,
        cited=cited,
        cited_from=cited_from,
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@router.get("/pages", response_class=HTMLResponse)
def page_by_url(request: Request, url: str = "") -> HTMLResponse:
    if not url.strip():
        raise InvalidInput("give a page's URL: /pages?url=...")
    web = state_of(request)
    return _page_view(request, web, page_history(web.archive.db, url))


@router.get("/pages/{page_id}", response_class=HTMLResponse)
def page_by_id(request: Request, page_id: int) -> HTMLResponse:
    web = state_of(request)
    page = get_page(web.archive.db, page_id)
    if page is None:
        raise InvalidInput(f"no capture of a page {page_id}")
    return _page_view(request, web, page_history(web.archive.db, page.url))


@router.get("/captures/{capture_id}", response_class=HTMLResponse)
def capture_view(request: Request, capture_id: int) -> HTMLResponse:
    web = state_of(request)
    capture = web.archive.capture(capture_id)
    replayable = _replayable(capture)
    return render(
        request,
        "capture.html",
        capture=capture,
        page=capture.page,
        replayable=replayable,
        replay_src=_replay_src(web.settings, capture) if replayable else None,
    )


def _replay_src(settings: WebSettings, capture: Capture) -> str | None:
    """Where the frame loads the archived page: pywb's rewritten replay, or morgue's own."""
    if not settings.replay_url:
        return None
    if settings.pywb_refresh is None:
        return f"{settings.replay_url}/{capture.id}/"
    settings.pywb_refresh()
    return settings.replay_url + replay_path(capture.final_url or capture.url, capture.fetched_at)


def _replayable(capture: Capture) -> bool:
    return bool(capture.warc_file and capture.warc_offset is not None and not capture.record_error)


@router.get("/captures/{capture_id}/warc")
def capture_warc(request: Request, capture_id: int) -> Response:
    """The capture's WARC response record as stored: one gzip member, a WARC file of its own."""
    web = state_of(request)
    capture = web.archive.capture(capture_id)
    if capture.warc_file is None or capture.warc_offset is None or not capture.warc_length:
        raise InvalidInput(f"no capture {capture_id} with an archived record")
    folder = web.settings.paths.warc_dir
    path = folder / capture.warc_file
    if not path.exists():
        path = folder / (capture.warc_file + ".open")
    if Path(capture.warc_file).name != capture.warc_file or not path.is_file():
        raise InvalidInput(f"no capture {capture_id} whose WARC file is here")
    with path.open("rb") as fh:
        fh.seek(capture.warc_offset)
        data = fh.read(capture.warc_length)
    name = f"morgue-capture-{capture.id}.warc.gz"
    return Response(
        data,
        media_type="application/warc",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/dead", response_class=HTMLResponse)
def dead(request: Request) -> HTMLResponse:
    db = state_of(request).archive.db
    timeline = dead_per_domain(db)
    return render(
        request,
        "dead.html",
        timeline=stacked_chart(timeline),
        reasons=bar_chart(soft404_reasons(db)),
        confirmed=dead_pages(db, states=("dead_confirmed",), limit=200),
    )


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request) -> HTMLResponse:
    db = state_of(request).archive.db
    listed = recent_runs(db)
    return render(
        request,
        "runs.html",
        runs=[(run, run_tally(db, run.id)) for run in listed],
        schedules=list_schedules(db),
    )


@router.post("/jobs")
def start_job(
    request: Request,
    urls: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "archive",
    token: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    web = state_of(request)
    check_write(request, web.settings.token, token, csrf)
    if kind not in ("archive", "recheck"):
        raise InvalidInput(f"unknown job {kind!r}")
    chosen = [validate_url(line.strip()) for line in urls.splitlines() if line.strip()]
    if not chosen:
        raise InvalidInput("give at least one URL to archive")
    job = web.jobs.start(kind, chosen)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_view(request: Request, job_id: int) -> HTMLResponse:
    job = state_of(request).jobs.get(job_id)
    if job is None:
        raise InvalidInput(f"no capture job {job_id}")
    return render(request, "job.html", job=job)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    endpoints = [
        (path, method.upper(), op.get("summary", ""), op.get("description", ""))
        for path, ops in schema.get("paths", {}).items()
        for method, op in ops.items()
    ]
    return render(request, "api_docs.html", endpoints=endpoints)
