"""Throughput and memory: morgue side by side with the extraction ceiling and with wget.

    python bench/throughput.py [N] [--rss-scale] [--skip-wget] [--gzip-level L]
                               [--requisites-only] [--browser]

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
   10,000 pages;
6. page requisites: ``morgue archive -i`` of the same URLs with ``--no-requisites``, then with
   requisites twice into one data dir (the second run, within ``REQUISITES_REFRESH_AFTER``,
   fetches none of them), then a third time with that window off (every payload archived:
   revisit records), pages per second and WARC bytes per page of each; the corpus pages'
   absolute image, stylesheet and script URLs are rewritten to the local server, which answers
   each (and the relative ones) with bytes of its own (``--requisites-only`` runs this part
   alone; ``--browser`` adds ``morgue archive --browser`` of the same pages).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
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

# MORGUE_CORPUS, as for the tests (tests/corpus.py), else ../shared/corpus beside the repository.
CORPUS = Path(
    os.environ.get("MORGUE_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
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


# An absolute URL in a page's markup: rewritten to the local server so that nothing leaves it.
# Scheme-relative ones too (``//cdn.example/x.png``): a host name with a dot after the slashes.
_ABSOLUTE = re.compile(rb"""(?:https?:)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s"'<>(),]*""")
_ASSET_TYPES = {b".css": "text/css", b".js": "text/javascript", b".png": "image/png",
                b".jpg": "image/jpeg", b".jpeg": "image/jpeg", b".gif": "image/gif",
                b".webp": "image/webp", b".svg": "image/svg+xml", b".woff2": "font/woff2",
                b".woff": "font/woff"}  # fmt: skip
ASSET_BYTES = 12 * 1024  # what each rewritten requisite answers with


def localise(body: bytes) -> bytes:
    """``body`` with every absolute URL pointing at ``/x/HASH.EXT`` on the local server."""

    def local(match: re.Match[bytes]) -> bytes:
        url = match.group(0)
        path = url.split(b"?", 1)[0].lower()
        ext = next((e for e in _ASSET_TYPES if path.endswith(e)), b".bin")
        return b"/x/" + hashlib.sha1(url).hexdigest()[:16].encode() + ext

    return _ABSOLUTE.sub(local, body)


def asset(path: str) -> tuple[bytes, str]:
    """The bytes and type the local server gives a rewritten requisite: its own, each path."""
    # Incompressible, as JPEG, PNG and WOFF2 bodies are: a repeated pattern would gzip to nothing.
    blocks = (hashlib.sha256(f"{path}:{i}".encode()).digest() for i in range(ASSET_BYTES // 32))
    ext = path[path.rfind(".") :].encode()
    return b"".join(blocks), _ASSET_TYPES.get(ext, "application/octet-stream")


class Site:
    """N article URLs over the bodies, cycled, and a home page linking them all."""

    def __init__(self, bodies: list[bytes], n: int, *, assets: bool = False) -> None:
        self.bodies, self.n, self.assets = bodies, n, assets
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
                ctype = "text/html; charset=utf-8"
                if self.path.startswith("/x/") or (body is None and site.assets):
                    # The corpus pages' relative requisite URLs land here too: a publisher
                    # would answer them, and a 404 would be fetched again on every run.
                    body, ctype = asset(self.path)
                status = 200 if body is not None else 404
                body = body if body is not None else b"not found"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        # A listen backlog of 5 (the standard library's) drops connections when a crawl opens
        # dozens at once (a page's requisites), and each dropped one waits out TCP's retry
        # timer: the figures would measure that. Real servers queue hundreds.
        ThreadingHTTPServer.request_queue_size = 256
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


def morgue_archive(urls: Path, data: Path, *extra: str) -> tuple[float, int]:
    """``morgue archive -i URLS``: wall seconds and the captures stored."""
    cmd = [sys.executable, "-m", "archive", "--data-dir", str(data), "archive", "-i", str(urls),
           "--format", "json", "--no-recover", *FAST, *extra]  # fmt: skip
    elapsed, _rss, proc = measured(cmd)
    if proc.returncode != 0:
        sys.exit(f"morgue archive failed: {proc.stderr[-3000:]}")
    return elapsed, sum(1 for line in proc.stdout.splitlines() if line.strip())


def requisites_bench(bodies: list[bytes], n: int, *, browser: bool = False) -> None:
    """HTML only, then requisites on twice over the same data dir: speed and bytes per page;
    with ``browser``, ``--browser`` too (requisites on, a fresh data dir)."""
    site = Site([localise(body) for body in bodies], n, assets=True)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            urls = tmp / "urls.txt"
            urls.write_text("".join(f"{site.base}a/{i}.html\n" for i in range(n)))
            figures: dict[str, tuple[float, float]] = {}
            off = ("-s", "REQUISITES_REFRESH_AFTER=0")
            runs = [("html only", tmp / "html", ("--no-requisites",)),
                    ("requisites, 1st run", tmp / "req", ()),
                    ("requisites, 2nd run", tmp / "req", ()),
                    ("3rd run, window off", tmp / "req", off)]  # fmt: skip
            if browser:
                runs.append(("browser, 1st run", tmp / "browser", ("--browser",)))
            for label, data, extra in runs:
                before = warc_bytes(data) if data.exists() else 0
                elapsed, pages = morgue_archive(urls, data, *extra)
                per_page = (warc_bytes(data) - before) / max(pages, 1)
                figures[label] = (pages / elapsed, per_page)
                print(f"morgue archive, {label:<20} {pages / elapsed:7.1f} pages/s  "
                      f"({pages} pages, {per_page:,.0f} WARC B/page)")  # fmt: skip
            ratio = figures["requisites, 2nd run"][1] / figures["html only"][1]
            print(f"2nd-run bytes/page / html only    {ratio:.2f}   (target <= 1.2)")
    finally:
        site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="article URLs (1000)")
    parser.add_argument("--rss-scale", action="store_true", help="peak RSS at 1,000 and 10,000")
    parser.add_argument("--skip-wget", action="store_true")
    parser.add_argument(
        "--requisites-only", action="store_true", help="only the page-requisites figures"
    )
    parser.add_argument(
        "--gzip-level", type=int, help="WARC_GZIP_LEVEL for morgue (default: its own)"
    )
    parser.add_argument(
        "--browser", action="store_true", help="page requisites: also morgue archive --browser"
    )
    args = parser.parse_args()
    if args.gzip_level is not None:
        FAST.extend(["-s", f"WARC_GZIP_LEVEL={args.gzip_level}"])
    bodies = load_bodies()
    n = args.n
    mean_kib = sum(map(len, bodies)) / len(bodies) / 1024
    print(f"{n} article pages over {len(bodies)} distinct bodies, mean {mean_kib:.0f} KiB; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    if args.requisites_only:
        requisites_bench(bodies, n, browser=args.browser)
        return
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
    print()
    requisites_bench(bodies, n, browser=args.browser)


if __name__ == "__main__":
    main()
