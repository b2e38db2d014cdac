"""The soft-404 probes of each host and path prefix, kept in the DB so later runs reuse them.

A probe stands for its host's answer for ``LIVENESS_PROBE_MAX_AGE`` days. A crawl uses the
newest one within that age, or makes its own (``crawler.host_probes``); ``morgue extract`` judges a
capture with the stored probe nearest in time to its fetch, within that age either way
(``StoredProbes``): for a capture judged in its crawl, the same probe the crawl used.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.engine import Database
from archive.db.models import Probe
from archive.liveness.probe_sharing import shared_baseline
from archive.liveness.soft404 import Baseline, probe_key
from archive.warc.records import RecordLocation

__all__ = ["StoredProbes", "host_probe_rows", "host_probes", "recent_probe", "save_probe"]

#: Stored probes of one host read to find what a URL pattern's directories answered.
HOST_PROBES_READ = 200


def save_probe(
    db: Database,
    *,
    host: str,
    prefix: str,
    probe_url: str,
    http_status: int | None,
    final_url: str | None,
    result: dict[str, Any] | None,
    error: str | None = None,
    record: RecordLocation | None = None,
    probed_at: datetime | None = None,
) -> int:
    """Record one probe; returns its id."""
    row = Probe(
        host=host,
        prefix=prefix,
        probe_url=probe_url,
        probed_at=probed_at or datetime.now(UTC),
        http_status=http_status,
        final_url=final_url,
        result=result,
        error=error,
        warc_file=record.file if record else None,
        warc_offset=record.offset if record else None,
        warc_length=record.length if record else None,
        warc_record_id=record.record_id if record else None,
    )
    with db.session() as session:
        session.add(row)
        session.flush()
        return row.id


def recent_probe(
    db: Database, host: str, prefix: str, max_age: timedelta, now: datetime | None = None
) -> Probe | None:
    """The newest probe of ``host`` and ``prefix`` younger than ``max_age``, if any."""
    since = (now or datetime.now(UTC)) - max_age
    stmt = (
        select(Probe)
        .where(Probe.host == host, Probe.prefix == prefix, Probe.probed_at >= since)
        .order_by(Probe.probed_at.desc(), Probe.id.desc())
        .limit(1)
    )
    with db.session(readonly=True) as session:
        probe = session.scalars(stmt).first()
        if probe is not None:
            session.expunge(probe)
        return probe


def host_probes(
    db: Database, host: str, max_age: timedelta | None = None, now: datetime | None = None
) -> list[tuple[str, str, Baseline]]:
    """The answered probes of ``host`` (younger than ``max_age``), newest first, as
    ``(prefix, probe_url, baseline)``: the evidence ``archive.liveness.probe_sharing`` reads."""
    since = (now or datetime.now(UTC)) - max_age if max_age is not None else None
    with db.session(readonly=True) as session:
        return host_probe_rows(session, host, since)


def host_probe_rows(
    session: Session, host: str, since: datetime | None = None
) -> list[tuple[str, str, Baseline]]:
    """``host_probes`` within an open session."""
    stmt = select(Probe.prefix, Probe.probe_url, Probe.result).where(
        Probe.host == host, Probe.result.is_not(None)
    )
    if since is not None:
        stmt = stmt.where(Probe.probed_at >= since)
    stmt = stmt.order_by(Probe.probed_at.desc(), Probe.id.desc()).limit(HOST_PROBES_READ)
    rows = session.execute(stmt).all()
    return [(prefix, url, Baseline.from_json(result)) for prefix, url, result in rows if result]


class StoredProbes:
    """The probes table, read once per host, as evidence about captures of any time."""

    def __init__(self, db: Database, max_age: timedelta) -> None:
        self.db = db
        self.max_age = max_age
        # host: (probed_at, id, prefix, probe_url, baseline), newest first
        self._hosts: dict[str, list[tuple[datetime, int, str, str, Baseline]]] = {}

    def baseline(self, url: str, at: datetime) -> Baseline | None:
        """What ``url``'s host answered for a URL that cannot exist, around ``at``: the probe of
        its directory nearest in time (within ``max_age`` either way), else the answer the
        probes of its URL pattern of that time share (``archive.liveness.probe_sharing``)."""
        host, prefix = probe_key(url)
        window = [
            row for row in self._host(host) if abs(row[0] - at) <= self.max_age
        ]  # newest first
        own = [row for row in window if row[2] == prefix]
        if own:
            return min(own, key=lambda row: (abs(row[0] - at), -row[1]))[4]
        evidence = [(p, probe_url, b) for _, _, p, probe_url, b in window[:HOST_PROBES_READ]]
        return shared_baseline(url, evidence)[1]

    def _host(self, host: str) -> list[tuple[datetime, int, str, str, Baseline]]:
        if host not in self._hosts:
            stmt = (
                select(Probe.probed_at, Probe.id, Probe.prefix, Probe.probe_url, Probe.result)
                .where(Probe.host == host, Probe.result.is_not(None))
                .order_by(Probe.probed_at.desc(), Probe.id.desc())
            )
            with self.db.session(readonly=True) as session:
                rows = session.execute(stmt).all()
            self._hosts[host] = [
                (at, pid, prefix, url, Baseline.from_json(result))
                for at, pid, prefix, url, result in rows
                if result
            ]
        return self._hosts[host]
