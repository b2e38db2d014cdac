"""Browser capture (`morgue archive --browser`) with the system's Chromium, against the mock site.

A page whose article a script writes from JSON is archived with everything the browser fetched,
its rendered text extracted and judged, and a screenshot as a WARC resource record; no Chromium
process outlives the crawl; a browser killed mid-crawl is started again; without Chromium,
`--browser` says so and `--browser auto` falls back to HTML.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.runs.chromium import find_chromium
from tests.conftest import FAST, ROOT, json_lines
from tests.mockserver import MockServer
from tests.mockserver.assets import LIVE_JSON

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium (apt-get install chromium)"),
]


def morgue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**base, **(env or {})},
    )


def _records(data_dir: Path) -> list[tuple[str, str, dict[str, str], bytes]]:
    out = []
    for path in sorted((data_dir / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                headers = dict(rec.rec_headers.headers)
                body = rec.content_stream().read()
                out.append((rec.rec_type, headers.get("WARC-Target-URI", ""), headers, body))
    return out


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A TMPDIR for one run, short enough for Chromium's socket paths (pytest's are not)."""
    path = Path(tempfile.mkdtemp(prefix="mb", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _chromium_left(tmp: Path) -> list[str]:
    """Chromium processes whose profile lies under ``tmp`` (the run's TMPDIR)."""
    found = subprocess.run(["pgrep", "-af", f"user-data-dir={tmp}"], capture_output=True,
                           text=True).stdout  # fmt: skip
    return [line for line in found.splitlines() if "pgrep" not in line]


@pytest.fixture(scope="module")
def rendered(
    mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("browser")
    tmp = Path(tempfile.mkdtemp(prefix="mb", dir="/tmp"))  # Chromium's sockets: a short path
    data = root / "data"
    urls = [mock_server.url("/photo/live-blog.html"), mock_server.url("/articles/alpha.html")]
    proc = morgue(
        "--data-dir", str(data), "archive", "--format", "json", "--no-recover", *FAST,
        "-s", "BROWSER_TIMEOUT=20", "-s", "BROWSER_SETTLE=10", "-s", "BROWSER_PDF=True",
        "--browser", *urls,
        env={"TMPDIR": str(tmp)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    yield {"rows": json_lines(proc.stdout), "data": data, "tmp": tmp, "server": mock_server}
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_article_a_script_writes_is_extracted_and_judged(rendered: dict[str, Any]) -> None:
    live = rendered["rows"][0]
    assert live["verdict"] == "ok"
    assert live["title"] == LIVE_JSON["headline"]
    assert live["text_chars"] > 300
    show = morgue("--data-dir", str(rendered["data"]), "show", "--text", str(live["capture_id"]))
    assert LIVE_JSON["paragraphs"][1] in show.stdout
    # The rendered text is what the database holds (the HTML alone has none: "Loading…").
    with sqlite3.connect(rendered["data"] / "morgue.sqlite3") as conn:
        (text, evidence) = conn.execute(
            "SELECT text, evidence FROM captures WHERE id = ?", (live["capture_id"],)
        ).fetchone()
    assert all(paragraph in text for paragraph in LIVE_JSON["paragraphs"])
    assert "browser_rendered" in evidence


def test_everything_the_browser_fetched_is_in_the_warc(rendered: dict[str, Any]) -> None:
    server = rendered["server"]
    records = _records(rendered["data"])
    json_url = server.url("/assets/live.json")
    fetched = [
        (h, body) for kind, uri, h, body in records if kind == "response" and uri == json_url
    ]
    assert fetched, "the JSON the script fetched is not archived"
    headers, body = fetched[0]
    assert headers["WARC-Browser-Body"] == "driver"  # the driver's body, said so
    assert headers["WARC-Requisite-Of"] == server.url("/photo/live-blog.html")
    assert LIVE_JSON["headline"].encode() in body


def test_the_screenshot_is_a_resource_record_concurrent_to_the_page(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    live = rendered["rows"][0]
    shots = [
        (h, body)
        for kind, uri, h, body in _records(rendered["data"])
        if kind == "resource" and uri == "urn:screenshot:" + live["url"]
    ]
    assert len(shots) == 1
    headers, png = shots[0]
    assert headers["WARC-Concurrent-To"] == live["warc_record_id"]
    assert headers["Content-Type"] == "image/png" and png.startswith(b"\x89PNG\r\n\x1a\n")
    out = subprocess.run(
        [sys.executable, "-m", "archive", "--data-dir", str(rendered["data"]), "show",
         "--screenshot", str(live["capture_id"])],
        capture_output=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout == png  # stdout redirected: the PNG itself


def test_with_browser_pdf_the_printed_page_is_a_resource_record_too(
    rendered: dict[str, Any],
) -> None:
    live = rendered["rows"][0]
    pdfs = [
        (h, body)
        for kind, uri, h, body in _records(rendered["data"])
        if kind == "resource" and uri == "urn:pdf:" + live["url"]
    ]
    assert len(pdfs) == 1
    headers, pdf = pdfs[0]
    assert headers["WARC-Concurrent-To"] == live["warc_record_id"]
    assert headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")  # whole
    # One for each page rendered, and nothing else.
    others = {uri for kind, uri, _, _ in _records(rendered["data"]) if uri.startswith("urn:pdf:")}
    assert others == {"urn:pdf:" + row["url"] for row in rendered["rows"]}


def test_no_chromium_outlives_the_crawl(rendered: dict[str, Any]) -> None:
    assert _chromium_left(rendered["tmp"]) == []


def test_auto_renders_only_the_page_that_needs_it(
    mock_server: MockServer, tmp_path: Path, short_tmp: Path
) -> None:
    urls = [mock_server.url("/photo/live-blog.html"), mock_server.url("/articles/beta.html")]
    proc = morgue(
        "--data-dir", str(tmp_path / "d"), "archive", "--format", "json", "--no-recover",
        "--no-requisites", *FAST, "-s", "BROWSER_SETTLE=10", "--browser", "auto", *urls,
        env={"TMPDIR": str(short_tmp)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    live, beta = json_lines(proc.stdout)
    shown = morgue("--data-dir", str(tmp_path / "d"), "show", "--json", str(live["capture_id"]))
    assert live["title"] == LIVE_JSON["headline"], shown.stdout
    shots = {uri for kind, uri, _, _ in _records(tmp_path / "d") if kind == "resource"}
    assert "urn:screenshot:" + live["url"] in shots
    assert not [uri for uri in shots if uri.startswith("urn:pdf:")]  # not without BROWSER_PDF
    assert "urn:screenshot:" + beta["url"] not in shots
    none = morgue("--data-dir", str(tmp_path / "d"), "show", "--screenshot",
                  str(beta["capture_id"]))  # fmt: skip
    assert none.returncode == 2 and "has no screenshot" in none.stderr
    assert _chromium_left(tmp_path) == []


def test_a_page_that_never_finishes_loading_is_kept(
    mock_server: MockServer, tmp_path: Path, short_tmp: Path
) -> None:
    """An image that never arrives: the page is rendered as it stands at BROWSER_TIMEOUT."""
    proc = morgue(
        "--data-dir", str(tmp_path / "d"), "archive", "--format", "json", "--no-recover",
        "--no-requisites", *FAST, "-s", "BROWSER_TIMEOUT=3", "--browser",
        mock_server.url("/photo/stalls.html"), env={"TMPDIR": str(short_tmp)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert row["verdict"] == "ok" and row["title"] == "Pier survey finds rot in six piles"
    assert _chromium_left(short_tmp) == []


@pytest.mark.parametrize("obey", [True, False], ids=["robots.txt obeyed", "--ignore-robots"])
def test_the_browsers_own_requests_obey_robots_txt(
    mock_server: MockServer, tmp_path: Path, short_tmp: Path, obey: bool
) -> None:
    """A picture the page's script adds from /private/ (disallowed): the browser is refused
    it, as the crawl would be, and nothing of it is archived; --ignore-robots lets it through
    (so the first case fails when the browser's requests are not checked)."""
    page = mock_server.url("/photo/tracked.html")
    before = len(mock_server.requests())
    proc = morgue(
        "--data-dir", str(tmp_path / "d"), "archive", "--format", "json", "--no-recover",
        "--no-requisites", *FAST, "-s", "BROWSER_SETTLE=3", "--browser", page,
        *(() if obey else ("--ignore-robots",)), env={"TMPDIR": str(short_tmp)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert row["verdict"] == "ok" and row["title"] == "The night ferry runs again"
    asked = [entry["path"] for entry in mock_server.requests()[before:]]
    archived = [uri for kind, uri, _, _ in _records(tmp_path / "d") if kind == "response"]
    banner = mock_server.url("/private/banner.png")
    if obey:
        assert "/private/banner.png" not in asked and banner not in archived
        assert "/robots.txt" in asked
    else:
        assert "/private/banner.png" in asked and banner in archived
    assert _chromium_left(short_tmp) == []


def test_a_browser_killed_mid_crawl_is_started_again(mock_server: MockServer) -> None:
    from crawler.browser_pool import BrowserPool

    executable = find_chromium()
    assert executable is not None

    async def run() -> tuple[int, int | None, bytes]:
        pool = BrowserPool(executable, timeout=15, settle=0.5)
        try:
            await pool.render(mock_server.url("/articles/alpha.html"))
            first = pool.pid
            assert first is not None
            os.killpg(first, signal.SIGKILL)  # a crash
            again = await pool.render(mock_server.url("/articles/gamma.html"))
            return pool.restarts, first, again.dom
        finally:
            await pool.close()
            assert pool.pid is None

    restarts, first, dom = asyncio.run(run())
    assert restarts == 1 and b"<h1>" in dom
    with pytest.raises(ProcessLookupError):
        os.killpg(first, 0)


def test_without_chromium_browser_is_refused_and_auto_falls_back(
    mock_server: MockServer, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    url = mock_server.url("/articles/alpha.html")
    args = ["--data-dir", str(tmp_path / "d"), "archive", "--no-recover", *FAST]
    refused = morgue(*args, "--browser", url, env={"PATH": str(empty)})
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "morgue: error: --browser needs Chromium, and none is installed "
        "(Debian: apt-get install chromium)"
    ]
    assert not (tmp_path / "d" / "warcs").exists() or not list((tmp_path / "d").rglob("*.gz"))
    auto = morgue(*args, "--browser", "auto", "--format", "json", url, env={"PATH": str(empty)})
    assert auto.returncode == 0, auto.stderr
    assert "no Chromium installed, archiving HTML alone" in auto.stderr
    assert json_lines(auto.stdout)[0]["verdict"] == "ok"
