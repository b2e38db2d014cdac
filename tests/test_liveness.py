"""Verdicts from statuses and network failures (design.md section 4)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from twisted.internet import error as tx_error
from twisted.python.failure import Failure

from archive.liveness.verdicts import VERDICTS, is_dead, verdict_for_failure, verdict_for_status
from crawler.failures import failure_reason
from crawler.spiders.archive_urls import page_from_failure
from crawler.ticket import PageTicket


@pytest.mark.parametrize(
    ("status", "verdict", "reason"),
    [
        (200, "ok", "http_200"),
        (203, "ok", "http_203"),
        (404, "not_found", "http_404"),
        (410, "not_found", "http_410"),
        (400, "not_found", "http_400"),
        (401, "blocked", "http_401"),
        (403, "blocked", "http_403"),
        (429, "blocked", "http_429"),
        (451, "blocked", "http_451"),
        (999, "blocked", "bot_wall"),
        (500, "server_error", "http_500"),
        (503, "server_error", "http_503"),
        (599, "server_error", "http_599"),
    ],
)
def test_status_verdicts(status: int, verdict: str, reason: str) -> None:
    got = verdict_for_status(status)
    assert (got.verdict, got.reason) == (verdict, reason)
    assert got.verdict in VERDICTS


def test_failure_verdicts() -> None:
    assert verdict_for_failure("dns").verdict == "unreachable"
    assert verdict_for_failure("robots_txt").verdict == "blocked"
    assert verdict_for_failure("made-up").reason == "error"


def test_dead_means_gone_not_refused() -> None:
    assert is_dead("not_found", "http_404")
    assert is_dead("soft_404", "error_stub")
    assert is_dead("unreachable", "dns")
    assert not is_dead("unreachable", "timeout")
    assert not is_dead("blocked", "http_403")
    assert not is_dead("ok", "http_200")


def failed(exc: BaseException, url: str = "http://news.test/a") -> Failure:
    failure = Failure(exc)
    failure.request = Request(url, meta=PageTicket(url=url).meta())  # type: ignore[attr-defined]
    return failure


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (CannotResolveHostError("news.invalid"), "dns"),
        (tx_error.DNSLookupError("news.invalid"), "dns"),
        (DownloadConnectionRefusedError("refused"), "connection_refused"),
        (DownloadTimeoutError("Getting http://x took longer than 30 s"), "timeout"),
        (DownloadCancelledError("Cancelled"), "too_large"),
        (DownloadFailedError("[<twisted.python.failure.Failure OpenSSL.SSL.Error: "
                             "[('SSL routines', '', 'certificate verify failed')]>]"), "tls"),
        (DownloadFailedError("[<twisted.python.failure.Failure ConnectionLost>]"),
         "connection_lost"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_txt"),
        (IgnoreRequest("max redirections reached"), "too_many_redirects"),
        (IgnoreRequest("Ignoring <200 http://x>: body exceeded DOWNLOAD_MAXSIZE"), "too_large"),
        (ValueError("something else"), "error"),
    ],
)  # fmt: skip
def test_failure_reasons(exc: BaseException, reason: str) -> None:
    got, message = failure_reason(failed(exc))
    assert got == reason
    assert type(exc).__name__ in message and "\n" not in message


def test_failed_fetch_becomes_an_unreachable_page() -> None:
    page = page_from_failure(failed(CannotResolveHostError("news.invalid")))
    assert page.url == "http://news.test/a"
    assert page.failure == "dns" and page.status is None and page.response is None
