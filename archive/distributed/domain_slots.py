"""Politeness across workers: one start per host and delay, whichever worker fetches.

Each worker still keeps Scrapy's own per-domain delay and concurrency; this adds the gate that
holds across workers: a key per host holding the time the next fetch of it may start. A worker
that finds the time in the future waits that long and asks again; one that finds it past sets
it one delay ahead, in the same script, so two workers never start on a host together.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from archive.distributed.leases import QueueKeys

if TYPE_CHECKING:
    import redis

__all__ = ["DomainSlots"]

_GATE = """
local now = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return nxt - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
return 0
"""


class DomainSlots:
    def __init__(self, client: redis.Redis, keys: QueueKeys, delay_s: float) -> None:
        self.client = client
        self.prefix = f"{keys.prefix}:gate:"
        self.delay_ms = int(delay_s * 1000)
        self.round_trips = 0
        self._gate = client.register_script(_GATE)

    def wait_s(self, host: str, now: float | None = None) -> float:
        """0 when this worker may start on ``host`` now (and has taken the slot), else the
        seconds to wait before asking again."""
        now_ms = int((time.time() if now is None else now) * 1000)
        self.round_trips += 1
        wait = int(self._gate(keys=[self.prefix + host], args=[now_ms, self.delay_ms]))
        return wait / 1000
