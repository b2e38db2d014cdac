"""Seconds `morgue archive URL` takes for one real-size page, and where they go.

Serves one corpus article (the first dev article of at least 200 KiB, read from the corpus at
run time; the demo site's first article when there is no corpus) on 127.0.0.1 with a 404 for
every other path, archives it N times into fresh data dirs, and prints the median wall time
with a breakdown read from the crawl log (timestamps in milliseconds):

    start     the CLI until the crawl process has Scrapy running
    setup     Scrapy's components until the spider opens
    fetch     the spider opening until the page is stored (robots.txt, page, probe, extraction)
    close     the page stored until the CLI has printed its table and exited

    .venv/bin/python bench/one_url.py [N] [--requisites]

The page alone is archived (``--no-requisites``), as wget fetches it; ``--requisites`` adds the
fetches of its images, stylesheets and scripts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_LOG_FORMAT = "%(asctime)s.%(msecs)03d [%(name)s] %(levelname)s: %(message)s"
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[[^]]+\] \w+: (.*)$")


def _page() -> tuple[str, bytes]:
    corpus = Path(os.environ.get("MORGUE_CORPUS") or _ROOT.parent / "shared" / "corpus")
    manifest = corpus / "manifest.jsonl"
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["kind"] == "article" and row["split"] == "dev":
                html = gzip.decompress((corpus / row["file"]).read_bytes())
                if len(html) >= 200 * 1024:
                    return f"corpus page {row['id']}", html
    demo = _ROOT / "archive" / "demo" / "site"
    first = sorted(demo.rglob("*.html"))[0]
    return f"demo page {first.name}", first.read_bytes()


def _serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            found = self.path == "/news/2026/12/story.html"
            data = body if found else b"<html><body><h1>Not found</h1></body></html>"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _phases(log: Path, started: float, ended: float) -> dict[str, float]:
    marks: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        match = _STAMP.match(line)
        if not match:
            continue
        when = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        message = match[2]
        for key, prefix in (
            ("scrapy", "Scrapy "),
            ("opened", "Spider opened"),
            ("stored", "Saved "),
        ):
            if message.startswith(prefix) and key not in marks:
                marks[key] = when
    return {
        "start": marks["scrapy"] - started,
        "setup": marks["opened"] - marks["scrapy"],
        "fetch": marks["stored"] - marks["opened"],
        "close": ended - marks["stored"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=7, help="runs (the median is shown)")
    parser.add_argument(
        "--requisites",
        action="store_true",
        help="fetch the page's requisites too (the corpus page's point at its publisher's "
        "hosts: offline, their lookups fail)",
    )
    args = parser.parse_args()
    mode = [] if args.requisites else ["--no-requisites"]
    name, body = _page()
    server = _serve(body)
    url = f"http://127.0.0.1:{server.server_port}/news/2026/12/story.html"
    walls: list[float] = []
    phases: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            data_dir = Path(tmp) / f"data-{i}"
            started = time.time()
            subprocess.run(
                [sys.executable, "-m", "archive", "--data-dir", str(data_dir), "archive",
                 "--format", "json", "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FORMAT={_LOG_FORMAT}",
                 *mode, url],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            ended = time.time()
            walls.append(ended - started)
            phases.append(_phases(data_dir / "logs" / "run-1.log", started, ended))
    server.shutdown()
    print(f"{name}: {len(body) / 1024:.0f} KiB, {args.n} runs of `morgue archive {' '.join(mode)}"
          f"{' ' if mode else ''}URL`")  # fmt: skip
    print(f"  wall   median {statistics.median(walls):.2f} s  (min {min(walls):.2f} s)")
    for key in ("start", "setup", "fetch", "close"):
        print(f"  {key:<6} median {statistics.median(p[key] for p in phases):.2f} s")


if __name__ == "__main__":
    main()
