"""Links to loopback, private, link-local and multicast addresses are refused (issue 11, item 7).

Nothing here sends a packet to such an address. The crawls resolve test names through the
network guard's fake DNS (``NETGUARD_FAKE_DNS``, tests/netguard/sitecustomize.py), and the guard
blocks and logs any connection to a non-loopback address: a refused address that the crawl tried
to reach anyway fails the test (``_no_internet`` in conftest). Where a test wants to see the
connection attempted (``--allow-private``, a seed on a private network), it gives the crawl a
guard log of its own and finds the attempt there; the guard stopped it before the socket
connected, so nothing left the machine either.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.defer import Deferred

from archive.policy.network import AddressPolicy, address_class
from crawler.netpolicy import AddressGuard, AddressRefused
from tests.conftest import FAST, json_lines, run_morgue
from tests.static_site import Route, StaticSite

# -- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "loopback"),  # reaches this machine on Linux
        ("::", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("10.0.0.5", "private"),
        ("172.16.4.2", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),  # shared address space (carrier-grade NAT)
        ("fd00:ec2::254", "private"),  # unique local (a cloud's IPv6 metadata service)
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:5", "private"),  # NAT64 for 10.0.0.5
        ("169.254.169.254", "link_local"),  # the cloud metadata service
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("[fe80::1]", "link_local"),
        ("fe80::1%eth0", "link_local"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "multicast"),  # broadcast
        ("ff02::1", "multicast"),
        ("93.184.215.14", None),
        ("172.32.0.1", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_class(address: str, kind: str | None) -> None:
    assert address_class(address) == kind


def test_a_name_is_no_address() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        address_class("intranet.test")


def test_policy_allows_the_networks_of_its_seeds_only() -> None:
    policy = AddressPolicy(["http://127.0.0.1:8000/feed.xml"])
    assert policy.refusal("127.0.0.1", "127.0.0.1") is None
    assert policy.refusal("localhost.test", "127.0.0.2") is None  # loopback: a seed is on it
    assert policy.refusal("intranet.test", "10.0.0.5") == "private"
    assert policy.refusal("metadata.test", "169.254.169.254") == "link_local"
    assert policy.refusal("10.0.0.5", "10.0.0.5") == "private"
    assert policy.refusal("example.org", "93.184.215.14") is None


def test_policy_named_seed_may_be_reached_and_opens_its_network() -> None:
    policy = AddressPolicy(["https://Intranet.Test./news/"])
    assert policy.pending == {"intranet.test"}
    assert policy.refusal("other.test", "10.9.9.9") == "private"  # seed not resolved yet
    assert policy.refusal("intranet.test", "10.0.0.5") is None  # the seed itself
    assert policy.pending == frozenset()
    assert policy.refusal("other.test", "10.9.9.9") is None  # now a network of the crawl
    assert policy.refusal("other.test", "169.254.169.254") == "link_local"


def test_policy_trusted_host_allows_nothing_else() -> None:
    policy = AddressPolicy(["http://news.example.org/"], ["http://10.1.2.3:8080/web/"])
    assert policy.refusal("10.1.2.3", "10.1.2.3") is None
    assert policy.refusal("10.1.2.4", "10.1.2.4") == "private"


def test_policy_allow_all() -> None:
    policy = AddressPolicy([], allow_all=True)
    assert policy.refusal("intranet.test", "10.0.0.5") is None


def _outcome(result: Deferred[str]) -> str:
    seen: list[str] = []
    result.addCallbacks(seen.append, lambda f: seen.append(f"refused {f.value.kind}"))
    assert seen, "the check did not complete"
    return seen[0]


def test_guard_resolves_pending_seeds_before_refusing() -> None:
    asked: list[str] = []

    def lookup(name: str) -> Deferred[str]:
        asked.append(name)
        return defer.succeed("10.20.30.40")

    guard = AddressGuard(AddressPolicy(["http://wiki.corp.test/"]), lookup)
    # Another host on a private network, seen before the seed was fetched: the seed is looked
    # up first, found on a private network too, so the answer is the same as it will be later.
    assert _outcome(guard.check("intranet.test", "10.0.0.5")) == "10.0.0.5"
    assert asked == ["wiki.corp.test"]
    assert _outcome(guard.check("metadata.test", "169.254.169.254")) == "refused link_local"
    assert asked == ["wiki.corp.test"]  # resolved once
    assert "metadata.test" in guard.refused and "intranet.test" not in guard.refused


def test_guard_refuses_when_a_seed_does_not_resolve() -> None:
    def lookup(name: str) -> Deferred[str]:
        return defer.fail(OSError("no such host"))

    guard = AddressGuard(AddressPolicy(["http://gone.invalid/"]), lookup)
    assert _outcome(guard.check("intranet.test", "10.0.0.5")) == "refused private"
    assert isinstance(guard.refused["intranet.test"], AddressRefused)


# -- crawls -------------------------------------------------------------------------------------

FAKE_DNS = {
    "intranet.test": "10.0.0.5",
    "router.test": "192.168.1.1",
    "corp.test": "172.16.4.2",
    "metadata.test": "169.254.169.254",
    "mcast.test": "224.0.0.251",
    # A site crawl stays within a registered domain: one name of it on loopback (the test's
    # site), one on a private network.
    "news.example.com": "127.0.0.1",
    "intranet.example.com": "10.0.0.6",
}

# Status-only verdicts (no extraction, no probes) and no web archive: these tests are about
# where the crawl connects.
QUICK = ["--no-recover", "--extract", "later", *FAST]

PAGE = b"<html><head><title>%s</title></head><body><article><p>%s</p></article></body></html>"


def _page(title: str) -> Route:
    return Route(200, PAGE % (title.encode(), (title + " text. ").encode() * 30))


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETGUARD_FAKE_DNS", json.dumps(FAKE_DNS))


@pytest.fixture
def site() -> Iterator[StaticSite]:
    with StaticSite() as static:
        port = static.base.rsplit(":", 1)[1]
        static.routes.update(
            {
                "/to-intranet": Route.redirect(f"http://intranet.test:{port}/secret"),
                "/to-router": Route.redirect(f"http://router.test:{port}/admin", 301),
                "/to-corp": Route.redirect(f"http://corp.test:{port}/"),
                "/to-metadata": Route.redirect("http://metadata.test/latest/meta-data/"),
                "/to-metadata-ip": Route.redirect("http://169.254.169.254/latest/meta-data/"),
                "/to-private-ip": Route.redirect(f"http://10.0.0.5:{port}/secret"),
                "/to-link-local-v6": Route.redirect(f"http://[fe80::1]:{port}/"),
                "/to-multicast": Route.redirect(f"http://mcast.test:{port}/"),
                "/two-hops": Route.redirect("/to-intranet", 301),
                "/ok.html": _page("A story"),
                "/ok2.html": _page("Another story"),
                "/ok3.html": _page("A third story"),
                "/gone.html": Route(404, b"<html><body>gone</body></html>"),
            }
        )

        def timegate(path: str) -> Route:
            # A TimeGate that sends the crawl to a private address for its memento.
            if path.startswith("/tg/"):
                return Route.redirect(f"http://intranet.test:{port}/web/2020/x")
            return static.fallback

        static.fallback_for = timegate
        yield static


def _run_stats(data_dir: Path) -> dict[str, Any]:
    with sqlite3.connect(data_dir / "morgue.sqlite3") as conn:
        (stats,) = conn.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return dict(json.loads(stats))


REFUSED_REDIRECTS = [
    "/to-intranet",
    "/to-router",
    "/to-corp",
    "/to-metadata",
    "/to-metadata-ip",
    "/to-private-ip",
    "/to-link-local-v6",
    "/to-multicast",
    "/two-hops",
]


@pytest.mark.slow
@pytest.mark.usefixtures("fake_dns")
def test_archive_refuses_redirects_to_private_addresses(site: StaticSite, tmp_path: Path) -> None:
    data = tmp_path / "data"
    urls = [site.url(path) for path in [*REFUSED_REDIRECTS, "/ok.html", "/gone.html"]]
    proc = run_morgue(
        "--data-dir", str(data), "archive", "--format", "json", "--extract", "later", *FAST,
        "--timegate", site.url("/tg/"), *urls,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {row["url"].removeprefix(site.base): row for row in json_lines(proc.stdout)}
    for path in REFUSED_REDIRECTS:
        row = rows[path]
        assert (row["verdict"], row["reason"], row["http_status"]) == (
            "unreachable",
            "private_address",
            None,
        ), path
    assert rows["/ok.html"]["verdict"] == "ok"
    # The TimeGate's redirect to a private address is refused too: no memento, still dead.
    assert (rows["/gone.html"]["verdict"], rows["/gone.html"]["recovered_from"]) == (
        "not_found",
        None,
    )
    # Each hop up to the refusal is archived and listed with the capture.
    shown = run_morgue(
        "--data-dir", str(data), "show", "--json", str(rows["/two-hops"]["capture_id"])
    )
    hops = json.loads(shown.stdout)["redirects"]
    assert [(hop["url"].removeprefix(site.base), hop["status"]) for hop in hops] == [
        ("/two-hops", 301),
        ("/to-intranet", 302),
    ]
    stats = _run_stats(data)
    assert stats["netpolicy/refused"] >= len(REFUSED_REDIRECTS) + 1
    assert stats["netpolicy/refused/link_local"] >= 3
    assert "retry/count" not in stats  # a refusal is not retried
    assert "/tg/" + site.url("/gone.html") in site.requests  # the TimeGate was asked


def _feed(items: list[str]) -> Route:
    entries = "".join(
        f"<item><title>Item {i}</title><link>{url}</link></item>" for i, url in enumerate(items)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{entries}'
    return Route(
        200, (body + "</channel></rss>").encode(), (("Content-Type", "application/rss+xml"),)
    )


def _urlset(urls: list[str]) -> Route:
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    body = f'<?xml version="1.0"?><urlset xmlns="{ns}">{entries}</urlset>'
    return Route(200, body.encode(), (("Content-Type", "application/xml"),))


def _sitemap_index(urls: list[str]) -> Route:
    entries = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in urls)
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    body = f'<?xml version="1.0"?><sitemapindex xmlns="{ns}">{entries}</sitemapindex>'
    return Route(200, body.encode(), (("Content-Type", "application/xml"),))


@pytest.mark.slow
@pytest.mark.usefixtures("fake_dns")
def test_crawl_filters_links_to_private_addresses(site: StaticSite, tmp_path: Path) -> None:
    port = site.base.rsplit(":", 1)[1]
    site.routes["/feed.xml"] = _feed(
        [
            site.url("/ok.html"),
            f"http://intranet.test:{port}/a.html",
            f"http://10.0.0.5:{port}/b.html",
            "http://169.254.169.254/latest/meta-data/",
            f"http://[fe80::1]:{port}/d.html",
            f"http://mcast.test:{port}/e.html",
            site.url("/to-corp"),  # a listed page that redirects: it keeps its capture
        ]
    )
    site.routes["/sitemap_index.xml"] = _sitemap_index(
        [site.url("/sitemap.xml"), f"http://intranet.test:{port}/sitemap.xml"]
    )
    site.routes["/sitemap.xml"] = _urlset(
        [site.url("/ok2.html"), f"http://router.test:{port}/f.html", "http://192.168.0.1/g.html"]
    )
    front = (
        f'<html><body><a href="http://news.example.com:{port}/ok3.html">three</a>'
        f'<a href="http://intranet.example.com:{port}/h.html">h</a></body></html>'
    )
    site.routes["/front.html"] = Route(200, front.encode())
    data = tmp_path / "data"
    proc = run_morgue(
        "--data-dir", str(data), "crawl", "--format", "json", *QUICK,
        "--feed", site.url("/feed.xml"), "--sitemap", site.url("/sitemap_index.xml"),
        "--site", f"http://news.example.com:{port}/front.html",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {row["url"]: row for row in json_lines(proc.stdout)}
    assert {
        url.replace(site.base, "").replace(f"http://news.example.com:{port}", "") for url in rows
    } == {"/ok.html", "/ok2.html", "/ok3.html", "/front.html", "/to-corp"}
    assert all(row["verdict"] == "ok" for url, row in rows.items() if "/to-corp" not in url)
    assert rows[site.url("/to-corp")]["reason"] == "private_address"
    stats = _run_stats(data)
    # Five feed entries, two sitemap entries, a child sitemap and a site link: filtered, counted.
    assert stats["sources/filtered/private_address"] == 9
    assert stats["netpolicy/refused"] >= 10
    assert "log_count/ERROR" not in stats


def _attempts(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line.split(" ", 1)[1].split(" (in ")[0] for line in log.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.usefixtures("fake_dns")
def test_a_seed_on_a_private_network_and_allow_private_let_connections_through(
    site: StaticSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard stops these connections before the socket connects; they show in its log."""
    port = site.base.rsplit(":", 1)[1]
    log = tmp_path / "expected-attempts.log"
    monkeypatch.setenv("NETGUARD_LOG", str(log))  # not the session's log: these are expected
    seeded = run_morgue(
        "--data-dir", str(tmp_path / "a"), "archive", "--format", "json", *QUICK,
        f"http://intranet.test:{port}/page.html", site.url("/to-router"),
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    # A seed on a private network: it and other private addresses may be reached.
    assert {(r["verdict"], r["reason"]) for r in json_lines(seeded.stdout)} == {
        ("unreachable", "connection_refused")
    }
    assert set(_attempts(log)) == {"connect 10.0.0.5", "connect 192.168.1.1"}
    assert "netpolicy/refused" not in _run_stats(tmp_path / "a")
    log.unlink()
    allowed = run_morgue(
        "--data-dir", str(tmp_path / "b"), "archive", "--format", "json", *QUICK,
        "--allow-private", site.url("/to-metadata-ip"), site.url("/to-intranet"),
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert {r["reason"] for r in json_lines(allowed.stdout)} == {"connection_refused"}
    assert set(_attempts(log)) == {"connect 169.254.169.254", "connect 10.0.0.5"}
    assert os.environ["NETGUARD_LOG"] == str(log)
