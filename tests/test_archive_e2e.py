"""`morgue archive` end to end against the mock news site: WARC, extraction, verdicts, DB."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.captures.table import CAPTURE_FIELDS
from archive.warc.records import read_record
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.readers import pywb as pywb_script
from tests.readers import reader, reader_env
from tests.verified import assert_archive_verified

pytestmark = pytest.mark.slow

PATHS = [
    "/articles/alpha.html",
    "/gzip/beta.html",
    "/br/river-ferry-timetable.html",
    "/zstd/market-square-repaving.html",
    "/chunked/gamma.html",
    "/query?id=7&utm_source=x",
    "/multi-header.html",
    "/redirect/chain",
    "/redirect/loop",
    "/status/404",
    "/status/410",
    "/status/401",
    "/status/403",
    "/status/429",
    "/status/451",
    "/status/500",
    "/status/503",
    "/hang",
    "/huge",
    "/gzip-bomb",
    "/binary.html",
    "/latin1.html",
    "/wrong-charset.html",
    "/stub-appended.html",
    "/private/secret.html",
    "/private/second.html",
    "/private/third.html",
    "/no-such-page.html",
]


class Archived:
    def __init__(self, server: MockServer, data_dir: Path, rows: list[dict[str, Any]]) -> None:
        self.server = server
        self.data_dir = data_dir
        self.rows = rows
        self.by_path = {row["url"].removeprefix(server.base_url.rstrip("/")): row for row in rows}

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warcs"

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))

    def records(self) -> list[tuple[str, str | None, int | None, bytes]]:
        out = []
        for path in self.warc_files():
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    status = None
                    if rec.rec_type == "response" and rec.http_headers:
                        status = int(rec.http_headers.get_statuscode())
                    out.append(
                        (
                            rec.rec_type,
                            rec.rec_headers.get_header("WARC-Target-URI"),
                            status,
                            rec.content_stream().read() if rec.rec_type == "metadata" else b"",
                        )
                    )
        return out


@pytest.fixture(scope="module")
def archived(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Archived:
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    refused = "http://127.0.0.1:9/closed-port.html"  # discard port: nothing listens there
    urls = [mock_server.url(path) for path in PATHS] + [refused]
    proc = run_morgue(
        "--data-dir", str(data_dir), "archive", "--format", "json", "--timeout", "2", *FAST,
        "--no-recover", *urls,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return Archived(mock_server, data_dir, json_lines(proc.stdout))


def test_one_json_line_per_url_with_exact_contract_fields(archived: Archived) -> None:
    assert len(archived.rows) == len(PATHS) + 1
    for row in archived.rows:
        assert tuple(row) == CAPTURE_FIELDS
        assert row["fetched_at"].endswith(("Z", "+00:00"))


@pytest.mark.parametrize(
    ("path", "verdict", "reason"),
    [
        ("/articles/alpha.html", "ok", "http_200"),
        ("/status/404", "not_found", "http_404"),
        ("/no-such-page.html", "not_found", "http_404"),
        ("/status/410", "not_found", "http_410"),
        ("/status/401", "blocked", "http_401"),
        ("/status/403", "blocked", "http_403"),
        ("/status/429", "blocked", "http_429"),
        ("/status/451", "blocked", "http_451"),
        ("/status/500", "server_error", "http_500"),
        ("/status/503", "server_error", "http_503"),
        ("/hang", "unreachable", "timeout"),
        ("/redirect/loop", "unreachable", "too_many_redirects"),
        ("/huge", "unreachable", "too_large"),
        ("/private/secret.html", "blocked", "robots_txt"),
    ],
)
def test_verdicts(archived: Archived, path: str, verdict: str, reason: str) -> None:
    row = archived.by_path[path]
    assert (row["verdict"], row["reason"]) == (verdict, reason)


def test_robots_txt_is_obeyed_by_concurrent_requests(archived: Archived) -> None:
    private = [path for path in PATHS if path.startswith("/private/")]
    for path in private:
        assert (archived.by_path[path]["verdict"], archived.by_path[path]["reason"]) == (
            "blocked",
            "robots_txt",
        )
    fetched = [r["path"] for r in archived.server.requests() if r["path"].startswith("/private/")]
    assert fetched == []
    sent = [r for r in archived.server.requests() if r["path"] == "/robots.txt"]
    assert sent and sent[0]["headers"]["User-Agent"].startswith("morgue/")


def test_robots_txt_holds_for_requests_waiting_on_it(
    mock_server: MockServer, tmp_path: Path
) -> None:
    # Requests that reach the robots.txt middleware while robots.txt is still on its way.
    paths = ["/private/w1.html", "/articles/alpha.html", "/private/w2.html", "/private/w3.html"]
    proc = run_morgue("--data-dir", str(tmp_path), "archive", "--format", "json", *FAST,
                      *[mock_server.url(p) for p in paths])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    verdicts = [(row["verdict"], row["reason"]) for row in json_lines(proc.stdout)]
    assert (
        verdicts
        == [("blocked", "robots_txt"), ("ok", "http_200")] + [("blocked", "robots_txt")] * 2
    )


def test_connection_refused(archived: Archived) -> None:
    row = archived.rows[-1]
    assert (row["verdict"], row["reason"]) == ("unreachable", "connection_refused")
    assert row["http_status"] is None and row["warc_file"] is None


def test_error_bodies_are_archived(archived: Archived) -> None:
    for path in ("/status/404", "/status/503", "/status/403"):
        row = archived.by_path[path]
        record = read_record(archived.warc_dir, (row["warc_file"], row["warc_offset"]))
        assert record.http_status == row["http_status"]
        assert str(row["http_status"]).encode() in record.content


def test_every_retry_attempt_is_archived(archived: Archived) -> None:
    url = archived.server.url("/status/503")
    attempts = [r for r in archived.records() if r[0] == "response" and r[1] == url]
    assert len(attempts) == 2  # RETRY_TIMES=1: the first try and one retry


def test_offsets_read_back_the_right_records(archived: Archived) -> None:
    checked = 0
    for row in archived.rows:
        if row["warc_file"] is None:
            continue
        record = read_record(archived.warc_dir, (row["warc_file"], row["warc_offset"]))
        assert record.rec_type == "response"
        assert record.target_uri == row["final_url"]
        assert ("WARC-Record-ID", row["warc_record_id"]) in record.warc_headers
        assert ("WARC-Payload-Digest", row["payload_digest"]) in record.warc_headers
        raw = (archived.warc_dir / row["warc_file"]).read_bytes()
        member = raw[row["warc_offset"] : row["warc_offset"] + row["warc_length"]]
        assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize(
    ("path", "coding"),
    [
        ("/gzip/beta.html", "gzip"),
        ("/br/river-ferry-timetable.html", "br"),
        ("/zstd/market-square-repaving.html", "zstd"),
    ],
)
def test_encoded_body_is_stored_as_sent_and_read_back_decoded(
    archived: Archived, path: str, coding: str
) -> None:
    row = archived.by_path[path]
    with urllib.request.urlopen(archived.server.url(path)) as resp:
        wire = resp.read()  # urllib does not decode Content-Encoding
    plain_path = "/articles/" + path.rsplit("/", 1)[1]
    with urllib.request.urlopen(archived.server.url(plain_path)) as resp:
        page = resp.read()  # the same article, not encoded
    assert wire != page
    record = read_record(archived.warc_dir, (row["warc_file"], row["warc_offset"]))
    assert ("Content-Encoding", coding) in record.http_headers
    assert record.payload == wire
    assert record.content == page
    assert row["text_chars"] > 200 and row["title"]


def test_chunked_transfer_encoding_is_renamed(archived: Archived) -> None:
    row = archived.by_path["/chunked/gamma.html"]
    record = read_record(archived.warc_dir, (row["warc_file"], row["warc_offset"]))
    names = [name.lower() for name, _ in record.http_headers]
    assert "transfer-encoding" not in names
    assert "x-crawler-transfer-encoding" in names
    assert record.payload.rstrip().endswith(b"</html>")
    assert row["verdict"] == "ok" and row["text_chars"] > 200


def test_real_status_line_and_every_header_line(archived: Archived) -> None:
    row = archived.by_path["/multi-header.html"]
    raw = (archived.warc_dir / row["warc_file"]).read_bytes()
    member = gzip.decompress(raw[row["warc_offset"] : row["warc_offset"] + row["warc_length"]])
    head, body = member.split(b"\r\n\r\n", 1)[1].split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 200 Fine Thanks"  # the server's own reason phrase
    names = [line.split(":", 1)[0] for line in lines[1:]]
    # As sent: in order, with their case, repeated ones repeated, Content-Length included.
    assert names[names.index("Content-Type") :] == [
        "Content-Type", "Content-Length", "Set-Cookie", "Set-Cookie",
        "X-Multi", "x-MiXeD-case", "X-Multi",
    ]  # fmt: skip
    length = next(int(line.split(":", 1)[1]) for line in lines if line.startswith("Content-Length"))
    assert length == len(body.removesuffix(b"\r\n\r\n"))


def test_request_record_has_query_string_and_user_agent(archived: Archived) -> None:
    url = archived.server.url("/query?id=7&utm_source=x")
    for path in archived.warc_files():
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if (
                    rec.rec_type == "request"
                    and rec.rec_headers.get_header("WARC-Target-URI") == url
                ):
                    line = rec.http_headers.protocol + " " + rec.http_headers.statusline
                    assert line == "GET /query?id=7&utm_source=x HTTP/1.1"
                    assert rec.http_headers.get_header("User-Agent").startswith("morgue/")
                    return
    pytest.fail("no request record for the query URL")


def test_redirect_hops_are_archived(archived: Archived) -> None:
    row = archived.by_path["/redirect/chain"]
    assert row["final_url"] == archived.server.url("/articles/gamma.html")
    assert row["verdict"] == "ok" and row["http_status"] == 200
    statuses = [
        status for kind, uri, status, _ in archived.records()
        if kind == "response" and uri and "/redirect/chain" in uri
    ]  # fmt: skip
    assert statuses and all(300 <= s < 400 for s in statuses)
    shown = run_morgue(
        "--data-dir", str(archived.data_dir), "show", "--json", str(row["capture_id"])
    )
    details = json.loads(shown.stdout)
    assert [hop["status"] for hop in details["redirects"]] == [301, 302]
    for hop in details["redirects"]:
        rec = read_record(archived.warc_dir, (hop["warc_file"], hop["warc_offset"]))
        assert rec.http_status == hop["status"]


def test_gzip_bomb_is_archived_and_recorded_not_expanded(archived: Archived) -> None:
    row = archived.by_path["/gzip-bomb"]
    # Not "ok" with no text: no usable page came back, though its bytes are archived.
    assert (row["verdict"], row["reason"]) == ("unreachable", "too_large")
    assert row["http_status"] == 200 and row["warc_file"]
    shown = run_morgue(
        "--data-dir", str(archived.data_dir), "show", "--json", str(row["capture_id"])
    )
    assert "DOWNLOAD_MAXSIZE" in (json.loads(shown.stdout)["error"] or "")
    record = read_record(archived.warc_dir, (row["warc_file"], row["warc_offset"]))
    assert len(record.payload) < 5 * 1024 * 1024  # the compressed bytes, as sent


def test_binary_page_does_not_stop_the_crawl(archived: Archived) -> None:
    row = archived.by_path["/binary.html"]
    assert row["verdict"] == "ok" and row["warc_file"]


def test_charsets(archived: Archived) -> None:
    latin1 = run_morgue("--data-dir", str(archived.data_dir), "show", "--text",
                        str(archived.by_path["/latin1.html"]["capture_id"]))  # fmt: skip
    wrong = run_morgue("--data-dir", str(archived.data_dir), "show", "--text",
                       str(archived.by_path["/wrong-charset.html"]["capture_id"]))  # fmt: skip
    for text in (latin1.stdout, wrong.stdout):
        assert "Ã" not in text  # no mojibake
        assert any(ch in text for ch in "éèàüöçñ")


def test_appended_stub_is_not_in_the_article(archived: Archived) -> None:
    row = archived.by_path["/stub-appended.html"]
    assert row["verdict"] == "ok"
    text = run_morgue(
        "--data-dir", str(archived.data_dir), "show", "--text", str(row["capture_id"])
    ).stdout
    assert len(text) > 500
    assert "not available" not in text.lower()
    assert "no longer exists" not in text.lower()


def test_metadata_records_carry_verdict_and_extraction(archived: Archived) -> None:
    metas = [json.loads(body) for kind, _, _, body in archived.records() if kind == "metadata"]
    assert len(metas) == len(archived.rows)
    alpha = next(m for m in metas if m["url"].endswith("/articles/alpha.html"))
    assert alpha["verdict"] == "ok" and alpha["extraction"]["text"]
    assert alpha["extraction"]["title"] == archived.by_path["/articles/alpha.html"]["title"]
    # The news metadata of issue 7 travels in the WARC record as in the DB row.
    authors = archived.by_path["/articles/alpha.html"]["authors"]
    assert authors and alpha["extraction"]["authors"] == authors
    assert alpha["extraction"]["field_sources"]["published"] == "opengraph"


def test_independent_readers_accept_the_warcs(archived: Archived) -> None:
    files = archived.warc_files()
    assert files and not list(archived.warc_dir.glob("*.open"))
    for path in files:
        subprocess.run(["gzip", "-t", str(path)], check=True)
        check = subprocess.run([reader("warcio"), "check", "-v", str(path)],
                               capture_output=True, text=True, env=reader_env())  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        assert "digest fail" not in check.stdout
    index = subprocess.run(
        [reader("cdxj-indexer"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        env=reader_env(),
    )
    lines = [line for line in index.stdout.splitlines() if line.strip()]
    alpha = archived.by_path["/articles/alpha.html"]
    hit = [json.loads(line.split(" ", 2)[2]) for line in lines if "articles/alpha.html" in line]
    assert any(
        entry.get("offset") == str(alpha["warc_offset"])
        and entry.get("length") == str(alpha["warc_length"])
        for entry in hit
    ), hit


def test_pywb_replays_the_archived_body(archived: Archived, tmp_path: Path) -> None:
    subprocess.run([pywb_script("wb-manager"), "init", "morgue"], cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    for path in archived.warc_files():
        shutil.copy(path, tmp_path / "collections" / "morgue" / "archive" / path.name)
    subprocess.run([pywb_script("wb-manager"), "reindex", "morgue"], cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    from tests.pywb_server import PywbServer

    url = archived.server.url("/articles/alpha.html")
    with urllib.request.urlopen(archived.server.url("/articles/alpha.html")) as resp:
        original = resp.read()
    with PywbServer(tmp_path) as pywb:
        replayed = pywb.fetch_raw("morgue", url)
    assert replayed == original


def test_morgue_verify_finds_the_archive_sound(archived: Archived) -> None:
    """Redirects, retries, error bodies, a gzip bomb, a binary page: nothing verify objects to."""
    assert_archive_verified(archived.data_dir)
