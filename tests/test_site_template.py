"""A retired article left on its site's own article page, the article block gone: dead by the
site's article template learnt from its live captures (archive.liveness.site_template, issue 17
item 2), with no wording and no probe to help; and every case where it must not fire."""

from __future__ import annotations

import functools
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import delete, func, select

from archive.captures.second_look import after_run, second_look_candidates
from archive.db.engine import Database, open_database
from archive.db.models import Capture, Page, SiteArticle
from archive.exceptions import WarcError
from archive.extraction.article import ExtractResult, decode_html, extract_page
from archive.extraction.page_facts import page_facts
from archive.liveness.error_template import own_text_chars
from archive.liveness.judging import Fetch, PageJudgement, judge_page
from archive.liveness.site_samples import (
    KEPT_SAMPLES,
    keep_site_samples,
    own_closings,
    site_closings,
    site_samples,
    stored_closings,
)
from archive.liveness.site_template import (
    LACKS_SITE_ARTICLE,
    SiteSample,
    closing_paragraphs,
    is_site_sample,
    site_stubs,
)
from archive.liveness.soft404 import THIN_TEXT
from archive.warc.records import WarcWriter, read_record
from crawler.recent_articles import RecentArticles, merged
from tests.conftest import FAST, json_lines, judge_again, run_morgue
from tests.corpus import CorpusPage, corpus_pages
from tests.retired_pages import error_page, has_article_block, sibling_page, stub_page
from tests.static_site import Route, StaticSite
from tests.tier import sweep
from tests.workers_fixture import (
    REDIS_URL,
    Worker,
    captures,
    count_captures,
    redis_prefix,
    wait_for,
)

BASE = "http://paper.test/news/2025/06/"
# A notice in wording no rule and no catalogue holds: only the site's template can tell.
NOTICE = ("Well then", "Whatever used to live at this address has packed its bags and left town.")


def _extract(body: bytes, url: str) -> ExtractResult:
    result = extract_page(body, url, "text/html")
    assert result is not None and result.facts is not None and result.extraction is not None
    return result


def _sample(body: bytes, url: str, *, chrome: bool = True) -> SiteSample:
    """A live article as the archive keeps it: its template, text and page chrome (``chrome``
    False: as samples kept before their chrome was read)."""
    result = _extract(body, url)
    assert result.facts is not None and result.extraction is not None
    kept = (result.chrome or "") if chrome else ""
    return SiteSample(result.facts.template, result.extraction.text or "", url, kept)


