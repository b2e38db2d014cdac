"""The Redis operations of the shared frontier, each one round trip (a Lua script where it
must be atomic).

- ``push_new``: a request a worker found, queued unless its crawl has seen its fingerprint
  (the seen set's add, expiry and cap in the same script, so no two workers queue one URL);
  a page of a crawl with ``--max-pages`` is counted in the same script, and refused once the
  crawl has queued that many, whichever workers queued them.
- ``push_follow_up``: a redirect or retry of a leased request: queued without the seen check,
  and the lease it replaces released in the same script, so the work is never held twice nor
  dropped in between.
- ``pop``: the oldest entry of a host whose turn has come, moved into this worker's lease set
  (scored by deadline) at once, and the host's next turn set ``delay_s`` ahead: one queue per
  host, so that the delay between two fetches of a host holds across workers, and a worker
  never waits on one host while others have work.
- ``ack``: the entry is done (its capture stored or its failure recorded).
- ``renew``: the heartbeat: every lease of this worker pushed back, its status written.
- ``requeue_expired``: any worker's leases past their deadline go back to the head of their
  host's queue with one more try; past ``max_tries`` they go to the dead letter list instead.

Leases of all workers are found through the workers hash, so the scripts touch keys they were
not passed: fine on one Redis server (what this is for), not on Redis Cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from archive.distributed.leases import QueueKeys, deadline_ms, entry_host_of

if TYPE_CHECKING:
    import redis

__all__ = ["PushResult", "WorkQueue", "connect"]

# Queuing an entry: onto its host's list, the host into the set of hosts with work (at the
# time its next fetch may start, if it is known), the counter up.
_QUEUE_ENTRY = """
local function queue_entry(prefix, hosts, nextkey, queued, host, entry, now, head)
  if head then
    redis.call('RPUSH', prefix .. host, entry)
  else
    redis.call('LPUSH', prefix .. host, entry)
  end
  local at = tonumber(redis.call('HGET', nextkey, host) or '0')
  if at < now then at = now end
  redis.call('ZADD', hosts, 'NX', at, host)
  redis.call('INCR', queued)
end
"""

_PUSH_NEW = (
    _QUEUE_ENTRY
    + """
if ARGV[1] ~= '' then
  if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
  if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
  if ARGV[8] ~= '' then
    if tonumber(redis.call('GET', KEYS[5]) or '0') >= tonumber(ARGV[8]) then return -2 end
    redis.call('INCR', KEYS[5])
    redis.call('EXPIRE', KEYS[5], ARGV[3])
  end
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
queue_entry(ARGV[5], KEYS[2], KEYS[3], KEYS[4], ARGV[6], ARGV[2], tonumber(ARGV[7]), false)
return 1
"""
)

_FOLLOW_UP = (
    _QUEUE_ENTRY
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
queue_entry(ARGV[3], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[2], tonumber(ARGV[5]), false)
return 1
"""
)

# The oldest entry of a host whose turn has come, moved into this worker's lease set; the
# host's next turn set one delay ahead (the politeness every worker keeps). With no host ready:
# the milliseconds until the first one is (-1: nothing queued at all).
_POP = """
local now = tonumber(ARGV[1])
local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 16)
for _, host in ipairs(ready) do
  local m = redis.call('RPOP', ARGV[5] .. host)
  local at = now + tonumber(ARGV[4])
  if m then
    redis.call('HSET', KEYS[5], host, at)
    if redis.call('LLEN', ARGV[5] .. host) == 0 then
      redis.call('ZREM', KEYS[1], host)
    else
      redis.call('ZADD', KEYS[1], at, host)
    end
    redis.call('ZADD', KEYS[2], ARGV[2], m)
    redis.call('HSETNX', KEYS[3], ARGV[3], '{}')
    redis.call('DECR', KEYS[4])
    return {m, 0}
  end
  redis.call('ZREM', KEYS[1], host)
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then return {'', tonumber(first[2]) - now} end
return {'', -1}
"""

_RENEW = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], m) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return #members
"""

# Expired leases of every worker (or of one, ARGV[4], whatever their deadline: a worker that
# starts again under its old id, or stops, hands back what it held) go back to the head of
# their host's queue; ARGV[5] = 1 raises their tries (a lease that ran out), 0 keeps them.
_REQUEUE = (
    _QUEUE_ENTRY
    + """
local workers
if ARGV[4] ~= '' then workers = {ARGV[4]} else workers = redis.call('HKEYS', KEYS[1]) end
local now = tonumber(ARGV[1])
local requeued, dead = 0, 0
for _, w in ipairs(workers) do
  local zkey = ARGV[2] .. w
  local expired
  if ARGV[4] ~= '' then
    expired = redis.call('ZRANGE', zkey, 0, -1)
  else
    expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now)
  end
  for _, m in ipairs(expired) do
    redis.call('ZREM', zkey, m)
    local sp = string.find(m, ' ', 1, true)
    local tries = tonumber(string.sub(m, 1, sp - 1)) + tonumber(ARGV[5])
    local rest = string.sub(m, sp + 1)
    local entry = tostring(tries) .. ' ' .. rest
    if tries > tonumber(ARGV[3]) then
      redis.call('LPUSH', KEYS[2], entry)
      dead = dead + 1
    else
      local host = string.sub(rest, 1, string.find(rest, ' ', 1, true) - 1)
      queue_entry(ARGV[6], KEYS[3], KEYS[4], KEYS[5], host, entry, now, true)
      requeued = requeued + 1
    end
  end
