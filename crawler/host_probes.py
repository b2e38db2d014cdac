"""The soft-404 probe of each host and path prefix: what it serves for a URL that cannot exist.

One probe per (host, prefix) per crawl, shared by every page under that prefix (concurrent pages
wait for the same probe), and kept in the DB (``archive.liveness.probe_store``) so that later crawls
reuse it until it is ``LIVENESS_PROBE_MAX_AGE`` days old. The probe request goes through Scrapy like
any other, so its response is archived in the WARC too.

Directories of one URL pattern (``/news/2024/05/03/`` and ``/news/2024/05/04/``: dates and
numbers generalised, ``archive.liveness.probe_sharing``) share one answer once the probes of two of
them agreed, in this crawl or in the DB: the first directories of a pattern are probed (at most two
at a time, the others wait for their answers), the rest reuse it (``liveness/probe_shared``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive.db.engine import Database
from archive.exceptions import ExtractError
from archive.liveness.judging import is_html
from archive.liveness.probe_sharing import PROBES_TO_AGREE, PatternEvidence, probe_pattern
from archive.liveness.probe_store import host_probes, recent_probe, save_probe
from archive.liveness.soft404 import Baseline, probe_key, probe_url
from crawler.extraction_workers import ExtractionWorkers
from crawler.ticket import PageTicket

__all__ = ["HostProbes"]

logger = logging.getLogger(__name__)

Downloader = Callable[[Request], Awaitable[Response]]


class HostProbes:
    def __init__(
        self,
        download: Downloader,
        pool: ExtractionWorkers | None,
        db: Database | None,
        stats: StatsCollector,
        max_age: timedelta,
    ) -> None:
        self.download = download
        self.pool = pool
        self.db = db
        self.stats = stats
        self.max_age = max_age
        self._known: dict[tuple[str, str], asyncio.Future[Baseline | None]] = {}
        self._patterns: dict[tuple[str, str], _Pattern] = {}

    async def baseline(self, url: str) -> Baseline | None:
        """What the host of ``url`` serves under the same prefix for a URL that cannot exist."""
        key = probe_key(url)
        future = self._known.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._known[key] = future
            try:
                future.set_result(await self._probe(key, url))
            except Exception as exc:  # a failed probe only means no baseline for this prefix
                logger.info("Probe for %s%s failed: %s", key[0], key[1], exc)
                self.stats.inc_value("liveness/probe_error")
                future.set_result(None)
        return await asyncio.shield(future)

    async def _probe(self, key: tuple[str, str], url: str) -> Baseline | None:
        host, prefix = key
        if self.db is not None:
            stored = await asyncio.to_thread(recent_probe, self.db, host, prefix, self.max_age)
            if stored is not None and stored.result is not None:
                self.stats.inc_value("liveness/probe_reused")
                return Baseline.from_json(stored.result)
        pattern = await self._pattern(url)
        # The first directories of a pattern are probed; the others wait for their answers.
        while (
            pattern.probing
            and not pattern.evidence.decided
            and (len(pattern.probing) + len(pattern.evidence.seen) >= PROBES_TO_AGREE)
        ):
            await asyncio.wait(list(pattern.probing))
        if pattern.evidence.shared is not None:
            self.stats.inc_value("liveness/probe_shared")
            return pattern.evidence.shared
        task = asyncio.ensure_future(self._probe_into(pattern, host, prefix, url))
        pattern.probing.add(task)
        return await asyncio.shield(task)

    async def _probe_into(self, pattern: _Pattern, host: str, prefix: str, url: str) -> Baseline:
        """Probe one directory and add its answer to the pattern's evidence, before the task
        is done: a page waiting for it then finds the evidence up to date."""
        try:
            target, baseline = await self._fetch_probe(host, prefix, url)
            pattern.evidence.observe(prefix, target, baseline)
            return baseline
        finally:
            current = asyncio.current_task()
            if current is not None:
                pattern.probing.discard(current)

    async def _pattern(self, url: str) -> _Pattern:
        """The evidence about ``url``'s pattern: what this crawl saw, and the DB before it."""
        key = probe_pattern(url)
        pattern = self._patterns.get(key)
        if pattern is not None:
            await pattern.loaded.wait()
            return pattern
        pattern = self._patterns[key] = _Pattern()
        try:
            if self.db is not None:
                stored = await asyncio.to_thread(host_probes, self.db, key[0], self.max_age)
                for prefix, target, baseline in stored:
                    if probe_pattern(target) == key:
                        pattern.evidence.observe(prefix, target, baseline)
        finally:
            pattern.loaded.set()
        return pattern

    async def _fetch_probe(self, host: str, prefix: str, url: str) -> tuple[str, Baseline]:
        target = probe_url(url)
        # Redirects are followed: where the host sends an unknown URL is part of the answer.
        request = Request(target, meta=PageTicket(probe=True).meta(), dont_filter=True)
        self.stats.inc_value("liveness/probes")
        try:
            response = await self.download(request)
        except Exception as exc:
            if self.db is not None:
                await asyncio.to_thread(
                    save_probe,
                    self.db,
                    host=host,
                    prefix=prefix,
                    probe_url=target,
                    http_status=None,
                    final_url=None,
                    result=None,
                    error=f"{type(exc).__name__}: {exc}",
                )
            raise
        baseline = await self._baseline(response)
        logger.debug("Probe %s answered %s", target, response.status)
        if self.db is not None:
            await asyncio.to_thread(
                save_probe,
                self.db,
                host=host,
                prefix=prefix,
                probe_url=target,
                http_status=response.status,
                final_url=response.url,
                result=baseline.to_json(),
                record=PageTicket.of(response).record,
            )
        return target, baseline

    async def _baseline(self, response: Response) -> Baseline:
        title: str | None = None
        text: str | None = None
        prose: tuple[str, ...] = ()
        template: tuple[int, ...] = ()
        content_type = response.headers.get(b"Content-Type")
        ctype = content_type.decode("latin-1") if content_type else None
        if self.pool is not None and response.body and is_html(ctype, response.body):
            try:
                result = await self.pool.extract(response.body, response.url, ctype)
            except ExtractError as exc:
                logger.debug("Probe page of %s not extracted: %s", response.url, exc)
                result = None
            if result is not None and result.extraction is not None:
                title = result.facts.title if result.facts else result.extraction.title
                text = result.extraction.text
                prose = result.facts.prose if result.facts else ()
            if result is not None and result.facts is not None:
                # Even an error page with too little text to extract has its markup.
                template = result.facts.template
        return Baseline(
            status=response.status,
            final_url=response.url,
            title=title,
            text=text,
            prose=prose,
            template=template,
        )

    def cached(self) -> dict[tuple[str, str], Any]:
        return {k: f.result() for k, f in self._known.items() if f.done()}


class _Pattern:
    """One host's URL pattern in this crawl: its evidence, and the probes of it in flight."""

    __slots__ = ("evidence", "loaded", "probing")

    def __init__(self) -> None:
        self.evidence = PatternEvidence()
        self.loaded = asyncio.Event()  # the DB's evidence has been read
        self.probing: set[asyncio.Future[Baseline]] = set()
