"""Liveness verdicts: is the page still there? (design.md section 4)

This module holds the rules that need only an HTTP status or a network failure. Every capture
gets exactly one verdict and a machine-readable reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from archive.exceptions import InvalidInput

__all__ = [
    "BLOCKED_STATUSES",
    "DEAD_VERDICTS",
    "FAILURE_REASONS",
    "VERDICTS",
    "Verdict",
    "check_verdicts",
    "is_dead",
    "verdict_for_failure",
    "verdict_for_status",
]

VERDICTS = ("ok", "not_found", "soft_404", "blocked", "server_error", "unreachable")
DEAD_VERDICTS = ("not_found", "soft_404")
BLOCKED_STATUSES = frozenset({401, 403, 407, 429, 451, 999})


def check_verdicts(values: Iterable[str]) -> tuple[str, ...]:
    """The verdict names given, each one checked: an unknown one is bad input, said one way."""
    verdicts = tuple(values)
    for verdict in verdicts:
        if verdict not in VERDICTS:
            expected = ", ".join(VERDICTS)
            raise InvalidInput(f"unknown verdict {verdict!r}; expected one of {expected}")
    return verdicts


FAILURE_REASONS = (
    "dns",
    "connection_refused",
    "connection_lost",
    "timeout",
    "tls",
    "too_many_redirects",
    "too_large",
    "too_long",
    "invalid_url",
    "private_address",
    "robots_txt",
    "error",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    reason: str


def verdict_for_status(status: int) -> Verdict:
    """The verdict an HTTP status alone implies (soft 404s need more: see the dead-links work)."""
    reason = f"http_{status}"
    if status in (404, 410):
        return Verdict("not_found", reason)
    if status == 999:
        # LinkedIn and a few others answer bots with 999: a wall, not an error.
        return Verdict("blocked", "bot_wall")
    if status in BLOCKED_STATUSES:
        return Verdict("blocked", reason)
    if 500 <= status <= 599:
        return Verdict("server_error", reason)
    if 400 <= status <= 499:
        # Another 4xx (400, 405, 414...) means this server will not serve this URL to anyone.
        return Verdict("not_found", reason)
    return Verdict("ok", reason)


def verdict_for_failure(reason: str) -> Verdict:
    """The verdict of a fetch that got no usable HTTP answer."""
    if reason == "robots_txt":
        # The site asked us not to fetch it: the page may well exist.
        return Verdict("blocked", reason)
    if reason not in FAILURE_REASONS:
        reason = "error"
    return Verdict("unreachable", reason)


def is_dead(verdict: str, reason: str) -> bool:
    """Dead = not_found, soft_404, or unreachable because the host name no longer resolves."""
    return verdict in DEAD_VERDICTS or (verdict == "unreachable" and reason == "dns")
