"""Refuse connections to loopback, private, link-local and multicast addresses the crawl was not
started on (``archive.policy.network`` has the rule; this module applies it).

The rule must be judged on the address the crawler is about to connect to, on every request:
the seeds, their robots.txt, the links found in feeds, sitemaps and pages, each redirect hop (a
new request, resolved again), probes and Memento requests. That address is known before a byte
is sent in the name resolver (``GuardedResolver``, installed with ``TWISTED_DNS_RESOLVER``):
Scrapy's HTTP/1.1 handler connects through Twisted's ``HostnameEndpoint``, which asks the
resolver for every host, IPv4 literals included, and connects to exactly the addresses it
returns. (Scrapy's resolver answers IPv4 only: an IPv6 literal host never resolves at all.)
``NetPolicyMiddleware.process_request`` checks IP-literal hosts once more, so that the rule does
not hang on that detail of Twisted.

Scrapy builds the resolver for the process, before the crawl and apart from it, so the
middleware (built with the crawl, when its seeds are known) hands the rule to the resolver
through ``install_guard``. A resolver can only say "no address" (Twisted turns any failure into
a DNS error), so the guard remembers which names it refused and the middleware turns their DNS
error back into ``AddressRefused``, before the retry middleware sees it. The request's errback
gets it (reason ``private_address``), and the middleware counts it (``netpolicy/refused``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from archive.policy.network import AddressPolicy, host_key, ip_literal

__all__ = [
    "AddressGuard",
    "AddressRefused",
    "GuardedResolver",
    "NetPolicyMiddleware",
    "browser_guard",
    "install_guard",
]

logger = logging.getLogger(__name__)


class AddressRefused(IgnoreRequest):
    """A request would have connected to an address the crawl may not reach.

    An ``IgnoreRequest``: not retried, and a robots.txt refused this way is no error to log.
    """

    def __init__(self, host: str, address: str, kind: str) -> None:
        self.host, self.address, self.kind = host, address, kind
        where = host if host == address else f"{host} ({address})"
        super().__init__(
            f"{where} is a {kind.replace('_', '-')} address: refused "
            "(a crawl reaches such addresses only from a seed on one, or with --allow-private)"
        )


class _RefusedLookup(DNSLookupError):
    """What the resolver fails with: a DNS error, which Twisted passes over without a word."""


Lookup = Callable[[str], "Deferred[str]"]


class AddressGuard:
    """The crawl's ``AddressPolicy`` where addresses are known; ``lookup`` resolves a seed."""

    def __init__(self, policy: AddressPolicy, lookup: Lookup) -> None:
        self.policy = policy
        self.lookup = lookup
        self.refused: dict[str, AddressRefused] = {}  # by host name, the latest refusal

    def check(self, host: str, address: str) -> Deferred[str]:
        """``address`` when ``host`` may be reached there; fails with ``AddressRefused`` if not."""
        kind = self.policy.refusal(host, address)
        if kind is None:
            self.refused.pop(host_key(host), None)
            return defer.succeed(address)
        pending = sorted(self.policy.pending)
        if not pending:
            return defer.fail(self._refuse(host, address, kind))
        # A seed on that kind of network would allow it: learn where the seeds are first.
        lookups = [self._resolve_seed(seed) for seed in pending]
        done = defer.DeferredList(lookups, consumeErrors=True)
        return done.addCallback(lambda _: self._final(host, address))

    def _resolve_seed(self, seed: str) -> Deferred[Any]:
        def failed(_: Any) -> None:
            self.policy.seed_resolved(seed, None)

        return self.lookup(seed).addCallbacks(lambda a: self.policy.seed_resolved(seed, a), failed)

    def _final(self, host: str, address: str) -> str:
        kind = self.policy.refusal(host, address)
        if kind is not None:
            raise self._refuse(host, address, kind)
        self.refused.pop(host_key(host), None)
        return address

    def _refuse(self, host: str, address: str, kind: str) -> AddressRefused:
        refused = AddressRefused(host, address, kind)
        self.refused[host_key(host)] = refused
        return refused


_guard: AddressGuard | None = None


def install_guard(guard: AddressGuard | None) -> None:
    """Make ``guard`` the rule of every name this process resolves (None: no rule)."""
    global _guard
    _guard = guard


