"""Durations and dates as people type them: ``30m``, ``1h30m``, ``7d``; ``2024-05-01``."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from archive.exceptions import InvalidInput

__all__ = ["format_duration", "parse_duration", "parse_since"]

_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``1h30m``, ``7d``, ``2w``; raises ``InvalidInput``."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _PART_RE.findall(value)
        if not parts or _PART_RE.sub("", value).strip():
            raise InvalidInput(
                f"invalid duration {text!r}: expected e.g. 90s, 30m, 1h30m, 7d"
            ) from None
        seconds = sum(float(n) * _UNITS[unit] for n, unit in parts)
    if not math.isfinite(seconds):  # float() reads "nan", "inf" and "1e999" too
        raise InvalidInput(f"invalid duration {text!r}: not a number of seconds")
    if seconds < 0:
        raise InvalidInput(f"invalid duration {text!r}: negative")
    return seconds


def format_duration(seconds: float) -> str:
    """``5400`` -> ``1h30m``: the inverse of ``parse_duration`` for whole seconds."""
    rest = round(seconds)
    if rest == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, rest = divmod(rest, _UNITS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or datetime (UTC unless it says otherwise), or a duration back from now."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            seconds = parse_duration(value)
        except InvalidInput:
            raise InvalidInput(
                f"invalid date {text!r}: expected YYYY-MM-DD, an ISO datetime or e.g. 7d"
            ) from None
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
