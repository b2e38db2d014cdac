"""The tests' network guard: no test, nor any process a test starts, may reach past 127.0.0.1.

``tests/conftest.py`` puts this directory first on ``PYTHONPATH``, so Python imports this file at
start-up in the test process and in every child (the CLI, the crawl, its extraction workers,
the mock site, pywb). Name lookups of anything but the loopback names fail as an unknown host
would (``socket.gaierror``), so a test that forgets ``--no-recover`` gets a fast DNS failure
instead of a slow, silent trip to the Wayback Machine; connections to a non-loopback address
are refused. Each blocked attempt is appended to the file named by ``NETGUARD_LOG``, which the
test session reads and fails on. Names under ``.invalid`` fail too, unlogged: they never resolve
anywhere, so tests use them for a host that is gone.

``NETGUARD_FAKE_DNS`` (JSON, ``{"intranet.test": "10.0.0.5"}``) makes names resolve to the
addresses a test chose, private and link-local ones included, without asking any DNS server: a
test can then show that a crawl refuses them. Connecting to such an address stays blocked and
logged like any other, so the test fails if the crawl tried.

``NETGUARD_FAKE_PORTS`` (JSON, ``{"80": 41234, "443": 41235}``) sends a connection to one of
these ports of the loopback address to the test's own server on the port given instead: with
the fake DNS pointing a publisher's host names at 127.0.0.1, a crawl fetches
``https://www.publisher.example/logo.png`` from a local server without binding a privileged
port, and the URLs, ``Host`` headers and TLS server names stay the publisher's.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
from typing import Any

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard address of a server socket
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").rstrip(".").lower()
    if name in _LOCAL_NAMES or name == "":
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _blocked(what: str) -> None:
    log = os.environ.get("NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            program = " ".join(getattr(sys, "argv", []))[:120]
            fh.write(f"{os.getpid()} {what} (in {program!r})\n")


def _is_invalid(host: object) -> bool:
    # RFC 6761: names under .invalid never resolve, so tests use them for a host that is gone.
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    return name.rstrip(".").lower().endswith(".invalid")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _load_fake_dns() -> dict[str, str]:
    raw = os.environ.get("NETGUARD_FAKE_DNS")
    if not raw:
        return {}
    return {name.rstrip(".").lower(): address for name, address in json.loads(raw).items()}


_FAKE_DNS = _load_fake_dns()


def _load_fake_ports() -> dict[int, int]:
    raw = os.environ.get("NETGUARD_FAKE_PORTS")
    if not raw:
        return {}
    return {int(port): int(local) for port, local in json.loads(raw).items()}


_FAKE_PORTS = _load_fake_ports()


def _redirected(sock: socket.socket, address: Any) -> Any:
    """``address``, or the test server's port for a faked port of the loopback address."""
    if (
        _FAKE_PORTS
        and sock.family in (socket.AF_INET, socket.AF_INET6)
        and isinstance(address, tuple)
        and len(address) >= 2
        and _is_local(address[0])
        and address[1] in _FAKE_PORTS
    ):
        return (address[0], _FAKE_PORTS[address[1]], *address[2:])
    return address


def _fake_answer(name: str, port: Any, family: int, type: int, proto: int) -> Any:
    address = ipaddress.ip_address(_FAKE_DNS[name])
    want = socket.AF_INET if address.version == 4 else socket.AF_INET6
    if family not in (socket.AF_UNSPEC, want):
        raise socket.gaierror(socket.EAI_ADDRFAMILY, f"{name}: no address of that family")
    if isinstance(port, bytes | str):
        port = int(port) if str(port).isdigit() else socket.getservbyname(str(port))
    sockaddr: tuple[Any, ...] = (str(address), int(port or 0))
    if want == socket.AF_INET6:
        sockaddr = (*sockaddr, 0, 0)
    kinds = [type] if type else [socket.SOCK_STREAM, socket.SOCK_DGRAM]
    return [(want, kind, proto, "", sockaddr) for kind in kinds]


def _getaddrinfo(
    host: Any, port: Any = None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> Any:
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.rstrip(".").lower() in _FAKE_DNS:
        return _fake_answer(name.rstrip(".").lower(), port, family, type, proto)
    if _is_ip_literal(name):
        # Reading an address needs no lookup; connecting to it is what the guard checks.
        flags |= socket.AI_NUMERICHOST
        return _real_getaddrinfo(host, port, family, type, proto, flags)
    if not _is_local(host):
        if not _is_invalid(host):
            _blocked(f"lookup {host}")
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: blocked by the tests' network guard")
    return _real_getaddrinfo(host, port, family, type, proto, flags)


def _gethostbyname(host: str) -> str:
    return str(_getaddrinfo(host, None, socket.AF_INET)[0][4][0])


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _blocked(f"connect {address[0]}")
        raise ConnectionRefusedError(f"{address[0]}: blocked by the tests' network guard")


def _connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, _redirected(self, address))


def _connect_ex(self: socket.socket, address: Any) -> int:
    # connect_ex reports a failure by its errno (Twisted's TCP client relies on it).
    try:
        _check_address(self, address)
    except ConnectionRefusedError:
        return errno.ECONNREFUSED
    return int(_real_connect_ex(self, _redirected(self, address)))


socket.getaddrinfo = _getaddrinfo
socket.gethostbyname = _gethostbyname
socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
