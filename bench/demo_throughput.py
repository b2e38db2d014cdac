"""Pages per second and WARC bytes per page of `morgue archive` on the bundled demo site.

Serves the demo site on 127.0.0.1, archives N URLs (the demo articles, each repeated with a
distinct query string so that every URL is a separate fetch), and prints the figures. The
politeness delays are lifted for our own local host, as the demo does.

    .venv/bin/python bench/demo_throughput.py [N] [--gzip-level L]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from archive.demo.server import DemoSite


def _is_live(url: str) -> bool:
    # The demo keeps one removed article (a 404) on purpose; the benchmark measures live pages.
    try:
        with urllib.request.urlopen(url) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=400, help="URLs to archive")
    parser.add_argument("--gzip-level", type=int, default=None)
    args = parser.parse_args()
    with DemoSite() as site, tempfile.TemporaryDirectory() as tmp:
        articles = [u for u in site.urls() if "/news/" in u and _is_live(u)]
        urls = [f"{articles[i % len(articles)]}?n={i}" for i in range(args.n)]
        url_file = Path(tmp) / "urls.txt"
        url_file.write_text("\n".join(urls))
        overrides = [
            "-s", "DOWNLOAD_DELAY=0",
            "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        ]  # fmt: skip
        if args.gzip_level is not None:
            overrides += ["-s", f"WARC_GZIP_LEVEL={args.gzip_level}"]
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "archive",
             "--format", "json", "--no-recover", "-i", str(url_file), *overrides],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        warc_bytes = sum(p.stat().st_size for p in (data_dir / "warcs").glob("*.warc.gz"))
        ok = sum(1 for row in rows if row["verdict"] == "ok")
        print(f"urls archived        {len(rows)} ({ok} ok)")
        print(f"wall time            {elapsed:.2f} s (includes ~1.5 s of process start-up)")
        print(f"pages per second     {len(rows) / elapsed:.1f}")
        print(f"WARC bytes per page  {warc_bytes / max(len(rows), 1):,.0f}")
        print(f"WARC total           {warc_bytes:,} bytes")


if __name__ == "__main__":
    main()
