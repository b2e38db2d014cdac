"""Memento (RFC 7089) helpers for recovering dead pages from web archives: pure, no network I/O.

The crawler issues the HTTP requests itself (through Scrapy, so that every answer is archived in
the WARC); this module builds the requests and reads the answers.

How the crawler uses it, for a page seen dead since ``dead_since`` (None: not known, use now):

1. **Ask the TimeGate.** ``GET timegate_url(timegate, original)`` with the header
   ``Accept-Datetime: accept_datetime(choose_before(dead_since))``. Do not let the HTTP client
   follow redirects (Scrapy: ``meta={"dont_redirect": True, "handle_httpstatus_all": True}``):
   the answer's own headers are what we read, and it is archived like every response.
2. **Read the answer.** ``answer = MementoAnswer.from_response(status, headers, url=request_url)``.
   ``answer.found`` is False when the archive has no memento (a 404 from the TimeGate: give up,
   the page stays dead). ``answer.memento_url`` and ``answer.memento_datetime`` are the memento the
   TimeGate chose: the one *closest* to Accept-Datetime, which may be **after** the page died.
3. **Pick the memento.** ``url = choose_memento(answer, dead_since)``: the TimeGate's choice if it
   predates the death (``is_acceptable``), otherwise an earlier memento named in the answer's Link
   header (the Wayback Machine sends ``prev memento`` / ``first memento``). When it returns None,
   fetch the TimeMap (``answer.timemap``, ``application/link-format``), and take
   ``closest_before(parse_link_header(body), dead_since)``; if that is None too, the only mementos
   are from after the death: fall back to ``answer.memento_url`` and let step 5 judge it.
4. **Fetch it raw.** ``GET raw_memento_url(url)`` (``id_`` mode: the bytes as archived, without
   the archive's link rewriting and banner), again without following redirects: an archived
   redirect is replayed raw with a ``Location`` pointing at the live web, which is dead.
5. **Check it.** ``memento = MementoAnswer.from_response(...)`` of that response:
   ``memento.memento_datetime`` must be set (the archive answered with a memento, not a page of
   its own) and ``memento.status`` must be 200: pywb and the Wayback Machine replay an archived
   404 or 301 with its recorded status. Then run the ordinary liveness rules on the body: an
   archive also holds soft-404 stubs, and one is no recovery.
6. **Store it.** Archive the memento response with target URI = the URL fetched in step 4 (the
   memento URL whose bytes these are) and the WARC headers of
   ``provenance_headers(original, memento.memento_datetime)``: ``WARC-Refers-To-Target-URI`` =
   the original URL, ``WARC-Refers-To-Date`` = the Memento-Datetime (a WARC date, not an HTTP
   date). Extract it and store it as a capture of the original page with ``recovered_from`` =
   the memento URL.

What a TimeGate answers (pywb 2.10, checked by tests/test_memento.py against a real pywb):

- with ``redirect_to_exact: true`` (the Wayback Machine's style, RFC 7089 §4.1.1): ``307`` with
  ``Location: {coll}/{TIMESTAMP}/{url}``, ``Vary: accept-datetime`` and ``Link`` rel ``original``,
  ``timegate``, ``timemap`` and ``memento`` (``{coll}/{TIMESTAMP}mp_/{url}``, ``datetime=``);
  no ``Memento-Datetime`` (the TimeGate is not itself a memento);
- by default (framed replay): ``200`` with pywb's frame page as body, the same ``Link`` and
  ``Vary``, neither ``Location`` nor ``Content-Location``: the memento is only in the ``Link``;
- without framed replay: ``200`` with the rewritten memento, ``Memento-Datetime`` and
  ``Content-Location: {coll}/{TIMESTAMP}/{url}`` (RFC 7089 §4.1.2, 200-style);
- for a URL never archived: ``404`` with an HTML error page and no Memento headers; for an
  unparsable Accept-Datetime: ``400``;
- without Accept-Datetime: the most recent memento.

The memento chosen is the closest in time on either side, never "the latest before". Mementos
are at one-second resolution (14-digit timestamps).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from archive.exceptions import InvalidInput, InvalidURL

__all__ = [
    "Link",
    "MementoAnswer",
    "accept_datetime",
    "check_timegate",
    "choose_before",
    "choose_memento",
    "closest_before",
    "is_acceptable",
    "parse_http_date",
    "parse_link_header",
    "provenance_headers",
    "raw_memento_url",
    "timegate_url",
]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


# -- URLs ------------------------------------------------------------------------------------


def check_timegate(timegate: str) -> str:
    """The TimeGate base, validated: an http(s) URL with a host, ending in ``/`` or ``=``.

    A base without either gets a ``/``: ``https://web.archive.org/web`` is what people type.
    Raises InvalidInput, so that a bad ``--timegate`` is one line and exit status 2.
    """
    base = timegate.strip()
    try:
        parts = urlsplit(base)
    except ValueError as exc:
        raise InvalidInput(f"invalid TimeGate URL {timegate!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"invalid TimeGate URL {timegate!r}: needs http(s)://host/...")
    if parts.fragment:
        raise InvalidInput(f"invalid TimeGate URL {timegate!r}: a fragment is never sent")
    if not base.endswith(("/", "=")):
        base += "/"
    return base


def timegate_url(timegate: str, original: str) -> str:
    """The TimeGate URL of ``original``: the URL appended as is to the TimeGate base.

    As is: Wayback-style archives read the rest of the path, query string included, as the
    original URL, and quoting it would make a different URL. The fragment is dropped (a browser
    never sends it, so no archive has it).
    """
    base = check_timegate(timegate)
    url = original.strip().split("#", 1)[0]
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {original!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidURL(f"not an http(s) URL: {original!r}")
    return base + url


# A Wayback/pywb memento URL: archive prefix, timestamp (+ replay modifier such as mp_, if_,
# im_), then the original URL with its scheme. Requiring the scheme keeps a news URL such as
# https://news.example/2020/05/story from being taken for a memento.
_MEMENTO_URL = re.compile(
    r"^(?P<prefix>https?://[^/?#]+/(?:[^?#]*?/)?)(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/"
    r"(?P<original>https?:/.*)$",
    re.IGNORECASE | re.DOTALL,
)


def raw_memento_url(url: str) -> str:
    """The ``id_`` (raw, un-rewritten) variant of a Wayback- or pywb-style memento URL.

    ``.../web/20200101000000/URL`` and ``.../coll/20200101000000mp_/URL`` become
    ``.../20200101000000id_/URL``: the bytes as archived, without the archive's rewritten links,
    banner or frame. Any other URL is returned unchanged (the archive offers no raw mode we know).
    """
    match = _MEMENTO_URL.match(url)
    if match is None:
        return url
    return f"{match['prefix']}{match['ts']}id_/{match['original']}"


# -- dates -----------------------------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    # Naive datetimes are UTC: the DB stores UTC and SQLite hands them back without a zone.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def accept_datetime(dt: datetime) -> str:
    """``dt`` as an RFC 1123 HTTP date in GMT, for ``Accept-Datetime`` (naive means UTC)."""
    return format_datetime(_utc(dt), usegmt=True)


_RFC850 = "%A, %d-%b-%y %H:%M:%S GMT"
_ASCTIME = "%a %b %d %H:%M:%S %Y"


def parse_http_date(value: str) -> datetime | None:
    """An HTTP date (RFC 1123, or the obsolete RFC 850 and asctime forms) as an aware UTC
    datetime; None when it is not one: headers come from servers we don't control."""
    text = " ".join(value.split())
    if not text:
        return None
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in (_RFC850, _ASCTIME):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


