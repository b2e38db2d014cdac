"""Which corpus pages morgue flags ``needs_browser`` (archive.liveness.browser_hint), and why.

Every page of ../shared/corpus, of every kind and split, is extracted and judged as a live 200
page would be (no probe). Real articles must never be flagged; the ``js_shell`` page must be.
Prints the flagged pages, the pages closest to the thresholds, and the time the new page facts
take.

    python bench/browser_hint_eval.py
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import html as lxml_html

from archive.extraction.article import decode_html, extract_page
from archive.extraction.page_facts import VISIBLE_CHARS_CAP, _app_shell, _visible_chars
from archive.liveness.browser_hint import BROWSER_VISIBLE, NEEDS_BROWSER
from archive.liveness.soft404 import judge

CORPUS = Path(
    os.environ.get("MORGUE_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def main() -> None:
    if not (CORPUS / "manifest.jsonl").is_file():
        sys.exit(f"no corpus at {CORPUS} (set MORGUE_CORPUS)")
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").open()]
    flagged: Counter[str] = Counter()
    total: Counter[str] = Counter()
    near: list[tuple[int, str, str, int]] = []
    shown: list[str] = []
    facts_s = 0.0
    for row in rows:
        body = gzip.decompress((CORPUS / row["file"]).read_bytes())
        url = row.get("url") or f"http://127.0.0.1/{row['id']}/story.html"
        result = extract_page(body, url, "text/html")
        facts = result.facts if result else None
        text = result.extraction.text if result and result.extraction else None
        verdict = judge(url=url, final_url=url, title=None, text=text, facts=facts, baseline=None)
        kind = f"{row['kind']}/{row['split']}"
        total[kind] += 1
        tree = lxml_html.document_fromstring(decode_html(body))
        started = time.perf_counter()
        if _visible_chars(tree) < VISIBLE_CHARS_CAP:  # as page_facts does
            _app_shell(tree)
        facts_s += time.perf_counter() - started
        if NEEDS_BROWSER in verdict.evidence:
            flagged[kind] += 1
            shown.append(f"  {kind:22} {row['id']:32} text {len(text or ''):5} "
                         f"visible {facts.visible_chars if facts else 0:5} "
                         f"scripts {facts.scripts if facts else 0:3} "
                         f"shell {facts.app_shell if facts else False}")  # fmt: skip
        elif facts is not None:
            near.append((facts.visible_chars, kind, row["id"], len(text or "")))
    print(f"{sum(total.values())} pages; flagged needs_browser by kind:")
    for kind in sorted(total):
        print(f"  {kind:22} {flagged[kind]:4} of {total[kind]}")
    print("flagged pages:")
    print("\n".join(shown) or "  none")
    print(f"unflagged pages with the least visible text (threshold {BROWSER_VISIBLE}, "
          f"counted up to {VISIBLE_CHARS_CAP}):")  # fmt: skip
    for visible, kind, page_id, chars in sorted(near)[:8]:
        print(f"  {kind:22} {page_id:32} visible {visible:5} text {chars:5}")
    print(f"the facts this rule adds (visible text, app shell): "
          f"{facts_s / len(rows) * 1000:.2f} ms a page")  # fmt: skip


if __name__ == "__main__":
    main()
