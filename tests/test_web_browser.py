"""``morgue serve`` in a real browser: Debian's Chromium, driven by Playwright (never a browser
Playwright downloads). Without the browser these tests are skipped and say why, unless
MORGUE_TEST_REQUIRE_BROWSER is set (CI sets it): then a missing browser fails them.

Set MORGUE_SCREENSHOT_DIR to keep the screenshots (docs/serve.png was taken this way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mockserver import MockServer
from tests.mockserver.app import HOSTILE, article
from tests.webarchive import FAST, build
from tests.webserver import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TOKEN = "browser-test-token"


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


def _need_browser() -> None:
    why = _missing_browser()
    if why is None:
        return
    if os.environ.get("MORGUE_TEST_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests required but cannot run: {why}")
    pytest.skip(f"browser tests not run: {why}")


@pytest.fixture(scope="module")
def site() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, site: MockServer) -> Iterator[Any]:
    _need_browser()
    data_dir = tmp_path_factory.mktemp("browser")
    built = build(data_dir, f"sqlite:///{(data_dir / 'morgue.sqlite3').as_posix()}", site)
    with LiveServer(built.paths, TOKEN, FAST) as server:
        yield built, server


@pytest.fixture(scope="module")
def browser(served: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs
    yield opened
    context.close()
    assert dialogs == [], f"an archived script ran an alert: {dialogs}"


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("MORGUE_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_search_a_word_and_open_the_result(page: Any, served: Any) -> None:
    built, server = served
    page.goto(server.url + "/")
    page.fill(".search-box input[name=q]", "harbour")
    page.click(".search-box button")
    page.wait_for_url(re.compile(r"/search\?q=harbour"))
    results = page.locator("#results .title")
    assert results.count() == 1
    assert page.locator("#results mark").first.inner_text().lower() == "harbour"
    results.first.click()
    page.wait_for_url(re.compile(rf"/captures/{built.capture_ids['/hostile.html']}$"))
    # The markup in the archived title is shown as text, and none of it ran.
    assert page.locator("#capture-title").inner_text() == HOSTILE.title
    assert "Mallory" in page.locator("#capture-author").inner_text()
    assert page.title().startswith(HOSTILE.title[:20])


def test_a_capture_replays_in_a_frame_of_another_origin(page: Any, served: Any) -> None:
    built, server = served
    capture_id = built.capture_ids["/articles/alpha.html"]
    page.goto(f"{server.url}/captures/{capture_id}")
    banner = page.locator("#replay-banner").inner_text()
    assert "ok" in banner and "fetched live" in banner
    frame = page.frame_locator("#replay")
    heading = frame.locator("article h1")
    heading.wait_for()
    assert heading.inner_text() == article("alpha").title
    child = next(f for f in page.frames if f != page.main_frame)
    assert child.url.startswith(server.replay_url + "/")
    assert not child.url.startswith(server.url)
    page.evaluate("window.scrollTo(0, document.querySelector('.replay').offsetTop - 16)")
    child.locator("article h1").wait_for()
    _shot(page, "serve.png")


def test_archive_this_url_with_the_token_shows_the_new_capture(
    page: Any, served: Any, site: MockServer
) -> None:
    _built, server = served
    url = site.url("/articles/gamma.html")
    page.goto(server.url + "/")
    page.fill("form.job textarea[name=urls]", url)
    page.fill("form.job input[name=token]", TOKEN)
    page.click("form.job button")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.locator("#job-status", has_text="finished").wait_for(timeout=120_000)
    page.locator("#job-captures a").first.click()
    page.wait_for_url(re.compile(r"/captures/\d+$"))
    assert page.locator("#capture-title").inner_text() == article("gamma").title
    page.goto(server.url + "/")
    assert article("gamma").title in page.locator("#recent").inner_text()


def test_the_dead_links_chart_renders(page: Any, served: Any) -> None:
    _built, server = served
    page.goto(server.url + "/dead")
    chart = page.locator("#dead-chart svg.stacked")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    assert page.locator("#dead-chart svg.stacked rect").count() >= 1  # the page that answered 404
    assert "127.0.0.1" in page.locator("#dead-chart figcaption").inner_text()


def test_pages_fit_a_phone(browser: Any, served: Any) -> None:
    _built, server = served
    context = browser.new_context(viewport={"width": 375, "height": 740})
    phone = context.new_page()
    for path in ("/", "/search?q=school", "/dead", "/runs"):
        phone.goto(server.url + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
    context.close()