@functools.cache
def _long_stories() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Three real-size stories of dev articles: (page id, headline, paragraphs)."""
    stories = []
    for other in corpus_pages(min_size=40_000):
        if not other.title:
            continue
        text = _extract(other.html, f"{BASE}x.html").extraction.text or ""  # type: ignore[union-attr]
        paragraphs = tuple(p for p in text.split("\n") if len(p) > 80)
        if sum(map(len, paragraphs)) >= 3000:
            stories.append((other.id, other.title, paragraphs))
        if len(stories) == 3:
            return tuple(stories)
    raise AssertionError("too few long corpus articles")


def _stories(page: CorpusPage) -> list[tuple[str, list[str]]]:
    """The headline and paragraphs of two stories of other dev articles: what the site's other
    articles say (real-size stories, well past a sample's 600 characters)."""
    return [(title, list(paras)) for id_, title, paras in _long_stories() if id_ != page.id][:2]


@functools.cache
def _siblings(page: CorpusPage, chrome: bool = True) -> list[SiteSample]:
    """Two other articles of the page's site, as the archive keeps them."""
    return [
        _sample(
            sibling_page(page.html, title, paragraphs),
            f"{BASE}sibling-story-{i}.html",
            chrome=chrome,
        )
        for i, (title, paragraphs) in enumerate(_stories(page))
    ]


def _judge(body: bytes, url: str, samples: list[SiteSample]) -> PageJudgement:
    result = _extract(body, url)
    fetch = Fetch(url=url, final_url=url, status=200)
    return judge_page(fetch, result.extraction, result.facts, site_samples=samples)


def _notice(page: CorpusPage) -> bytes:
    return error_page(page.html, *NOTICE, with_404=False)


@functools.cache
def _with_markup() -> list[CorpusPage]:
    """Real-size dev articles that declare themselves articles (the site's samples must) and
    have an article block to put another story in."""
    # The page's facts alone (no extraction): what the liveness rules read of its markup.
    return [
        page
        for page in corpus_pages(min_size=40_000)
        if page_facts(lxml_html.document_fromstring(decode_html(page.html)), BASE).article_markup
        and has_article_block(page.html)
    ]


@pytest.fixture(scope="module")
def page() -> CorpusPage:
    """One such article whose error page this rule alone tells from a live one."""
    for candidate in _with_markup():
        if _judge(_notice(candidate), f"{BASE}retired-story.html", _siblings(candidate)).reason == (
            "article_lost"
        ):
            return candidate
    raise AssertionError("no corpus article gives an error page this rule catches")


def test_the_sites_article_page_without_its_article_is_dead(page: CorpusPage) -> None:
    url = f"{BASE}retired-story.html"
    alone = _judge(_notice(page), url, [])
    assert alone.verdict == "ok"  # no wording, no probe, no history: nothing else tells
    judged = _judge(_notice(page), url, _siblings(page))
    assert (judged.verdict, judged.reason) == ("soft_404", "article_lost")
    assert LACKS_SITE_ARTICLE in judged.evidence
    # The live article and its siblings, judged against the same samples, stay live.
    for body in (page.html, sibling_page(page.html, *_stories(page)[0])):
        assert _judge(body, f"{BASE}live-story.html", _siblings(page)).verdict == "ok"


def test_most_error_pages_of_real_sites_are_caught_and_no_live_article() -> None:
    """Every third dev article with article markup (every one with MORGUE_TEST_FULL=1)."""
    pages = sweep(_with_markup())
    caught = 0
    for i, page in enumerate(pages):
        samples = _siblings(page)
        assert _judge(page.html, f"{BASE}story-{i}.html", samples).verdict == "ok", page.id
        caught += _judge(_notice(page), f"{BASE}retired-{i}.html", samples).reason == (
            "article_lost"
        )
    # Without the samples' chrome, 199 of the 249 (the error page's text is often chrome the
    # extractor leaves out of a live article: a comment form, a paywall box); with it, 242.
    assert caught >= 0.9 * len(pages), f"{caught}/{len(pages)}"


@functools.cache
def _chrome_decides() -> CorpusPage:
    """A dev article whose error page is told from a live one only by its site's chrome."""
    for candidate in _with_markup():
        url = f"{BASE}retired-story.html"
        without = _judge(_notice(candidate), url, _siblings(candidate, chrome=False))
        if (
            without.verdict == "ok"
            and _judge(_notice(candidate), url, _siblings(candidate)).reason == "article_lost"
        ):
            return candidate
    raise AssertionError("no corpus article whose error page needs the site's chrome")


def test_the_sites_chrome_around_a_notice_is_not_the_pages_own() -> None:
    page = _chrome_decides()
    url = f"{BASE}retired-story.html"
    samples = _siblings(page)
    text = _extract(_notice(page), url).extraction.text or ""  # type: ignore[union-attr]
    # Its text holds more than a notice (600 characters or more that the samples' stories do
    # not hold): text its site shows around every article, which their chrome holds.
    stories = "\n".join(s.text for s in samples)
    chrome = "\n".join(s.chrome for s in samples)
    assert own_text_chars(text, stories) >= THIN_TEXT
    assert own_text_chars(text, f"{stories}\n{chrome}") < THIN_TEXT
    judged = _judge(_notice(page), url, samples)
    assert (judged.verdict, judged.reason) == ("soft_404", "article_lost")
    assert _judge(_notice(page), url, _siblings(page, chrome=False)).verdict == "ok"
    # The live article and a sibling stay live.
    for body in (page.html, sibling_page(page.html, *_stories(page)[0])):
        assert _judge(body, f"{BASE}live-story.html", samples).verdict == "ok"


def test_one_sample_is_not_a_site_template(page: CorpusPage) -> None:
    judged = _judge(_notice(page), f"{BASE}retired-story.html", _siblings(page)[:1])
    assert judged.verdict == "ok"


def test_another_sites_articles_say_nothing(page: CorpusPage) -> None:
    others = [p for p in _with_markup() if p.id != page.id][:2]
    samples = [_sample(p.html, f"{BASE}other-{i}.html") for i, p in enumerate(others)]
    assert _judge(_notice(page), f"{BASE}retired-story.html", samples).verdict == "ok"


def test_a_page_at_a_url_no_article_has_is_left_alone(page: CorpusPage) -> None:
    for url in ("http://paper.test/contact", "http://paper.test/search?q=ferry"):
        assert _judge(_notice(page), url, _siblings(page)).verdict == "ok"


def test_a_headline_that_names_its_url_is_an_article(page: CorpusPage) -> None:
    url = f"{BASE}well-then.html"  # the notice's heading is "Well then"
    assert _judge(_notice(page), url, _siblings(page)).verdict == "ok"


def test_a_page_that_declares_a_video_is_left_alone(page: CorpusPage) -> None:
    tree = lxml_html.document_fromstring(_notice(page))
    for meta in tree.xpath("//meta[@property='og:type']"):
        meta.getparent().remove(meta)
    tree.find("head").append(lxml_html.Element("meta", property="og:type", content="video.other"))
    video = lxml_html.tostring(tree, encoding="utf-8")
    assert _judge(video, f"{BASE}retired-story.html", _siblings(page)).verdict == "ok"


def _capture(db: Database, url: str, at: datetime, text: str = "story") -> int:
    with db.session() as session:
        page = Page(url=url, original_url=url, host="paper.test", first_seen_at=at)
        session.add(page)
        session.flush()
        capture = Capture(page_id=page.id, url=url, fetched_at=at, verdict="ok", reason="http_200",
                          text=text, text_chars=len(text))  # fmt: skip
        session.add(capture)
        session.flush()
        return capture.id


def test_samples_are_the_sites_newest_near_the_fetch_and_never_the_page_itself(
    database: Database,
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [
        _capture(database, f"{BASE}story-{i}.html", start + timedelta(hours=i), f"text {i}")
        for i in range(KEPT_SAMPLES + 5)
    ]
    with database.session() as session:
        keep_site_samples(
            session,
            [
                (cid, f"https://www.paper.test/news/2025/06/story-{i}.html",
                 start + timedelta(hours=i), (i, 100 + i), f"Story {i}.\nThe end of story {i}.",
                 f"Menu\nSign in to comment on story {i}" if i % 2 else None)
                for i, cid in enumerate(ids)
            ],
        )  # fmt: skip
    with database.session(readonly=True) as session:
        kept = session.scalars(select(SiteArticle.capture_id).order_by(SiteArticle.id)).all()
        assert sorted(kept) == ids[5:]  # the host's oldest are dropped
        last = start + timedelta(hours=KEPT_SAMPLES + 4)
        near = site_samples(session, f"{BASE}story-new.html", "x", last, timedelta(hours=2))
        assert [s.text for s in near] == [f"text {KEPT_SAMPLES + 4 - k}" for k in range(3)]
        # Each with its page's chrome as it was kept (none for a sample kept without).
        assert [s.chrome for s in near] == [
            f"Menu\nSign in to comment on story {i}" if i % 2 else ""
            for i in (KEPT_SAMPLES + 4, KEPT_SAMPLES + 3, KEPT_SAMPLES + 2)
        ]
        # A capture of the page judged is no sample of it, by either URL.
        own = f"{BASE}story-{KEPT_SAMPLES + 4}.html"
        near = site_samples(session, own, own, last, timedelta(hours=2))
        assert [s.text for s in near] == [f"text {KEPT_SAMPLES + 4 - k}" for k in (1, 2)]
        # Their closing paragraphs, kept with them, by the URL each was fetched at.
        closings = site_closings(session, own, own, last, timedelta(hours=2))
        assert closings == {
            f"{BASE}story-{i}.html": [f"Story {i}.", f"The end of story {i}."]
            for i in (KEPT_SAMPLES + 3, KEPT_SAMPLES + 2)
        }
        # A crawl reads them once per site and picks each page's: the same answer.
        rows = stored_closings(session, own, last, timedelta(hours=2))
        assert own_closings(rows, own, own) == closings
        wide = stored_closings(session, own, last, timedelta(days=9))
        assert len(own_closings(wide, own, own)) == 8  # the newest eight, the page's left out
        assert site_samples(session, "http://elsewhere.test/a/b-c.html", "x", last,
                            timedelta(days=9)) == []  # fmt: skip
    with database.session() as session:  # deleting a capture deletes its sample
        session.execute(delete(Capture).where(Capture.id == ids[-1]))
    with database.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(SiteArticle)) == KEPT_SAMPLES - 1


RETIRED = "/news/2025/06/retired-story.html"


def _retired_site(page: CorpusPage) -> tuple[list[str], str, StaticSite]:
    """Two live articles of the page's site and its retired page (the page's chrome around a
    notice), on a host whose 404 page is bare: its probe cannot tell the notice from an
    article. Returns the live paths, the retired path and the site."""
    routes = {
        f"/news/2025/06/story-{i}.html": Route(body=sibling_page(page.html, title, paragraphs))
        for i, (title, paragraphs) in enumerate(_stories(page))
    }
    live = list(routes)
    routes[RETIRED] = Route(body=_notice(page))
    site = StaticSite(routes=routes, fallback=Route(404, b"<html><body>Not found</body></html>"))
    return live, RETIRED, site


def test_the_crawl_and_morgue_extract_learn_the_site_from_its_live_articles(
    page: CorpusPage, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    live, retired, site = _retired_site(page)
    with site:
        first = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                           "--no-requisites", *FAST, *(site.url(p) for p in live))  # fmt: skip
        assert first.returncode == 0, first.stderr
        assert {r["verdict"] for r in json_lines(first.stdout)} == {"ok"}
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, site.url(retired))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert (row["verdict"], row["reason"]) == ("soft_404", "article_lost")
    shown = run_morgue("--data-dir", str(data), "show", site.url(retired), "--json")
    assert LACKS_SITE_ARTICLE in json.loads(shown.stdout)["evidence"], shown.stderr
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        kept = db.execute(
            "SELECT c.url FROM site_articles s JOIN captures c ON c.id = s.capture_id"
        ).fetchall()
    assert sorted(u.rsplit("/", 1)[1] for (u,) in kept) == ["story-0.html", "story-1.html"]
    # morgue extract judges every record again from the samples the DB kept: the same verdicts.
    rows = judge_again(data, "url, verdict, reason")
    assert sorted((u.rsplit("/", 1)[1], v, r) for u, v, r in rows) == [
        ("retired-story.html", "soft_404", "article_lost"),
        ("story-0.html", "ok", "http_200"),
        ("story-1.html", "ok", "http_200"),
    ]


