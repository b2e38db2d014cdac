"""Response times of the web UI (``morgue serve``) over 100,000 captures.

Fills a database as bench/query.py does (its data: corpus article texts over 400 hosts, a year,
all six verdicts; SQLite, and PostgreSQL when a URL is given), then times, through Starlette's
TestClient (the whole application: routing, the library's queries, templates, the security
headers; no network), each of these views, one random target per request:

- home: counts by verdict, recent captures, pages that died this week;
- search: a mid-frequency word, ranked, 50 results with highlighted snippets;
- capture: one capture's page;
- page: one page's timeline, text diff, listings and cited links.

    .venv/bin/python bench/serve.py [--captures 100000] [--runs 200]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--corpus DIR]

Prints the median and 95th percentile in milliseconds; the target is p95 <= 100 ms on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

# bench/query.py builds the data; this script runs from the repository or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import query as query_bench

from archive.db.engine import open_database
from archive.paths import DataPaths
from archive.web.app import create_app
from archive.web.state import WebSettings


def bench(
    data_dir: Path, db_url: str, articles: list[tuple[str, str]], args: argparse.Namespace
) -> None:
    db = open_database(db_url)
    try:
        started = time.perf_counter()
        urls = query_bench.fill(db, articles, args.captures)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        db.close()
    print(f"  filled {args.captures:,} captures in {time.perf_counter() - started:.0f} s")
    mid, _frequent = query_bench.word_pools(articles)
    rng = random.Random(5)
    app = create_app(WebSettings(DataPaths(data_dir, db_url), replay_url="http://127.0.0.1:9"))
    views = {
        "home": lambda: "/",
        "search": lambda: f"/search?q={rng.choice(mid)}",
        "capture": lambda: f"/captures/{rng.randint(1, args.captures)}",
        "page": lambda: f"/pages/{rng.randint(1, len(urls))}",
    }
    with TestClient(app) as client:
        for name, target in views.items():

            def one(target: object = target) -> None:
                response = client.get(target())  # type: ignore[operator]
                assert response.status_code == 200, (response.status_code, response.text[:200])

            p50, p95 = query_bench.timed(one, args.runs)
            flag = "" if p95 <= 100 else "  (over the 100 ms target)"
            print(f"  {name:<8} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("MORGUE_TEST_POSTGRES_URL"))
    parser.add_argument("--backends", default="sqlite,postgresql", help="which to run")
    parser.add_argument("--corpus", type=Path, help=f"default {query_bench.CORPUS}")
    args = parser.parse_args()
    if args.corpus:  # a git worktree sits one level deeper than the clone the default assumes
        query_bench.CORPUS = args.corpus
    articles = query_bench.load_articles()
    with tempfile.TemporaryDirectory(prefix="morgue-bench-serve-") as tmp:
        if "sqlite" in args.backends:
            print("SQLite")
            bench(Path(tmp), f"sqlite:///{tmp}/bench.sqlite3", articles, args)
        if "postgresql" in args.backends:
            if not args.postgres:
                print("PostgreSQL: skipped (no --postgres and no MORGUE_TEST_POSTGRES_URL)")
                return
            print("PostgreSQL")
            with query_bench.postgres_schema(args.postgres) as url:
                bench(Path(tmp), url, articles, args)


if __name__ == "__main__":
    main()
