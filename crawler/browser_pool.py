"""Headless Chromium for the pages that need a browser: a bounded pool, killed when it hangs.

morgue starts the system's Chromium itself (``BROWSER_EXECUTABLE``, Debian's ``chromium``) in a
process group of its own, with ``--remote-debugging-port``, and drives it with Playwright over
CDP (``connect_over_cdp``). Starting it ourselves, rather than through Playwright's launcher or
scrapy-playwright's download handler, is what lets the crawl promise that no browser outlives
it: the whole group (browser, zygote, renderers) is killed by its id when the crawl ends, when a
page hangs past ``BROWSER_TIMEOUT``, or when the browser crashes; and the kernel sends it SIGKILL
if the crawl process dies first (``PR_SET_PDEATHSIG``). scrapy-playwright would also have taken
the place of the download handler that keeps response heads as they came over the wire
(``crawler.wire``), and put the rendered DOM where the WARC capture expects the page's bytes.

``render`` loads one URL in a fresh context, lets its scripts run, and returns the rendered DOM,
a screenshot and every response the browser received, with the bodies as the driver gives them
(decoded: see ``crawler.browser_capture``). At most ``pages`` pages load at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from archive.runs.orphans import die_with_parent

__all__ = [
    "BrowserExchange",
    "BrowserFailed",
    "BrowserPool",
    "BrowserUnavailable",
    "Rendered",
]

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # the crawl runs as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no update checks or field trials behind the page's back
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
)
_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")
#: Asks whether a request may go out (the crawl's address policy): None, or why not.
Guard = Callable[[str], Awaitable[str | None]]


class BrowserUnavailable(Exception):
    """No Chromium to start (not installed, or it would not start)."""


class BrowserFailed(Exception):
    """The page could not be rendered: a timeout, a crash."""


@dataclass(frozen=True, slots=True)
class BrowserExchange:
    """One response the browser received, and its request, as the driver reports them."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes | None  # None: the driver had none (a redirect, a body it dropped)
    ip_address: str | None


@dataclass(slots=True)
class Rendered:
    url: str  # where the page ended up
    dom: bytes  # the rendered DOM, serialised as HTML (UTF-8)
    screenshot: bytes | None  # PNG of the page as shown, full length
    exchanges: list[BrowserExchange] = field(default_factory=list)
    pdf: bytes | None = None  # the page printed by Chromium, when asked for


