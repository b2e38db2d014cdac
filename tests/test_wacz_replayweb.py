"""An exported WACZ replays in ReplayWeb.page with its pages' images, stylesheets and fonts.

The mock site's photo stories are archived twice (the second time with the freshness window
off, so their requisites are revisit records), the mock site is stopped, and only the second
run's captures are exported: the package must carry the first run's records the revisits refer
to. ReplayWeb.page (its ui.js and sw.js from the npm registry, put in ``.replayweb/`` by ``make
install``) is served with the package from 127.0.0.1 and opened in Debian's Chromium through
Playwright; every request its replay made for the archived site must have been answered.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import FAST, ROOT, json_lines, run_morgue
from tests.mockserver import MockServer

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
REPLAYWEB = ROOT / ".replayweb"
STORIES = ["/photo/harbour-lights.html", "/photo/market-day.html"]
# Replay URLs of ReplayWeb.page's service worker: /w/COLLECTION/[:HASH/]TIMESTAMPMODIFIER_/URL
_REPLAYED = "/w/"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not (REPLAYWEB / "ui.js").is_file() or not (REPLAYWEB / "sw.js").is_file():
        return "ReplayWeb.page is not installed in .replayweb/ (make install, with npm)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A directory serving ReplayWeb.page and the WACZ of the stories' second captures."""
    why = _missing()
    if why is not None:
        if os.environ.get("MORGUE_TEST_REQUIRE_BROWSER"):
            pytest.fail(f"ReplayWeb.page test required but cannot run: {why}")
        pytest.skip(f"ReplayWeb.page test not run: {why}")
    root = tmp_path_factory.mktemp("replayweb")
    data = root / "data"
    site = root / "site"
    site.mkdir()
    with MockServer() as server:
        urls = [server.url(path) for path in STORIES]
        args = ["--data-dir", str(data), "archive", "--format", "json", "--no-recover", *FAST]
        first = run_morgue(*args, *urls)
        assert first.returncode == 0, first.stderr
        second = run_morgue(*args, "-s", "REQUISITES_REFRESH_AFTER=0", *urls)
        assert second.returncode == 0, second.stderr
        since = min(row["fetched_at"] for row in json_lines(second.stdout))
        base = server.base_url
    # The live site is gone: whatever the replay shows comes from the package.
    proc = run_morgue(
        "--data-dir", str(data), "export", "--wacz", str(site / "archive.wacz"), "--since", since
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("ui.js", "sw.js"):
        shutil.copy(REPLAYWEB / name, site / name)
    yield site, base


def _embed(page_url: str) -> str:
    return (
        '<!doctype html><html><head><script src="ui.js"></script></head><body>'
        '<replay-web-page style="display:block;width:1200px;height:900px" source="archive.wacz" '
        f'url="{page_url}" replayBase="./" embed="replayonly"></replay-web-page></body></html>'
    )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("story", STORIES)
def test_the_wacz_replays_each_story_with_its_requisites(
    package: tuple[Path, str], story: str
) -> None:
    from playwright.sync_api import sync_playwright

    site, base = package
    page_url = base + story
    (site / "index.html").write_text(_embed(page_url), encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answered: dict[str, int] = {}  # original URL -> status, as the service worker replayed it
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()
                page.context.on("response", lambda r: _note(answered, r.url, r.status, base))
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                frame = _replay_frame(page, story)
                page.wait_for_load_state("networkidle")
                drawn = frame.evaluate(
                    "() => [...document.images].filter(i => i.currentSrc.startsWith('http'))"
                    ".map(i => [i.currentSrc, i.naturalWidth])"
                )
                styled = frame.evaluate(f"() => getComputedStyle({_MASTHEAD}).backgroundImage")
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    misses = {url: status for url, status in answered.items() if status >= 400}
    assert misses == {}
    slug = story.rsplit("/", 1)[1].removesuffix(".html")
    photo = "harbour" if slug == "harbour-lights" else "market"
    # What the page and its stylesheet load, each replayed from the package.
    for needed in ("/assets/site.css", "/assets/img/logo.png", "/assets/img/masthead.png",
                   f"/assets/img/{photo}-texture.png"):  # fmt: skip
        assert answered.get(base + needed) == 200, needed
    # Drawn: every image decoded, the stylesheet applied (its background on the masthead).
    assert drawn and all(width > 0 for _src, width in drawn), drawn
    assert "masthead.png" in styled


def _note(answered: dict[str, int], url: str, status: int, base: str) -> None:
    """Record a replay response for a URL of the archived site (``base``)."""
    path = urlsplit(url).path
    if not path.startswith(_REPLAYED) or "_/" not in path:
        return
    original = url.split("_/", 1)[1]
    if original.startswith(base):
        answered[original] = status


_MASTHEAD = "document.querySelector('header.masthead')"
# The page is shown: its masthead is there and every image has loaded (or failed to).
_SHOWN = f"() => !!{_MASTHEAD} && [...document.images].every(i => i.complete)"


def _replay_frame(page: Any, story: str) -> Any:
    """The frame in which ReplayWeb.page shows the archived page, once shown. ReplayWeb.page
    may load its replay frame more than once while it starts: each candidate is asked."""
    for _ in range(600):
        for frame in page.frames:
            if "mp_/" not in frame.url or not frame.url.endswith(story):
                continue
            try:
                if frame.evaluate(_SHOWN):
                    return frame
            except Exception:  # a frame replaced while asked
                continue
        page.wait_for_timeout(100)
    raise AssertionError(f"ReplayWeb.page showed no frame for {story}: {page.frames}")