def test_the_crawl_keeps_each_samples_chrome_and_judges_with_it(tmp_path: Path) -> None:
    """The page whose error page only its site's chrome tells, through real crawls and the
    database: the chrome is kept (compressed) with each live article and read back."""
    data = tmp_path / "data"
    live, retired, site = _retired_site(_chrome_decides())
    with site:
        first = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                           "--no-requisites", *FAST, *(site.url(p) for p in live))  # fmt: skip
        assert first.returncode == 0, first.stderr
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, site.url(retired))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert (row["verdict"], row["reason"]) == ("soft_404", "article_lost")
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        kept = [
            zlib.decompress(c).decode() for (c,) in db.execute("SELECT chrome FROM site_articles")
        ]
    assert len(kept) == 2 and all(len(c) > 500 for c in kept)
    # morgue extract reads the same samples back from the database: the same verdicts.
    rows = judge_again(data, "url, verdict, reason")
    assert sorted((u.rsplit("/", 1)[1], v, r) for u, v, r in rows) == [
        ("retired-story.html", "soft_404", "article_lost"),
        ("story-0.html", "ok", "http_200"),
        ("story-1.html", "ok", "http_200"),
    ]


def test_a_retired_page_fetched_before_its_sites_articles_is_caught(
    page: CorpusPage, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    live, retired, site = _retired_site(page)
    with site:
        # One request a second, the retired page first: most often judged before any article
        # of its site, and then caught by the run's second look; else by the articles the
        # crawl holds in memory. Either way the run reports it dead.
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, "-s", "CONCURRENT_REQUESTS=1",
                          "-s", "DOWNLOAD_DELAY=1", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
                          site.url(retired), *(site.url(p) for p in live))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json_lines(proc.stdout)
    assert [(r["verdict"], r["reason"]) for r in rows] == [
        ("soft_404", "article_lost"),
        ("ok", "http_200"),
        ("ok", "http_200"),
    ]
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        ((evidence, metadata_file, offset),) = db.execute(
            "SELECT evidence, metadata_warc_file, metadata_warc_offset FROM captures "
            "WHERE url LIKE '%retired%'"
        ).fetchall()
    assert LACKS_SITE_ARTICLE in json.loads(evidence)
    # The capture points at a metadata record that holds the verdict the run reported.
    record = json.loads(read_record(data / "warcs", (metadata_file, offset)).payload)
    assert (record["verdict"], record["reason"]) == ("soft_404", "article_lost")
    shown = run_morgue("--data-dir", str(data), "show", site.url(retired), "--json")
    assert json.loads(shown.stdout)["verdict"] == "soft_404", shown.stderr


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of the test's own on the Redis at 127.0.0.1:6379."""
    yield from redis_prefix()


