"""An archive of a few mock-site pages for the web UI's tests, built once per module and backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import archive
from archive.paths import DataPaths
from tests.dbfixtures import _postgres_schema_url
from tests.mockserver import MockServer

__all__ = ["FAST", "PAGES", "WebArchive", "build", "web_archive_fixture"]

# Our own site on 127.0.0.1: no politeness delays, no web archive to ask about dead pages.
FAST = {"MEMENTO_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
PAGES = (
    "/articles/alpha.html",
    "/articles/beta.html",
    "/hostile.html",
    "/status/404",
    "/stub-appended.html",
)


@dataclass(frozen=True, slots=True)
class WebArchive:
    paths: DataPaths
    capture_ids: dict[str, int]  # mock-site path -> capture id
    urls: dict[str, str]  # mock-site path -> URL


def build(data_dir: Path, db_url: str, server: MockServer) -> WebArchive:
    urls = {path: server.url(path) for path in PAGES}
    run = archive.archive_urls(list(urls.values()), data_dir=data_dir, db_url=db_url, settings=FAST)
    by_url = {capture.url: capture.id for capture in run.captures}
    ids = {path: by_url[url] for path, url in urls.items()}
    return WebArchive(DataPaths(data_dir, db_url), ids, urls)


def web_archive_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: MockServer
) -> Iterator[WebArchive]:
    data_dir = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        yield build(data_dir, f"sqlite:///{(data_dir / 'morgue.sqlite3').as_posix()}", server)
    else:
        for url in _postgres_schema_url():
            yield build(data_dir, url, server)
