"""The public Python API (archive.api), used as a notebook would: no CLI anywhere.

The first-session example of docs/api.md runs here as written (its site pointed at the mock
news site), so the documentation cannot drift from what the API does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import archive
from archive.db.engine import open_database
from archive.paths import DataPaths
from archive.runs.crawling import request_json
from archive.runs.schedule_runner import run_due
from archive.runs.schedules import add_schedule, schedules_without_request
from tests.conftest import run_morgue
from tests.mockserver import MockServer

ROOT = Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"


def _first_session() -> str:
    text = API_DOC.read_text(encoding="utf-8")
    start = text.index("## A first session")
    block = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert block is not None
    return block.group(1)


def test_the_api_imports_neither_typer_nor_rich() -> None:
    code = (
        "import sys, archive\n"
        "from archive import archive_urls, crawl, open_archive\n"
        "import archive.api\n"
        "faces = ('typer', 'rich', 'scrapy', 'archive.cli', 'redis')\n"
        "bad = [m for m in faces if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_first_session_of_the_api_docs_runs(tmp_path: Path, mock_server: MockServer) -> None:
    code = _first_session()
    site = mock_server.url("/news/2026/11")
    code = code.replace('"https://news.example.org/news/2026/11"', repr(site), 1)
    assert repr(site) in code, "the example no longer sets `site` on its first lines"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith(" finished")
    assert len([line for line in lines[1:3] if " ok " in line]) == 2
    assert "bytes" in lines[3] and ".warc.gz" in lines[3]
    assert "<" in lines[4]  # the archived HTML
    assert lines[-1] == "['ok']"
    assert (tmp_path / "newsroom-archive" / "morgue.sqlite3").is_file()


def test_archive_urls_calls_back_with_typed_events_and_returns_typed_captures(
    tmp_path: Path, mock_server: MockServer
) -> None:
    urls = [
        mock_server.url("/news/2026/11/ferry-returns.html"),
        mock_server.url("/news/2026/11/no-such-story.html"),
    ]
    seen: list[archive.CrawlEvent] = []
    run = archive.archive_urls(
        urls, data_dir=tmp_path, settings={"MEMENTO_ENABLED": False}, on_event=seen.append
    )
    assert isinstance(run, archive.ArchiveRun) and run.status == "finished"
    assert [c.url for c in run.captures] == urls
    assert [c.verdict for c in run.captures] == ["ok", "not_found"]
    captured = [e for e in seen if e.kind == "capture"]
    assert sorted(e.url or "" for e in captured) == sorted(urls)
    assert {e.verdict for e in captured} == {"ok", "not_found"}
    assert [row["url"] for row in run.rows()] == urls


def test_bad_input_raises_before_anything_is_done(tmp_path: Path) -> None:
    with pytest.raises(archive.InvalidInput):
        archive.archive_urls(["ftp://example.org/x"], data_dir=tmp_path)
    with pytest.raises(archive.InvalidInput):
        archive.crawl(data_dir=tmp_path)  # no sources
    with pytest.raises(archive.InvalidInput):
        archive.open_archive(tmp_path / "nothing-here")
    assert not (tmp_path / "morgue.sqlite3").exists()


def test_crawl_returns_its_summary(tmp_path: Path, mock_server: MockServer) -> None:
    summary = archive.crawl(
        feeds=[mock_server.url("/news/feed.xml")],
        data_dir=tmp_path,
        settings={"MEMENTO_ENABLED": False, "DOWNLOAD_DELAY": 0},
    )
    assert isinstance(summary, archive.CrawlSummary)
    assert summary.status == "finished" and summary.pages == 5
    assert summary.sources and all(source.ok for source in summary.sources)
    with archive.open_archive(tmp_path) as arch:
        assert len(list(arch.query())) == summary.pages + summary.recovered


def test_the_scheduler_runs_the_library_crawl_from_the_kept_request(
    tmp_path: Path, mock_server: MockServer
) -> None:
    paths = DataPaths(tmp_path, f"sqlite:///{tmp_path / 'morgue.sqlite3'}")
    spec = archive.CrawlSpec(feeds=[mock_server.url("/news/feed.xml")])
    with open_database(paths.db_url) as db:
        add_schedule(
            db,
            "wire",
            ["--feed", mock_server.url("/news/feed.xml")],
            every_s=3600,
            crawl_request=request_json(spec, {"MEMENTO_ENABLED": False}),
        )
        outcomes = run_due(db, paths.data_dir)
    assert [(o.name, o.status, o.returncode) for o in outcomes] == [("wire", "finished", 0)]
    assert outcomes[0].stats["pages"] == 5


def test_a_schedule_stored_before_requests_were_kept_gets_one_from_the_cli(
    tmp_path: Path, mock_server: MockServer
) -> None:
    db_url = f"sqlite:///{tmp_path / 'morgue.sqlite3'}"
    args = ["--feed", mock_server.url("/news/feed.xml"), "--no-recover"]
    with open_database(db_url) as db:
        add_schedule(db, "old", args, every_s=3600)  # as a schedule of an older morgue
        assert schedules_without_request(db) == [("old", args)]
    proc = run_morgue("--data-dir", str(tmp_path), "schedule", "run-due", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    with open_database(db_url) as db:
        assert schedules_without_request(db) == []
    assert '"status": "finished"' in proc.stdout and '"pages": 5' in proc.stdout