@pytest.mark.postgres
def test_a_worker_that_stops_gives_its_pages_the_second_look(
    page: CorpusPage, tmp_path: Path, postgres_url: str, prefix: str
) -> None:
    """A distributed crawl: the worker judges the retired page while its site has no samples,
    then stores two live articles; stopped, it judges the retired page again against them."""
    data = tmp_path / "data"
    live, retired, site = _retired_site(page)
    with site:
        worker = Worker(data, postgres_url, REDIS_URL, prefix, "w1")

        def stored(n: int) -> Callable[[], bool]:
            return lambda: count_captures(postgres_url) >= n

        for batch, total in (([retired], 1), (live, 3)):
            queued = run_morgue("archive", "--redis", REDIS_URL, "--redis-prefix", prefix,
                                "--format", "json", *(site.url(p) for p in batch))  # fmt: skip
            assert queued.returncode == 0, queued.stderr
            wait_for(stored(total), 120, f"{total} page(s) stored", worker.log_tail)
        first = {r["url"]: r["verdict"] for r in captures(data, postgres_url)}
        assert first[site.url(retired)] == "ok"  # no samples yet when it was judged
        summary = worker.stop()
    assert summary["status"] in {"finished", "interrupted"}, summary
    verdicts = {r["url"]: (r["verdict"], r["reason"]) for r in captures(data, postgres_url)}
    assert verdicts[site.url(retired)] == ("soft_404", "article_lost"), worker.log_tail()
    assert {verdicts[site.url(p)] for p in live} == {("ok", "http_200")}
    # Its new metadata record is in a file of this worker's, named by its id like the others.
    (extract_file,) = (data / "warcs").glob("morgue-extract-*")
    assert extract_file.name.endswith("~w1.warc.gz"), extract_file.name


