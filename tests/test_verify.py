"""``morgue verify [--repair]`` on real archives of corpus pages, whole and damaged."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.captures.record import CaptureRecord
from archive.captures.table import finish_run, save_capture, start_run
from archive.db.engine import open_database
from archive.db.models import Capture
from archive.sources.registry import SourceEntry, record_discoveries, register_source
from archive.warc.records import OPEN_SUFFIX, RecordLocation, WarcWriter
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusSite, corpus_pages
from tests.readers import reader, reader_env
from tests.warcfixtures import cut_inside, flip_inside

PAGES = 6


def _verify(data_dir: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    proc = run_morgue("--data-dir", str(data_dir), "verify", "--format", "json", *extra)
    return proc.returncode, json_lines(proc.stdout), proc.stderr


def _db(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'morgue.sqlite3'}"


def _captures(data_dir: Path) -> dict[int, Capture]:
    with open_database(_db(data_dir)) as db, db.session(readonly=True) as session:
        return {c.id: c for c in session.scalars(select(Capture))}


def _valid(path: Path) -> bool:
    gz = subprocess.run(["gzip", "-t", str(path)], capture_output=True)
    check = subprocess.run([reader("warcio"), "check", str(path)], capture_output=True,
                           env=reader_env())  # fmt: skip
    return gz.returncode == 0 and check.returncode == 0


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict]]]:
    data_dir = tmp_path_factory.mktemp("verify") / "data"
    with CorpusSite(PAGES) as site:
        proc = run_morgue(
            "--data-dir",
            str(data_dir),
            "archive",
            "--format",
            "json",
            "--no-requisites",  # the corpus pages' images are on their publishers' hosts
            *FAST,
            *site.article_urls,
            timeout=600,  # the machine may be shared
        )
    assert proc.returncode == 0, proc.stderr
    yield data_dir, json_lines(proc.stdout)


@pytest.fixture
def archive(pristine: tuple[Path, list[dict]], tmp_path: Path) -> tuple[Path, list[dict]]:
    data_dir = tmp_path / "data"
    shutil.copytree(pristine[0], data_dir)
    return data_dir, pristine[1]


def test_a_sound_archive_verifies(archive: tuple[Path, list[dict]]) -> None:
    data_dir, rows = archive
    status, findings, err = _verify(data_dir)
    assert (status, findings) == (0, []), err
    assert f"{len(rows)} capture(s)" in err and "no damage" in err


def test_a_file_cut_mid_record_is_found_and_repaired(archive: tuple[Path, list[dict]]) -> None:
    data_dir, rows = archive
    victim = rows[3]
    path = data_dir / "warcs" / str(victim["warc_file"])
    offset, length = int(victim["warc_offset"]), int(victim["warc_length"])
    before = _captures(data_dir)
    cut_inside(path, _loc(victim))  # what a full disk left before issue 11
    lost = {int(r["capture_id"]) for r in rows if int(r["warc_offset"]) >= offset}
    status, findings, err = _verify(data_dir)
    assert status == 1
    assert "cut_short" in {f["problem"] for f in findings}
    # Each capture whose page was cut off is named (and others whose metadata record was).
    responses = {
        f["capture_id"] for f in findings if f["capture_id"] and "response record" in f["detail"]
    }
    assert responses == lost
    assert any(f["file"] == path.name and f["offset"] == offset for f in findings)

    status, findings, err = _verify(data_dir, "--repair")
    assert status == 0, findings
    assert all(f["repaired"] for f in findings)
    assert path.stat().st_size == offset and _valid(path)
    after = _captures(data_dir)
    assert set(after) == set(before)  # no row deleted
    for cid, capture in after.items():
        assert capture.text == before[cid].text  # no text lost
        assert (capture.record_error is not None) == (cid in lost)
    # Repaired: nothing more to find; what is lost is known and said so.
    status, findings, err = _verify(data_dir)
    assert (status, findings) == (0, []) and f"{len(lost)} capture(s) already marked" in err
    shown = run_morgue("--data-dir", str(data_dir), "show", "--html", str(victim["capture_id"]))
    assert shown.returncode == 1 and "morgue: error:" in shown.stderr
    details = run_morgue("--data-dir", str(data_dir), "show", "--json", str(victim["capture_id"]))
    assert json_lines(details.stdout)[0]["record_error"]
    assert length  # (the record's own length is what the cut fell inside)


def test_flipped_bytes_mark_the_row_and_stay_reported(archive: tuple[Path, list[dict]]) -> None:
    data_dir, rows = archive
    victim = rows[2]
    path = data_dir / "warcs" / str(victim["warc_file"])
    size = path.stat().st_size
    flip_inside(path, _loc(victim))
    status, findings, _ = _verify(data_dir)
    assert status == 1
    assert {(f["problem"], f["capture_id"]) for f in findings} == {
        ("corrupt", None),
        ("record_unreadable", victim["capture_id"]),
    }
    status, findings, _ = _verify(data_dir, "--repair")
    assert status == 1  # bytes in the middle of a file are not thrown away
    assert path.stat().st_size == size
    marked = {c.id for c in _captures(data_dir).values() if c.record_error}
    assert marked == {victim["capture_id"]}
    status, findings, _ = _verify(data_dir)
    assert status == 1 and [f["problem"] for f in findings] == ["corrupt"]


def _loc(row: dict[str, object]) -> RecordLocation:
    return RecordLocation(
        str(row["warc_file"]),
        int(str(row["warc_offset"])),
        int(str(row["warc_length"])),
        str(row["warc_record_id"]),
        None,
    )


def test_a_killed_run_is_found_and_repaired(tmp_path: Path) -> None:
    """A file a dead crawl left open, with pages written and not stored: verify names them,
    --repair closes the file and indexes them, and a second pass finds nothing."""
    data_dir = tmp_path / "data"
    warc_dir = data_dir / "warcs"
    pages = corpus_pages(limit=3)
    base = "http://127.0.0.1:9/news"
    with open_database(_db(data_dir)) as db:
        run_id = start_run(db, "crawl", {"pid": 2**22 + 99, "host": socket.gethostname(),
                                         "sites": []})  # fmt: skip
        source = register_source(db, "feed", f"{base}/feed.xml")
        urls = [f"{base}/story-{i}.html" for i in range(3)]
        record_discoveries(db, source, [SourceEntry(url=u) for u in urls], run_id)
        writer = WarcWriter(warc_dir, prefix="t", info={"isPartOf": f"morgue-run-{run_id}"})
        for url, page in zip(urls, pages, strict=True):
            writer.write_exchange(url, method="GET", request_headers=[], request_body=b"",
                                  status=200, response_headers=[("Content-Type", "text/html")],
                                  body=page.html)  # fmt: skip
        name = writer.current_file
        assert name is not None and writer._file is not None
        writer._file.close()
    status, findings, _ = _verify(data_dir)
    assert status == 1
    problems = sorted(str(f["problem"]) for f in findings)
    assert problems == ["left_open", "run_not_closed", "unstored", "unstored", "unstored"]
    status, findings, err = _verify(data_dir, "--repair")
    assert status == 0, (findings, err)
    assert not (warc_dir / (name + OPEN_SUFFIX)).exists() and _valid(warc_dir / name)
    captures = _captures(data_dir)
    assert sorted(c.url for c in captures.values()) == urls
    assert all(c.run_id == run_id and c.text_chars > 500 for c in captures.values())
    assert _verify(data_dir)[:2] == (0, [])


def test_revisits_of_records_without_rows_get_their_original_indexed(tmp_path: Path) -> None:
    """What earlier versions left after a crash (issue 11, case 4): revisits of records the
    dead run wrote and never stored. --repair indexes the originals; show and export work."""
    data_dir = tmp_path / "data"
    warc_dir = data_dir / "warcs"
    page = corpus_pages(limit=1)[0]
    url = "http://127.0.0.1:9/news/story.html"
    with open_database(_db(data_dir)) as db:
        run_id = start_run(db, "crawl", {})
        writer = WarcWriter(warc_dir, prefix="t")
        original, _ = writer.write_exchange(
            url, method="GET", request_headers=[], request_body=b"", status=200,
            response_headers=[("Content-Type", "text/html")], body=page.html,
        )  # fmt: skip
        revisit, _ = writer.write_revisit(
            url, method="GET", request_headers=[], request_body=b"", status=200,
            response_headers=[("Content-Type", "text/html")], refers_to_uri=url,
            refers_to_date=writer.warc_date(), refers_to_id=original.record_id,
            digest=original.payload_digest or "",
        )  # fmt: skip
        writer.close()
        revisit_id = save_capture(db, CaptureRecord(
            url=url, fetched_at=writer.now(), verdict="ok", reason="http_200", http_status=200,
            content_type="text/html", response=revisit, run_id=run_id,
        ))  # fmt: skip
        finish_run(db, run_id, "finished", {})
    shown = run_morgue("--data-dir", str(data_dir), "show", "--html", str(revisit_id))
    assert shown.returncode == 1  # the original has no row: not readable as a page
    status, findings, _ = _verify(data_dir)
    assert status == 1 and [f["problem"] for f in findings] == ["revisit_original_missing"]
    assert findings[0]["capture_id"] == revisit_id
    status, findings, _ = _verify(data_dir, "--repair")
    assert status == 0 and findings[0]["repaired"] == "original indexed as a capture"
    shown = run_morgue("--data-dir", str(data_dir), "show", "--html", str(revisit_id))
    assert shown.returncode == 0 and "<html" in shown.stdout.lower()
    wacz = tmp_path / "out.wacz"
    exported = run_morgue("--data-dir", str(data_dir), "export", "--wacz", str(wacz),
                          "--url-prefix", url)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(wacz) as package:
        (name,) = [n for n in package.namelist() if n.endswith(".warc.gz")]
        ids = {r.rec_headers.get_header("WARC-Record-ID")
               for r in ArchiveIterator(io.BytesIO(package.read(name)))}  # fmt: skip
    assert {original.record_id, revisit.record_id} <= ids  # the revisit replays
    assert _verify(data_dir)[:2] == (0, [])