# -- Link headers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """One link of a Link header or of an ``application/link-format`` TimeMap."""

    url: str
    rels: tuple[str, ...]  # lower case, in order: "first memento" -> ("first", "memento")
    params: Mapping[str, str] = field(default_factory=dict)  # names lower case, values unquoted

    @property
    def when(self) -> datetime | None:
        """The ``datetime`` parameter, parsed; None when absent or not an HTTP date."""
        value = self.params.get("datetime")
        return parse_http_date(value) if value is not None else None

    def has_rel(self, rel: str) -> bool:
        return rel.lower() in self.rels


_WS = " \t\r\n"


def parse_link_header(value: str) -> list[Link]:
    """Parse a Link header (RFC 8288) or a link-format TimeMap body into links.

    A small scanner, not a split on commas: commas are legal inside ``<...>`` URLs and inside
    quoted parameter values. Malformed parts are skipped up to the next link, never raised on.
    Several Link headers are parsed by joining them with ``,``.
    """
    links: list[Link] = []
    n = len(value)
    i = 0
    while i < n:
        while i < n and (value[i] in _WS or value[i] == ","):
            i += 1
        if i >= n:
            break
        if value[i] != "<":
            i = _skip_to_next_link(value, i)
            continue
        end = value.find(">", i + 1)
        if end < 0:
            break
        url = value[i + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        rels: tuple[str, ...] = ()
        while True:
            while i < n and value[i] in _WS:
                i += 1
            if i >= n or value[i] != ";":
                break
            i += 1
            name, param_value, i = _read_param(value, i)
            if not name or name in params:
                continue  # RFC 8288 §3: later occurrences of a parameter are ignored
            if name == "rel":
                rels = tuple(r.lower() for r in param_value.split())
            params[name] = param_value
        links.append(Link(url=url, rels=rels, params=params))
        if i < n and value[i] != ",":
            i = _skip_to_next_link(value, i)
    return links


def _read_param(value: str, i: int) -> tuple[str, str, int]:
    n = len(value)
    start = i
    while i < n and value[i] not in "=;,":
        i += 1
    name = value[start:i].strip().lower()
    if i >= n or value[i] != "=":
        return name, "", i  # a bare parameter such as "; crossorigin"
    i += 1
    while i < n and value[i] in _WS:
        i += 1
    if i < n and value[i] == '"':
        i += 1
        chars = []
        while i < n and value[i] != '"':
            if value[i] == "\\" and i + 1 < n:
                i += 1
            chars.append(value[i])
            i += 1
        return name, "".join(chars), min(i + 1, n)
    start = i
    while i < n and value[i] not in ";,":
        i += 1
    return name, value[start:i].strip(), i


def _skip_to_next_link(value: str, i: int) -> int:
    """Index of the ``,`` that ends the current (malformed) link, quotes and brackets aside."""
    n = len(value)
    quoted = False
    while i < n:
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            close = value.find(">", i)
            i = n if close < 0 else close
        elif ch == ",":
            return i
        i += 1
    return n


# -- answers ---------------------------------------------------------------------------------


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k).lower(), str(v)) for k, v in items]


