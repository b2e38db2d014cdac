"""Turn a download failure into a reason code of design.md section 4."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as tx_error
from twisted.python.failure import Failure

from crawler.netpolicy import AddressRefused

__all__ = ["exception_reason", "failure_reason"]

_BY_TYPE: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((CannotResolveHostError, tx_error.DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError, tx_error.ConnectionRefusedError), "connection_refused"),
    ((DownloadTimeoutError, tx_error.TimeoutError, tx_error.TCPTimedOutError), "timeout"),
    ((DownloadCancelledError,), "too_large"),
    ((tx_error.SSLError,), "tls"),
    (
        (
            ResponseDataLossError,
            DownloadFailedError,
            tx_error.ConnectionLost,
            tx_error.ConnectionDone,
            tx_error.ConnectError,
        ),
        "connection_lost",
    ),
)


def failure_reason(failure: Failure) -> tuple[str, str]:
    """Return (reason code, one-line message) for a failed request."""
    exc = failure.value
    assert exc is not None  # a Failure always holds the exception it was made from
    return exception_reason(exc)


def exception_reason(exc: BaseException) -> tuple[str, str]:
    """``failure_reason`` of an exception a download raised (``engine.download_async``)."""
    message = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if isinstance(exc, AddressRefused):
        return "private_address", message
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        if "robots.txt" in text:
            return "robots_txt", message
        if "max redirections" in text or "redirect" in text:
            return "too_many_redirects", message
        if "maxsize" in text or "download_maxsize" in text:
            return "too_large", message
        return "error", message
    text = str(exc).lower()
    # TLS failures arrive wrapped in ResponseFailed/DownloadFailedError with OpenSSL's words.
    if "ssl" in text or "tls" in text or "certificate" in text:
        return "tls", message
    for types, reason in _BY_TYPE:
        if isinstance(exc, types):
            return reason, message
    return "error", message
