"""Checking an archive: every WARC file against every row that points into it, and repairing
what can be repaired without losing anything (``morgue verify [--repair]``).

What is checked:

- each WARC file, every byte: each gzip member whole and inflating, each record's block and
  payload digests and length; a ``.open`` file that no writer holds is one a dead process
  left; bytes after the last whole record (a record cut short) are damage, closed file or not;
- each capture row: its response record, its metadata record and its redirect hops are at the
  offsets it names, with the record ids it names, and read back whole; a revisit's original is
  a record some row points at; its JSON columns parse;
- each probe row and each requisite row (an image, a stylesheet fetched with a page): its record
  likewise;
- records written but never stored (``archive.integrity.unstored``).

``--repair`` first does what resumption does (``archive.integrity.resume.recover_interrupted``:
close the files dead processes left open, close their runs, index their unstored records), then, for
what the check finds: cuts a file back to its last whole record when damage ends it, indexes
unstored records and revisit originals that have no row, sets ``record_error`` on rows whose
record is gone or damaged (and clears it on rows whose record reads back again), and clears a
row's pointer to a metadata record that is gone (those are the columns of ``captures`` it
writes; new rows go through ``archive.captures.table``). It deletes no row and no text. What it
cannot repair (a damaged record in the middle of a file, JSON that does not parse) is reported again
by the next check.

Files are read as a stream (``archive.warc.scan``): memory holds one file's index entries, not
the archive's, and the check runs as fast as zlib and SHA-1 go.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Text, select, type_coerce, update

from archive.db.engine import Database
from archive.db.models import Capture, Probe, Requisite, Run
from archive.integrity.resume import (
    extract_indexed,
    finalise_warc,
    held_by_writer,
    live_runs,
    mark_past_cut,
    recover_interrupted,
)
from archive.integrity.unstored import UnstoredFinder, index_unstored
from archive.warc.records import OPEN_SUFFIX
from archive.warc.scan import Damage, ScannedRecord, scan

__all__ = ["Finding", "VerifyReport", "verify_archive"]

logger = logging.getLogger(__name__)

_BATCH = 500


@dataclass(slots=True)
class Finding:
    """One thing wrong with the archive: a file, a record or a row."""

    problem: str  # a code: "cut_short", "record_damaged", "record_missing", "unstored"...
    detail: str
    file: str | None = None
    offset: int | None = None
    capture_id: int | None = None
    probe_id: int | None = None
    repaired: str | None = None  # what --repair did about it

    @property
    def subject(self) -> str:
        if self.capture_id is not None:
            return f"capture {self.capture_id}"
        if self.probe_id is not None:
            return f"probe {self.probe_id}"
        if self.file is not None:
            return self.file if self.offset is None else f"{self.file}:{self.offset}"
        return "archive"

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "problem": self.problem,
            "detail": self.detail,
            "file": self.file,
            "offset": self.offset,
            "capture_id": self.capture_id,
            "probe_id": self.probe_id,
            "repaired": self.repaired,
        }


@dataclass(slots=True)
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    records: int = 0
    captures: int = 0
    probes: int = 0
    in_use: int = 0  # .open files a live writer holds: not checked
    known_missing: int = 0  # rows already marked record_error, still unreadable
    seconds: float = 0.0

    @property
    def damaged(self) -> list[Finding]:
        """What is still wrong (found and not repaired)."""
        return [f for f in self.findings if f.repaired is None]


@dataclass(slots=True)
class _Ref:
    """A row's pointer into a WARC file."""

    kind: str  # "response", "metadata", "hop", "probe", "requisite" (row: its capture)
    row: int
    record_id: str | None
    marked: str | None = None  # the capture's record_error


Progress = Callable[[int, int], None]


def verify_archive(
    db: Database,
    warc_dir: Path,
    *,
    repair: bool = False,
    progress: Progress | None = None,
    on_finding: Callable[[Finding], None] | None = None,
) -> VerifyReport:
    """Check (and with ``repair``, repair) the archive; ``progress(done, total)`` in bytes."""
    started = time.monotonic()
    checker = _Checker(db, warc_dir, repair, progress, on_finding)
    checker.run()
    checker.report.seconds = time.monotonic() - started
    return checker.report


