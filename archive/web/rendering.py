"""The Jinja2 environment of the UI's templates: autoescaping on, and the filters they share.

Everything an archived page gave us (titles, authors, text, URLs) reaches the HTML through these
templates, so autoescaping is what keeps it text. The one filter that returns markup,
``snippet``, escapes the text first and adds only its own ``<mark>`` tags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from archive.query.capture_query import MARK_END, MARK_START

__all__ = ["VERDICTS", "templates"]

VERDICTS = ("ok", "not_found", "soft_404", "blocked", "server_error", "unreachable")
STATES = ("alive", "dead_suspected", "dead_confirmed")
SORTS = ("newest", "oldest", "relevance", "url", "domain", "verdict", "chars", "title")


def _when(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def _snippet(value: str | None) -> Markup:
    if not value:
        return Markup("")
    text = str(escape(" ".join(value.split())))
    return Markup(text.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def _number(value: Any) -> str:
    return f"{int(value or 0):,}"


templates = Environment(
    loader=PackageLoader("archive.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = _when
templates.filters["snippet"] = _snippet
templates.filters["number"] = _number
templates.globals.update(VERDICTS=VERDICTS, STATES=STATES, SORTS=SORTS)
