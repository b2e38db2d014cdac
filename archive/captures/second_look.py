"""A second look at the end of a run: its pages that showed no article, judged again once their
site's live articles are in the archive.

The rule of the site's article template (``archive.liveness.site_template``) compares a page with
the samples stored when the page is judged. In a crawl, pages are judged as they arrive: a
retired page fetched before two of its site's articles were stored was judged without them.
When the run ends, its captures judged ``ok`` that show no article markup, no sign of needing a
browser and sit at an article's URL on a site that now has samples are extracted again from
their WARC records and judged again (``archive.captures.extraction_pass``); those whose verdict
changes get a new metadata record, in a ``morgue-extract`` WARC file, and their rows updated, as
``morgue extract`` does; the others are left as the crawl stored them.
The verdicts a run reports are the ones after this pass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import archive.defaults as defaults
from archive.captures.extraction_pass import EXTRACT_PREFIX, ExtractOutcome, extract_archived
from archive.db.engine import Database
from archive.db.models import Capture, SiteArticle
from archive.exceptions import ArchiveError
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.error_template import article_url
from archive.liveness.site_template import LACKS_SITE_ARTICLE, MIN_SAMPLES, site_host
from archive.warc.records import WarcWriter

__all__ = ["after_run", "second_look", "second_look_candidates"]

logger = logging.getLogger(__name__)


def second_look_candidates(db: Database, run_id: int) -> list[int]:
    """Ids of the run's captures worth judging again against their site's samples."""
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Capture.id, Capture.url, Capture.final_url, Capture.evidence).where(
                Capture.run_id == run_id,
                Capture.verdict == "ok",
                Capture.recovered_from.is_(None),
                Capture.warc_file.is_not(None),
                Capture.record_error.is_(None),
            )
        ).all()
        found: dict[int, str] = {}
        for capture_id, url, final_url, evidence in rows:
            said = set(evidence or ())
            where = final_url or url
            host = site_host(where)
            if (
                host is not None
                and "no_article_markup" in said
                and not said & {NEEDS_BROWSER, LACKS_SITE_ARTICLE}
                and article_url(where)
            ):
                found[capture_id] = host
        if not found:
            return []
        counts = dict(
            session.execute(
                select(SiteArticle.host, func.count())
                .where(SiteArticle.host.in_(set(found.values())))
                .group_by(SiteArticle.host)
            ).all()
        )
    return sorted(cid for cid, host in found.items() if counts.get(host, 0) >= MIN_SAMPLES)


def second_look(
    db: Database,
    warc_dir: Path,
    run_id: int,
    *,
    probe_max_age: timedelta = timedelta(days=defaults.LIVENESS_PROBE_MAX_AGE),
    hostname: str | None = None,
) -> list[ExtractOutcome]:
    """Judge the run's candidates again (``second_look_candidates``); returns what was judged.
    ``hostname`` names the files written, as the run's own (a distributed worker's id)."""
    ids = second_look_candidates(db, run_id)
    if not ids:
        return []
    info = {"WARC_IS_PART_OF": f"morgue-run-{run_id}", "WARC_HOSTNAME": hostname}
    writer = WarcWriter.from_settings(warc_dir, info, prefix=EXTRACT_PREFIX)
    try:
        outcomes = list(
            extract_archived(
                db, warc_dir, ids, writer=writer, probe_max_age=probe_max_age, only_changed=True
            )
        )
    finally:
        writer.close()
    changed = sum(1 for o in outcomes if o.verdict != o.before)
    logger.info("Second look at %d page(s) of run %d: %d verdict(s) changed", len(ids), run_id,
                changed)  # fmt: skip
    return outcomes


def after_run(db: Database, warc_dir: Path, run_id: int, settings: Mapping[str, Any]) -> int:
    """The second look at a finished run that extracted its pages, with the run's settings;
    returns how many verdicts it changed. Its files go where the run's went: the run's
    ``WARC_DIR`` setting, else ``warc_dir`` (the data directory's). A fault here leaves the
    verdicts of the crawl as they were (stored, and true to what was known then): it is logged,
    not raised."""
    value = str(settings.get("EXTRACT_ENABLED", True)).strip().lower()
    if value in ("false", "0", "no", "off", ""):
        return 0  # --extract later: nothing was judged by its content yet
    age = float(settings.get("LIVENESS_PROBE_MAX_AGE", defaults.LIVENESS_PROBE_MAX_AGE))
    try:
        hostname = settings.get("WARC_HOSTNAME") or None
        where = Path(settings.get("WARC_DIR") or warc_dir)
        outcomes = second_look(
            db, where, run_id, probe_max_age=timedelta(days=age), hostname=hostname
        )
    except ArchiveError as exc:
        logger.warning("The second look at run %d stopped: %s", run_id, exc)
        return 0
    return sum(1 for o in outcomes if o.verdict != o.before)
