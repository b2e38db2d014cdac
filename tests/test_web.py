"""``morgue serve`` over HTTP: every route, on SQLite and PostgreSQL, through Starlette's
TestClient (no server, no browser); tests/test_web_browser.py drives a real browser."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

from archive.query.reader import open_archive
from archive.web.app import create_app
from archive.web.replay import create_replay_app
from archive.web.state import WebSettings
from tests.conftest import ROOT, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.mockserver.app import HOSTILE
from tests.webarchive import WebArchive, web_archive_fixture

REPLAY = "http://127.0.0.1:9"  # rendered in the pages only; the replay app is tested on its own
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def module_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def web_archive(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    module_server: MockServer,
) -> Iterator[WebArchive]:
    yield from web_archive_fixture(request, tmp_path_factory, module_server)


@pytest.fixture
def client(web_archive: WebArchive) -> Iterator[TestClient]:
    app = create_app(WebSettings(web_archive.paths, replay_url=REPLAY))
    with TestClient(app) as test_client:
        yield test_client


def _texts(html: str) -> str:
    """The text a browser shows (markup parsed and dropped, entities decoded)."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _tags(html: str, name: str) -> list[str]:
    return re.findall(rf"<{name}\b[^>]*>", html, re.I)


UI_ROUTES = ["/", "/search?q=school", "/dead", "/runs", "/api/docs", "/search"]


@pytest.mark.parametrize("path", UI_ROUTES)
def test_each_page_answers_with_a_content_security_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert f"frame-src {REPLAY}" in policy
    # No inline script anywhere: every <script> has a src on this origin.
    for tag in _tags(response.text, "script"):
        assert re.search(r'src="/static/[\w.-]+"', tag), tag
    assert not re.search(r"\son\w+=", response.text.replace(" one", "")), "an inline handler"


def test_home_counts_verdicts_and_links_recent_captures_to_their_pages(
    client: TestClient, web_archive: WebArchive
) -> None:
    html = client.get("/").text
    alpha = web_archive.capture_ids["/articles/alpha.html"]
    assert f'href="/captures/{alpha}"' in html
    assert re.search(r'href="/pages/\d+"', html)
    text = _texts(html)
    assert re.search(r"ok 4\b", text), text  # four pages fine, one 404
    assert re.search(r"not_found 1\b", text), text
    assert "Archive a URL" not in text  # no token, no write form


def test_search_highlights_and_filters_and_its_url_is_the_query(
    client: TestClient, web_archive: WebArchive
) -> None:
    html = client.get("/search", params={"q": "harbour"}).text
    assert "<mark>harbour</mark>" in html.lower() or "<mark>Harbour</mark>" in html
    hostile = web_archive.capture_ids["/hostile.html"]
    assert f'href="/captures/{hostile}"' in html
    assert f'href="/captures/{web_archive.capture_ids["/articles/alpha.html"]}"' not in html
    gone = client.get("/search", params=[("verdict", "not_found")]).text
    assert f'href="/captures/{web_archive.capture_ids["/status/404"]}"' in gone
    assert f'href="/captures/{hostile}"' not in gone
    # The export links repeat the filters.
    assert "/api/captures?verdict=not_found&amp;format=csv&amp;limit=0" in gone


def test_search_pages_through_results(client: TestClient) -> None:
    first = client.get("/search", params={"per_page": "2"}).text
    second = client.get("/search", params={"per_page": "2", "page": "2"}).text
    ids = [re.findall(r'class="title" href="/captures/(\d+)"', page) for page in (first, second)]
    assert len(ids[0]) == 2 and len(ids[1]) == 2 and not set(ids[0]) & set(ids[1])
    assert 'rel="next" href="/search?page=2&amp;per_page=2"' in first
    assert 'rel="prev"' in second


def test_bad_filters_are_a_400_with_the_cli_message(client: TestClient) -> None:
    response = client.get("/search", params={"verdict": "alive"})
    assert response.status_code == 400
    assert "unknown verdict" in response.text
    api = client.get("/api/captures", params={"since": "yesterday-ish"})
    assert api.status_code == 400 and "invalid time" in api.json()["error"]


