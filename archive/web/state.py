"""What every request of the UI reads: the server's settings, the open archive, the jobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from archive.paths import DataPaths
from archive.query.reader import Archive

from .jobs import JobBoard

__all__ = ["WebSettings", "WebState", "state_of"]


@dataclass(frozen=True, slots=True)
class WebSettings:
    paths: DataPaths
    token: str | None = None
    #: Where archived pages are replayed (another origin), e.g. http://127.0.0.1:8001
    replay_url: str | None = None
    #: Scrapy settings for the archive jobs the UI starts.
    job_settings: Mapping[str, Any] = field(default_factory=dict)
    #: Called before a capture is framed when pywb replays (``archive.web.pywb_replay``): it
    #: indexes WARC files closed since. None: morgue's own replay app, by capture id.
    pywb_refresh: Callable[[], None] | None = None


@dataclass(slots=True)
class WebState:
    settings: WebSettings
    archive: Archive
    jobs: JobBoard

    @property
    def writable(self) -> bool:
        return bool(self.settings.token)


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state
