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