def test_api_captures_are_the_objects_of_morgue_query_json(
    client: TestClient, web_archive: WebArchive
) -> None:
    paths = web_archive.paths
    cli = run_morgue("query", "--format", "json", "--data-dir", str(paths.data_dir),
                     "--db", paths.db_url)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    expected = json_lines(cli.stdout)
    assert len(expected) == 5
    assert client.get("/api/captures").json() == expected
    assert client.get("/api/captures", params={"format": "jsonl", "limit": "0"}).text == cli.stdout
    one = client.get("/api/captures", params={"verdict": "not_found"}).json()
    assert [row["capture_id"] for row in one] == [web_archive.capture_ids["/status/404"]]
    cli_csv = run_morgue("query", "--format", "csv", "--data-dir", str(paths.data_dir),
                         "--db", paths.db_url)  # fmt: skip
    web_csv = client.get("/api/captures", params={"format": "csv", "limit": "0"}).text
    assert list(csv.reader(io.StringIO(web_csv))) == list(csv.reader(io.StringIO(cli_csv.stdout)))


def test_api_capture_history_and_stats(client: TestClient, web_archive: WebArchive) -> None:
    paths = web_archive.paths
    alpha_id = web_archive.capture_ids["/articles/alpha.html"]
    one = client.get(f"/api/captures/{alpha_id}").json()
    listed = client.get(
        "/api/captures", params={"url_prefix": web_archive.urls["/articles/alpha.html"]}
    ).json()
    assert {k: one[k] for k in listed[0]} == listed[0]
    assert one["text"] and one["page_state"] == "alive"
    url = web_archive.urls["/articles/alpha.html"]
    cli = run_morgue("history", "--format", "json", "--data-dir", str(paths.data_dir),
                     "--db", paths.db_url, url)  # fmt: skip
    assert client.get("/api/pages/history", params={"url": url}).json() == json_lines(cli.stdout)
    stats = client.get("/api/stats").json()
    assert stats["captures"] == 5 and stats["by_verdict"]["not_found"] == 1
    assert client.get("/api/captures/999999").status_code == 404
    schema = client.get("/api/openapi.json").json()
    assert "/api/captures" in schema["paths"]


