"""The soft-404 probes of each host and path prefix, kept in the DB so later runs reuse them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Probe
from archive.soft404 import Baseline
from archive.warc import RecordLocation

__all__ = ["host_probe_rows", "host_probes", "recent_probe", "save_probe"]

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
    ``(prefix, probe_url, baseline)``: the evidence ``archive.probe_sharing`` reads."""
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
