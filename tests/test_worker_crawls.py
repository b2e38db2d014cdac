"""What a crawl asks of the workers besides its sources: a schedule that queues its crawl for them
(``schedule add ... -- --redis URL``), and ``--since``, ``--max-pages`` and ``--recrawl-after``
applied by workers as one process applies them (tests/test_crawl.py has the same checks there);
and a worker killed between a page's WARC records and its row, whose page another worker
fetched again, leaving no second capture. On the real Redis and PostgreSQL, with
``morgue worker`` processes on the mock news site.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.distributed.leases import QueueKeys, encode_entry
from archive.distributed.work_queue import WorkQueue, connect
from archive.warc.scan import ScannedRecord, scan
from tests.conftest import json_lines, run_morgue
from tests.mockserver import MockServer
from tests.mockserver.news import FEED_PATHS, NEWS
from tests.verified import assert_archive_verified
from tests.workers_fixture import REDIS_URL, Worker, captures, count_captures, frontier, wait_for
from tests.workers_fixture import redis_prefix as _redis_prefix

FERRY, LIBRARY, LIGHTS, FROST, BUDGET = (
    NEWS[slug].path
    for slug in ("ferry-returns", "library-hours", "market-lights", "orchard-frost", "budget-live")
)


@pytest.fixture
def prefix() -> Iterator[str]:
    yield from _redis_prefix()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3].split("?")[0]


def _enqueue(prefix: str, *args: str) -> str:
    proc = run_morgue(
        "crawl", "--redis", REDIS_URL, "--redis-prefix", prefix, "--format", "json", *args
    )
    assert proc.returncode == 0, proc.stderr
    crawls = {row["crawl"] for row in json_lines(proc.stdout)}
    assert len(crawls) == 1
    return str(crawls.pop())


def _wait_idle(prefix: str) -> None:
    """Until nothing is queued or leased: a lease is acknowledged only once what its page led
    to is queued, so an idle frontier is a finished crawl."""

    def idle() -> bool:
        state = frontier(REDIS_URL, prefix)
        return state["queued"] == 0 and state["in_flight"] == 0

    wait_for(idle, 180, "the workers to finish the crawl")


def test_max_pages_is_counted_in_the_push_script(prefix: str) -> None:
    """Whichever worker pushes a page, the crawl's count is one counter; pages the crawl has
    seen, and feeds or sitemaps (pushed without a cap), do not count."""
    queue = WorkQueue(connect(REDIS_URL), QueueKeys(prefix))
    try:

        def push(url: str, max_pages: int | None = 2) -> int:
            entry = encode_entry("c1", request={"url": url})
            return queue.push_new(entry, "c1", url, max_pages=max_pages)

        assert push("http://a.example/1") == 1
        assert push("http://a.example/1") == 0  # seen: not counted again
        assert push("http://a.example/feed.xml", max_pages=None) == 1
        assert push("http://b.example/2") == 1
        assert push("http://b.example/3") == -2  # the crawl has its two pages
        assert queue.queued() == 3
        assert int(queue.client.get(queue.keys.pages("c1")) or 0) == 2
        # Refused, not seen: another crawl, or a retry of this one, may still have it.
        assert not queue.client.sismember(queue.keys.seen("c1"), "http://b.example/3")
    finally:
        queue.client.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_scheduled_crawl_is_queued_and_a_worker_archives_it(
    tmp_path: Path, prefix: str, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"
    base = ("--data-dir", str(data_dir), "--db", postgres_url)
    pages = 30
    with MockServer() as site:
        add = run_morgue(
            *base, "schedule", "add", "spread", "--every", "1h", "--",
            "--redis", REDIS_URL, "--redis-prefix", prefix,
            "--feed", site.url(f"/news/many.xml?n={pages}"),
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        due = run_morgue(*base, "schedule", "run-due", "--format", "json")
        assert due.returncode == 0, due.stderr
        (outcome,) = json_lines(due.stdout)
        assert (outcome["name"], outcome["status"], outcome["queued"]) == ("spread", "enqueued", 1)
        # Queued, not crawled by the runner: the site has not been asked for anything.
        assert frontier(REDIS_URL, prefix)["queued"] == 1
        assert site.requests() == [] and count_captures(postgres_url) == 0
        worker = Worker(data_dir, postgres_url, REDIS_URL, prefix, "w1")
        try:
            _wait_idle(prefix)
            wire = {site.url(f"/articles/wire-{i}.html") for i in range(pages)}
            wait_for(
                lambda: wire <= {str(r["url"]) for r in captures(data_dir, postgres_url)},
                60,
                "every page of the scheduled crawl stored",
            )
        finally:
            summary = worker.stop()
    assert summary["pages"] >= pages
    rows = captures(data_dir, postgres_url)
    assert Counter(str(r["url"]) for r in rows) == Counter(wire)
    listed = run_morgue(*base, "schedule", "list", "--format", "json")
    (info,) = json_lines(listed.stdout)
    assert info["last_run"]["status"] == "enqueued"
    assert info["last_run"]["crawl"] == outcome["crawl"]


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_apply_since_max_pages_and_recrawl_after(
    tmp_path: Path, prefix: str, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"
    with MockServer() as site:
        worker = Worker(data_dir, postgres_url, REDIS_URL, prefix, "w1")
        try:
            # --since: entries older than the date are left out, and so is a sitemap whose
            # <lastmod> in the index is older (tests/test_crawl.py, in one process).
            _enqueue(
                prefix,
                "--sitemap", site.url("/sitemap_index.xml"),
                "--feed", site.url("/news/feed.xml"),
                "--since", "2026-11-01",
            )  # fmt: skip
            _wait_idle(prefix)
            first = captures(data_dir, postgres_url)
            assert {path_of(str(r["url"])) for r in first} == FEED_PATHS - {FROST}
            asked = [r["path"].split("?")[0] for r in site.requests()]
            assert "/sitemaps/archive.xml" not in asked

            # --max-pages: of the 40 articles the feed lists, 7 are fetched.
            _enqueue(prefix, "--feed", site.url("/news/many.xml?n=40"), "--max-pages", "7")
            _wait_idle(prefix)
            wire = [r for r in captures(data_dir, postgres_url) if "/articles/wire-" in r["url"]]
            assert len(wire) == 7

            # --recrawl-after: the same worker, which read this feed in the first crawl, fetches
            # its pages again, conditionally: an unchanged page becomes a revisit (304).
            site.clear_requests()
            _enqueue(prefix, "--feed", site.url("/news/feed.xml"), "--recrawl-after", "0")
            _wait_idle(prefix)
        finally:
            worker.stop()
        sent = {r["path"].split("?")[0]: r["headers"] for r in site.requests()}
    # BUDGET is listed by the feed only: fetched at the same URL both times (a page first
    # fetched at its sitemap URL and then at its feed URL is not written as a revisit).
    assert "If-None-Match" in sent[BUDGET]
    rows = captures(data_dir, postgres_url)
    by_path = Counter(path_of(str(r["url"])) for r in rows if "/articles/" not in r["url"])
    # Each page the first crawl stored twice now; the one --since left out, once.
    assert by_path == {**{p: 2 for p in FEED_PATHS - {FROST}}, FROST: 1}
    newest = next(r for r in rows if path_of(str(r["url"])) == BUDGET)  # newest first
    assert newest["http_status"] == 304
    earlier = next(r for r in first if path_of(str(r["url"])) == BUDGET)
    assert newest["payload_digest"] == earlier["payload_digest"]
    assert newest["text_chars"] == earlier["text_chars"] > 0


def _workers_seen(prefix: str) -> set[str]:
    return {str(w["worker"]) for w in frontier(REDIS_URL, prefix)["workers"]}


def _page_responses(data_dir: Path) -> Counter[str]:
    """Response records of the wire pages in every WARC file, by URL."""
    found: Counter[str] = Counter()
    for path in sorted((data_dir / "warcs").glob("*.warc.gz*")):
        for item in scan(path, digests=False):
            if isinstance(item, ScannedRecord) and item.rec_type == "response":
                url = item.target_uri or ""
                if "/articles/wire-" in url:
                    found[url] += 1
    return found


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_between_warc_write_and_commit_leaves_no_second_capture(
    tmp_path: Path, prefix: str, postgres_url: str
) -> None:
    data_dir = tmp_path / "data"  # shared storage: the next worker there finds w1's records
    pages = 40
    with MockServer() as site:
        # w2 starts first, so that its start-up recovery is over before w1 writes anything:
        # only a worker started after w1's death looks at what w1 left.
        survivor = Worker(data_dir, postgres_url, REDIS_URL, prefix, "w2")
        wait_for(lambda: "w2" in _workers_seen(prefix), 120, "w2 to take requests")
        doomed = Worker(
            data_dir, postgres_url, REDIS_URL, prefix, "w1",
            "-s", "STORE_TEST_DIE_BEFORE_COMMIT=/articles/wire-",
        )  # fmt: skip
        wait_for(lambda: "w1" in _workers_seen(prefix), 120, "w1 to take requests")
        _enqueue(prefix, "--feed", site.url(f"/news/many.xml?n={pages}"))
        wait_for(lambda: doomed.proc.poll() is not None, 120, "w1 to die at its first page")
        assert doomed.proc.returncode == -9  # SIGKILL, the whole worker
        _wait_idle(prefix)  # w1's leases ran out, and w2 fetched its pages again
        wire = {site.url(f"/articles/wire-{i}.html") for i in range(pages)}
        wait_for(
            lambda: wire <= {str(r["url"]) for r in captures(data_dir, postgres_url)},
            60,
            "every page stored by w2",
        )
        survivor.stop()
        # The pages w1 wrote and never stored: fetched twice, so two response records each.
        written = _page_responses(data_dir)
        twice = {url for url, n in written.items() if n > 1}
        assert twice, "w1 wrote no page before it died"
        # The next worker on this data dir recovers what w1 left.
        after = Worker(data_dir, postgres_url, REDIS_URL, prefix, "w3")
        wait_for(lambda: "w3" in _workers_seen(prefix), 120, "w3 to take requests")
        after.stop()
    rows = captures(data_dir, postgres_url)
    counts = Counter(str(r["url"]) for r in rows)
    assert {url: n for url, n in counts.items() if n > 1} == {}
    assert set(counts) == wire
    output = after.output.read_text(encoding="utf-8", errors="replace")
    assert "left unindexed (superseded)" in output, output
    assert not list(data_dir.glob("warcs/*.open"))
    # verify, over the same files, finds nothing amiss: the orphans are not "unstored" either.
    assert_archive_verified(data_dir, postgres_url)
