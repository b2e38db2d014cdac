"""Which network addresses a crawl may connect to.

A page on the public web can send a crawler anywhere: a redirect, a feed entry, a sitemap or a
link can name ``http://10.0.0.5/admin``, a router at ``192.168.1.1`` or the cloud metadata
service at ``169.254.169.254``, and the archive would then keep (and show) what an outsider was
never meant to read. So a crawl connects to addresses off the public internet (loopback,
private, link-local, multicast) only when it was started on such a network: when one of its
seeds (the URLs, feeds, sitemaps and sites it was given) is on that kind of network, or when the
user said ``--allow-private``.

The rule is judged on the address actually connected to, which only the crawler knows (after
name resolution, on every redirect hop): ``crawler.netpolicy`` applies it. This module is the
rule itself, with no network access: ``address_class`` names the kind of network of an address,
``AddressPolicy`` decides, given the seeds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["ADDRESS_CLASSES", "AddressPolicy", "address_class", "host_key", "ip_literal"]

#: The kinds of network a crawl does not reach unless a seed is on one (or --allow-private).
ADDRESS_CLASSES = ("loopback", "private", "link_local", "multicast")

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_BROADCAST = ipaddress.ip_address("255.255.255.255")


def _embedded_ipv4(ip: _IPAddress) -> _IPAddress:
    """The IPv4 address an IPv6 address stands for, where connecting to it reaches that one."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    value = int(ip)
    # NAT64 (a gateway forwards to the embedded address) and the deprecated IPv4-compatible form.
    if ip in _NAT64 or (value >> 32 == 0 and value > 1):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return ip


def ip_literal(host: str) -> _IPAddress | None:
    """The address ``host`` spells, if it is an IP literal (``10.0.0.5``, ``[fe80::1]``)."""
    text = host.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def address_class(address: str | _IPAddress) -> str | None:
    """The kind of non-public network ``address`` is on (one of ``ADDRESS_CLASSES``), or None for
    a public address. Raises ``ValueError`` for something that is not an IP address."""
    ip = address if not isinstance(address, str) else ip_literal(address)
    if ip is None:
        raise ValueError(f"not an IP address: {address!r}")
    ip = _embedded_ipv4(ip)
    if ip.is_loopback or ip.is_unspecified or ip in _THIS_NETWORK:
        return "loopback"  # 0.0.0.0 reaches this machine on Linux
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast or ip == _BROADCAST:
        return "multicast"
    if not ip.is_global:
        return "private"  # RFC 1918, unique local, shared (CGNAT), reserved, documentation...
    return None


def host_key(host: str) -> str:
    """A host name as the rule compares it: lowercase, no brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def _hosts(urls: Iterable[str]) -> set[str]:
    hosts = set()
    for url in urls:
        try:
            host = urlsplit(url.strip()).hostname
        except ValueError:
            continue
        if host:
            hosts.add(host_key(host))
    return hosts


class AddressPolicy:
    """Decides whether a crawl may connect to an address, given its seeds.

    ``seeds`` are the URLs the crawl was started from: each seed's host may be reached whatever
    its address, and the kind of network it is on becomes allowed for every other host.
    An IP-literal seed's network is known at once; a named seed's when the name has been
    resolved (``seed_resolved``): until then it is ``pending``, and the crawler resolves the
    pending seeds before it refuses an address, so the decision does not depend on which
    request went first. ``trusted`` hosts (the Memento TimeGate, a proxy) may be reached
    whatever their address but allow nothing for other hosts. ``allow_all`` turns the rule off.
    """

    def __init__(
        self, seeds: Iterable[str] = (), trusted: Iterable[str] = (), *, allow_all: bool = False
    ) -> None:
        self.allow_all = allow_all
        self.allowed: set[str] = set()
        self.seed_hosts = frozenset(_hosts(seeds))
        self.trusted_hosts = frozenset(_hosts(trusted))
        self._pending: set[str] = set()
        for host in self.seed_hosts:
            literal = ip_literal(host)
            if literal is None:
                self._pending.add(host)
                continue
            kind = address_class(literal)
            if kind is not None:
                self.allowed.add(kind)

    @property
    def pending(self) -> frozenset[str]:
        """Named seeds whose address is not known yet."""
        return frozenset(self._pending)

    def seed_resolved(self, host: str, address: str | None) -> None:
        """A seed's name resolved to ``address`` (None: it did not resolve)."""
        self._pending.discard(host_key(host))
        if address is not None:
            kind = address_class(address)
            if kind is not None:
                self.allowed.add(kind)

    def refusal(self, host: str, address: str) -> str | None:
        """Why connecting to ``address`` (for ``host``) is refused: the class of its network;
        None when the connection may go ahead."""
        if self.allow_all:
            return None
        kind = address_class(address)
        if kind is None or kind in self.allowed:
            return None
        key = host_key(host)
        if key in self.seed_hosts:
            self.seed_resolved(key, address)
            return None
        if key in self.trusted_hosts:
            return None
        return kind