def test_the_second_look_on_its_own_and_a_fault_in_it(
    page: CorpusPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    routes = {
        f"/news/2025/06/story-{i}.html": Route(body=sibling_page(page.html, title, paragraphs))
        for i, (title, paragraphs) in enumerate(_stories(page))
    }
    retired = "/news/2025/06/retired-story.html"
    routes[retired] = Route(body=_notice(page))
    with StaticSite(routes=routes, fallback=Route(404, b"<html><body>gone</body></html>")) as site:
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, *(site.url(p) for p in routes))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    row = next(r for r in json_lines(proc.stdout) if r["url"].endswith(retired))
    assert (row["verdict"], row["reason"]) == ("soft_404", "article_lost")
    # Set back to what a crawl that judged it before its site's articles were stored gave.
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        db.execute(
            "UPDATE captures SET verdict = 'ok', reason = 'http_200', evidence = ? WHERE id = ?",
            (json.dumps(["thin_text", "no_article_markup"]), row["capture_id"]),
        )
        (run_id,) = db.execute(
            "SELECT run_id FROM captures WHERE id = ?", (row["capture_id"],)
        ).fetchone()
    database = open_database(f"sqlite:///{data / 'morgue.sqlite3'}")
    try:
        # A disk that fills up as the pass writes its metadata record: logged, not raised, and
        # the crawl's verdict stays.
        def full(*args: object, **kwargs: object) -> None:
            raise WarcError("No space left on device")

        with monkeypatch.context() as patched:
            patched.setattr(WarcWriter, "write_metadata", full)
            assert after_run(database, data / "warcs", run_id, {}) == 0
        with database.session(readonly=True) as session:
            assert session.get(Capture, row["capture_id"]).verdict == "ok"  # type: ignore[union-attr]
        # Run on its own, it finds the page, and the page only.
        assert second_look_candidates(database, run_id) == [row["capture_id"]]
        # The run's WARC_DIR setting wins over the data directory's: its records are read and
        # the new one written there.
        elsewhere = tmp_path / "elsewhere"
        assert after_run(database, elsewhere, run_id, {"WARC_DIR": str(data / "warcs")}) == 1
        assert len(list((data / "warcs").glob("morgue-extract-*"))) == 1
        assert not elsewhere.exists()
        with database.session(readonly=True) as session:
            capture = session.get(Capture, row["capture_id"])
            assert capture is not None and capture.verdict == "soft_404"
            assert LACKS_SITE_ARTICLE in (capture.evidence or [])
        assert second_look_candidates(database, run_id) == []  # judged: no third look
        # --extract later: nothing was judged by its content, nothing to look at again.
        assert after_run(database, data / "warcs", run_id, {"EXTRACT_ENABLED": False}) == 0
    finally:
        database.close()


