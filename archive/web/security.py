"""What keeps the UI safe: its Content-Security-Policy, the write token and the CSRF check.

Archived pages are the hostile input here: their titles and texts are escaped by the templates,
and their HTML is replayed only from another origin (archive.web.replay). The policy below
forbids every inline script and every resource from elsewhere, so that even a markup mistake
cannot run code on the UI's origin; the replay origin is the one frame allowed.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

__all__ = [
    "CSRF_COOKIE",
    "SecurityHeaders",
    "WriteRefused",
    "check_write",
    "csrf_token",
    "ui_policy",
]

CSRF_COOKIE = "morgue_csrf"


class WriteRefused(Exception):
    """A write the server must refuse: writes are off, or the token or CSRF check failed."""


def ui_policy(replay_origin: str | None) -> str:
    """The UI's Content-Security-Policy: its own scripts and styles only, no inline code."""
    frames = replay_origin or "'none'"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            f"frame-src {frames}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds the policy and the usual hardening headers to every response, and gives each
    browser a CSRF cookie (double-submit: a form must send the same value back)."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        super().__init__(app)
        self.policy = policy

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        token = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not token or len(token) != 43:
            fresh = secrets.token_urlsafe(32)
        request.state.csrf = token if fresh is None else fresh
        response = await call_next(request)
        headers = response.headers
        headers["Content-Security-Policy"] = self.policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"  # archived URLs stay on this machine
        headers["X-Frame-Options"] = "DENY"
        if fresh is not None:
            response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict")
        return response


def csrf_token(request: Request) -> str:
    return str(getattr(request.state, "csrf", ""))


def check_write(request: Request, server_token: str | None, token: str, csrf: str) -> None:
    """Raise ``WriteRefused`` unless writes are on, ``token`` is the server's and ``csrf``
    matches this browser's cookie (a page of another site cannot read the cookie)."""
    if not server_token:
        raise WriteRefused("writes are off: start morgue serve with --token to allow them")
    if not hmac.compare_digest(token.encode(), server_token.encode()):
        raise WriteRefused("wrong token")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        raise WriteRefused("the form is stale or came from another site (CSRF check failed)")
