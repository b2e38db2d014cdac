"""archive.liveness.judging: the one HTML rule, the one verdict function, the one metadata schema;
and the evidence both paths read from the archive (stored probes by age, shared redirect
targets)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.db.engine import Database
from archive.extraction.article import Extraction
from archive.liveness.judging import (
    SHARED_REDIRECT,
    STUB_STRIPPED,
    Fetch,
    is_html,
    judge_page,
    metadata_record,
    wants_probe,
)
from archive.liveness.probe_store import StoredProbes, save_probe
from archive.liveness.redirects import RedirectTargets, target_key
from archive.liveness.soft404 import Baseline

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ARTICLE = " ".join(
    ["The council met on Friday and approved the new budget for the road levy."] * 12
)


@pytest.mark.parametrize(
    ("content_type", "body", "html"),
    [
        ("text/html; charset=utf-8", b"anything", True),
        ("application/xhtml+xml", b"<html/>", True),
        ("TEXT/HTML", b"", True),
        ("application/xml", b'<?xml version="1.0"?><!DOCTYPE html><html><body/></html>', True),
        ("application/xml", b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', False),
        ("text/xml", b"<urlset><url><loc>x</loc></url></urlset>", False),
        (None, b"\xef\xbb\xbf  <!DOCTYPE html><html><p>hi</p>", True),
        (None, b"<!-- cms --><html><body>hi</body></html>", True),
        (None, b"%PDF-1.4", False),
        ("; charset=utf-8", b"<html><body>x</body></html>", True),
        ("application/pdf", b"<html>", False),
        ("application/json", b'{"html": "<html>"}', False),
        ("text/plain", b"<html><body>", False),
    ],
)
def test_one_html_rule(content_type: str | None, body: bytes, html: bool) -> None:
    assert is_html(content_type, body) is html


def _fetch(url: str = "https://news.example/2024/story.html", **kw: object) -> Fetch:
    return Fetch(url=url, final_url=kw.pop("final_url", url), status=200, **kw)  # type: ignore[arg-type]


def test_statuses_and_failures_decide_before_content() -> None:
    gone = judge_page(Fetch("https://a.example/x", "https://a.example/x", 404), None, None)
    assert (gone.verdict, gone.reason, gone.confidence, gone.evidence) == (
        "not_found", "http_404", 1.0, ())  # fmt: skip
    # A body too large to decode keeps its status on the row, but is no page.
    bomb = judge_page(_fetch(failure="too_large"), Extraction(text=ARTICLE), None)
    assert (bomb.verdict, bomb.reason) == ("unreachable", "too_large")
    no_answer = judge_page(Fetch("https://a.example/x", None, None, failure="dns"), None, None)
    assert (no_answer.verdict, no_answer.reason) == ("unreachable", "dns")


def test_a_live_page_loses_its_appended_stub() -> None:
    text = f"{ARTICLE}\nPage not found\nThe page you requested is no longer available."
    judged = judge_page(_fetch(), Extraction(title="Budget", text=text), None)
    assert (judged.verdict, judged.reason) == ("ok", "http_200")
    assert STUB_STRIPPED in judged.evidence
    assert judged.extraction is not None and judged.extraction.text == ARTICLE
    assert judged.extraction.title == "Budget"


def test_a_shared_redirect_target_is_a_soft_404_only_where_the_page_looks_live() -> None:
    fetch = _fetch("https://news.example/old/a.html", final_url="https://news.example/topics/x")
    live = judge_page(fetch, Extraction(text=ARTICLE), None, shared_target=True)
    assert (live.verdict, live.reason) == ("soft_404", "redirect_to_section")
    assert live.evidence[-1] == SHARED_REDIRECT
    # Sent home: the redirect rule decides first, with its own reason.
    home = _fetch("https://news.example/old/a.html", final_url="https://news.example/")
    assert judge_page(home, None, None, shared_target=True).reason == "redirect_to_home"


def test_a_memento_is_judged_without_the_live_hosts_probe() -> None:
    probe = Baseline(200, "https://news.example/2024/morgue-x", "Oops", ARTICLE)
    page = _fetch(recovered_from="https://web.archive.org/web/2020id_/x")
    assert not wants_probe(page)
    judged = judge_page(page, Extraction(text=ARTICLE), None, baseline=probe)
    assert (judged.verdict, judged.reason) == ("ok", "memento")
    # The same page, live, matches the probe (the host's error page).
    assert judge_page(_fetch(), Extraction(text=ARTICLE), None, baseline=probe).reason == (
        "probe_match"
    )
    assert not wants_probe(_fetch("https://news.example/news/"))


def test_the_metadata_record_schema_is_documented() -> None:
    record = metadata_record(
        pass_name="crawl", url="u", final_url=None, fetched_at=T0, http_status=200,
        verdict="ok", reason="http_200", confidence=0.9, evidence=(), extraction=None,
        extract_error=None, error=None, redirects=(), recovered_from=None, memento_datetime=None,
    )  # fmt: skip
    doc = (ROOT / "docs" / "warc.md").read_text(encoding="utf-8")
    section = doc.split("## The metadata record", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    assert documented == list(record), "docs/warc.md lists the metadata record's fields in order"


def test_redirect_evidence_counts_urls_fetched_up_to_the_page() -> None:
    targets = RedirectTargets()
    fetches = [_fetch(f"https://news.example/old/{i}.html", final_url="https://news.example/t/x",
                      redirected=True) for i in range(4)]  # fmt: skip
    key = target_key(fetches[0])
    assert key == ("news.example", "https://news.example/t/x")
    # Noted in any order (as responses arrive), judged by fetch time.
    for i in (3, 1, 0, 2):
        targets.add(key, fetches[i].url, T0 + timedelta(seconds=i))
    shared = [targets.shared(key, f.url, T0 + timedelta(seconds=i)) for i, f in enumerate(fetches)]
    assert shared == [False, False, True, True]
    # Not evidence: no redirect, a memento, a failure, a front page.
    assert target_key(_fetch(final_url="https://news.example/t/x")) is None
    assert target_key(_fetch(final_url="https://x/t", redirected=True, recovered_from="m")) is None
    assert target_key(_fetch(final_url="https://x/t", redirected=True, failure="too_large")) is None
    assert target_key(
        _fetch("https://news.example/", final_url="https://x/t", redirected=True)
    ) is (None)


def test_stored_probes_stand_for_their_host_within_their_age(database: Database) -> None:
    """The probe's age counts in `morgue extract` as in a crawl: the probe nearest in time to
    the capture, within LIVENESS_PROBE_MAX_AGE either way, or none."""
    for days, title in ((0, "fresh"), (-20, "old")):
        save_probe(database, host="news.example", prefix="/2024/",
                   probe_url="https://news.example/2024/morgue-abcdefghijklmnop",
                   http_status=200, final_url=None, result=Baseline(200, None, title).to_json(),
                   probed_at=T0 + timedelta(days=days))  # fmt: skip
    probes = StoredProbes(database, timedelta(days=7))
    url = "https://news.example/2024/story.html"

    def title_at(days: float) -> str | None:
        found = probes.baseline(url, T0 + timedelta(days=days))
        return found.title if found is not None else None

    assert [title_at(d) for d in (0, 3, -6, -14, -25, 10)] == [
        "fresh", "fresh", "fresh", "old", "old", None]  # fmt: skip
    assert probes.baseline("https://news.example/2025/x.html", T0) is None  # another directory