class BrowserPool:
    def __init__(
        self,
        executable: str,
        *,
        pages: int = 2,
        timeout: float = 30.0,
        settle: float = 2.0,
        guard: Guard | None = None,
        pdf: bool = False,
    ) -> None:
        self.executable = executable
        self.pdf = pdf  # also print each page to PDF (headless Chromium's own print)
        self.timeout = timeout
        self.settle = settle  # seconds to wait for the network to go quiet after "load"
        self.guard = guard
        self.restarts = 0  # browsers started again after one crashed or hung
        self._started = False
        self._process_never_ran = False  # the last start failed before any process existed
        self._slots = asyncio.Semaphore(max(1, pages))
        self._lock = asyncio.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._playwright: Any = None
        self._browser: Any = None

    @property
    def pid(self) -> int | None:
        """The browser's process id (its process group's too), while it runs."""
        return self._process.pid if self._process is not None else None

    async def _start(self) -> Any:
        """The running browser, started (again) if there is none."""
        async with self._lock:
            if self._browser is not None and self._browser.is_connected() and self._alive():
                return self._browser
            if self._started:
                self.restarts += 1
            if self._process is not None:
                await self._stop()
            self._started = True
            try:
                return await self._start_once()
            except BrowserUnavailable as exc:
                if self._process_never_ran:
                    raise
                # The browser died before its DevTools endpoint was up: once more, so that a
                # passing failure costs no page (a lasting one is reported by the retry).
                logger.warning("%s; starting it again", exc)
                await asyncio.sleep(0.5)
                return await self._start_once()

    async def _start_once(self) -> Any:
        from playwright.async_api import async_playwright

        self._process_never_ran = False
        self._profile = tempfile.TemporaryDirectory(prefix="morgue-chromium-", dir=_profile_base())
        argv = [
            self.executable,
            *CHROMIUM_ARGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile.name}",
            "about:blank",
        ]
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, killed as one
                preexec_fn=die_with_parent,  # only prctl, between fork and exec
            )
        except OSError as exc:
            self._process_never_ran = True
            self._profile.cleanup()
            self._profile = None
            raise BrowserUnavailable(f"cannot start {self.executable}: {exc}") from exc
        endpoint, said = await asyncio.to_thread(self._endpoint, self._process)
        if endpoint is None:
            await self._stop()
            raise BrowserUnavailable(f"{self.executable} did not start: {said}")
        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.connect_over_cdp(
            endpoint, timeout=self.timeout * 1000
        )
        logger.info("Started %s (pid %d)", self.executable, self._process.pid)
        return self._browser

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @staticmethod
    def _endpoint(process: subprocess.Popen[bytes]) -> tuple[str | None, str]:
        """The DevTools address Chromium prints on stderr when it is ready; else None, and the
        last thing it said."""
        assert process.stderr is not None
        last = ""
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").strip()
            match = _DEVTOOLS.search(line)
            if match:
                # Chromium goes on writing to stderr: drain it so that it never blocks.
                _start_drain(process.stderr)
                return match.group(1), ""
            last = line or last
        return None, last or f"exit status {process.wait()}"

    async def render(self, url: str) -> Rendered:
        """Load ``url`` and return what the browser made of it; ``BrowserFailed`` if it could
        not. A browser that crashed or hung is killed; a page it took down with it is tried
        once more in a new one."""
        async with self._slots:
            for attempt in (1, 2):
                browser = await self._start()
                try:
                    return await asyncio.wait_for(self._render(browser, url), self.timeout + 10)
                except BrowserUnavailable:
                    raise
                except Exception as exc:
                    crashed = not self._alive() or not browser.is_connected()
                    if crashed or isinstance(exc, TimeoutError):
                        async with self._lock:
                            if self._browser is browser:
                                await self._stop()
                    if not crashed or attempt == 2:
                        raise BrowserFailed(f"{type(exc).__name__}: {exc}".strip()) from exc
                    logger.warning("Chromium went away while rendering %s: trying again", url)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _render(self, browser: Any, url: str) -> Rendered:
        context = await browser.new_context(ignore_https_errors=False)
        exchanges: list[asyncio.Task[BrowserExchange | None]] = []
        try:
            page = await context.new_page()
            if self.guard is not None:
                await page.route("**/*", self._guarded)
            page.on("response", lambda r: exchanges.append(asyncio.ensure_future(_exchange(r))))
            try:
                await page.goto(url, wait_until="load", timeout=self.timeout * 1000)
            except Exception as exc:
                if "Timeout" not in type(exc).__name__:
                    raise
                logger.info("%s did not finish loading in %.0f s", url, self.timeout)
            with contextlib.suppress(Exception):  # a page that never goes quiet is still shown
                await page.wait_for_load_state("networkidle", timeout=self.settle * 1000)
            dom = (await page.content()).encode("utf-8")
            shot = await page.screenshot(full_page=True, timeout=self.timeout * 1000)
            printed = await page.pdf() if self.pdf else None
            final = page.url
            done = [e for e in await asyncio.gather(*exchanges) if e is not None]
            return Rendered(final, dom, shot, done, printed)
        finally:
            with contextlib.suppress(Exception):
                await context.close()

    async def _guarded(self, route: Any) -> None:
        assert self.guard is not None
        why = await self.guard(route.request.url)
        if why is not None:
            logger.info("Browser request to %s refused: %s", route.request.url, why)
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def close(self) -> None:
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        browser, playwright, process = self._browser, self._playwright, self._process
        self._browser = self._playwright = self._process = None
        if browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 5)
        if playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(playwright.stop(), 5)
        if process is not None:
            await asyncio.to_thread(_kill_group, process)
            if process.stderr is not None:
                process.stderr.close()  # its drain thread has seen the end of it by now
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None


def _profile_base() -> str:
    """Where the browser's profile goes: the temporary directory, unless its path is so long
    that Chromium's sockets in the profile would pass the 107 bytes a Unix socket's path may
    have (the browser then dies at start); /tmp then."""
    base = tempfile.gettempdir()
    return base if len(base) <= 48 else "/tmp"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End the browser's whole process group: TERM, then KILL after two seconds."""
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Renderers that outlived the browser are in the same group: kill them and wait until the
    # group is empty, so that "closed" means no process of it is left.
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)
    logger.warning("Chromium process group %d still there after SIGKILL", process.pid)


def _start_drain(stream: Any) -> None:
    import threading

    def drain() -> None:
        with contextlib.suppress(Exception):
            for _ in stream:
                pass

    threading.Thread(target=drain, name="chromium-stderr", daemon=True).start()


async def _exchange(response: Any) -> BrowserExchange | None:
    """What the driver says of one response (None if the page went away meanwhile)."""
    try:
        request = response.request
        body: bytes | None
        try:
            body = await response.body()
        except Exception:  # redirects and some cached or aborted responses have none
            body = None
        headers = [(h["name"], h["value"]) for h in await response.headers_array()]
        sent = [(h["name"], h["value"]) for h in await request.headers_array()]
        server = await response.server_addr()
        return BrowserExchange(
            url=response.url,
            method=request.method,
            request_headers=sent,
            request_body=request.post_data_buffer or b"",
            status=response.status,
            reason=response.status_text,
            response_headers=headers,
            body=body,
            ip_address=server["ipAddress"] if server else None,
        )
    except Exception as exc:
        logger.debug("Browser response %s not kept: %s", getattr(response, "url", "?"), exc)
        return None
