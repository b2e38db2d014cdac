"""The crawl a set of ``morgue crawl`` options stands for, as the library's spec and settings.

``morgue crawl`` runs it; ``morgue schedule add`` keeps it with the schedule, parsed from the
arguments given after ``--`` exactly as ``morgue crawl`` would parse them (``--redis`` included:
the schedule then queues its crawl for the workers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import typer

from archive.runs.crawling import CrawlSpec, build_spec, request_json

from .options import ExtractWhen, fetch_overrides

__all__ = ["crawl_request", "request_from_args"]


def crawl_request(params: Mapping[str, Any]) -> tuple[CrawlSpec, dict[str, Any]]:
    """The spec and settings of the crawl command's parsed parameters."""
    spec = build_spec(
        params.get("feed"),
        params.get("sitemap"),
        params.get("site"),
        depth=params.get("depth", 1),
        max_pages=params.get("max_pages"),
        since=params.get("since"),
        allow=params.get("allow"),
        deny=params.get("deny"),
        recrawl_after=params.get("recrawl_after"),
    )
    overrides = fetch_overrides(
        params.get("setting"),
        timeout=params.get("timeout"),
        ignore_robots=bool(params.get("ignore_robots")),
        no_recover=bool(params.get("no_recover")),
        timegate=params.get("timegate"),
        extract=ExtractWhen(params.get("extract") or ExtractWhen.now),
        allow_private=bool(params.get("allow_private")),
        # Off by default for crawls: only --requisites sets it (a -s setting stays as given).
        requisites=True if params.get("requisites") else None,
    )
    return spec, overrides


def request_from_args(ctx: typer.Context, crawl_args: Sequence[str]) -> dict[str, Any]:
    """Parse ``morgue crawl`` arguments as that command would; the request to keep."""
    root = ctx.find_root()
    command = getattr(root.command, "commands", {}).get("crawl")
    if command is None:  # pragma: no cover - the crawl command is always registered
        raise RuntimeError("the crawl command is not registered")
    sub = command.make_context("crawl", list(crawl_args), parent=root)
    redis_url = sub.params.get("redis")
    redis = (str(redis_url), str(sub.params.get("redis_prefix") or "morgue")) if redis_url else None
    return request_json(*crawl_request(sub.params), redis=redis)
