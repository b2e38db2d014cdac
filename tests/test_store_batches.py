"""The store thread: captures that wait together are committed together, a bad one alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from crawler.items import FetchedPage
from pipelines.store import _Batcher

WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def _page(i: int) -> FetchedPage:
    return FetchedPage(url=f"http://news.test/{i}", fetched_at=WHEN)


class _Fake:
    """prepare/save stand-ins recording their calls; the first save waits until released."""

    def __init__(self, bad: str | None = None) -> None:
        self.prepared: list[str] = []
        self.saves: list[list[str]] = []
        self.release = threading.Event()
        self.saving = threading.Event()  # the first save has begun
        self.bad = bad

    def prepare(self, item: FetchedPage) -> list[Any]:
        self.prepared.append(item.url)
        return [item.url]

    def save(self, records: list[Any]) -> None:
        if not self.saves:
            self.saving.set()
            self.release.wait(10)
        self.saves.append(list(records))
        if self.bad in records:
            raise ValueError(f"cannot store {self.bad}")


def test_captures_waiting_together_share_one_commit() -> None:
    fake = _Fake()
    batcher = _Batcher(fake.prepare, fake.save, max_batch=100)
    first = batcher.submit(_page(0))
    assert fake.saving.wait(10)
    rest = [batcher.submit(_page(i)) for i in range(1, 6)]  # queued while the first is stored
    fake.release.set()
    for future in [first, *rest]:
        assert future.result(timeout=10) is None
    batcher.close()
    assert fake.saves == [["http://news.test/0"], [f"http://news.test/{i}" for i in range(1, 6)]]


def test_batches_are_cut_at_max_batch() -> None:
    fake = _Fake()
    batcher = _Batcher(fake.prepare, fake.save, max_batch=2)
    futures = [batcher.submit(_page(i)) for i in range(5)]
    fake.release.set()
    for future in futures:
        future.result(timeout=10)
    batcher.close()
    assert all(len(batch) <= 2 for batch in fake.saves)
    assert [url for batch in fake.saves for url in batch] == [
        f"http://news.test/{i}" for i in range(5)
    ]


def test_a_bad_capture_fails_alone_and_is_prepared_once() -> None:
    fake = _Fake(bad="http://news.test/3")
    batcher = _Batcher(fake.prepare, fake.save, max_batch=100)
    first = batcher.submit(_page(0))
    assert fake.saving.wait(10)
    rest = [batcher.submit(_page(i)) for i in range(1, 6)]
    fake.release.set()
    first.result(timeout=10)
    for i, future in enumerate(rest, start=1):
        if i == 3:
            with pytest.raises(ValueError, match="cannot store"):
                future.result(timeout=10)
        else:
            assert future.result(timeout=10) is None
    batcher.close()
    # Each item's metadata records are written once, even when its batch is stored again.
    assert sorted(fake.prepared) == sorted(f"http://news.test/{i}" for i in range(6))
    assert [f"http://news.test/{i}" for i in range(1, 6)] in fake.saves  # tried together first
    assert ["http://news.test/3"] in fake.saves  # then alone


def test_close_stores_what_is_queued() -> None:
    fake = _Fake()
    fake.release.set()
    batcher = _Batcher(fake.prepare, fake.save, max_batch=100)
    futures = [batcher.submit(_page(i)) for i in range(3)]
    batcher.close()
    assert all(f.done() and f.exception() is None for f in futures)
