"""Query speed at scale: filters, full-text search and history over 100,000 captures.

Fills a fresh database (SQLite, and PostgreSQL when a URL is given) with captures whose titles
and texts are taken from the article bodies of ../shared/corpus (a window of each body, so that
no two captures are the same), spread over 400 hosts, a year and all six verdicts. Then times,
through archive.query.capture_query as the CLI calls it:

- filter: a verdict and a domain, or two dead verdicts and a recent date range (100 rows);
- full-text: a word found in 0.5-10 % of the articles, or a two-word phrase from one of them,
  ranked, 20 rows, with highlighted snippets (what ``morgue query --search`` shows);
- full-text, frequent word: a word found in over 30 % of the articles (the slow case);
- history: every capture of one page, with what changed.

    .venv/bin/python bench/query.py [--captures 100000] [--runs 200]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

PostgreSQL is used when ``--postgres`` or ``MORGUE_TEST_POSTGRES_URL`` names a server; the
benchmark works in a schema of its own and drops it at the end. Both databases are ANALYZEd
after filling. Times are wall-clock per query through the library (SQL, ORM objects, snippets),
after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from archive.db.engine import Database, open_database
from archive.db.models import Capture, Page
from archive.query.capture_query import CaptureQuery, page_history, run_query

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
VERDICTS = [
    ("ok", "http_200", 200, 0.85),
    ("not_found", "http_404", 404, 0.06),
    ("soft_404", "error_stub", 200, 0.03),
    ("blocked", "http_403", 403, 0.03),
    ("server_error", "http_503", 503, 0.02),
    ("unreachable", "dns", None, 0.01),
]
HOSTS = 400
NOW = datetime(2026, 6, 1, tzinfo=UTC)
_WORD = re.compile(r"[^\W\d_]{4,}")


def load_articles() -> list[tuple[str, str]]:
    """(title, body) of every corpus page whose manifest gives the article body."""
    manifest = CORPUS / "manifest.jsonl"
    if not manifest.exists():
        raise SystemExit(f"the corpus is not at {CORPUS}")
    articles = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        body = entry.get("body")
        if body and len(body) > 400:
            title = entry.get("title") or " ".join(body.split()[:8])
            articles.append((title, body))
    return articles


def word_pools(articles: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Words found in 0.5-10 % of the articles, and words found in over 30 % of them."""
    df: Counter[str] = Counter()
    for _title, body in articles:
        df.update({w.lower() for w in _WORD.findall(body)})
    n = len(articles)
    mid = sorted(w for w, c in df.items() if 0.005 * n <= c <= 0.10 * n)
    frequent = sorted(w for w, c in df.items() if c > 0.30 * n)
    return mid, frequent


def fill(db: Database, articles: list[tuple[str, str]], captures: int, seed: int = 7) -> list[str]:
    """Store ``captures`` captures in about captures/2.5 pages; returns the page URLs."""
    rng = random.Random(seed)
    hosts = [f"news{i:03d}.example" for i in range(HOSTS)]
    n_pages = int(captures / 2.5)
    page_rows = []
    urls = []
    for i in range(n_pages):
        host = hosts[i % HOSTS]
        url = f"https://{host}/{2025 + i % 2}/{i:06d}/story-{i}"
        urls.append(url)
        first = NOW - timedelta(days=rng.uniform(0, 365))
        state = rng.choices(["alive", "dead_suspected", "dead_confirmed"], [0.9, 0.06, 0.04])[0]
        page_rows.append(
            {
                "id": i + 1, "url": url, "original_url": url, "host": host,
                "first_seen_at": first, "last_captured_at": first, "state": state,
                "dead_since": first if state != "alive" else None,
            }
        )  # fmt: skip
    weights = [w for *_rest, w in VERDICTS]
    capture_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with db.session() as session:
            session.execute(insert(Capture), capture_rows)
        capture_rows.clear()

    with db.session() as session:
        for start in range(0, len(page_rows), 5000):
            session.execute(insert(Page), page_rows[start : start + 5000])
    for k in range(captures):
        page = page_rows[k % n_pages] if k < n_pages else page_rows[rng.randrange(n_pages)]
        verdict, reason, status, _w = rng.choices(VERDICTS, weights)[0]
        title, body = articles[rng.randrange(len(articles))]
        live = verdict == "ok"
        if live:
            size = rng.randint(1200, 4000)
            start = rng.randrange(max(1, len(body) - size))
            article = body[start : start + size]
        else:
            article = None
        capture_rows.append(
            {
                "page_id": page["id"], "url": page["url"], "final_url": page["url"],
                "fetched_at": page["first_seen_at"] + timedelta(days=rng.uniform(0, 60)),
                "http_status": status, "verdict": verdict, "reason": reason,
                "title": title if live else "Page not found", "text": article,
                "text_chars": len(article or ""), "language": "en",
                "warc_file": "bench.warc.gz", "warc_offset": k * 4000, "warc_length": 3900,
            }
        )  # fmt: skip
        if len(capture_rows) >= 5000:
            flush()
    if capture_rows:
        flush()
    return urls


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    fn()  # warm the caches once
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[94]


