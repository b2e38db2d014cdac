"""A fault is loud: a WARC or database write that fails stops the run with one line on stderr,
exit status 1 and the run ``failed``; every WARC file ends with a whole record and every
capture row reads back. Real file systems (a full tmpfs, a read-only one) and real-size pages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db.engine import open_database
from archive.db.models import Capture, Run
from archive.warc.records import OPEN_SUFFIX, read_record
from tests.conftest import FAST, run_morgue
from tests.corpus import CorpusSite
from tests.fullfs import read_only, tmpfs
from tests.readers import reader, reader_env

pytestmark = pytest.mark.slow


def error_lines(stderr: str) -> list[str]:
    """What stderr holds besides the per-page progress lines ("verdict<TAB>status<TAB>url")."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line and line.count("\t") != 2]


def assert_whole(warc_dir: Path) -> None:
    assert list(warc_dir.glob("*" + OPEN_SUFFIX)) == []
    for path in warc_dir.glob("*.warc.gz"):
        gz = subprocess.run(["gzip", "-t", str(path)], capture_output=True, text=True)
        assert gz.returncode == 0, gz.stderr
        check = subprocess.run(
            [reader("warcio"), "check", str(path)],
            capture_output=True,
            text=True,
            env=reader_env(),
        )
        assert check.returncode == 0, check.stdout + check.stderr


def stored(db_url: str, warc_dir: Path) -> tuple[list[Run], list[Capture]]:
    """The runs and captures; every capture's records read back at the offsets it names."""
    with open_database(db_url) as db, db.session(readonly=True) as session:
        runs = list(session.scalars(select(Run).order_by(Run.id)))
        captures = list(session.scalars(select(Capture)))
    for capture in captures:
        assert capture.warc_file and capture.warc_offset is not None
        record = read_record(warc_dir, (capture.warc_file, capture.warc_offset))
        assert record.rec_type == "response" and record.target_uri == capture.url
        if capture.metadata_warc_file:
            assert capture.metadata_warc_offset is not None
            meta = read_record(warc_dir, (capture.metadata_warc_file, capture.metadata_warc_offset))
            assert meta.rec_type == "metadata"
    return runs, captures


@pytest.mark.parametrize("command", ["crawl", "archive"])
def test_a_read_only_warc_directory_fails_at_once_with_one_line(
    tmp_path: Path, command: str
) -> None:
    with CorpusSite(5) as site, read_only(tmp_path / "warcs") as warc_dir:
        if command == "crawl":
            args = ["crawl", "--feed", site.url("/feed.xml")]
        else:
            # The corpus pages' images are on their publishers' hosts: not fetched from a test.
            args = ["archive", "--no-requisites", *site.article_urls]
        proc = run_morgue("--data-dir", str(tmp_path), *args, "--format", "json", *FAST)
        requested = site.article_requests()
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert error_lines(proc.stderr) == [
        f"morgue: error: cannot write WARC files in {warc_dir}: "
        # read_only() mounts a read-only tmpfs as root, else takes the write permission away
        + ("Read-only file system" if os.geteuid() == 0 else "Permission denied")
    ]
    assert requested == []  # nothing fetched that could not be kept


# Where the small tmpfs goes: the whole data dir (WARCs, SQLite DB and logs), the WARCs only
# (DB elsewhere), or the DB only (its writes fail first).
LAYOUTS = ["data_dir", "warcs", "db"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_full_disk_stops_the_crawl_loudly_and_keeps_only_whole_records(
    tmp_path: Path, layout: str
) -> None:
    n = 80  # about 53 KB of WARC a page: far more than the tmpfs holds
    data_dir = tmp_path / "data"
    mount = {"data_dir": data_dir, "warcs": data_dir / "warcs", "db": tmp_path / "db"}[layout]
    db_path = (tmp_path / "db" if layout == "db" else data_dir) / "morgue.sqlite3"
    db_url = f"sqlite:///{db_path}"
    # Extracted texts are what fill a database; WARC records fill as fast without extraction.
    extract = [] if layout == "db" else ["--extract", "later"]
    with CorpusSite(n) as site, tmpfs(mount, "2m" if layout == "data_dir" else "1m"):
        proc = run_morgue(
            "--data-dir", str(data_dir), "--db", db_url,
            "crawl", "--feed", site.url("/feed.xml"), "--no-recover", "--format", "json",
            *extract, *FAST,
        )  # fmt: skip
        fetched = len(site.article_requests())
        (line,) = error_lines(proc.stderr)
        assert proc.returncode == 1, proc.stderr
        runs, captures = stored(db_url, data_dir / "warcs")
        assert_whole(data_dir / "warcs")
    assert proc.stdout == ""
    warc_full = line.startswith(f"morgue: error: cannot write to WARC file {data_dir}/warcs/")
    db_full = line.startswith(f"morgue: error: cannot store captures in {db_url}: ")
    if warc_full:
        assert "No space left on device" in line
    else:
        assert db_full and "database or disk is full" in line
    # With the whole data dir on the tmpfs, either may fill it first.
    assert {"warcs": warc_full, "db": db_full}.get(layout, True)
    (run,) = runs
    recorded = f"(run 1 failed after {len(captures)} pages)"
    if layout != "warcs" and not line.endswith(recorded):
        # The database is on the full disk: the update that marks the run failed may not fit
        # either. The line says so; the next crawl marks the run interrupted (its process is
        # gone).
        assert line.endswith("and run 1 could not be recorded: database error: "
                             "database or disk is full")  # fmt: skip
        assert run.status == "running"
    else:
        assert line.endswith(recorded)
        assert run.status == "failed"
        assert run.stats and run.stats["crawl/error"] in line
    # It stopped: the rest of the feed was never fetched, and nothing it lost was stored.
    assert len(captures) < fetched < n
    urls = [c.url for c in captures]
    assert len(set(urls)) == len(urls)


def test_archive_on_a_full_disk_says_how_many_urls_it_kept(tmp_path: Path) -> None:
    n = 40
    with CorpusSite(n) as site, tmpfs(tmp_path / "warcs", "1m"):
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(site.article_urls))
        proc = run_morgue(
            "--data-dir", str(tmp_path), "archive", "-i", str(urls), "--no-recover",
            "--no-requisites",  # the corpus pages' images are on their publishers' hosts
            "--extract", "later", "--format", "json", *FAST,
        )  # fmt: skip
        runs, captures = stored(f"sqlite:///{tmp_path / 'morgue.sqlite3'}", tmp_path / "warcs")
        assert_whole(tmp_path / "warcs")
    assert proc.returncode == 1
    (line,) = error_lines(proc.stderr)
    assert "No space left on device" in line
    assert line.endswith(f"(run 1 failed: {len(captures)} of {n} URLs archived)")
    assert [run.status for run in runs] == ["failed"]
    assert 0 < len(captures) < n
