"""A WARC file cut mid-record or with bytes flipped inside a record: no command destroys text it
cannot re-read, and none is silent about what it could not read (issue 11, case 5)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db.engine import open_database
from archive.db.models import Capture
from archive.warc.records import RecordLocation
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusSite
from tests.warcfixtures import cut_inside, flip_inside

PAGES = 8
DAMAGED = 5  # the capture (in WARC order) whose response record is damaged


@dataclass(frozen=True, slots=True)
class Archive:
    data_dir: Path
    rows: list[dict[str, object]]  # one per URL, in the order of their records in the WARC

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'morgue.sqlite3'}"

    def record(self, index: int) -> RecordLocation:
        row = self.rows[index]
        return RecordLocation(
            str(row["warc_file"]),
            int(str(row["warc_offset"])),
            int(str(row["warc_length"])),
            str(row["warc_record_id"]),
            None,
        )

    def captures(self) -> dict[int, Capture]:
        with open_database(self.db_url) as db, db.session(readonly=True) as session:
            return {c.id: c for c in session.scalars(select(Capture))}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    data_dir = tmp_path_factory.mktemp("damaged") / "data"
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
    # Records are written as responses arrive, not in URL order: in file order, a cut inside
    # record DAMAGED leaves the records before it readable.
    rows = sorted(json_lines(proc.stdout), key=lambda r: int(str(r["warc_offset"])))
    assert len(rows) == PAGES and all(r["text_chars"] for r in rows)
    assert len({r["warc_file"] for r in rows}) == 1
    yield Archive(data_dir, rows)


@pytest.fixture(params=["cut", "flipped"])
def damaged(request: pytest.FixtureRequest, pristine: Archive, tmp_path: Path) -> Archive:
    """A copy of the archive whose WARC file is cut inside capture DAMAGED's response record
    (losing every record after it), or has bytes flipped inside that record only."""
    data_dir = tmp_path / "data"
    shutil.copytree(pristine.data_dir, data_dir)
    archive = Archive(data_dir, pristine.rows)
    record = archive.record(DAMAGED)
    path = data_dir / "warcs" / record.file
    (cut_inside if request.param == "cut" else flip_inside)(path, record)
    return archive


def _unreadable(archive: Archive) -> list[int]:
    """Indexes (in WARC order) of the captures whose record the damage took."""
    hit = archive.record(DAMAGED)
    size = (archive.data_dir / "warcs" / hit.file).stat().st_size
    if size < hit.offset + hit.length:  # cut: every record from there on is gone
        return [i for i in range(PAGES) if archive.record(i).offset >= hit.offset]
    return [DAMAGED]


def test_extract_all_keeps_the_text_of_records_it_cannot_read(damaged: Archive) -> None:
    before = damaged.captures()
    lost = _unreadable(damaged)
    proc = run_morgue("--data-dir", str(damaged.data_dir), "extract", "--all", "--workers", "2")
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("morgue: error: ") and f"{len(lost)} capture" in line
    after = damaged.captures()
    for i, row in enumerate(damaged.rows):
        old, new = before[int(str(row["capture_id"]))], after[int(str(row["capture_id"]))]
        assert new.text and new.text_chars == old.text_chars
        if i in lost:
            assert (new.text, new.title, new.verdict) == (old.text, old.title, old.verdict)
            where = f"{row['warc_file']}:{row['warc_offset']}"
            assert new.extract_error is not None and where in new.extract_error
        else:
            assert new.extract_error is None
    # The text is still found.
    word = str(damaged.rows[DAMAGED]["title"]).split()[0]
    found = run_morgue("--data-dir", str(damaged.data_dir), "query", "--search", word,
                       "--format", "json")  # fmt: skip
    ids = {r["capture_id"] for r in json_lines(found.stdout)}
    assert damaged.rows[DAMAGED]["capture_id"] in ids


def test_show_html_of_an_unreadable_record_fails_in_one_line(damaged: Archive) -> None:
    capture_id = str(damaged.rows[DAMAGED]["capture_id"])
    proc = run_morgue("--data-dir", str(damaged.data_dir), "show", "--html", capture_id)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    record = damaged.record(DAMAGED)
    assert line.startswith("morgue: error: ") and f"{record.file}:{record.offset}" in line
    fine = run_morgue("--data-dir", str(damaged.data_dir), "show", "--html",
                      str(damaged.rows[0]["capture_id"]))  # fmt: skip
    assert fine.returncode == 0 and "<html" in fine.stdout.lower()


def test_index_indexes_what_it_can_and_names_what_it_cannot(
    damaged: Archive, pristine: Archive
) -> None:
    whole = run_morgue("--data-dir", str(pristine.data_dir), "index", "-o", "/dev/null")
    assert whole.returncode == 0, whole.stderr
    dest = damaged.data_dir / "indexes" / "index.cdxj"
    proc = run_morgue("--data-dir", str(damaged.data_dir), "index")
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    record = damaged.record(DAMAGED)
    assert line.startswith("morgue: error: ") and f"{record.file}:{record.offset}" in line
    indexed = dest.read_text().splitlines()
    lost = _unreadable(damaged)
    # The index has every page still readable, and only those.
    offsets = {int(json.loads(x.split(" ", 2)[2])["offset"]) for x in indexed}
    for i in range(PAGES):
        assert (damaged.record(i).offset in offsets) == (i not in lost)