def test_hostile_markup_is_shown_as_text(client: TestClient, web_archive: WebArchive) -> None:
    capture_id = web_archive.capture_ids["/hostile.html"]
    for path in (f"/captures/{capture_id}", "/search?q=harbour", "/"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "<b>approves</b>" not in html, path
    html = client.get(f"/captures/{capture_id}").text
    shown = _texts(html)
    assert HOSTILE.title in shown  # the title, markup and all, as text
    assert "Mallory" in shown and "<img" in shown
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html


def test_a_capture_shows_its_verdict_warc_and_replay_frame(
    client: TestClient, web_archive: WebArchive
) -> None:
    capture_id = web_archive.capture_ids["/stub-appended.html"]
    html = client.get(f"/captures/{capture_id}").text
    text = _texts(html)
    assert "Volunteer fire company" in text and "ok" in text and "fetched live" in text
    frames = _tags(html, "iframe")
    assert len(frames) == 1
    assert 'sandbox="allow-scripts"' in frames[0] and "allow-same-origin" not in frames[0]
    assert f'src="{REPLAY}/{capture_id}/"' in frames[0]
    assert "Download the WARC record" in text
    record = client.get(f"/captures/{capture_id}/warc")
    assert record.status_code == 200 and record.content[:2] == b"\x1f\x8b"
    assert "attachment" in record.headers["content-disposition"]
    records = list(ArchiveIterator(io.BytesIO(record.content)))
    assert (
        records[0].rec_headers.get_header("WARC-Target-URI")
        == web_archive.urls["/stub-appended.html"]
    )
    assert client.get("/captures/999999").status_code == 404


def test_a_page_shows_its_timeline_and_state(client: TestClient, web_archive: WebArchive) -> None:
    url = web_archive.urls["/status/404"]
    by_url = client.get("/pages", params={"url": url})
    assert by_url.status_code == 200
    page_id = re.search(
        r'href="/pages/(\d+)"', client.get("/search", params={"verdict": "not_found"}).text
    )
    assert page_id is not None
    by_id = client.get(f"/pages/{page_id.group(1)}").text
    assert _texts(by_id) == _texts(by_url.text)
    assert "not_found" in _texts(by_id) and "http_404" in _texts(by_id)
    assert client.get("/pages", params={"url": "http://127.0.0.1:1/never"}).status_code == 404


def test_dead_links_and_runs(client: TestClient) -> None:
    dead = client.get("/dead").text
    assert "<svg" in dead and "Pages that died each week" in dead
    runs = _texts(client.get("/runs").text)
    assert "archive" in runs and "finished" in runs and "No schedules" in runs


def test_the_replay_origin_serves_the_archived_body_sandboxed(web_archive: WebArchive) -> None:
    capture_id = web_archive.capture_ids["/hostile.html"]
    with open_archive(web_archive.paths.data_dir, web_archive.paths.db_url) as arch:
        body = arch.record(capture_id).content
        with TestClient(create_replay_app(arch, "http://127.0.0.1:8000")) as replay:
            response = replay.get(f"/{capture_id}/")
            missing = replay.get("/999999/")
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts") and "allow-same-origin" not in policy
    assert "frame-ancestors http://127.0.0.1:8000" in policy
    assert missing.status_code == 404


def _csrf(client: TestClient, path: str = "/") -> str:
    html = client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def test_writes_are_off_without_a_token(client: TestClient, web_archive: WebArchive) -> None:
    response = client.post("/jobs", data={"urls": web_archive.urls["/articles/alpha.html"]})
    assert response.status_code == 403 and "writes are off" in response.text
    assert 'action="/jobs"' not in client.get("/").text


class _FakeRun:
    def __init__(self, ids: list[int]) -> None:
        self.run_id = 77
        self.status = "finished"
        self.captures = [type("C", (), {"id": i})() for i in ids]


def test_writes_need_the_token_and_the_csrf_cookie(web_archive: WebArchive) -> None:
    calls: list[list[str]] = []

    def runner(urls: list[str], **kwargs: object) -> _FakeRun:
        calls.append(urls)
        return _FakeRun([web_archive.capture_ids["/articles/alpha.html"]])

    app = create_app(WebSettings(web_archive.paths, token=TOKEN, replay_url=REPLAY), runner=runner)
    url = web_archive.urls["/articles/beta.html"]
    with TestClient(app) as client:
        csrf = _csrf(client)
        form = {"urls": url, "token": TOKEN, "csrf": csrf}
        assert client.post("/jobs", data={**form, "token": "wrong"}).status_code == 403
        assert client.post("/jobs", data={**form, "csrf": "forged"}).status_code == 403
        # Another site's page posting the form: the browser sends no cookie of ours.
        with TestClient(app) as stranger:
            assert stranger.post("/jobs", data=form).status_code == 403
        assert client.post("/jobs", data={**form, "urls": "ftp://x"}).status_code == 400
        assert calls == []
        response = client.post("/jobs", data=form, follow_redirects=False)
        assert response.status_code == 303
        job_path = response.headers["location"]
        app.state.web.jobs.join(30)
        job = client.get(f"/api{job_path}").json()
        assert job["status"] == "finished" and job["run_id"] == 77
        assert calls == [[url]]
        page = client.get(job_path).text
        assert 'src="/static/job.js"' in page


def test_text_diff_marks_changed_lines() -> None:
    from archive.web.textdiff import text_diff

    lines = text_diff("The ferry runs daily.\nPier closed.", "The ferry runs weekly.\nPier closed.")
    kinds = [(line.kind, line.text) for line in lines]
    assert ("del", "The ferry runs daily.") in kinds and ("add", "The ferry runs weekly.") in kinds
    assert text_diff("same", "same") == []


def test_a_page_offers_recheck_only_with_a_token(web_archive: WebArchive) -> None:
    url = web_archive.urls["/articles/alpha.html"]
    for token, shown in ((None, False), (TOKEN, True)):
        app = create_app(WebSettings(web_archive.paths, token=token, replay_url=REPLAY))
        with TestClient(app) as client:
            html = client.get("/pages", params={"url": url}).text
        assert ('name="kind" value="recheck"' in html) is shown
        assert (f'name="urls" value="{url}"' in html) is shown


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_morgue_serve_runs_both_origins_and_stops_them(web_archive: WebArchive) -> None:
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    ui, replay = ports
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    capture_id = web_archive.capture_ids["/articles/alpha.html"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--port", str(ui), "--replay-port",
         str(replay), "--replay", "builtin", "--data-dir", str(web_archive.paths.data_dir),
         "--db", web_archive.paths.db_url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (_answers(f"http://127.0.0.1:{ui}/") and _answers(f"http://127.0.0.1:{replay}/")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "morgue serve did not start"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/captures/{capture_id}") as response:
            html = response.read().decode()
        assert f'src="http://127.0.0.1:{replay}/{capture_id}/"' in html
        assert _answers(f"http://127.0.0.1:{replay}/{capture_id}/")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode in (0, 130), proc.returncode
    assert not _answers(f"http://127.0.0.1:{replay}/")


def test_the_cli_imports_no_web_framework_until_serve_runs() -> None:
    """Every other command starts as fast as before: FastAPI, uvicorn and Jinja2 are imported
    by ``morgue serve`` itself, not by the application that registers it."""
    code = (
        "import sys, archive.cli, archive.cli.application\n"
        "bad = [m for m in ('fastapi', 'starlette', 'uvicorn', 'jinja2', 'archive.web.app')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
