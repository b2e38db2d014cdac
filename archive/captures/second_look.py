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

It also cuts a site's stub from the run's articles that were judged before the site had shown it
twice. The crawl cuts a closing paragraph that another article of the site ends with
(``archive.liveness.site_template.site_stubs``) only from the articles judged after that one was
stored: the site's first stubbed article, and articles judged at the same time, keep it. At the
end of the run, a closing paragraph that two of the site's articles of the run end with is known
(those cut are extracted again from their records to read their ends as they were), and the
articles that still end with it are judged again with those ends beside the stored ones.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import archive.defaults as defaults
from archive.captures.extraction_pass import (
    EXTRACT_PREFIX,
    ExtractOutcome,
    extract_archived,
    extracted_texts,
)
from archive.db.engine import Database, one_of
from archive.db.models import Capture, SiteArticle
from archive.exceptions import ArchiveError
from archive.liveness.browser_hint import NEEDS_BROWSER
from archive.liveness.error_template import article_url
from archive.liveness.judging import STUB_STRIPPED
from archive.liveness.site_template import (
    LACKS_SITE_ARTICLE,
    MIN_SAMPLES,
    closing_paragraphs,
    site_host,
    site_stubs,
)
from archive.warc.records import WarcWriter

__all__ = ["after_run", "second_look", "second_look_candidates", "stub_candidates"]

#: The most other articles whose ends are passed for one article judged again: two that end
#: with a paragraph are enough to show it is the site's.
_STUB_WITNESSES = 3

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


def stub_candidates(db: Database, warc_dir: Path, run_id: int) -> dict[int, list[list[str]]]:
    """The run's ``ok`` pages that still end with a paragraph another article of their site in
    the run ends with, each with the closing paragraphs of those other articles (as extracted,
    before any cut). As in the crawl, only the site's samples (live articles of its template,
    ``SiteArticle``) count as its other articles."""
    ok_articles = (
        Capture.run_id == run_id,
        Capture.verdict == "ok",
        Capture.recovered_from.is_(None),
        Capture.warc_file.is_not(None),
        Capture.record_error.is_(None),
        Capture.text.is_not(None),
    )
    # Only each article's last paragraphs are kept, not its text: a run may hold thousands.
    ends: dict[int, list[str]] = {}
    by_host: dict[str, list[tuple[int, bool]]] = {}
    with db.session(readonly=True) as session:
        query = select(
            Capture.id, Capture.url, Capture.final_url, Capture.text, Capture.evidence
        ).where(*ok_articles)
        samples = set(
            session.scalars(
                select(SiteArticle.capture_id)
                .join(Capture, Capture.id == SiteArticle.capture_id)
                .where(Capture.run_id == run_id)
            )
        )
        for capture_id, url, final_url, text, evidence in session.execute(query):
            host = site_host(final_url or url)
            if host is not None:
                ends[capture_id] = closing_paragraphs(text)
                cut = STUB_STRIPPED in (evidence or ())
                by_host.setdefault(host, []).append((capture_id, cut))
    by_host = {host: pages for host, pages in by_host.items() if len(pages) > 1}
    # What was cut from the articles already cut shows in their ends as extracted: a few of
    # each site are read again from their records (a footer cut from every article of a large
    # crawl needs no more to be known).
    sampled = [
        cid
        for pages in by_host.values()
        for cid in [c for c, cut in pages if cut and c in samples][:3]
    ]
    for cid, text in (extracted_texts(db, warc_dir, sampled) if sampled else {}).items():
        ends[cid] = closing_paragraphs(text)
    witnesses: dict[int, list[int]] = {}
    for pages in by_host.values():
        ending_with: dict[str, list[int]] = {}
        for cid, _cut in pages:
            if cid in samples:
                for paragraph in dict.fromkeys(ends[cid]):
                    ending_with.setdefault(paragraph, []).append(cid)
        for cid, cut in pages:
            seen = dict.fromkeys(
                other for p in ends[cid] for other in ending_with.get(p, ()) if other != cid
            )
            if seen and not cut:
                witnesses[cid] = list(seen)[:_STUB_WITNESSES]
    if not witnesses:
        return {}
    # The articles' texts, for those only: the end of the same story under another URL is the
    # story's (site_stubs), and judging such a page again would change nothing.
    found: dict[int, list[list[str]]] = {}
    with db.session(readonly=True) as session:
        for listed in one_of(Capture.id, list(witnesses), db.dialect):
            for capture_id, text in session.execute(select(Capture.id, Capture.text).where(listed)):
                their_ends = [ends[other] for other in witnesses[capture_id]]
                if set(site_stubs(their_ends, text)) & set(ends[capture_id]):
                    found[capture_id] = their_ends
    return found


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
    stubbed = stub_candidates(db, warc_dir, run_id)
    if not ids and not stubbed:
        return []
    info = {"WARC_IS_PART_OF": f"morgue-run-{run_id}", "WARC_HOSTNAME": hostname}
    writer = WarcWriter.from_settings(warc_dir, info, prefix=EXTRACT_PREFIX)
    try:
        outcomes = list(
            extract_archived(
                db, warc_dir, ids, writer=writer, probe_max_age=probe_max_age, only_changed=True
            )
        )
        # After the pages above: one judged dead now is no article to cut a stub from.
        outcomes += extract_archived(
            db,
            warc_dir,
            sorted(set(stubbed) - set(ids)),
            writer=writer,
            probe_max_age=probe_max_age,
            only_changed=True,
            extra_closings=stubbed,
        )
    finally:
        writer.close()
    changed = sum(1 for o in outcomes if o.verdict != o.before)
    logger.info("Second look at %d page(s) of run %d: %d verdict(s) changed; %d page(s) judged "
                "again for their site's stub", len(ids), run_id, changed, len(stubbed))  # fmt: skip
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
