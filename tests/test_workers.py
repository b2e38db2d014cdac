"""Distributed crawling: ``morgue worker``s sharing a Redis frontier and a PostgreSQL database.

The leases, seen sets and re-queues of ``archive.distributed.work_queue`` on the real Redis first
(deadlines given, never waited for); then real workers on the mock news site: three of them, one
killed with SIGKILL mid-crawl and one joining late, and a Redis stopped and started again under
a working worker.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.distributed.leases import QueueKeys, decode_entry, encode_entry
from archive.distributed.work_queue import WorkQueue, connect
from crawler.redis_frontier.json_codec import plain, unplain
from tests.conftest import run_morgue
from tests.mockserver import MockServer
from tests.verified import assert_archive_verified
from tests.workers_fixture import (
    REDIS_URL,
    RedisServer,
    Worker,
    captures,
    count_captures,
    frontier,
    wait_for,
)
from tests.workers_fixture import redis_prefix as _redis_prefix

WIRE_PAGES = 500


@pytest.fixture
def prefix() -> Iterator[str]:
    yield from _redis_prefix()


@pytest.fixture
def queue(prefix: str) -> Iterator[WorkQueue]:
    work = WorkQueue(connect(REDIS_URL), QueueKeys(prefix), lease_s=10, max_tries=2, seen_cap=3)
    yield work
    work.client.close()


# -- the queue itself --------------------------------------------------------------------------


def test_request_bytes_survive_json() -> None:
    from scrapy import Request
    from scrapy.utils.request import request_from_dict

    request = Request(
        "http://news.example/a", headers={"If-None-Match": '"é1"'}, body=b"\xff\x00", meta={"k": 1}
    )
    data = json.loads(json.dumps(plain(request.to_dict())))
    again = request_from_dict(unplain(data))
    assert again.headers.getlist("If-None-Match") == request.headers.getlist("If-None-Match")
    assert (again.body, again.meta, again.url) == (b"\xff\x00", {"k": 1}, request.url)


def _pop(queue: WorkQueue, worker: str, now: float | None = None) -> str | None:
    member, _ = queue.pop(worker, now=now)
    return member


def test_pop_leases_and_ack_releases(queue: WorkQueue) -> None:
    entry = encode_entry("c1", seed={"kind": "url", "url": "http://news.example/a"})
    assert queue.push_new(entry, "c1", "fp-a", now=1000.0) == 1
    assert queue.push_new(encode_entry("c1", seed={"kind": "url", "url": "x"}), "c1", "fp-a") == 0
    assert queue.queued() == 1
    member = _pop(queue, "w1", now=1000.0)
    assert member == entry
    assert queue.pop("w1", now=1000.0) == (None, -1.0)  # one entry, leased: not given twice
    assert queue.client.zscore(queue.keys.leases("w1"), member) == 1010_000
    assert queue.ack("w1", member)
    assert queue.client.zcard(queue.keys.leases("w1")) == 0
    assert queue.queued() == 0


def test_one_host_waits_its_turn_while_others_are_served(queue: WorkQueue) -> None:
    queue.delay_ms = 2000
    for url in ["http://a.example/1", "http://a.example/2", "http://b.example:8080/1"]:
        queue.push_new(encode_entry("c1", request={"url": url}), "c1", url, now=1000.0)
    first = decode_entry(_pop(queue, "w1", now=1000.0) or "")
    second = decode_entry(_pop(queue, "w2", now=1000.5) or "")
    assert (first.host, second.host) == ("a.example", "b.example:8080")
    # a.example's second page: not before two seconds after its first, whichever worker asks.
    assert queue.pop("w2", now=1001.0) == (None, 1.0)
    third = _pop(queue, "w1", now=1002.6)
    assert third is not None and decode_entry(third).host == "a.example"


def test_expired_lease_comes_back_with_a_try_then_goes_dead(queue: WorkQueue) -> None:
    entry = encode_entry("c1", seed={"kind": "url", "url": "http://news.example/a"})
    queue.push_new(entry, "c1", "", now=1000.0)
    queue.renew("w1", {"beat": 0})
    member = _pop(queue, "w1", now=1000.0)
    assert member is not None
    assert queue.requeue_expired(now=1005.0) == (0, 0)  # within its lease
    queue.renew("w1", {"beat": 1}, now=1008.0)  # the heartbeat pushes the deadline on
    assert queue.requeue_expired(now=1015.0) == (0, 0)
    assert queue.requeue_expired(now=1019.0) == (1, 0)  # its worker died
    again = _pop(queue, "w2", now=1020.0)
    assert again is not None and decode_entry(again).tries == 1
    assert decode_entry(again).job == decode_entry(entry).job
    assert queue.requeue_expired(now=1031.0) == (1, 0)
    _pop(queue, "w2", now=1040.0)
    assert queue.requeue_expired(now=1051.0) == (0, 1)  # max_tries=2: out of tries
    assert queue.client.llen(queue.keys.dead) == 1
    assert queue.queued() == 0


def test_follow_up_replaces_its_lease_and_skips_the_seen_set(queue: WorkQueue) -> None:
    queue.push_new(encode_entry("c1", seed={"kind": "url", "url": "http://a.example/"}), "c1", "a")
    member = _pop(queue, "w1")
    assert member is not None
    retry = encode_entry(
        "c1", request={"url": "http://a.example/"}, tries=decode_entry(member).tries
    )
    queue.push_follow_up("w1", member, retry)
    assert queue.client.zcard(queue.keys.leases("w1")) == 0
    assert _pop(queue, "w1") == retry


def test_seen_set_is_capped_and_expires(queue: WorkQueue) -> None:
    results = [queue.push_new(encode_entry("c1", request={"url": u}), "c1", u) for u in "abcd"]
    assert results == [1, 1, 1, -1]  # seen_cap=3
    assert 0 < queue.client.ttl(queue.keys.seen("c1")) <= queue.seen_ttl_s
    assert queue.push_new(encode_entry("c2", request={"url": "a"}), "c2", "a") == 1  # per crawl


def test_release_hands_back_without_a_try(queue: WorkQueue) -> None:
    queue.push_new(encode_entry("c1", seed={"kind": "url", "url": "http://a.example/"}), "c1", "")
    _pop(queue, "w1")
    assert queue.release("w1", count_try=False) == (1, 0)
    member = _pop(queue, "w2")
    assert member is not None and decode_entry(member).tries == 0


def test_a_lease_whose_pop_answer_was_lost_is_handed_back(queue: WorkQueue) -> None:
    for url in ("http://a.example/1", "http://a.example/2", "http://b.example/1"):
        queue.push_new(encode_entry("c1", request={"url": url}, tries=1), "c1", url)
    known = _pop(queue, "w1")
    lost = _pop(queue, "w1")  # popped in Redis; its answer never reached the worker
    other = _pop(queue, "w2")
    assert known and lost and other
    assert queue.hand_back_unknown("w1", {known}) == 1
    assert queue.client.zrange(queue.keys.leases("w1"), 0, -1) == [known]
    assert queue.client.zrange(queue.keys.leases("w2"), 0, -1) == [other]  # not w1's to touch
    assert queue.queued() == 1
    assert _pop(queue, "w3") == lost  # back at its host's head, its tries as they were
    assert queue.hand_back_unknown("w1", {known}) == 0


# -- the commands ------------------------------------------------------------------------------


def test_archive_redis_queues_and_workers_reports(prefix: str) -> None:
    urls = ["http://127.0.0.1:9/a.html", "http://127.0.0.1:9/b.html"]
    proc = run_morgue(
        "archive", "--redis", REDIS_URL, "--redis-prefix", prefix, "--format", "json", *urls
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(row["kind"], row["url"]) for row in rows] == [("url", url) for url in urls]
    assert len({row["crawl"] for row in rows}) == 1
    state = frontier(REDIS_URL, prefix)
    assert (state["queued"], state["in_flight"], state["workers"]) == (2, 0, [])
    table = run_morgue("workers", "--redis", REDIS_URL, "--redis-prefix", prefix)
    assert table.returncode == 0 and "queued 2" in table.stdout


def test_worker_without_redis_says_so_in_one_line(tmp_path: Path) -> None:
    port = RedisServer(tmp_path).port  # free, nothing listening
    proc = run_morgue(
        "--data-dir", str(tmp_path / "d"), "worker", "--redis", f"redis://127.0.0.1:{port}/0"
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach Redis at redis://127.0.0.1:{port}/0" in lines[0]


# -- workers on the mock site ------------------------------------------------------------------


def _enqueue(redis_url: str, prefix: str, *sources: str) -> None:
    proc = run_morgue(
        "crawl", "--redis", redis_url, "--redis-prefix", prefix, "--format", "json", *sources
    )
    assert proc.returncode == 0, proc.stderr


def _assert_each_page_once(rows: list[dict[str, object]]) -> None:
    counts = Counter(str(row["url"]) for row in rows)
    twice = {url: n for url, n in counts.items() if n > 1}
    assert not twice, f"pages archived more than once: {twice}"


@pytest.mark.slow
@pytest.mark.postgres
def test_three_workers_one_killed_one_late(tmp_path: Path, prefix: str, postgres_url: str) -> None:
    data_dir = tmp_path / "data"  # shared storage: every worker's WARC files side by side
    with MockServer() as site:
        wire = [site.url(f"/articles/wire-{i}.html") for i in range(WIRE_PAGES)]
        first = [Worker(data_dir, postgres_url, REDIS_URL, prefix, f"w{i}") for i in (1, 2)]
        _enqueue(
            REDIS_URL,
            prefix,
            "--feed", site.url(f"/news/many.xml?n={WIRE_PAGES}"),
            "--sitemap", site.url("/sitemap_index.xml"),
        )  # fmt: skip

        def w1_working() -> bool:
            open_file = list(data_dir.glob("warcs/*~w1.warc.gz.open"))
            return bool(open_file) and count_captures(postgres_url) >= 60

        wait_for(w1_working, 180, "60 pages stored, w1 among the writers")
        doomed = first[0]
        doomed.kill()  # mid-crawl: leases held, a WARC file left .open
        left_open = list(data_dir.glob("warcs/*~w1.warc.gz.open"))
        assert left_open, "the killed worker left no open WARC file"
        late = Worker(data_dir, postgres_url, REDIS_URL, prefix, "w3")

        def done() -> bool:
            state = frontier(REDIS_URL, prefix)
            stored = {str(row["url"]) for row in captures(data_dir, postgres_url)}
            return state["queued"] == 0 and state["in_flight"] == 0 and set(wire) <= stored

        wait_for(done, 240, "every wire page stored and nothing queued or leased")
        state = frontier(REDIS_URL, prefix)
        summaries = [worker.stop() for worker in (first[1], late)]
    rows = captures(data_dir, postgres_url)
    _assert_each_page_once(rows)
    assert set(wire) <= {str(row["url"]) for row in rows}
    assert state["dead"] == 0
    assert {w["worker"]: w["state"] for w in state["workers"]}.keys() == {"w1", "w2", "w3"}
    # The late worker shared the work; every worker's files carry its id.
    assert all(summary["pages"] > 0 for summary in summaries), summaries
    assert {str(row["warc_file"]).rsplit("~", 1)[-1] for row in rows} <= {
        "w1.warc.gz",
        "w2.warc.gz",
        "w3.warc.gz",
    }
    # The late worker, starting on the same data dir, finalised the dead one's open file.
    for path in left_open:
        assert not path.exists()
        assert path.with_suffix("").exists()
    assert not list(data_dir.glob("warcs/*.open"))
    assert_archive_verified(data_dir, postgres_url)


@pytest.mark.slow
@pytest.mark.postgres
def test_redis_restarted_under_a_worker(tmp_path: Path, postgres_url: str) -> None:
    data_dir = tmp_path / "data"
    pages = 150
    with MockServer() as site, RedisServer(tmp_path / "redis") as redis_server:
        worker = Worker(data_dir, postgres_url, redis_server.url, "r", "w1")
        _enqueue(redis_server.url, "r", "--feed", site.url(f"/news/many.xml?n={pages}"))
        wait_for(lambda: count_captures(postgres_url) >= 20, 180, "20 pages stored")
        redis_server.stop()
        message = "does not answer"
        wait_for(lambda: message in worker.logs(), 60, "the worker to notice Redis is gone")
        assert worker.proc.poll() is None, "the worker must wait for Redis, not exit"
        redis_server.start()
        wait_for(
            lambda: count_captures(postgres_url) >= pages,
            240,
            f"{pages} pages stored",
            worker.log_tail,
        )
        wait_for(lambda: "answers again" in worker.logs(), 60, "the worker to resume")
        summary = worker.stop()
    logs = worker.logs()
    assert logs.count(message) == 1, "one message per outage"
    assert summary["status"] == "interrupted"
    rows = captures(data_dir, postgres_url)
    _assert_each_page_once(rows)
    wire = {site.url(f"/articles/wire-{i}.html") for i in range(pages)}
    assert wire <= {str(row["url"]) for row in rows}


def test_worker_ids_name_their_files(tmp_path: Path) -> None:
    from archive.warc.records import WarcWriter

    writer = WarcWriter.from_settings(tmp_path, {"WARC_HOSTNAME": "rack2.w7"})
    assert writer.host_tag().endswith("~rack2.w7")
    writer.close()


def test_worker_is_in_the_command_list() -> None:
    proc = run_morgue("--help")
    assert proc.returncode == 0 and " worker " in proc.stdout and " workers " in proc.stdout
