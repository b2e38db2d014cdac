"""'Page not found' from translation catalogues (archive.liveness.gone_wording, issue 17 item 1):
the data file, its build script's parsing, matching in every script, and the soft-404 rules that
read it."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from lxml import html as lxml_html

from archive.extraction.article import extract_page
from archive.liveness.gone_wording import DATA_FILE, find_gone_phrase, normalise, phrases
from archive.liveness.soft404 import WITHHOLD_ENV, judge, strip_appended_stub, stub_phrase
from tests.corpus import corpus_pages
from tests.liveness_pages import error_html

ROOT = Path(__file__).resolve().parent.parent


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gone_wording_build", ROOT / "bench" / "gone_wording_build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _phrase(lang: str) -> str:
    """A catalogue phrase of ``lang``, read from the data file (never written into a test)."""
    return next(p.text for p in phrases() if p.lang == lang)


def test_the_data_file_covers_many_languages_and_names_each_phrase_source() -> None:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    languages = {p["lang"] for p in data["phrases"]}
    assert len(languages) >= 40
    # Scripts without spaces and right-to-left ones among them.
    assert {"zh", "ja", "th", "ar", "he", "fa"} <= languages
    sources = {f"{s['name']} {s['version']}" for s in data["sources"]}
    assert len(sources) >= 3
    for entry in data["phrases"]:
        assert entry["source"] in sources and entry["message"] and entry["text"].strip()
    assert data["built_by"] == "bench/gone_wording_build.py"


def test_the_build_reads_po_catalogues_as_gettext_does(tmp_path: Path) -> None:
    build = _build_script()
    po = (
        b'msgid ""\nmsgstr ""\n"Language: xx\\n"\n\n'
        b'#: templates/404.html:3\nmsgid "Page not found"\n'
        b'msgstr ""\n"Sivu ei ole "\n"tallessa"\n\n'
        b'#, fuzzy\nmsgid "Page not found"\nmsgstr "fuzzy guess"\n\n'
        b'msgid "Home"\nmsgstr "Koti"\n'
    )
    assert build.read_po(po) == {
        "": "Language: xx\n",
        "Page not found": "Sivu ei ole tallessa",
        "Home": "Koti",
    }
    # A wheel with a catalogue for one locale and an English one: untranslated entries and
    # phrases too short to tell from ordinary text are left out; one sentence is kept.
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("demo/locale/fi/LC_MESSAGES/django.po", po)
        zf.writestr(
            "demo/locale/pt_BR/LC_MESSAGES/django.po",
            'msgid "Page not found"\nmsgstr "Página sumiu. Volte ao início."\n',
        )
        zf.writestr(
            "demo/locale/de/LC_MESSAGES/django.po",
            'msgid "Page not found"\nmsgstr "Page not found"\n',
        )
    catalogues = r"^demo/locale/(?P<locale>[^/]+)/LC_MESSAGES/django\.po$"
    source = build.Source(
        "demo", "pypi", "1.0", "MIT", catalogues, "po", ("Page not found", "Home")
    )
    found = list(build.phrases(source, wheel))
    assert [(p["lang"], p["locale"], p["text"]) for p in found] == [
        ("fi", "fi", "Sivu ei ole tallessa"),
        ("pt", "pt_BR", "Página sumiu."),
    ]
    assert all(p["source"] == "demo 1.0" for p in found)


def test_phrases_are_matched_whole_and_in_every_script() -> None:
    assert normalise("  Page — NOT\u00a0found!! ") == "page not found"
    # Thai writes vowels as combining marks: they are kept, not taken for word breaks.
    thai = _phrase("th")
    assert normalise(thai) == normalise(thai).strip() and " " not in normalise(thai)[:3]
    for lang in ("ja", "zh", "th", "ar", "he", "fa", "ru", "hi", "ko", "el"):
        phrase = _phrase(lang)
        assert find_gone_phrase(f"«{phrase}»"), lang
        # Scripts without spaces match inside a longer run of text.
        if lang in ("ja", "zh", "th"):
            assert find_gone_phrase(f"申{phrase}。"), lang
    swedish = next(p.text for p in phrases() if p.lang == "sv")
    assert find_gone_phrase(swedish.upper() + "!")
    # Within a longer word it is not the phrase.
    assert find_gone_phrase(swedish + "xyz") is None
    assert find_gone_phrase("The council approved the budget on Tuesday.") is None


def test_a_language_can_be_withheld() -> None:
    phrase = _phrase("ja")
    assert find_gone_phrase(phrase)
    assert find_gone_phrase(phrase, without=("ja",)) is None
    assert find_gone_phrase(_phrase("ar"), without=("ja",))
    # Through the environment, as the evaluation withholds a language from a whole crawl.
    code = (
        "import sys; from archive.liveness.soft404 import stub_phrase; "
        "print(stub_phrase(sys.argv[1]))"
    )
    for env, expected in (({}, True), ({WITHHOLD_ENV: "ja"}, False)):
        proc = subprocess.run(
            [sys.executable, "-c", code, phrase], capture_output=True, text=True, cwd=ROOT,
            env={**os.environ, **env}, check=True,
        )  # fmt: skip
        assert (proc.stdout.strip() != "None") is expected


def _judge(body: bytes, url: str = "http://news.test/world/2025/story.html"):  # type: ignore[no-untyped-def]
    result = extract_page(body, url, "text/html")
    assert result is not None and result.extraction is not None
    return judge(
        url=url,
        final_url=None,
        title=result.extraction.title,
        text=result.extraction.text,
        facts=result.facts,
        baseline=None,
    )


@pytest.mark.parametrize("lang", ["ja", "zh", "th", "ar", "he", "fa", "ko", "ru", "pl", "tr"])
def test_an_error_page_worded_in_any_catalogue_language_is_a_soft_404(lang: str) -> None:
    titles = [p.text for p in phrases() if p.lang == lang]
    judgement = _judge(error_html(min(titles, key=len), max(titles, key=len)))
    assert (judgement.verdict, judgement.reason) == ("soft_404", "error_stub"), lang
    assert "stub_heading" in judgement.evidence


def test_real_articles_with_a_stub_appended_in_other_scripts_lose_only_the_stub() -> None:
    pages = corpus_pages(limit=6, min_size=60_000)
    checked = 0
    for page, lang in zip(pages, ("ar", "ja", "he", "th", "fa", "zh"), strict=False):
        result = extract_page(page.html, page.url or "http://news.test/a.html", "text/html")
        assert result is not None and result.extraction is not None and result.extraction.text
        live = result.extraction.text
        heading = min((p.text for p in phrases() if p.lang == lang), key=len)
        text, cut = strip_appended_stub(live + "\n" + heading)
        if len(live) < 300:
            continue  # too little article for any stub to be cut (MIN_ARTICLE_BEFORE_STUB)
        assert cut == [heading] and text == live, (page.id, lang)
        checked += 1
    assert checked >= 4


def test_live_corpus_articles_hold_no_catalogue_phrase_in_their_headings() -> None:
    """Precision where the rules look: the title and headings of every dev article."""
    hits = []
    for page in corpus_pages():
        tree = lxml_html.parse(io.BytesIO(page.html)).getroot()
        if tree is None:
            continue
        for heading in tree.xpath("//title|//h1|//h2|//h3"):
            text = heading.text_content()
            if len(text) <= 200 and find_gone_phrase(text):
                hits.append((page.id, text.strip()[:80]))
    assert not hits, hits
    assert stub_phrase("Minister says the page has turned on the dispute") is None
