"""The cleaning rules and the guard on real-size dev pages of the corpus, read at run time.

Each page named here is one where a rule fires; the lines it removes must not be lines of the
page's gold text (the story), and no dev page may score below plain trafilatura by more than
0.02 F1 (issue 17). Only ``dev`` pages: the acceptance split measures, it does not test.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from functools import cache
from typing import Any

import pytest

from archive.extraction import article
from archive.extraction.boilerplate import STRONG_REASONS, clean_lines
from tests.corpus import corpus_dir
from tests.tier import sweep

_TOKEN_RE = re.compile(r"\w+")


@cache
def _gold() -> dict[str, dict[str, Any]]:
    root = corpus_dir()
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows if r["split"] == "dev" and r.get("body")}


def _html(row: dict[str, Any]) -> bytes:
    return gzip.decompress((corpus_dir() / row["file"]).read_bytes())


def _removed(page_id: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Extract one dev page; the lines the cleaning removed, with their reasons."""
    row = _gold()[page_id]
    seen: list[tuple[str, str | None]] = []

    def recording(*args: Any) -> str:
        lines = clean_lines(*args)
        seen.extend(lines)
        return "\n".join(line for line, reason in lines if not reason)

    monkeypatch.setattr(article, "clean_text", recording)
    article.extract_article(_html(row), row["url"])
    return [(line, reason) for line, reason in seen if reason]


def _tokens(text: str) -> str:
    return " ".join(_TOKEN_RE.findall(text))


@pytest.mark.parametrize(
    ("page_id", "reason"),
    [
        ("fundus-de-BusinessInsiderDE_2024_01_29", "credit"),
        ("fundus-de-BusinessInsiderDE_2024_01_29", "repeated"),
        ("fundus-uk-TheIndependent_2024_11_22", "prompt"),
        ("fundus-no-Nettavisen_2024_10_16", "related_teaser"),
        ("fundus-jp-ChunichiShimbun_2025_01_13", "cjk_widget"),
        ("fundus-de-Tagesspiegel_2024_04_29", "embed_placeholder"),
        ("fundus-jp-Nikkei_2025_01_27", "dateline"),
        ("fundus-tw-TaipeiTimes_2024_10_15", "teaser"),
        ("fundus-uk-TechRadar_2026_05_21", "author_bio"),
    ],
)
def test_a_rule_fires_on_a_real_page_and_spares_the_story(
    page_id: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if page_id not in _gold():
        pytest.fail(f"{page_id} is not a dev page with gold text any more")
    removed = _removed(page_id, monkeypatch)
    assert reason in {r for _line, r in removed}, Counter(r for _line, r in removed)
    gold = _tokens(_gold()[page_id]["body"])
    wrong = [(line, r) for line, r in removed if r not in STRONG_REASONS and _tokens(line) in gold]
    assert not wrong
    # The rule itself, strong or not, takes no line of the story.
    assert not [line for line, r in removed if r == reason and _tokens(line) in gold]


def _f1(gold: str, text: str) -> float:
    def shingles(value: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN_RE.findall(value)
        return Counter(tuple(tokens[i : i + 4]) for i in range(max(1, len(tokens) - 3)))

    g, p = shingles(gold), shingles(text)
    hits = sum((g & p).values())
    if not hits:
        return 0.0
    precision, recall = hits / sum(p.values()), hits / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def test_no_dev_page_scores_below_plain_trafilatura() -> None:
    import trafilatura

    worse = []
    pages = sweep(list(_gold().items()))  # every page with MORGUE_TEST_FULL=1 (tests/tier.py)
    for page_id, row in pages:
        html = _html(row)
        plain = trafilatura.extract(html.decode("utf-8", errors="replace"), url=row["url"]) or ""
        ours = article.extract_article(html, row["url"])
        margin = _f1(row["body"], ours.text or "" if ours else "") - _f1(row["body"], plain)
        if margin < -0.02:
            worse.append((page_id, round(margin, 3)))
    assert len(_gold()) >= 100 and len(pages) >= len(_gold()) // 3
    assert not worse


def test_ruby_reads_as_the_page_spells_it_and_keeps_the_sentence_whole() -> None:
    """A real Japanese article whose names carry ruby readings with ``<rp>`` parentheses: each
    sentence is one line of the text, with the reading in the page's own parentheses, as the
    gold text has it; plain trafilatura breaks the sentence in three and drops the reading."""
    row = _gold()["fundus-jp-YomiuriShimbun_2024_12_03"]
    html = _html(row)
    assert b"<rp>" in html and b"<ruby>" in html
    extraction = article.extract_article(html, row["url"])
    assert extraction is not None and extraction.text is not None
    gold = [line for line in row["body"].splitlines() if "\uff08ユンソンニョル\uff09" in line]
    assert gold, "the gold text no longer holds the reading"
    lines = extraction.text.splitlines()
    assert any(" ".join(gold[0].split()) == " ".join(line.split()) for line in lines), lines
    assert "尹錫悦" not in lines  # the base is not a line of its own


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        # The page spells the reading out: base and parenthesised reading.
        ("<ruby><rb>東京</rb><rp>(</rp><rt>とうきょう</rt><rp>)</rp></ruby>", "東京(とうきょう)"),
        # No rp: the reading is a pronunciation aid above the text, not words of the sentence.
        ("<ruby>漢<rt>かん</rt>字<rt>じ</rt></ruby>", "漢字"),
        ("<ruby><b>北京</b><rt>Běijīng</rt></ruby>", "北京"),
        (
            "<ruby>明<!-- a note -->日<rp>\uff08</rp><rt>あした</rt><rp>\uff09</rp></ruby>",
            "明日\uff08あした\uff09",
        ),
    ],
)
def test_ruby_text(markup: str, text: str) -> None:
    from lxml import html as lxml_html

    from archive.extraction.ruby import flatten_ruby

    tree = lxml_html.document_fromstring(f"<html><body><p>前 {markup} 後</p></body></html>")
    assert flatten_ruby(tree) == 1
    assert tree.xpath("//ruby") == []
    assert tree.findtext(".//p") == f"前 {text} 後"


