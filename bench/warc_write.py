"""WARC writing speed and size by gzip level, on the real pages of ../shared/corpus.

Writes every corpus page as a response record (plus its request) with
archive.warc.records.WarcWriter at each level and prints MB/s of page bytes and the compressed size.
Falls back to generated pages when the corpus is absent.

    .venv/bin/python bench/warc_write.py [--levels 1,4,6,9] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from archive.warc.records import WarcWriter

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def load_pages() -> list[tuple[str, bytes]]:
    manifest = CORPUS / "manifest.jsonl"
    if not manifest.exists():
        body = b"<html><body>" + b"<p>Generated news paragraph number %d.</p>" * 4000 + b"</body>"
        return [(f"http://news.test/{i}", body) for i in range(100)]
    pages = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        body = gzip.decompress((CORPUS / entry["file"]).read_bytes())
        pages.append((entry.get("url") or f"http://news.test/{entry['id']}", body))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,6,9")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pages = load_pages()
    total = sum(len(body) for _, body in pages)
    print(f"{len(pages)} pages, {total / 1e6:.1f} MB of HTML")
    print(f"{'level':>5} {'MB/s':>8} {'ratio':>7} {'bytes/page':>11}")
    for level in (int(x) for x in args.levels.split(",")):
        best = float("inf")
        size = 0
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                writer = WarcWriter(Path(tmp), gzip_level=level)
                started = time.perf_counter()
                for url, body in pages:
                    writer.write_exchange(
                        url, method="GET", request_headers=[("Host", "news.test")],
                        request_body=b"", status=200,
                        response_headers=[("Content-Type", "text/html; charset=utf-8")],
                        body=body,
                    )  # fmt: skip
                writer.close()
                best = min(best, time.perf_counter() - started)
                size = sum(p.stat().st_size for p in Path(tmp).glob("*.warc.gz"))
        rate, ratio, per_page = total / best / 1e6, size / total, size / len(pages)
        print(f"{level:>5} {rate:>8.1f} {ratio:>7.3f} {per_page:>11,.0f}")


if __name__ == "__main__":
    main()