STUB = ("So long", "Whatever used to be written here has been taken off this website for good.")


def _stubbed(page: CorpusPage, story: int) -> bytes:
    """Another article of the page's site with the site's stub appended after its story."""
    title, paragraphs = _stories(page)[story]
    return stub_page(sibling_page(page.html, title, paragraphs), *STUB, "\n".join(paragraphs))


def test_a_stub_the_site_appends_is_cut_once_another_article_of_the_site_ends_with_it(
    page: CorpusPage,
) -> None:
    url = f"{BASE}stubbed-story.html"
    other = _extract(_stubbed(page, 1), f"{BASE}other-story.html").extraction
    assert other is not None and STUB[1] in (other.text or "")  # unseen wording: not cut alone
    closings = closing_paragraphs(other.text)
    result = _extract(_stubbed(page, 0), url)
    fetch = Fetch(url=url, final_url=url, status=200)
    alone = judge_page(fetch, result.extraction, result.facts)
    assert alone.extraction is not None and STUB[1] in (alone.extraction.text or "")
    judged = judge_page(fetch, result.extraction, result.facts, site_closings=closings)
    assert judged.verdict == "ok" and "stub_stripped" in judged.evidence
    assert judged.extraction is not None and STUB[1] not in (judged.extraction.text or "")
    assert _stories(page)[0][1][-1][:60] in (judged.extraction.text or "")  # the story stays
    # The same story under another URL ends as the page does: its closing is the story's.
    assert alone.extraction is not None
    assert site_stubs([closing_paragraphs(alone.extraction.text)], alone.extraction.text) == []
    assert site_stubs([closings], alone.extraction.text) == closings
    # An article that does not end with it keeps its text whole.
    live = _extract(sibling_page(page.html, *_stories(page)[0]), url)
    kept = judge_page(fetch, live.extraction, live.facts, site_closings=closings)
    assert kept.extraction == live.extraction and "stub_stripped" not in kept.evidence


def _archive_stubbed(routes: dict[str, Route], data: Path) -> list[tuple[str, str, str, str]]:
    """Archive the routes one at a time; the captures' url, verdict, text and evidence."""
    with StaticSite(routes=routes, fallback=Route(404, b"<html><body>gone</body></html>")) as site:
        proc = run_morgue("--data-dir", str(data), "archive", "--format", "json", "--no-recover",
                          "--no-requisites", *FAST, "-s", "CONCURRENT_REQUESTS=1",
                          *(site.url(p) for p in routes))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(data / "morgue.sqlite3") as db:
        rows = db.execute("SELECT url, verdict, text, evidence FROM captures ORDER BY id")
        return list(rows.fetchall())