def test_text_after_a_comment_inside_a_paragraph_is_kept() -> None:
    """A real dev article with an HTML comment put in the middle of each of its long
    paragraphs (ad slots and template markers are left in paragraphs so): the words after the
    comment stay in the text. Given a tree that holds comments, trafilatura drops them."""
    from lxml import html as lxml_html

    row = _gold()["fundus-uk-TheIndependent_2024_11_22"]
    tree = lxml_html.document_fromstring(article.decode_html(_html(row)))
    halves = []
    for p in tree.iter("p"):
        text = p.text or ""
        if len(p) == 0 and len(text.split()) >= 30:
            words = text.split()
            head, tail = " ".join(words[:15]), " ".join(words[15:])
            p.text = head + " "
            comment = lxml_html.etree.Comment(" ad slot ")
            comment.tail = " " + tail
            p.append(comment)
            halves.append(tail)
    assert len(halves) >= 3, "the page has too few plain paragraphs to cut"
    body = lxml_html.tostring(tree, encoding="utf-8")
    extraction = article.extract_article(body, row["url"])
    assert extraction is not None and extraction.text is not None
    text = " ".join(extraction.text.split())
    kept = [tail for tail in halves if " ".join(tail.split()) in text]
    assert kept == halves


def test_utf8_pages_parse_from_their_bytes_as_from_their_decoded_text() -> None:
    """UTF-8 bodies go to libxml2 as bytes (faster): the tree must be the one their decoded text
    gives, on real pages in many scripts."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
    compared = 0
    for row in sweep(sorted(_gold().values(), key=lambda r: str(r["id"]))):
        body = _html(row)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            continue
        from_text = lxml_html.document_fromstring(text, parser=parser)
        from_bytes = article._parse(body, "text/html")
        assert etree.tostring(from_bytes) == etree.tostring(from_text), row["id"]
        compared += 1
    assert compared >= 30


def test_the_fallback_metadata_is_trafilaturas_for_the_fields_the_page_leaves_empty() -> None:
    """Only the searches for the missing fields are run (htmldate's date search, the byline
    search): each field must still come out as ``trafilatura.extract_metadata`` gives it."""
    import trafilatura

    from archive.extraction.news_metadata import read_news_meta

    fields = {"title": "title", "authors": "author", "published": "date", "site_name": "sitename"}
    compared = 0
    for row in sorted(_gold().values(), key=lambda r: str(r["id"])):
        tree = article._parse(_html(row), "text/html")
        news = article._people_first(tree, row["url"], read_news_meta(tree, row["url"]))
        ours = article._fallback_metadata(tree, row["url"], news)
        missing = [theirs for own, theirs in fields.items() if not getattr(news, own)]
        if not missing:
            assert ours == {}, row["id"]
            continue
        full = trafilatura.extract_metadata(tree, default_url=row["url"]).as_dict()
        for key in [*missing, "description"]:
            assert ours.get(key) == full.get(key), (row["id"], key)
        compared += 1
    assert compared >= 5
