"""What ``--redis`` queued, for ``morgue crawl`` and ``morgue archive``: one line per seed, or
JSON Lines (``{"crawl", "redis", "kind", "url"}``) with ``--format json``."""

from __future__ import annotations

from archive.distributed.enqueue import Enqueued

from .options import OutputFormat
from .render import print_json_lines

__all__ = ["print_enqueued"]


def print_enqueued(enqueued: Enqueued, output: OutputFormat) -> None:
    rows = [{"crawl": enqueued.crawl, "redis": enqueued.redis, **seed} for seed in enqueued.seeds]
    if output is OutputFormat.json:
        print_json_lines(rows)
        return
    for row in rows:
        print(f"queued {row['kind']} {row['url']}")
    print(f"crawl {enqueued.crawl}: {len(rows)} queued in {enqueued.redis} for the workers")
