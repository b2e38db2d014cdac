"""The replay origin: archived responses served as they were archived, from another port.

An archived page is someone else's HTML and scripts. Served from the UI's origin it could read
the UI's pages and post its forms (ArchiveBox's GHSA-cr45-98w9-gwqx); here it lives on an origin
of its own, the UI shows it in an ``<iframe sandbox="allow-scripts">`` (no same-origin: even
this origin's cookies and storage are out of reach), and the response's own policy sandboxes it
too when opened directly and keeps it from loading anything from the live web.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from archive.exceptions import ArchiveError
from archive.query.reader import Archive

__all__ = ["create_replay_app", "replay_policy"]


def replay_policy(ui_origin: str | None) -> str:
    """Sandboxed, and nothing fetched from beyond this origin: replay shows the archive only."""
    return "; ".join(
        (
            "sandbox allow-scripts",
            "default-src 'self' data: blob: 'unsafe-inline' 'unsafe-eval'",
            "frame-ancestors " + (ui_origin or "'self'"),
        )
    )


def create_replay_app(archive: Archive, ui_origin: str | None = None) -> Starlette:
    policy = replay_policy(ui_origin)
    headers = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"}

    def replay(request: Request) -> Response:
        capture_id = int(request.path_params["capture_id"])
        try:
            capture = archive.capture(capture_id)
            record = archive.record(capture_id)
        except ArchiveError as exc:
            return PlainTextResponse(str(exc), status_code=404, headers=headers)
        media = capture.content_type or "application/octet-stream"
        return Response(record.content, media_type=media, headers=headers)

    def index(request: Request) -> Response:
        return PlainTextResponse("morgue replay: /<capture id>/", headers=headers)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/{capture_id:int}/", replay),
            Route("/{capture_id:int}", replay),
        ]
    )
