"""Queue entries and their leases: how an entry is written, how many tries it has had, when a
lease runs out.

An entry in Redis is ``"<tries> <host> <json>"``: the JSON object names the job (a unique id,
so two identical requests stay two members of a lease set), the crawl it belongs to, and either
a seed (a feed, sitemap, site or URL to start from) or a request (``Request.to_dict()``). The
tries count and the host (``host:port``, whose queue the entry goes back to) lead, outside the
JSON, so that the Lua script re-queueing an expired lease can read them and raise the count
without a JSON library, and without re-encoding the request.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "Entry",
    "QueueKeys",
    "deadline_ms",
    "decode_entry",
    "encode_entry",
    "entry_host",
    "entry_host_of",
]


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """The Redis keys of one frontier, all under ``prefix`` (one prefix per deployment)."""

    prefix: str = "morgue"

    @property
    def host_queue_prefix(self) -> str:
        """Lists ``PREFIX:q:HOST``: one FIFO queue per host."""
        return f"{self.prefix}:q:"

    @property
    def hosts(self) -> str:
        """Sorted set of the hosts with entries queued, scored by when (ms) one may be popped."""
        return f"{self.prefix}:hosts"

    @property
    def next_fetch(self) -> str:
        """Hash: host -> the earliest time (ms) its next entry may be popped, by any worker."""
        return f"{self.prefix}:next"

    @property
    def queued(self) -> str:
        """Counter of the entries in every host's queue."""
        return f"{self.prefix}:queued"

    @property
    def workers(self) -> str:
        """Hash: worker id -> its last heartbeat (JSON)."""
        return f"{self.prefix}:workers"

    @property
    def lease_prefix(self) -> str:
        return f"{self.prefix}:leases:"

    def leases(self, worker: str) -> str:
        """Sorted set of the entries ``worker`` holds, scored by lease deadline (ms)."""
        return f"{self.lease_prefix}{worker}"

    @property
    def dead(self) -> str:
        """List of the entries that ran out of tries (a dead letter queue, for people)."""
        return f"{self.prefix}:dead"

    @property
    def crawls(self) -> str:
        """Hash: crawl id -> its spec (JSON)."""
        return f"{self.prefix}:crawls"

    def seen(self, crawl: str) -> str:
        """Set of the request fingerprints one crawl has queued."""
        return f"{self.prefix}:seen:{crawl}"

    def pages(self, crawl: str) -> str:
        """Counter of the article pages one crawl has asked to fetch (its ``--max-pages``)."""
        return f"{self.prefix}:pages:{crawl}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One queue entry, decoded."""

    job: str
    crawl: str
    tries: int
    host: str
    seed: dict[str, str] | None = None
    request: dict[str, Any] | None = None


def encode_entry(
    crawl: str,
    *,
    seed: dict[str, str] | None = None,
    request: dict[str, Any] | None = None,
    tries: int = 0,
    job: str | None = None,
) -> str:
    body: dict[str, Any] = {"job": job or uuid.uuid4().hex, "crawl": crawl}
    url = ""
    if seed is not None:
        body["seed"] = seed
        url = seed.get("url", "")
    if request is not None:
        body["request"] = request
        url = str(request.get("url", ""))
    return f"{tries} {entry_host(url)} {json.dumps(body, separators=(',', ':'), sort_keys=True)}"


def entry_host(url: str) -> str:
    """The host (and port) an entry's politeness is kept by; ``-`` for a URL without one."""
    try:
        host = urlsplit(url).netloc.lower().rpartition("@")[2]
    except ValueError:
        host = ""
    return host.replace(" ", "") or "-"


def entry_host_of(member: str) -> str:
    """The host an encoded entry is queued under."""
    return member.split(" ", 2)[1]


def decode_entry(member: str | bytes) -> Entry:
    """The entry ``member`` holds; ``ValueError`` for anything else found in the queue."""
    text = member.decode("utf-8") if isinstance(member, bytes) else member
    tries, host, payload = text.split(" ", 2)
    body = json.loads(payload)
    if not isinstance(body, dict) or "job" not in body:
        raise ValueError(f"not a queue entry: {text[:80]!r}")
    return Entry(
        job=str(body["job"]),
        crawl=str(body.get("crawl", "")),
        tries=int(tries),
        host=host,
        seed=body.get("seed"),
        request=body.get("request"),
    )


def deadline_ms(now_s: float, lease_s: float) -> int:
    """The lease deadline, in milliseconds (the unit of the Redis scores), of a lease taken or
    renewed at ``now_s`` for ``lease_s`` seconds."""
    return int((now_s + lease_s) * 1000)