def browser_guard() -> Callable[[str], Awaitable[str | None]] | None:
    """The crawl's address rule for requests a browser makes (``crawler.browser_pool``), which
    do not go through Scrapy's resolver: an async check of a URL, giving why it is refused or
    None. The host is resolved here and checked by the same policy; Chromium resolves it again
    when it connects, which a host that changes its answer in between could slip through."""

    async def check(url: str) -> str | None:
        guard = _guard
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"scheme {parts.scheme or 'none'} not fetched"
        if guard is None:
            return None
        host = parts.hostname
        literal = ip_literal(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 80)
            except OSError as exc:
                return f"cannot resolve {host}: {exc}"
            addresses = sorted({str(info[4][0]) for info in infos})
        for address in addresses:
            kind = guard.policy.refusal(host, address)
            if kind is not None:
                return f"{host} is at {address}, a {kind} address"
        return None

    return check


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing the addresses the crawl's guard refuses."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        resolved = super().getHostByName(name, timeout)
        guard = _guard
        if guard is None:
            return resolved

        def refused(failure: Any) -> Any:
            failure.trap(AddressRefused)
            raise _RefusedLookup(str(failure.value))

        return resolved.addCallback(lambda address: guard.check(name, address)).addErrback(refused)


def _resolver_path(resolver: Any) -> str:
    if isinstance(resolver, str):
        return resolver
    return f"{resolver.__module__}.{resolver.__qualname__}"


class NetPolicyMiddleware:
    """Downloader middleware: gives the resolver the crawl's rule, checks IP-literal hosts and
    reports refusals. Placed next to the downloader (``DOWNLOADER_MIDDLEWARES``), so that its
    ``process_exception`` runs before the retry middleware's."""

    def __init__(self, guard: AddressGuard, stats: StatsCollector) -> None:
        self.guard = guard
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("NETPOLICY_ENABLED"):
            raise NotConfigured("NETPOLICY_ENABLED is off")
        if settings.getbool("NETPOLICY_ALLOW_PRIVATE"):
            raise NotConfigured("NETPOLICY_ALLOW_PRIVATE is on")
        resolver = _resolver_path(settings.get("TWISTED_DNS_RESOLVER"))
        if resolver != _resolver_path(GuardedResolver):
            logger.warning(
                "TWISTED_DNS_RESOLVER is %s: host names are not checked against private "
                "addresses, only IP literals (set it to %s)",
                resolver,
                _resolver_path(GuardedResolver),
            )
        seeds = settings.getlist("NETPOLICY_SEEDS") or list(_spider_seeds(crawler.spider))
        policy = AddressPolicy(seeds, _trusted_urls(crawler))
        from twisted.internet import reactor

        def lookup(name: str) -> Deferred[str]:
            # Twisted types IReactorCore.resolve as if its interface method took self.
            return reactor.resolve(name)  # type: ignore[arg-type]

        guard = AddressGuard(policy, lookup)
        install_guard(guard)
        assert crawler.stats is not None
        return cls(guard, crawler.stats)

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname
        if not host:
            return
        literal = ip_literal(host)
        if literal is not None:
            await maybe_deferred_to_future(self.guard.check(host_key(host), str(literal)))

    def process_exception(self, request: Request, exception: Exception) -> None:
        refused = exception if isinstance(exception, AddressRefused) else None
        if refused is None and isinstance(exception, CannotResolveHostError | DNSLookupError):
            host = urlparse_cached(request).hostname or ""
            refused = self.guard.refused.get(host_key(host))
        if refused is None:
            return
        self.stats.inc_value("netpolicy/refused")
        self.stats.inc_value(f"netpolicy/refused/{refused.kind}")
        logger.info("Refused %s: %s", request.url, refused)
        if refused is not exception:
            raise AddressRefused(refused.host, refused.address, refused.kind)


def _spider_seeds(spider: Spider | None) -> Sequence[str]:
    seeds = getattr(spider, "seed_urls", None)
    return list(seeds()) if callable(seeds) else []


def _trusted_urls(crawler: Crawler) -> list[str]:
    """Hosts the user configured, reached whatever their address: the TimeGate, proxies."""
    settings = crawler.settings
    trusted = []
    if settings.getbool("MEMENTO_ENABLED") and settings.get("MEMENTO_TIMEGATE"):
        trusted.append(str(settings.get("MEMENTO_TIMEGATE")))
    if settings.getbool("HTTPPROXY_ENABLED"):
        trusted.extend(url for url in getproxies().values() if "://" in url)
    return trusted
