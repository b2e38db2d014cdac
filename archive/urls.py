"""URL validation and normalisation: what counts as "the same page" in the database.

``normalise_url`` is deliberately conservative. It removes only what never changes which document
a server returns (case of scheme and host, default port, fragment, tracking parameters) and keeps
everything else byte for byte, including the order and encoding of the remaining query
parameters, because some news sites route on them (``?id=123&page=2``).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

from archive.exceptions import InvalidURL

__all__ = ["TRACKING_PARAMS", "normalise_url", "site_host", "url_host", "validate_url"]

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_ga",
        "yclid",
        "ref_src",
    }
)
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Whitespace or control characters inside a URL mean it was pasted badly, not that it is a URL.
_BAD_CHARS_RE = re.compile(r"[\x00-\x20\x7f]")


def _split(url: str) -> SplitResult:
    """Split and check a URL; the one place that decides what morgue can fetch."""
    if not isinstance(url, str):
        raise InvalidURL(f"invalid URL {url!r}: not a string")
    stripped = url.strip()
    if not stripped:
        raise InvalidURL("invalid URL '': empty")
    if _BAD_CHARS_RE.search(stripped):
        raise InvalidURL(f"invalid URL {stripped!r}: contains whitespace or control characters")
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        # Bytes that were not UTF-8 (a file or argument in another encoding): no request can
        # be made of it, and no row could name it.
        raise InvalidURL(f"invalid URL {stripped!r}: not UTF-8 text") from None
    try:
        parts = urlsplit(stripped)
        # Accessing .port parses it; a non-numeric or out-of-range port raises ValueError here.
        parts.port  # noqa: B018
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {stripped!r}: {exc}") from None
    scheme = parts.scheme.lower()
    # "example.com:8080/a" splits as scheme "example.com": a missing scheme, not a strange one.
    looks_like_port = parts.path[:1].isdigit() and not parts.netloc
    if scheme and scheme not in _DEFAULT_PORTS and not looks_like_port:
        raise InvalidURL(f"unsupported scheme {parts.scheme!r} in {stripped!r}")
    if not scheme or not parts.netloc or looks_like_port:
        raise InvalidURL(f"invalid URL {stripped!r}: no scheme/host")
    if not parts.hostname:
        raise InvalidURL(f"invalid URL {stripped!r}: no host")
    return parts


def validate_url(url: str) -> str:
    """Return ``url`` without surrounding whitespace, or raise ``InvalidURL``.

    Only absolute http(s) URLs with a host are accepted; the message is one line, fit for the CLI.
    A URL accepted here can always be normalised: every capture is filed under its page's key.
    """
    normalise_url(url)
    return url.strip()


def _idna_host(hostname: str, original: str) -> str:
    """Lowercase a host name and convert an internationalised one to punycode."""
    host = hostname.lower().rstrip(".")
    if not host:  # "http://../": dots, and nothing else
        raise InvalidURL(f"invalid URL {original!r}: no host")
    if host.startswith("["):  # pragma: no cover - urlsplit strips the brackets already
        return host
    if ":" in host:  # an IPv6 literal
        return f"[{host}]"
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidURL(f"invalid URL {original!r}: bad international host name") from None


def _is_tracking(param: str) -> bool:
    name = param.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def normalise_url(url: str) -> str:
    """The key under which a page is stored: the same article always gives the same string.

    Lowercases scheme and host, converts an IDN host to punycode, drops the default port, the
    fragment and tracking parameters (``utm_*``, ``fbclid``, ``gclid``...), and turns an empty path
    into ``/``. Other query parameters keep their order and their encoding. Raises ``InvalidURL``.
    """
    parts = _split(url)
    scheme = parts.scheme.lower()
    assert parts.hostname is not None  # _split guarantees a host
    host = _idna_host(parts.hostname, url)
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    userinfo, sep, _ = parts.netloc.rpartition("@")
    if sep:
        netloc = f"{userinfo}@{netloc}"
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def url_host(url: str) -> str:
    """The host of ``url`` as stored in ``pages.host``: lowercase, punycode, without the port."""
    parts = _split(url)
    assert parts.hostname is not None
    return _idna_host(parts.hostname, url).strip("[]")


def site_host(url: str) -> str | None:
    """The site a URL belongs to: its host without ``www.``; None for a URL without one."""
    try:
        host = url_host(url)
    except InvalidURL:
        return None
    return host.removeprefix("www.") or None