class _Checker:
    def __init__(
        self,
        db: Database,
        warc_dir: Path,
        repair: bool,
        progress: Progress | None,
        on_finding: Callable[[Finding], None] | None,
    ) -> None:
        self.db = db
        self.warc_dir = warc_dir
        self.repair = repair
        self.progress = progress
        self.on_finding = on_finding
        self.report = VerifyReport()
        self.to_mark: dict[int, str] = {}  # capture id -> record_error to set
        self.to_clear: set[int] = set()
        self.to_unlink: list[tuple[_Ref, str, int]] = []
        self.missing_originals: dict[str, list[tuple[str, int, int | None]]] = defaultdict(list)

    def found(self, finding: Finding) -> Finding:
        self.report.findings.append(finding)
        if self.on_finding is not None and finding.repaired is None:
            self.on_finding(finding)
        return finding

    # -- the whole pass ----------------------------------------------------------------------

    def run(self) -> None:
        if self.repair:
            self._recover()
        live = live_runs(self.db, self.warc_dir)
        self._dead_runs(live)
        hops = self._check_rows()
        files = self._files()
        total = sum(size for _, size in files)
        with self.db.session(readonly=True) as session:
            # Runs that did not finish, those whose process died while running included.
            unfinished = (
                set(
                    session.scalars(
                        select(Run.id).where(Run.status.in_(("interrupted", "failed", "running")))
                    )
                )
                - live
            )
        finder = UnstoredFinder(self.db, pages_of=unfinished)
        done = 0
        names = set()
        for path, size in files:
            names.add(path.name.removesuffix(OPEN_SUFFIX))
            self._check_file(path, hops.pop(path.name.removesuffix(OPEN_SUFFIX), {}), finder, live)
            done += size
            if self.progress is not None:
                self.progress(done, total)
        self.report.bytes = total
        self._missing_files(names, hops)
        self._originals(files, live)
        self._unstored(finder)
        self._apply_marks()

    def _recover(self) -> None:
        """What resumption does, first: its work is reported as repaired findings."""
        recovery = recover_interrupted(self.db, self.warc_dir)
        for item in recovery.files:
            self.found(Finding("left_open", "left open by a process that died", item.name,
                               repaired=f"closed, {item.size_after} of {item.size_before} "
                               "bytes kept"))  # fmt: skip
        for run_id in recovery.interrupted:
            self.found(Finding("run_not_closed", f"run {run_id} is marked running but its "
                               "process is gone", repaired="marked interrupted"))  # fmt: skip
        if recovery.indexed:
            self.found(Finding("unstored", f"{recovery.indexed} capture(s) written by runs that "
                               "did not finish were never stored",
                               repaired="indexed as captures of those runs"))  # fmt: skip

    def _dead_runs(self, live: set[int]) -> None:
        with self.db.session(readonly=True) as session:
            running = session.scalars(select(Run.id).where(Run.status == "running")).all()
        for run_id in running:
            if run_id not in live:
                detail = f"run {run_id} is marked running but its process is gone"
                self.found(Finding("run_not_closed", detail))

    def _files(self) -> list[tuple[Path, int]]:
        if not self.warc_dir.is_dir():
            return []
        files = []
        for path in sorted(self.warc_dir.glob("*.warc.gz")) + sorted(
            self.warc_dir.glob(f"*.warc.gz{OPEN_SUFFIX}")
        ):
            if path.name.endswith(OPEN_SUFFIX):
                if held_by_writer(path):
                    self.report.in_use += 1
                    continue
                self.found(Finding("left_open", "left open by a process that died (morgue "
                                   "verify --repair closes it)", path.name))  # fmt: skip
            files.append((path, path.stat().st_size))
        return files

    # -- rows --------------------------------------------------------------------------------

    def _check_rows(self) -> dict[str, dict[int, list[_Ref]]]:
        """Check the JSON columns of every row; returns the redirect hops by file and offset."""
        hops: dict[str, dict[int, list[_Ref]]] = defaultdict(lambda: defaultdict(list))
        json_columns = ("redirects", "evidence", "authors", "field_sources")
        columns = [type_coerce(getattr(Capture, name), Text) for name in json_columns]
        after = 0
        while True:
            with self.db.session(readonly=True) as session:
                rows = session.execute(
                    select(Capture.id, *columns)
                    .where(Capture.id > after)
                    .order_by(Capture.id)
                    .limit(_BATCH)
                ).all()
            if not rows:
                break
            for row in rows:
                capture_id, values = row[0], row[1:]
                self.report.captures += 1
                for name, value in zip(json_columns, values, strict=True):
                    parsed = _parse(value)
                    if parsed is _BAD:
                        self.found(Finding("bad_json", f"{name} is not valid JSON",
                                           capture_id=capture_id))  # fmt: skip
                    elif name == "redirects" and isinstance(parsed, list):
                        for hop in parsed:
                            if isinstance(hop, dict) and hop.get("warc_file"):
                                offset = int(hop.get("warc_offset") or 0)
                                hops[str(hop["warc_file"])][offset].append(
                                    _Ref("hop", capture_id, hop.get("warc_record_id"))
                                )
            after = rows[-1][0]
        with self.db.session(readonly=True) as session:
            self.report.probes = len(session.scalars(select(Probe.id)).all())
        return hops

    def _refs(self, name: str, hops: dict[int, list[_Ref]]) -> dict[int, list[_Ref]]:
        refs: dict[int, list[_Ref]] = defaultdict(list, {k: list(v) for k, v in hops.items()})
        with self.db.session(readonly=True) as session:
            for cid, offset, rid, marked in session.execute(
                select(Capture.id, Capture.warc_offset, Capture.warc_record_id,
                       Capture.record_error).where(Capture.warc_file == name)
            ):  # fmt: skip
                refs[int(offset or 0)].append(_Ref("response", cid, rid, marked))
            for cid, offset, rid in session.execute(
                select(Capture.id, Capture.metadata_warc_offset, Capture.metadata_record_id)
                .where(Capture.metadata_warc_file == name)
            ):  # fmt: skip
                refs[int(offset or 0)].append(_Ref("metadata", cid, rid))
            for pid, offset, rid in session.execute(
                select(Probe.id, Probe.warc_offset, Probe.warc_record_id)
                .where(Probe.warc_file == name)
            ):  # fmt: skip
                refs[int(offset or 0)].append(_Ref("probe", pid, rid))
            # A requisite's finding names the capture of its page.
            for cid, offset, rid in session.execute(
                select(Requisite.capture_id, Requisite.warc_offset, Requisite.warc_record_id)
                .where(Requisite.warc_file == name)
            ):  # fmt: skip
                refs[int(offset or 0)].append(_Ref("requisite", cid, rid))
        return refs

    def _row_finding(self, ref: _Ref, name: str, offset: int, problem: str, why: str) -> None:
        """A row whose record cannot be read back: marked with --repair, unless it was."""
        where = f"{name}:{offset}"
        if ref.kind == "probe":
            finding = self.found(Finding(problem, f"its record at {where}: {why}", name, offset,
                                         probe_id=ref.row))  # fmt: skip
        elif ref.kind == "response" and ref.marked is not None:
            self.report.known_missing += 1  # known already: nothing new
            return
        else:
            finding = self.found(Finding(problem, f"its {ref.kind} record at {where}: {why}",
                                         name, offset, capture_id=ref.row))  # fmt: skip
        if not self.repair:
            return
        if ref.kind == "response":
            self.to_mark[ref.row] = f"{where}: {why}"
            finding.repaired = "marked (record_error)"
        else:
            # The row holds what that record held (verdict, extraction, the hop's status): only
            # its pointer to nothing goes.
            self.to_unlink.append((ref, name, offset))
            finding.repaired = "pointer to the lost record cleared"

    # -- files -------------------------------------------------------------------------------

    def _check_file(
        self,
        path: Path,
        hops: dict[int, list[_Ref]],
        finder: UnstoredFinder,
        live: set[int],
    ) -> None:
        name = path.name.removesuffix(OPEN_SUFFIX)
        refs = self._refs(name, hops)
        self.report.files += 1
        size = path.stat().st_size
        revisits: list[tuple[str, int, int | None]] = []
        last_end = 0
        items: list[ScannedRecord | Damage] = []

        def checked() -> Iterator[ScannedRecord | Damage]:
            nonlocal last_end
            for item in scan(path, keep=lambda h: h.get("warc-type") == "warcinfo"):
                if isinstance(item, ScannedRecord):
                    last_end = item.end
                    self._record(name, item, refs.pop(item.offset, []), revisits)
                else:
                    items.append(item)
                    self._damage(name, item, refs, size)
                yield item

        finder.add_file(path, checked(), skip_runs=live)
        for offset, stranded in sorted(refs.items()):
            for ref in stranded:
                why = "past the end of the file" if offset >= size else "no record starts there"
                self._row_finding(ref, name, offset, "record_missing", why)
        for refers, offset, capture_id in revisits:
            self.missing_originals[refers].append((name, offset, capture_id))
        trailing = [d for d in items if d.end == size and d.offset >= last_end]
        if trailing and self.repair:
            recovered = finalise_warc(path)
            mark_past_cut(self.db, [recovered])
            for finding in self.report.findings:
                if (
                    finding.file == name
                    and finding.problem == "cut_short"
                    and (finding.offset or 0) >= recovered.size_after
                ):
                    finding.repaired = f"file cut back to its last whole record ({last_end} bytes)"

    def _record(
        self,
        name: str,
        rec: ScannedRecord,
        refs: list[_Ref],
        revisits: list[tuple[str, int, int | None]],
    ) -> None:
        self.report.records += 1
        if rec.problems:
            self.found(Finding("record_damaged", "; ".join(rec.problems), name, rec.offset))
        for ref in refs:
            if ref.record_id and ref.record_id != rec.record_id:
                self._row_finding(ref, name, rec.offset, "record_mismatch",
                                  f"holds {rec.record_id}, not {ref.record_id}")  # fmt: skip
            elif rec.problems:
                self._row_finding(ref, name, rec.offset, "record_damaged", rec.problems[0])
            elif ref.kind == "response" and ref.marked is not None:
                finding = self.found(Finding("marked_but_readable", "marked record_error but "
                                             f"its record at {name}:{rec.offset} reads back",
                                             name, rec.offset, capture_id=ref.row))  # fmt: skip
                if self.repair:
                    self.to_clear.add(ref.row)
                    finding.repaired = "mark cleared"
        if rec.rec_type == "revisit":
            refers = rec.headers.get("warc-refers-to")
            if refers:
                row = next((r.row for r in refs if r.kind == "response"), None)
                revisits.append((refers, rec.offset, row))

    def _damage(self, name: str, damage: Damage, refs: dict[int, list[_Ref]], size: int) -> None:
        ends_file = damage.end == size
        problem = "cut_short" if damage.kind == "cut" or ends_file else "corrupt"
        self.found(Finding(problem, f"{damage.detail} ({damage.length} bytes)", name,
                           damage.offset))  # fmt: skip
        for offset in [o for o in refs if damage.offset <= o < damage.end]:
            for ref in refs.pop(offset):
                self._row_finding(ref, name, offset, "record_unreadable", damage.detail)

    def _missing_files(self, names: set[str], hops: dict[str, dict[int, list[_Ref]]]) -> None:
        with self.db.session(readonly=True) as session:
            wanted = set(session.scalars(select(Capture.warc_file).distinct()))
            wanted |= set(session.scalars(select(Capture.metadata_warc_file).distinct()))
            wanted |= set(session.scalars(select(Probe.warc_file).distinct()))
            wanted |= set(session.scalars(select(Requisite.warc_file).distinct()))
        held = {p.name.removesuffix(OPEN_SUFFIX) for p in self.warc_dir.glob(f"*{OPEN_SUFFIX}")}
        for name in sorted({n for n in wanted | set(hops) if n} - names - held):
            refs = self._refs(name, hops.get(name, {}))
            for offset, listed in sorted(refs.items()):
                for ref in listed:
                    self._row_finding(ref, name, offset, "file_missing", "the file is missing")

    # -- what has no row ---------------------------------------------------------------------

    def _originals(self, files: list[tuple[Path, int]], live: set[int]) -> None:
        """Revisits whose original record no row points at."""
        ids = list(self.missing_originals)
        with self.db.session(readonly=True) as session:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                for rid in session.scalars(
                    select(Capture.warc_record_id).where(Capture.warc_record_id.in_(chunk))
                ):
                    if rid:
                        self.missing_originals.pop(rid, None)
                for rid in session.scalars(
                    select(Requisite.warc_record_id).where(Requisite.warc_record_id.in_(chunk))
                ):
                    if rid:
                        self.missing_originals.pop(rid, None)
        if not self.missing_originals:
            return
        found: set[str] = set()
        if self.repair:
            finder = UnstoredFinder(self.db, originals=self.missing_originals)
            for path, _ in files:
                if path.exists():
                    finder.scan_file(path, skip_runs=live)
            extract_indexed(self.db, self.warc_dir, index_unstored(self.db, finder.found))
            found = {u.response.record_id or "" for u in finder.found}
        for refers, places in self.missing_originals.items():
            for name, offset, capture_id in places:
                finding = self.found(Finding(
                    "revisit_original_missing",
                    f"a revisit of {refers}, which no capture points at", name, offset,
                    capture_id=capture_id,
                ))  # fmt: skip
                if refers in found:
                    finding.repaired = "original indexed as a capture"
                elif self.repair and capture_id is not None:
                    self.to_mark[capture_id] = f"revisit of {refers}, not in this archive"
                    finding.repaired = "marked (record_error)"

    def _unstored(self, finder: UnstoredFinder) -> None:
        findings = [
            Finding("unstored", f"{item.url}: written ({item.why}) but never stored",
                    item.file, item.response.offset)
            for item in finder.found
        ]  # fmt: skip
        if self.repair and finder.found:
            ids = index_unstored(self.db, finder.found)
            extract_indexed(self.db, self.warc_dir, ids)
            for finding in findings:
                finding.repaired = "indexed as a capture"
        for finding in findings:
            self.found(finding)

    def _apply_marks(self) -> None:
        if not self.repair:
            return
        with self.db.session() as session:
            for capture_id, message in self.to_mark.items():
                session.execute(
                    update(Capture).where(Capture.id == capture_id).values(record_error=message)
                )
            if self.to_clear:
                session.execute(
                    update(Capture)
                    .where(Capture.id.in_(list(self.to_clear)))
                    .values(record_error=None)
                )
            for ref, name, offset in self.to_unlink:
                self._unlink(session, ref, name, offset)

    @staticmethod
    def _unlink(session: Any, ref: _Ref, name: str, offset: int) -> None:
        if ref.kind == "metadata":
            session.execute(
                update(Capture).where(Capture.id == ref.row, Capture.metadata_warc_file == name)
                .values(metadata_warc_file=None, metadata_warc_offset=None,
                        metadata_warc_length=None, metadata_record_id=None)
            )  # fmt: skip
        elif ref.kind == "probe":
            session.execute(
                update(Probe).where(Probe.id == ref.row)
                .values(warc_file=None, warc_offset=None, warc_length=None, warc_record_id=None)
            )  # fmt: skip
        elif ref.kind == "hop":
            capture = session.get(Capture, ref.row)
            if capture is None or not isinstance(capture.redirects, list):
                return
            hops = []
            for hop in capture.redirects:
                if (
                    isinstance(hop, dict)
                    and hop.get("warc_file") == name
                    and int(hop.get("warc_offset") or 0) == offset
                ):
                    hop = {**hop, "warc_file": None, "warc_offset": None, "warc_length": None,
                           "warc_record_id": None}  # fmt: skip
                hops.append(hop)
            capture.redirects = hops


_BAD = object()


def _parse(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value  # PostgreSQL's JSONB comes back parsed: it cannot hold bad JSON
    try:
        return json.loads(value)
    except ValueError:
        return _BAD
