"""A real corpus article, archived with its requisites from its publisher's own hosts, replays
in pywb with nothing missing.

The page is read from the corpus at run time and served at its own URL, with every image,
stylesheet, font and script it names answered on their hosts (tests/publisher_site.py): the
network guard's fake DNS and fake ports point those host names at a local server, so the crawl
runs as it would on the web and nothing leaves 127.0.0.1 (the session fails on any attempt).
"""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.captures.requisite_urls import page_requisites
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusPage, corpus_pages
from tests.publisher_site import PublisherSite
from tests.pywb_server import PywbServer

pytestmark = pytest.mark.slow

PYWB_CONFIG = """\
collections:
  morgue:
    index_paths: ./morgue-data/indexes/
    archive_paths: ./morgue-data/warcs/
"""


def _article() -> CorpusPage:
    """The first development article whose requisites span several hosts, with images and
    stylesheets, and few enough to replay one by one quickly."""
    for page in corpus_pages(kind="article", split="dev"):
        if not page.url or not page.url.startswith("https://"):
            continue
        needed = page_requisites(page.html, page.url)
        kinds = Counter(req.kind for req in needed)
        hosts = {urlsplit(req.url).hostname for req in needed}
        if 15 <= len(needed) <= 60 and len(hosts) >= 2 and kinds["image"] and kinds["stylesheet"]:
            return page
    pytest.fail("no corpus article with requisites on several hosts")


def test_a_corpus_article_replays_in_pywb_with_every_requisite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _article()
    assert page.url is not None
    needed = page_requisites(page.html, page.url)
    hosts = {urlsplit(req.url).hostname or "" for req in needed}
    data = tmp_path / "morgue-data"
    with PublisherSite(page.url, page.html, tmp_path) as site:
        for name, value in site.fake_network(hosts).items():
            monkeypatch.setenv(name, value)
        proc = run_morgue(
            "--data-dir", str(data), "archive", "--format", "json", "--no-recover",
            "--timeout", "10", *FAST, "-s", "LIVENESS_PROBE_ENABLED=False", page.url,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        asked_hosts = {host for host, _path in site.asked}
    (row,) = json_lines(proc.stdout)
    assert row["verdict"] == "ok", row
    # The crawl reached every host of the page through the local site, by its own name.
    assert hosts <= asked_hosts

    with sqlite3.connect(data / "morgue.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        rows = list(
            conn.execute("SELECT * FROM requisites WHERE capture_id = ?", (row["capture_id"],))
        )
    stored = {r["url"]: r for r in rows}
    # Everything the markup names, and what its stylesheets load, each archived (200, a record).
    assert {req.url for req in needed} <= set(stored)
    assert any("/fonts/" in url for url in stored)  # a stylesheet's own url()s
    assert [url for url, r in stored.items() if r["http_status"] != 200 or not r["warc_file"]] == []

    proc = run_morgue("--data-dir", str(data), "index")
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "config.yaml").write_text(PYWB_CONFIG, encoding="utf-8")
    stamp = "".join(ch for ch in row["fetched_at"] if ch.isdigit())[:14]
    misses = []
    with PywbServer(tmp_path) as pywb:
        page_bytes = _replay(pywb.port, stamp, page.url)
        for url in sorted(stored):
            expected = site.respond(url)[2]
            try:
                replayed = _replay(pywb.port, stamp, url)
            except urllib.error.HTTPError as exc:
                misses.append(f"{url}: {exc.code}")
                continue
            if replayed != expected:
                misses.append(f"{url}: other bytes")
    assert page_bytes == page.html
    assert misses == []
    print(f"{page.id}: {len(stored)} requisites on {len(hosts)} hosts replayed, none missed")


def _replay(port: int, stamp: str, url: str) -> bytes:
    """The archived body pywb gives for ``url`` at ``stamp`` (``id_``: as recorded)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/morgue/{stamp}id_/{url}",
        headers={"Accept-Encoding": "identity"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return bytes(resp.read())