def bench(db: Database, articles: list[tuple[str, str]], args: argparse.Namespace) -> None:
    started = time.perf_counter()
    urls = fill(db, articles, args.captures)
    print(f"  filled {args.captures:,} captures in {time.perf_counter() - started:.0f} s")
    # Planner statistics, as PostgreSQL's autovacuum gathers them and SQLite's ANALYZE (or
    # PRAGMA optimize) does on request.
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    rng = random.Random(11)
    mid, frequent = word_pools(articles)
    hosts = sorted({url.split("/")[2] for url in urls})

    def filter_query() -> object:
        if rng.random() < 0.5:
            q = CaptureQuery(
                verdicts=(rng.choice(["ok", "not_found", "soft_404"]),),
                domains=(rng.choice(hosts),),
                limit=100,
            )
        else:
            since = NOW - timedelta(days=rng.randint(30, 200))
            q = CaptureQuery(
                verdicts=("not_found", "soft_404"),
                since=since,
                until=since + timedelta(days=30),
                limit=100,
            )
        return run_query(db, q)

    def phrase() -> str:
        words: list[str] = []
        while len(words) < 2:
            _title, body = articles[rng.randrange(len(articles))]
            words = _WORD.findall(body)
        i = rng.randrange(len(words) - 1)
        return f'"{" ".join(words[i : i + 2])}"'

    def search_query() -> object:
        words = rng.choice(mid) if rng.random() < 0.7 else phrase()
        return run_query(db, CaptureQuery(search=words, limit=20, snippets=True))

    def frequent_query() -> object:
        return run_query(db, CaptureQuery(search=rng.choice(frequent), limit=20, snippets=True))

    def history() -> object:
        return page_history(db, rng.choice(urls))

    print(f"  {'query':<28} {'p50 ms':>8} {'p95 ms':>8}")
    for name, fn in (
        ("filter", filter_query),
        ("full-text", search_query),
        ("full-text, frequent word", frequent_query),
        ("history", history),
    ):
        p50, p95 = timed(fn, args.runs)
        print(f"  {name:<28} {p50:>8.1f} {p95:>8.1f}")


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("MORGUE_TEST_POSTGRES_URL"))
    parser.add_argument("--backends", default="sqlite,postgresql", help="which to run")
    args = parser.parse_args()
    articles = load_articles()
    mid, frequent = word_pools(articles)
    print(
        f"{len(articles)} corpus articles; {len(mid)} mid-frequency and "
        f"{len(frequent)} frequent search words"
    )
    if "sqlite" in args.backends:
        sqlite(args, articles)
    if "postgresql" in args.backends:
        postgres(args, articles)


def sqlite(args: argparse.Namespace, articles: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="morgue-bench-") as tmp:
        print("SQLite")
        db = open_database(f"sqlite:///{tmp}/bench.sqlite3")
        try:
            bench(db, articles, args)
        finally:
            db.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"  database files: {size / 1e6:.0f} MB")


def postgres(args: argparse.Namespace, articles: list[tuple[str, str]]) -> None:
    if args.postgres:
        print("PostgreSQL")
        with postgres_schema(args.postgres) as url:
            db = open_database(url)
            try:
                bench(db, articles, args)
            finally:
                db.close()
    else:
        print("PostgreSQL: skipped (no --postgres and no MORGUE_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
