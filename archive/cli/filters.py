"""The capture filters of ``query``, ``stats`` and ``export``, declared once."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from archive.query.capture_query import CaptureQuery, parse_time

from .options import split_values

__all__ = [
    "DomainOption",
    "FilterOptions",
    "LatestOption",
    "SearchOption",
    "SinceOption",
    "StateOption",
    "UntilOption",
    "UrlPrefixOption",
    "VerdictOption",
    "build_query",
]

VerdictOption = Annotated[
    list[str] | None,
    typer.Option(
        "--verdict",
        metavar="VERDICT",
        help="ok, not_found, soft_404, blocked, server_error or unreachable (repeatable, or a,b).",
        show_default=False,
    ),
]
DomainOption = Annotated[
    list[str] | None,
    typer.Option(
        "--domain",
        metavar="DOMAIN",
        help="Host, subdomains included (repeatable, or a,b).",
        show_default=False,
    ),
]
UrlPrefixOption = Annotated[
    str | None,
    typer.Option(
        "--url-prefix", metavar="PREFIX", help="URLs starting with this.", show_default=False
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="TIME",
        help="Fetched at or after: 2024-06-01, 2024-06-01T12:00Z, or an age (7d, 36h).",
        show_default=False,
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="TIME",
        help="Fetched before this time; a bare date includes that whole day.",
        show_default=False,
    ),
]
StateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--state",
        metavar="STATE",
        help="The page's state: alive, dead_suspected or dead_confirmed (repeatable, or a,b).",
        show_default=False,
    ),
]
SearchOption = Annotated[
    str | None,
    typer.Option(
        "--search",
        metavar="TEXT",
        help='Full text of title and article: words, "a phrase", pre*, a OR b, -word, ( ).',
        show_default=False,
    ),
]
LatestOption = Annotated[
    bool, typer.Option("--latest", help="Only the newest capture of each page (then filter).")
]


class FilterOptions:
    """The filters shared by ``query``, ``stats`` and ``export``, as given on the command line."""

    def __init__(
        self,
        verdict: list[str] | None = None,
        domain: list[str] | None = None,
        url_prefix: str | None = None,
        since: str | None = None,
        until: str | None = None,
        state: list[str] | None = None,
        search: str | None = None,
        latest: bool = False,
    ) -> None:
        self.verdict = verdict
        self.domain = domain
        self.url_prefix = url_prefix
        self.since = since
        self.until = until
        self.state = state
        self.search = search
        self.latest = latest


def build_query(filters: FilterOptions, **settings: Any) -> CaptureQuery:
    """The ``CaptureQuery`` for command-line filters; bad values raise ``InvalidInput``."""
    return CaptureQuery(
        verdicts=split_values(filters.verdict),
        domains=split_values(filters.domain),
        url_prefix=filters.url_prefix or None,
        since=parse_time(filters.since) if filters.since else None,
        until=parse_time(filters.until, end=True) if filters.until else None,
        states=split_values(filters.state),
        search=filters.search,
        latest=filters.latest,
        **settings,
    )
