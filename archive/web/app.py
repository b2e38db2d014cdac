"""The UI application: ``create_app`` wires the archive, the templates, the jobs and the routes.

One ``Archive`` (the library's reader) serves every request; its database sessions are opened
per call, so the sync routes can run side by side in the server's thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from archive import __version__
from archive.exceptions import ArchiveError, InvalidInput
from archive.query.reader import open_archive

from . import routes_api, routes_ui
from .jobs import JobBoard, Runner
from .rendering import templates
from .security import SecurityHeaders, WriteRefused, ui_policy
from .state import WebSettings, WebState

__all__ = ["WebSettings", "create_app"]

HERE = Path(__file__).resolve().parent


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def create_app(settings: WebSettings, *, runner: Runner | None = None) -> FastAPI:
    """The UI over the archive at ``settings.paths`` (``InvalidInput`` when there is none)."""
    archive = open_archive(settings.paths.data_dir, settings.paths.db_url)
    jobs = (
        JobBoard(settings.paths, settings.job_settings)
        if runner is None
        else JobBoard(settings.paths, settings.job_settings, runner)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        archive.close()

    app = FastAPI(
        title="morgue",
        version=__version__,
        description="The archive's captures, pages, history and counts, as `morgue query "
        "--format json` prints them.",
        docs_url=None,  # the stock docs page loads scripts from a CDN: /api/docs is ours
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.web = WebState(settings, archive, jobs)
    app.add_middleware(SecurityHeaders, policy=ui_policy(_origin(settings.replay_url)))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.include_router(routes_api.router)
    app.include_router(routes_ui.router)

    @app.exception_handler(InvalidInput)
    async def _bad_input(request: Request, exc: InvalidInput) -> HTMLResponse | JSONResponse:
        return _error(request, 400 if "no capture" not in str(exc) else 404, str(exc))

    @app.exception_handler(ArchiveError)
    async def _archive_error(request: Request, exc: ArchiveError) -> HTMLResponse | JSONResponse:
        return _error(request, 500, str(exc))

    @app.exception_handler(WriteRefused)
    async def _refused(request: Request, exc: WriteRefused) -> HTMLResponse | JSONResponse:
        return _error(request, 403, str(exc))

    return app


def _error(request: Request, status: int, message: str) -> HTMLResponse | JSONResponse:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    page = templates.get_template("error.html").render(
        request=request, status=status, message=message
    )
    return HTMLResponse(page, status_code=status)