@dataclass(frozen=True, slots=True)
class MementoAnswer:
    """What a TimeGate or memento response says, read from its status and headers.

    ``memento_url``: ``Location`` of a redirect, else ``Content-Location``, else the Link with
    rel ``memento`` (pywb's framed TimeGate names it only there). ``memento_datetime``: the
    ``Memento-Datetime`` header, else the ``datetime`` of that Link. ``is_memento``: the response
    carries ``Memento-Datetime``, so its body is an archived page and not the archive's own.
    """

    status: int
    memento_url: str | None
    memento_datetime: datetime | None
    original: str | None
    timegate: str | None
    timemap: str | None
    is_memento: bool
    links: tuple[Link, ...]

    @classmethod
    def from_response(cls, status: int, headers: Headers, *, url: str = "") -> MementoAnswer:
        """Read a response; ``url`` (the request URL) resolves relative header URLs.

        ``headers`` is a mapping or, better, every (name, value) pair: a response may carry
        several Link headers. From Scrapy: ``[(k.decode("latin-1"), v.decode("latin-1"))
        for k, vs in response.headers.items() for v in vs]``.
        """
        pairs = _header_pairs(headers)

        def first(name: str) -> str | None:
            return next((v.strip() for k, v in pairs if k == name and v.strip()), None)

        links = tuple(
            Link(urljoin(url, link.url), link.rels, link.params)
            for link in parse_link_header(",".join(v for k, v in pairs if k == "link"))
        )

        def rel(name: str) -> Link | None:
            return next((link for link in links if link.has_rel(name)), None)

        header_dt = first("memento-datetime")
        memento_url = None
        # A redirect that is itself a memento is an archived redirect: its Location is the
        # recorded one, on the live web, not a memento.
        if 300 <= status < 400 and header_dt is None and (location := first("location")):
            memento_url = urljoin(url, location)
        elif content_location := first("content-location"):
            memento_url = urljoin(url, content_location)
        memento_link = _memento_link(links, memento_url)
        if memento_url is None and memento_link is not None:
            memento_url = memento_link.url
        memento_dt = parse_http_date(header_dt) if header_dt else None
        if memento_dt is None and memento_link is not None:
            memento_dt = memento_link.when
        original, timegate, timemap = rel("original"), rel("timegate"), rel("timemap")
        return cls(
            status=status,
            memento_url=memento_url,
            memento_datetime=memento_dt,
            original=original.url if original else None,
            timegate=timegate.url if timegate else None,
            timemap=timemap.url if timemap else None,
            is_memento=header_dt is not None,
            links=links,
        )

    @property
    def found(self) -> bool:
        """The archive named a memento (a TimeGate's 404 means it has none)."""
        return self.memento_url is not None

    @property
    def raw_url(self) -> str | None:
        return raw_memento_url(self.memento_url) if self.memento_url else None


