"""The Redis operations of the shared frontier, each one round trip (a Lua script where it
must be atomic).

- ``push_new``: a request a worker found, queued unless its crawl has seen its fingerprint
  (the seen set's add, expiry and cap in the same script, so no two workers queue one URL).
- ``push_follow_up``: a redirect or retry of a leased request: queued without the seen check,
  and the lease it replaces released in the same script, so the work is never held twice nor
  dropped in between.
- ``pop``: the oldest entry, moved into this worker's lease set (scored by deadline) at once.
- ``ack``: the entry is done (its capture stored or its failure recorded).
- ``renew``: the heartbeat: every lease of this worker pushed back, its status written.
- ``requeue_expired``: any worker's leases past their deadline go back to the head of the queue
  with one more try; past ``max_tries`` they go to the dead letter list instead.

Leases of all workers are found through the workers hash, so the scripts touch keys they were
not passed: fine on one Redis server (what this is for), not on Redis Cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from archive.distributed.leases import QueueKeys, deadline_ms

if TYPE_CHECKING:
    import redis

__all__ = ["PushResult", "WorkQueue", "connect"]

_PUSH_NEW = """
if ARGV[1] ~= '' then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
"""

_FOLLOW_UP = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
"""

# The worker is named in the workers hash too (if its heartbeat has not yet): the re-queue
# finds lease sets through it.
_POP = """
local m = redis.call('RPOP', KEYS[1])
if not m then return false end
redis.call('ZADD', KEYS[2], ARGV[1], m)
redis.call('HSETNX', KEYS[3], ARGV[2], '{}')
return m
"""

_RENEW = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], m) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return #members
"""

# Expired leases of every worker (or of one, ARGV[4], whatever their deadline: a worker that
# starts again under its old id, or stops, hands back what it held) go back to the queue's
# head; ARGV[5] = 1 raises their tries (a lease that ran out), 0 keeps them (handed back).
_REQUEUE = """
local workers
if ARGV[4] ~= '' then workers = {ARGV[4]} else workers = redis.call('HKEYS', KEYS[2]) end
local requeued, dead = 0, 0
for _, w in ipairs(workers) do
  local zkey = ARGV[2] .. w
  local expired
  if ARGV[4] ~= '' then
    expired = redis.call('ZRANGE', zkey, 0, -1)
  else
    expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', ARGV[1])
  end
  for _, m in ipairs(expired) do
    redis.call('ZREM', zkey, m)
    local sp = string.find(m, ' ', 1, true)
    local tries = tonumber(string.sub(m, 1, sp - 1)) + tonumber(ARGV[5])
    local entry = tostring(tries) .. string.sub(m, sp)
    if tries > tonumber(ARGV[3]) then
      redis.call('LPUSH', KEYS[3], entry)
      dead = dead + 1
    else
      redis.call('RPUSH', KEYS[1], entry)
      requeued = requeued + 1
    end
  end
end
return {requeued, dead}
"""

PushResult = int  # 1 queued, 0 seen before, -1 the crawl's seen set is full


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A client of the Redis at ``url`` (``redis://HOST:6379/0``) that answers in ``str``."""
    import redis

    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
    )


class WorkQueue:
    """The frontier under ``keys`` on the Redis ``client``; ``round_trips`` counts the calls."""

    def __init__(
        self,
        client: redis.Redis,
        keys: QueueKeys,
        *,
        lease_s: float = 60.0,
        max_tries: int = 3,
        seen_ttl_s: int = 7 * 86400,
        seen_cap: int = 10_000_000,
    ) -> None:
        self.client = client
        self.keys = keys
        self.lease_s = lease_s
        self.max_tries = max_tries
        self.seen_ttl_s = seen_ttl_s
        self.seen_cap = seen_cap
        self.round_trips = 0
        self._push_new = client.register_script(_PUSH_NEW)
        self._follow_up = client.register_script(_FOLLOW_UP)
        self._pop = client.register_script(_POP)
        self._renew = client.register_script(_RENEW)
        self._requeue = client.register_script(_REQUEUE)

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        self.round_trips += 1
        return script(keys=keys, args=args)

    def push_new(self, entry: str, crawl: str, fingerprint: str) -> PushResult:
        """Queue ``entry`` unless ``crawl`` has seen ``fingerprint`` ('' queues it anyway)."""
        keys = [self.keys.queue, self.keys.seen(crawl)]
        args = [fingerprint, entry, self.seen_ttl_s, self.seen_cap]
        return int(self._call(self._push_new, keys, args))

    def push_follow_up(self, worker: str, replaced: str, entry: str) -> None:
        self._call(self._follow_up, [self.keys.queue, self.keys.leases(worker)], [replaced, entry])

    def pop(self, worker: str, now: float | None = None) -> str | None:
        deadline = deadline_ms(time.time() if now is None else now, self.lease_s)
        keys = [self.keys.queue, self.keys.leases(worker), self.keys.workers]
        member = self._call(self._pop, keys, [deadline, worker])
        return str(member) if member else None

    def ack(self, worker: str, member: str) -> bool:
        self.round_trips += 1
        return bool(self.client.zrem(self.keys.leases(worker), member))

    def renew(self, worker: str, status: dict[str, Any], now: float | None = None) -> int:
        """Push back every lease of ``worker``; returns how many it holds."""
        deadline = deadline_ms(time.time() if now is None else now, self.lease_s)
        keys = [self.keys.leases(worker), self.keys.workers]
        return int(self._call(self._renew, keys, [deadline, worker, json.dumps(status)]))

    def requeue_expired(self, now: float | None = None) -> tuple[int, int]:
        """(re-queued, dead) among every worker's leases past their deadline."""
        now_ms = int((time.time() if now is None else now) * 1000)
        return self._requeue_call(now_ms, "", 1)

    def release(self, worker: str, *, count_try: bool) -> tuple[int, int]:
        """Hand back every lease of ``worker`` (stopping, or starting again after a crash)."""
        return self._requeue_call(0, worker, 1 if count_try else 0)

    def _requeue_call(self, now_ms: int, worker: str, add: int) -> tuple[int, int]:
        keys = [self.keys.queue, self.keys.workers, self.keys.dead]
        args = [now_ms, self.keys.lease_prefix, self.max_tries, worker, add]
        requeued, dead = self._call(self._requeue, keys, args)
        return int(requeued), int(dead)

    def register_crawl(self, crawl: str, spec: dict[str, Any]) -> None:
        self.round_trips += 1
        self.client.hset(self.keys.crawls, crawl, json.dumps(spec))

    def crawl_spec(self, crawl: str) -> dict[str, Any] | None:
        self.round_trips += 1
        raw = self.client.hget(self.keys.crawls, crawl)
        return json.loads(raw) if raw else None

    def forget_workers(self, workers: Iterable[str]) -> None:
        names = list(workers)
        if names:
            self.client.hdel(self.keys.workers, *names)