def test_the_crawl_cuts_the_sites_stub_from_every_article_that_ends_with_it(
    page: CorpusPage, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    routes = {f"/news/2025/06/stubbed-{i}.html": Route(body=_stubbed(page, i)) for i in (0, 1)}
    rows = _archive_stubbed(routes, data)
    assert [v for _, v, _, _ in rows] == ["ok", "ok"]
    # The second stored is cut as it is judged: the first, stored, ends with the same paragraph.
    # The first was judged before anything in the archive ended with it: the run's second look
    # cuts it, with a metadata record of its own. Each keeps its story to its last paragraph.
    for url, _, text, evidence in rows:
        assert STUB[1] not in text and "stub_stripped" in json.loads(evidence)
        story = _stories(page)[int(url.rsplit("-", 1)[1].split(".")[0])]
        assert story[1][-1][:60] in text
    assert list((data / "warcs").glob("morgue-extract-*.warc.gz"))


def test_one_story_under_two_urls_keeps_its_closing(page: CorpusPage, tmp_path: Path) -> None:
    """The same stubbed story at two URLs: its end is the story's as far as the site shows."""
    data = tmp_path / "data"
    body = _stubbed(page, 0)
    routes = {f"/news/2025/06/{name}.html": Route(body=body) for name in ("story", "story-amp")}
    rows = _archive_stubbed(routes, data)
    assert [v for _, v, _, _ in rows] == ["ok", "ok"]
    for _, _, text, evidence in rows:
        assert STUB[1] in text and "stub_stripped" not in (json.loads(evidence or "null") or [])


def test_the_crawls_own_articles_count_once_and_never_for_themselves() -> None:
    recent = RecentArticles(keep=2)
    for i in range(3):
        recent.add(SiteSample((i,), f"Story {i}.\nIts end {i}.", f"https://www.paper.test/a/s-{i}"))
    recent.add(SiteSample((9,), "Elsewhere.", "https://other.test/a/s-9"))
    # The newest two of the site, the page judged left out, whatever its host's www.
    assert [s.url for s in recent.near("https://paper.test/a/s-9", "x")] == [
        "https://www.paper.test/a/s-2",
        "https://www.paper.test/a/s-1",
    ]
    own = "https://www.paper.test/a/s-2"
    assert recent.closings(own, own) == {"https://www.paper.test/a/s-1": ["Story 1.", "Its end 1."]}
    stored = [SiteSample((1,), "Story 1.", "https://www.paper.test/a/s-1"),
              SiteSample((0,), "Story 0.", "https://www.paper.test/a/s-0")]  # fmt: skip
    assert [s.url[-3:] for s in merged(recent.near(own, own), stored)] == ["s-1", "s-0"]


def test_a_sample_is_any_live_article_that_is_not_thin_text() -> None:
    """The sample threshold is the soft-404 rules' own thin-text line: a short report with
    article markup counts, a page the rules call thin does not."""
    from archive.extraction.article import SAMPLE_MIN_CHARS

    assert SAMPLE_MIN_CHARS == THIN_TEXT
    assert is_site_sample("ok", ["http_200"], "a" * THIN_TEXT, None)
    assert not is_site_sample("ok", ["http_200"], "a" * (THIN_TEXT - 1), None)
    assert not is_site_sample("ok", ["no_article_markup"], "a" * 5000, None)
    assert not is_site_sample("ok", ["http_200"], "a" * 5000, "https://web.archive.org/web/2024/x")
    # Measured in columns: 300 ideographs say what 600 Latin letters say.
    assert is_site_sample("ok", ["http_200"], "\u8a18" * (THIN_TEXT // 2), None)
    assert not is_site_sample("ok", ["http_200"], "\u8a18" * (THIN_TEXT // 2 - 1), None)


# The dev corpus's Japanese reports: full news reports of 404 to 459 characters.
_SHORT_WIDE_REPORTS = ("AsahiShimbun", "ChunichiShimbun", "YomiuriShimbun")


def test_a_full_report_in_a_wide_script_is_not_thin_text() -> None:
    """Its site's articles are learnt from it: a count of characters called these thin, so their
    sites never had a sample and their notice pages were left ok."""
    reports = [
        p for p in corpus_pages() if p.id.split("-")[-1].split("_")[0] in _SHORT_WIDE_REPORTS
    ]
    assert len(reports) == len(_SHORT_WIDE_REPORTS)
    for report in reports:
        url = f"{BASE}{report.id}.html"
        result = extract_page(report.html, url, "text/html; charset=utf-8")
        assert result is not None and result.extraction is not None
        text = result.extraction.text or ""
        assert len(text) < THIN_TEXT, report.id  # thin by a count of characters
        assert result.chrome, report.id  # read as a possible sample
        judged = judge_page(Fetch(url, None, 200), result.extraction, result.facts)
        assert judged.verdict == "ok", report.id
        assert "thin_text" not in judged.evidence, report.id
        assert is_site_sample(judged.verdict, judged.evidence, text, None), report.id