end
return {requeued, dead}
"""
)

# Leases a worker holds without knowing it (ARGV[3:]; a pop whose answer was lost), handed back
# to the head of their host's queue with their tries unchanged: nobody fetched them.
_HAND_BACK = (
    _QUEUE_ENTRY
    + """
local now = tonumber(ARGV[2])
local handed = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local rest = string.sub(m, string.find(m, ' ', 1, true) + 1)
    local host = string.sub(rest, 1, string.find(rest, ' ', 1, true) - 1)
    queue_entry(ARGV[1], KEYS[2], KEYS[3], KEYS[4], host, m, now, true)
    handed = handed + 1
  end
end
return handed
"""
)

#: 1 queued, 0 seen before, -1 the crawl's seen set is full, -2 the crawl has its max_pages
PushResult = int


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A client of the Redis at ``url`` (``redis://HOST:6379/0``) that answers in ``str``."""
    import redis

    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def _ms(now: float | None) -> int:
    return int((time.time() if now is None else now) * 1000)


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
        delay_s: float = 0.0,
    ) -> None:
        self.client = client
        self.keys = keys
        self.lease_s = lease_s
        self.max_tries = max_tries
        self.seen_ttl_s = seen_ttl_s
        self.seen_cap = seen_cap
        self.delay_ms = int(delay_s * 1000)
        self.round_trips = 0
        self._push_new = client.register_script(_PUSH_NEW)
        self._follow_up = client.register_script(_FOLLOW_UP)
        self._pop = client.register_script(_POP)
        self._renew = client.register_script(_RENEW)
        self._requeue = client.register_script(_REQUEUE)
        self._hand_back = client.register_script(_HAND_BACK)

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        self.round_trips += 1
        return script(keys=keys, args=args)

    def _queue_keys(self) -> list[str]:
        return [self.keys.hosts, self.keys.next_fetch, self.keys.queued]

    def push_new(
        self,
        entry: str,
        crawl: str,
        fingerprint: str,
        now: float | None = None,
        *,
        max_pages: int | None = None,
    ) -> PushResult:
        """Queue ``entry`` unless ``crawl`` has seen ``fingerprint`` ('' queues it anyway), or,
        given ``max_pages`` (``entry`` is an article page), has queued that many pages."""
        keys = [self.keys.seen(crawl), *self._queue_keys(), self.keys.pages(crawl)]
        args = [fingerprint, entry, self.seen_ttl_s, self.seen_cap, self.keys.host_queue_prefix]
        args += [entry_host_of(entry), _ms(now), "" if max_pages is None else max_pages]
        return int(self._call(self._push_new, keys, args))

    def count_pages(self, crawl: str, pages: int) -> None:
        """Count ``pages`` a crawl fetches without their being pushed (its site start pages,
        queued as seeds) against its ``max_pages``."""
        self.round_trips += 1
        self.client.set(self.keys.pages(crawl), pages, ex=self.seen_ttl_s)

    def push_follow_up(
        self, worker: str, replaced: str, entry: str, now: float | None = None
    ) -> None:
        keys = [self.keys.leases(worker), *self._queue_keys()]
        args = [replaced, entry, self.keys.host_queue_prefix, entry_host_of(entry), _ms(now)]
        self._call(self._follow_up, keys, args)

    def pop(self, worker: str, now: float | None = None) -> tuple[str | None, float]:
        """(entry, 0) leased to ``worker``; or (None, seconds until a host's turn comes, -1
        when nothing is queued)."""
        moment = time.time() if now is None else now
        keys = [self.keys.hosts, self.keys.leases(worker), self.keys.workers, self.keys.queued]
        keys.append(self.keys.next_fetch)
        args = [_ms(moment), deadline_ms(moment, self.lease_s), worker, self.delay_ms]
        args.append(self.keys.host_queue_prefix)
        member, wait = self._call(self._pop, keys, args)
        if member:
            return str(member), 0.0
        return None, int(wait) / 1000 if int(wait) >= 0 else -1.0

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
        return self._requeue_call(_ms(now), "", 1)

    def release(self, worker: str, *, count_try: bool) -> tuple[int, int]:
        """Hand back every lease of ``worker`` (stopping, or starting again after a crash)."""
        return self._requeue_call(_ms(None), worker, 1 if count_try else 0)

    def hand_back_unknown(
        self, worker: str, held: Collection[str], now: float | None = None
    ) -> int:
        """Hand back the leases of ``worker`` that are not among those it ``held``; how many.

        A pop runs in Redis even when its answer never reaches the worker (a timeout, Redis
        stopping mid-reply): the entry is then leased to a worker that does not fetch it, and
        that worker's own heartbeat would renew the lease for as long as it lives.
        """
        self.round_trips += 1
        members = self.client.zrange(self.keys.leases(worker), 0, -1)
        unknown = [member for member in members if member not in held]
        if not unknown:
            return 0
        keys = [self.keys.leases(worker), *self._queue_keys()]
        args = [self.keys.host_queue_prefix, _ms(now), *unknown]
        return int(self._call(self._hand_back, keys, args))

    def _requeue_call(self, now_ms: int, worker: str, add: int) -> tuple[int, int]:
        keys = [self.keys.workers, self.keys.dead, *self._queue_keys()]
        args = [now_ms, self.keys.lease_prefix, self.max_tries, worker, add]
        args.append(self.keys.host_queue_prefix)
        requeued, dead = self._call(self._requeue, keys, args)
        return int(requeued), int(dead)

    def queued(self) -> int:
        self.round_trips += 1
        return int(self.client.get(self.keys.queued) or 0)

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
