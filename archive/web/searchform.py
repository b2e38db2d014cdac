"""The search and filter parameters of /search and /api/captures, and the URLs that repeat them.

The parameters are those of ``morgue query`` (``q`` is its ``--search``), so that a result page's
URL is the query: shareable, and the same filters give the same rows in the JSON and CSV links.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from archive.exceptions import InvalidInput
from archive.query.capture_query import CaptureQuery, parse_time

__all__ = ["PER_PAGE", "SearchForm"]

PER_PAGE = 50
MAX_PER_PAGE = 500


def _values(params: QueryParams, name: str) -> tuple[str, ...]:
    """Repeated parameters and comma-separated lists alike, blanks dropped."""
    out: list[str] = []
    for raw in params.getlist(name):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def _int(params: QueryParams, name: str, default: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True, slots=True)
class SearchForm:
    q: str = ""
    verdicts: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    url_prefix: str = ""
    since: str = ""
    until: str = ""
    states: tuple[str, ...] = ()
    latest: bool = False
    sort: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_params(cls, params: QueryParams) -> SearchForm:
        form = cls(
            q=(params.get("q") or params.get("search") or "").strip(),
            verdicts=_values(params, "verdict"),
            domains=_values(params, "domain"),
            url_prefix=params.get("url_prefix", "").strip(),
            since=params.get("since", "").strip(),
            until=params.get("until", "").strip(),
            states=_values(params, "state"),
            latest=params.get("latest", "") not in ("", "0", "false", "off"),
            sort=params.get("sort", "").strip(),
            page=_int(params, "page", 1),
            per_page=_int(params, "per_page", PER_PAGE),
        )
        if form.page < 1:
            raise InvalidInput("page must be 1 or more")
        if not 1 <= form.per_page <= MAX_PER_PAGE:
            raise InvalidInput(f"per_page must be between 1 and {MAX_PER_PAGE}")
        return form

    @property
    def empty(self) -> bool:
        """No filter and no words: nothing asked yet."""
        return self == SearchForm(page=self.page, per_page=self.per_page, sort=self.sort)

    def query(self, *, limit: int | None, offset: int = 0, **settings: Any) -> CaptureQuery:
        """The library query; bad values raise ``InvalidInput`` with the CLI's message."""
        return CaptureQuery(
            verdicts=self.verdicts,
            domains=self.domains,
            url_prefix=self.url_prefix or None,
            since=parse_time(self.since) if self.since else None,
            until=parse_time(self.until, end=True) if self.until else None,
            states=self.states,
            search=self.q or None,
            latest=self.latest,
            sort=self.sort or None,
            limit=limit,
            offset=offset,
            **settings,
        )

    def page_query(self, **settings: Any) -> CaptureQuery:
        """This page's rows, and one more to tell whether there is a next page."""
        offset = (self.page - 1) * self.per_page
        return self.query(limit=self.per_page + 1, offset=offset, **settings)

    def params(self, **extra: Any) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs += [("verdict", v) for v in self.verdicts]
        pairs += [("domain", d) for d in self.domains]
        for name in ("url_prefix", "since", "until"):
            if getattr(self, name):
                pairs.append((name, getattr(self, name)))
        pairs += [("state", s) for s in self.states]
        if self.latest:
            pairs.append(("latest", "1"))
        if self.sort:
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.per_page != PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        pairs += [(name, str(value)) for name, value in extra.items()]
        return pairs

    def url(self, path: str, **extra: Any) -> str:
        """``path`` with these parameters: the shareable URL of this search."""
        query = urlencode(self.params(**extra))
        return f"{path}?{query}" if query else path

    def at_page(self, page: int) -> SearchForm:
        return replace(self, page=page)

    def export_url(self, fmt: str) -> str:
        """Every row, as ``morgue query --format json|csv`` prints them."""
        return replace(self, page=1, per_page=PER_PAGE).url("/api/captures", format=fmt, limit=0)
