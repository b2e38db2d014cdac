"""Scanning WARC files member by member: real-size pages, cut and damaged files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc.scan import Damage, ScannedRecord, complete_length, scan
from tests.readers import reader, reader_env
from tests.warcfixtures import cut_inside, flip_inside, recompress_altered, write_corpus_warc


def _items(path: Path) -> list[ScannedRecord | Damage]:
    return list(scan(path))


def test_records_and_offsets_agree_with_warcio(tmp_path: Path) -> None:
    path, responses = write_corpus_warc(tmp_path, 6)
    items = _items(path)
    assert all(isinstance(i, ScannedRecord) and not i.problems for i in items)
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        expected = []
        for record in it:
            record.raw_stream.read()
            expected.append((record.rec_type, it.get_record_offset(), it.get_record_length()))
    records = [i for i in items if isinstance(i, ScannedRecord)]
    assert [(r.rec_type, r.offset, r.length) for r in records] == expected
    assert [r.offset for r in records if r.rec_type == "response"] == [
        loc.offset for loc in responses
    ]
    first = records[1]
    assert first.http_status == 200 and first.http_header("content-type") is not None
    assert first.record_id == responses[0].record_id


@pytest.mark.timeout(30)
def test_open_file_of_real_pages_cut_mid_record(tmp_path: Path) -> None:
    """Records that inflate to more than 64 KiB, the last one cut: the scan ends, at once.

    complete_length used to loop for ever here (issue 11, case 1)."""
    path, responses = write_corpus_warc(tmp_path, 8, close=False)
    assert path.name.endswith(".open")
    last = responses[-1]
    cut_inside(path, last)
    assert complete_length(path) == last.offset
    *records, damage = _items(path)
    assert isinstance(damage, Damage) and damage.kind == "cut"
    assert damage.offset == last.offset and damage.end == path.stat().st_size
    assert all(isinstance(r, ScannedRecord) and not r.problems for r in records)
    # From a known record on, only the rest of the file is read.
    assert complete_length(path, start=responses[-2].offset) == last.offset


def test_flipped_bytes_cost_one_record_only(tmp_path: Path) -> None:
    path, responses = write_corpus_warc(tmp_path, 5)
    size = path.stat().st_size
    flip_inside(path, responses[2])
    items = _items(path)
    damage = [i for i in items if isinstance(i, Damage)]
    assert len(damage) == 1 and damage[0].kind == "corrupt"
    assert damage[0].offset == responses[2].offset
    assert damage[0].end == responses[2].offset + responses[2].length  # the request follows
    later = [i.offset for i in items if isinstance(i, ScannedRecord) and i.offset > damage[0].end]
    assert responses[3].offset in later and responses[4].offset in later
    assert complete_length(path) == size  # nothing to cut: the file ends with whole records
    proc = subprocess.run(["gzip", "-t", str(path)], capture_output=True)
    assert proc.returncode != 0  # what the scan reports, gzip sees too


def test_digest_mismatch_in_a_sound_member(tmp_path: Path) -> None:
    path, responses = write_corpus_warc(tmp_path, 3)
    recompress_altered(path, responses[1], b"<html", b"<HTML")
    records = [i for i in _items(path) if isinstance(i, ScannedRecord)]
    bad = [r for r in records if r.problems]
    assert len(bad) == 1 and bad[0].offset == responses[1].offset
    assert "block digest does not match" in bad[0].problems[0]
    assert any("payload digest" in p for p in bad[0].problems)
    proc = subprocess.run(
        [reader("warcio"), "check", str(path)], capture_output=True, text=True, env=reader_env()
    )
    assert proc.returncode != 0  # warcio agrees


def test_garbage_after_the_last_record_is_damage(tmp_path: Path) -> None:
    path, _ = write_corpus_warc(tmp_path, 2)
    size = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(b"\0" * 5000)  # what a file system can leave after a crash
    *_, damage = _items(path)
    assert isinstance(damage, Damage) and damage.kind == "not_gzip"
    assert (damage.offset, damage.end) == (size, size + 5000)
    assert complete_length(path) == size
