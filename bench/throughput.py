"""Throughput and memory: morgue side by side with the extraction ceiling and with wget.

    python bench/throughput.py [N] [--rss-scale] [--skip-wget] [--gzip-level L]

On this machine, in one run, over the same pages:

1. serves N article URLs on 127.0.0.1 over the real pages of ../shared/corpus (cycled; generated
   pages when the corpus is absent), with a home page linking them all;
2. the ceiling: every page extracted by trafilatura (with metadata) in a process pool the size
   of the CPU count, no fetching;
3. ``wget --warc-file -r -l 1`` over the site (fetch and archive, nothing extracted);
4. ``morgue crawl --site BASE --depth 1`` with extraction on, then with ``--extract later``
   (archive and judge by status; ``morgue extract`` is timed on its own), politeness lifted for
   our own host with ``-s`` overrides;
5. prints pages per second, the ratios morgue/ceiling and morgue-deferred/wget, peak RSS of the
   crawl, WARC bytes per page; with ``--rss-scale``, peak RSS of deferred crawls of 1,000 and
   10,000 pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=32",
        "-s", "ROBOTSTXT_OBEY=False", "-s", "LIVENESS_PROBE_ENABLED=False"]  # fmt: skip


def load_bodies() -> list[bytes]:
    manifest = CORPUS / "manifest.jsonl"
    if manifest.is_file():
        rows = [json.loads(line) for line in manifest.open()]
        return [gzip.decompress((CORPUS / r["file"]).read_bytes()) for r in rows
                if r["kind"] == "article"]  # fmt: skip
    words = [
        "council",
        "river",
        "library",
        "budget",
        "school",
        "ferry",
        "weather",
        "market",
        "bridge",
        "festival",
    ]
    return [
        (f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>"
         + "".join(f"<p>{' '.join(words[(i + j + k) % 10] for k in range(40))}.</p>"
                   for j in range(30))
         + "</article></body></html>").encode()
        for i in range(50)
    ]  # fmt: skip


class Site:
    """N article URLs over the bodies, cycled, and a home page linking them all."""

    def __init__(self, bodies: list[bytes], n: int) -> None:
        self.bodies, self.n = bodies, n
        links = "".join(f'<li><a href="/a/{i}.html">Story {i}</a></li>' for i in range(n))
        self.home = f"<html><body><h1>Home</h1><ul>{links}</ul></body></html>".encode()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body: bytes | None = None
                if self.path in ("/", "/index.html"):
                    body = site.home
                elif self.path.startswith("/a/") and self.path.endswith(".html"):
                    try:
                        i = int(self.path[3:-5])
                    except ValueError:
                        i = -1
                    if 0 <= i < site.n:
                        body = site.bodies[i % len(site.bodies)]
                status = 200 if body is not None else 404
                body = body if body is not None else b"not found"
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _extract_plain(body: bytes) -> int:
    import trafilatura

    text = trafilatura.extract(body, url="http://127.0.0.1/a/1.html", with_metadata=True)
    return len(text or "")


def ceiling(bodies: list[bytes], n: int) -> float:
    pages = [bodies[i % len(bodies)] for i in range(n)]
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_extract_plain, pages, chunksize=8))
    return n / (time.perf_counter() - started)


def measured(
    cmd: list[str], cwd: Path | None = None
) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Run ``cmd``; wall seconds and the peak RSS (KiB) of its largest process."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(p.returncode)\n"
    )
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True,
                          cwd=cwd)  # fmt: skip
    elapsed = time.perf_counter() - started
    lines = proc.stderr.strip().splitlines()
    rss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return elapsed, rss, proc


def morgue_crawl(base: str, data: Path, *extra: str) -> tuple[float, int, list[dict[str, Any]]]:
    cmd = [sys.executable, "-m", "archive", "--data-dir", str(data), "crawl", "--site", base,
           "--depth", "1", "--format", "json", "--no-recover", *FAST, *extra]  # fmt: skip
    elapsed, rss, proc = measured(cmd)
    if proc.returncode != 0:
        sys.exit(f"morgue crawl failed: {proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return elapsed, rss, rows


def warc_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*.warc.gz"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="article URLs (1000)")
    parser.add_argument("--rss-scale", action="store_true", help="peak RSS at 1,000 and 10,000")
    parser.add_argument("--skip-wget", action="store_true")
    parser.add_argument(
        "--gzip-level", type=int, help="WARC_GZIP_LEVEL for morgue (default: its own)"
    )
    args = parser.parse_args()
    if args.gzip_level is not None:
        FAST.extend(["-s", f"WARC_GZIP_LEVEL={args.gzip_level}"])
    bodies = load_bodies()
    n = args.n
    mean_kib = sum(map(len, bodies)) / len(bodies) / 1024
    print(f"{n} article pages over {len(bodies)} distinct bodies, mean {mean_kib:.0f} KiB; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    site = Site(bodies, n)
    results: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            results["ceiling"] = ceiling(bodies, n)
            print(f"ceiling (trafilatura, {os.cpu_count()} processes)   "
                  f"{results['ceiling']:7.1f} pages/s")  # fmt: skip

            if not args.skip_wget and shutil.which("wget"):
                out = tmp / "wget"
                out.mkdir()
                elapsed, _rss, _proc = measured(
                    [
                        "wget",
                        "-r",
                        "-l",
                        "1",
                        "-q",
                        "-e",
                        "robots=off",
                        "--warc-file",
                        str(out / "site"),
                        "-P",
                        str(out / "files"),
                        site.base,
                    ]
                )
                results["wget"] = (n + 1) / elapsed
                print(f"wget --warc-file -r -l 1               {results['wget']:7.1f} pages/s  "
                      f"({warc_bytes(out) / (n + 1):,.0f} WARC bytes/page)")  # fmt: skip

            elapsed, rss, rows = morgue_crawl(site.base, tmp / "now")
            ok = sum(1 for r in rows if r.get("verdict") == "ok")
            results["morgue"] = len(rows) / elapsed
            print(f"morgue crawl, extraction on       {results['morgue']:7.1f} pages/s  "
                  f"({len(rows)} pages, {ok} ok, peak RSS {rss / 1024:.0f} MiB, "
                  f"{warc_bytes(tmp / 'now') / max(len(rows), 1):,.0f} WARC B/page)")  # fmt: skip

            elapsed, rss, rows = morgue_crawl(site.base, tmp / "later", "--extract", "later")
            results["deferred"] = len(rows) / elapsed
            print(f"morgue crawl --extract later           {results['deferred']:7.1f} pages/s  "
                  f"(peak RSS {rss / 1024:.0f} MiB)")  # fmt: skip
            elapsed, _rss, proc = measured([sys.executable, "-m", "archive", "--data-dir",
                                            str(tmp / "later"), "extract"])  # fmt: skip
            if proc.returncode != 0:
                sys.exit(f"morgue extract failed: {proc.stderr[-2000:]}")
            results["extract"] = len(rows) / elapsed
            print(f"morgue extract (afterwards)       {results['extract']:7.1f} pages/s")

            ratio = results["morgue"] / results["ceiling"]
            print(f"\nmorgue / ceiling                  {ratio:.2f}   (target >= 0.8)")
            if "wget" in results:
                print(f"morgue --extract later / wget     "
                      f"{results['deferred'] / results['wget']:.2f}   (target >= 2)")  # fmt: skip
    finally:
        site.close()

    if args.rss_scale:
        peaks = {}
        for size in (1000, 10000):
            big = Site(bodies, size)
            try:
                with tempfile.TemporaryDirectory() as tmp_name:
                    _elapsed, rss, rows = morgue_crawl(
                        big.base, Path(tmp_name), "--extract", "later"
                    )
                    peaks[size] = rss
                    print(f"peak RSS, deferred crawl of {len(rows):6} pages  {rss / 1024:7.0f} MiB")
            finally:
                big.close()
        print(
            f"RSS 10,000 / 1,000                {peaks[10000] / peaks[1000]:.2f}   (target <= 1.2)"
        )


if __name__ == "__main__":
    main()
