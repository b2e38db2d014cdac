"""scrapy-redis's ``SCHEDULER_SERIALIZER``: JSON, never pickle.

A pickled request would run code on every worker that reads it: anyone able to write to Redis
could. Requests are plain data (``Request.to_dict()``, the ticket in meta as JSON) but for
their bytes: header names and values go as Latin-1 text (one character per byte, so any byte
survives), the body as base64. ``plain`` and ``unplain`` convert a ``to_dict()`` both ways.
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["dumps", "loads", "plain", "unplain"]


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def loads(data: str | bytes) -> Any:
    return json.loads(data)


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """``Request.to_dict()`` with its bytes as JSON can hold them."""
    out = dict(data)
    headers = data.get("headers") or {}
    out["headers"] = {
        _text(name): [_text(v) for v in (values if isinstance(values, list) else [values])]
        for name, values in headers.items()
    }
    body = data.get("body") or b""
    out["body"] = base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()
    return out


def unplain(data: dict[str, Any]) -> dict[str, Any]:
    """The ``to_dict()`` that ``plain`` was given, for ``request_from_dict``."""
    out = dict(data)
    out["headers"] = {
        name.encode("latin-1"): [v.encode("latin-1") for v in values]
        for name, values in (data.get("headers") or {}).items()
    }
    out["body"] = base64.b64decode(data.get("body") or "")
    return out
