"""Pages a second of 1, 2 and 4 `morgue worker`s sharing a Redis frontier and a PostgreSQL DB.

The site: HOSTS news hosts (127.0.0.1 to 127.0.0.HOSTS, a port each: Scrapy's per-domain slots
and the workers' shared per-host delay see as many hosts), each with a feed of PAGES articles,
and every article answering after LATENCY seconds (200 ms by default): the crawl is bound by
latency, not CPU, so that workers can add up even on a small machine. Each run gets a Redis of
its own (a `redis-server` on a free port) and a fresh PostgreSQL schema; the workers share one
data dir. Printed per worker count:

    pages/s          pages stored / (last capture's fetched_at - first's): start-up left out
    redis trips/page  the workers' own count of Redis round trips (queue and per-host gate)
    redis cmds/page   commands Redis processed (INFO stats), scripts counting as one
    pg xacts/page     PostgreSQL transactions committed in the database, per page
    pg rows/page      rows inserted, updated and deleted, per page

    MORGUE_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/distributed.py [--workers 1,2,4] [--hosts 20] [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

_ROOT = Path(__file__).resolve().parent.parent

_ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><meta name="author" content="Desk {host}"></head><body>
<article><h1>{title}</h1><p class="byline">By Desk {host}, 3 December 2026</p>
{paragraphs}</article></body></html>"""


class _Site(BaseHTTPRequestHandler):
    latency = 0.2
    pages = 20

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = self.headers.get("Host", "")
        if self.path == "/feed.xml":
            items = "".join(
                f"<item><title>Story {i}</title><link>http://{host}/a/{i}.html</link></item>"
                for i in range(self.pages)
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{host}</title>'
            self._send(200, (body + items + "</channel></rss>").encode(), "application/rss+xml")
        elif self.path.startswith("/a/"):
            time.sleep(self.latency)
            title = f"Council story {self.path} from {host}"
            paragraphs = "".join(
                f"<p>Paragraph {i} of {title}: the council met and discussed the budget, "
                f"the bridges and the drains, and voted on item {i} after a long debate.</p>"
                for i in range(12)
            )
            page = _ARTICLE.format(title=title, host=host, paragraphs=paragraphs)
            self._send(200, page.encode(), "text/html; charset=utf-8")
        else:
            time.sleep(self.latency)
            self._send(404, b"<html><body>Not found</body></html>", "text/html")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(hosts: int) -> list[str]:
    """One server per host, 127.0.0.N on a port of its own; their base URLs."""
    bases = []
    for n in range(1, hosts + 1):
        server = ThreadingHTTPServer((f"127.0.0.{n}", 0), _Site)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bases.append(f"http://127.0.0.{n}:{server.server_address[1]}")
    return bases


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _morgue(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive", *args], capture_output=True, text=True, check=True,
        cwd=_ROOT, **kwargs,
    )  # fmt: skip


def _pg_counters(url: str) -> tuple[int, int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted "
                "FROM pg_stat_database WHERE datname = current_database()"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])


def _redis_commands(port: int) -> int:
    import redis

    client = redis.Redis(port=port)
    count = int(client.info("stats")["total_commands_processed"])
    client.close()
    return count


def run(workers: int, bases: list[str], pg_base: str, args: argparse.Namespace) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = make_url(pg_base).update_query_dict({"options": f"-csearch_path={schema}"})
    db = db_url.render_as_string(hide_password=False)
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="morgue-bench-dist-"))
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        time.sleep(0.5)
        redis_url = f"redis://127.0.0.1:{port}/0"
        _morgue("--data-dir", str(work / "data"), "--db", db, "db", "upgrade")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
        for i in range(workers):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "archive",
                        "--data-dir",
                        str(work / "data"),
                        "--db",
                        db,
                        "worker",
                        "--redis",
                        redis_url,
                        "--worker-id",
                        f"b{i}",
                        "--allow-private",
                        "--format",
                        "json",
                        "-s",
                        f"CONCURRENT_REQUESTS={args.concurrency}",
                        "-s",
                        "CONCURRENT_REQUESTS_PER_DOMAIN=2",
                        "-s",
                        "DOWNLOAD_DELAY=0",
                        "-s",
                        "AUTOTHROTTLE_ENABLED=False",
                        "-s",
                        f"MORGUE_REDIS_DOMAIN_DELAY={args.domain_delay}",
                        "-s",
                        "MEMENTO_ENABLED=False",
                        "-s",
                        "EXTRACT_WORKERS=1",
                        "-s",
                        "MORGUE_REDIS_HEARTBEAT=2",
                    ],
                    cwd=_ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        time.sleep(args.warmup)  # the workers start (imports, extraction pool) before the work
        xacts0, rows0 = _pg_counters(db)
        commands0 = _redis_commands(port)
        feeds = [arg for base in bases for arg in ("--feed", f"{base}/feed.xml")]
        _morgue("crawl", "--redis", redis_url, *feeds)
        total = len(bases) * args.pages
        deadline = time.monotonic() + args.timeout
        engine = create_engine(db, poolclass=NullPool)
        stored = 0
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                stored = int(conn.execute(text("SELECT count(*) FROM captures")).scalar_one())
            if stored >= total:
                break
            time.sleep(0.5)
        xacts1, rows1 = _pg_counters(db)
        commands1 = _redis_commands(port)
        with engine.connect() as conn:
            first, last = conn.execute(
                text("SELECT min(fetched_at), max(fetched_at) FROM captures")
            ).one()
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=120)
        with engine.connect() as conn:
            runs = [
                row[0] if isinstance(row[0], dict) else json.loads(row[0] or "{}")
                for row in conn.execute(text("SELECT stats FROM runs WHERE kind = 'worker'"))
            ]
        engine.dispose()
        trips = sum(int(s.get("redis/round_trips", 0)) for s in runs)
        span = (_aware(last) - _aware(first)).total_seconds() if first and last else 0.0
        return {
            "workers": workers,
            "pages": stored,
            "seconds": round(span, 2),
            "pages_per_s": round(stored / span, 2) if span else 0.0,
            "redis_trips_per_page": round(trips / max(stored, 1), 2),
            "redis_commands_per_page": round((commands1 - commands0) / max(stored, 1), 2),
            "pg_xacts_per_page": round((xacts1 - xacts0) / max(stored, 1), 2),
            "pg_rows_per_page": round((rows1 - rows0) / max(stored, 1), 2),
        }
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        server.terminate()
        server.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=datetime.now().astimezone().tzinfo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=20, help="articles per host")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4, help="CONCURRENT_REQUESTS")
    parser.add_argument("--domain-delay", type=float, default=0.25)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    pg_base = os.environ.get("MORGUE_BENCH_POSTGRES_URL") or os.environ.get(
        "MORGUE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    _Site.latency, _Site.pages = args.latency, args.pages
    bases = _serve(args.hosts)
    print(
        f"{args.hosts} hosts x {args.pages} articles, {args.latency * 1000:.0f} ms a page, "
        f"CONCURRENT_REQUESTS={args.concurrency} a worker, {args.domain_delay} s between two "
        f"fetches of a host by all workers"
    )
    results = [run(int(n), bases, pg_base, args) for n in args.workers.split(",")]
    base = results[0]["pages_per_s"] or 1.0
    for result in results:
        result["speedup"] = round(result["pages_per_s"] / base, 2)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