def _memento_link(links: Iterable[Link], memento_url: str | None) -> Link | None:
    """The Link describing the chosen memento.

    Wayback also lists first/prev/next/last mementos, and calls the chosen one "first memento"
    when it is the first: so match by URL (raw forms compared, as ``Location`` and the Link may
    differ by the replay modifier) before falling back to a plain rel="memento".
    """
    candidates = [link for link in links if link.has_rel("memento")]
    if memento_url is not None:
        raw = raw_memento_url(memento_url)
        for link in candidates:
            if raw_memento_url(link.url) == raw:
                return link
    navigation = {"first", "last", "prev", "next", "prev-archive", "next-archive"}
    plain = [link for link in candidates if not navigation.intersection(link.rels)]
    chosen = plain or candidates
    return chosen[0] if chosen else None


# -- choosing the memento --------------------------------------------------------------------


def choose_before(dead_since: datetime | None, *, now: datetime | None = None) -> datetime:
    """The datetime to send as Accept-Datetime: when the page was first seen dead, else now.

    A TimeGate answers with the memento *closest* to it, which can be one taken after the
    death (the dead page itself, archived): check the answer with ``is_acceptable``.
    """
    if dead_since is not None:
        return _utc(dead_since)
    return _utc(now) if now is not None else datetime.now(UTC)


def is_acceptable(memento_dt: datetime | None, dead_since: datetime | None) -> bool:
    """Whether a memento predates the death. One taken at or after it is likely the dead page
    itself: reject it, unless no earlier memento exists (the caller's last resort)."""
    if dead_since is None:
        return True
    return memento_dt is not None and _utc(memento_dt) < _utc(dead_since)


def closest_before(links: Iterable[Link], dead_since: datetime | None) -> Link | None:
    """Among memento links (of a Link header or a TimeMap), the latest one before the death."""
    best: tuple[datetime, Link] | None = None
    for link in links:
        dt = link.when
        if not link.has_rel("memento") or dt is None or not is_acceptable(dt, dead_since):
            continue
        if best is None or dt > best[0]:
            best = (dt, link)
    return best[1] if best else None


def choose_memento(answer: MementoAnswer, dead_since: datetime | None) -> str | None:
    """The memento URL to fetch: the TimeGate's choice if it predates the death, else the
    latest earlier memento its Link header names; None when neither (see the TimeMap)."""
    if answer.memento_url is not None and is_acceptable(answer.memento_datetime, dead_since):
        return answer.memento_url
    link = closest_before(answer.links, dead_since)
    return link.url if link is not None else None


def provenance_headers(original: str, memento_datetime: datetime) -> dict[str, str]:
    """The WARC headers that tie a recovered memento to the page it is a copy of."""
    dt = _utc(memento_datetime).replace(tzinfo=None)
    return {
        "WARC-Refers-To-Target-URI": original,
        "WARC-Refers-To-Date": dt.isoformat(timespec="seconds") + "Z",
    }
