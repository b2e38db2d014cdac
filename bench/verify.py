"""``morgue verify`` speed on an archive of real pages: MB of WARC files checked per second.

Builds an archive of N corpus pages (cycled over ../shared/corpus, or MORGUE_CORPUS): response,
request and metadata records written by archive.warc.records.WarcWriter, one capture row each in a
SQLite database, then times archive.integrity.verify.verify_archive over it (every byte read,
digests checked, every row matched), and the scan alone, in wall-clock and CPU seconds. Peak memory
is printed too.

    .venv/bin/python bench/verify.py [--pages 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from archive.captures.record import CaptureRecord
from archive.captures.table import save_captures
from archive.db.engine import open_database
from archive.integrity.verify import verify_archive
from archive.warc.records import WarcWriter
from archive.warc.scan import scan

CORPUS = Path(
    os.environ.get("MORGUE_CORPUS")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
)


def load_pages() -> list[bytes]:
    pages = []
    for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        pages.append(gzip.decompress((CORPUS / entry["file"]).read_bytes()))
    return pages


def build(root: Path, count: int) -> tuple[Path, str]:
    pages = load_pages()
    warc_dir = root / "warcs"
    db_url = f"sqlite:///{root / 'morgue.sqlite3'}"
    db = open_database(db_url)
    writer = WarcWriter(warc_dir, max_size=100_000_000)
    records = []
    for i in range(count):
        url = f"http://news.test/story-{i}.html"
        resp, _ = writer.write_exchange(
            url, method="GET", request_headers=[("Host", "news.test")], request_body=b"",
            status=200, response_headers=[("Content-Type", "text/html; charset=utf-8")],
            body=pages[i % len(pages)],
        )  # fmt: skip
        meta = writer.write_metadata(url, {"url": url, "verdict": "ok"}, refers_to=resp.record_id)
        records.append(CaptureRecord(url=url, fetched_at=datetime.now(UTC), verdict="ok",
                                     reason="http_200", http_status=200, response=resp,
                                     metadata=meta))  # fmt: skip
    writer.close()
    save_captures(db, records)
    db.close()
    return warc_dir, db_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warc_dir, db_url = build(Path(tmp), args.pages)
        files = sorted(warc_dir.glob("*.warc.gz"))
        size = sum(p.stat().st_size for p in files)
        print(f"{args.pages} pages, {len(files)} WARC files, {size / 1e6:.1f} MB")
        runs = {
            "scan only": lambda: [list(scan(p)) for p in files],
            "verify": lambda: verify_archive(open_database(db_url), warc_dir),
        }
        for label, run in runs.items():
            best, cpu = float("inf"), float("inf")
            for _ in range(args.repeat):
                started, cpu_started = time.perf_counter(), time.process_time()
                result = run()
                best = min(best, time.perf_counter() - started)
                cpu = min(cpu, time.process_time() - cpu_started)
            if label == "verify":
                assert not result.findings, result.findings[:3]  # type: ignore[union-attr]
            # CPU time too: on a shared machine the wall clock measures the neighbours.
            print(f"{label:>10}: {best:.2f} s ({size / best / 1e6:.0f} MB/s), "
                  f"{cpu:.2f} s of CPU ({size / cpu / 1e6:.0f} MB/s)")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
