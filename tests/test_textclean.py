"""Each boilerplate rule: on a line where it must fire, and on a story line where it must not."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from archive.extraction.boilerplate import (
    CUT_GUARD_SHARE,
    GUARD_MIN_WORDS,
    RULE_SIGNALS,
    RULES,
    STRONG_REASONS,
    add_lede,
    choose_text,
    clean_lines,
    clean_text,
    visible_text,
)
from archive.extraction.markup_signals import MarkupSignals, markup_signals

FIRES = {
    "ad_label": [
        "Advertisement",
        "ANZEIGE",
        "Story continues below advertisement",
        "Publicité",
        "Read more",
    ],
    "related_teaser": [
        "Read more: Council votes on the harbour budget",
        "Lesen Sie auch: Neue Brücke eröffnet",
        "Les også: Fergen får ny rute",
        "RELATED: Five things to know about the bridge",
    ],
    "credit": [
        "Photo: Jane Doe/Port Gazette",
        "John Smith/Getty Images",
        "Foto: dpa/Max Muster",
        "© Port Gazette 2024",
        "Copyright: Port Gazette, 2024",
    ],
    "embed_placeholder": [
        "Externer Inhalt nicht verfügbar",
        "Please enable JavaScript to view this content.",
        "Your privacy settings prevent this embedded content from loading.",
        "Zur Anzeige aktiviere bitte die Einstellungen in den Privatsphäre-Einstellungen.",
        "Ich bin damit einverstanden, dass mir der externe Inhalt angezeigt wird.",
        "— Jane Doe (@janedoe) April 25, 2024",
    ],
    "prompt": [
        "Sign up for our morning newsletter",
        "Share this article",
        "Click here to get the app",
        "Il vous reste 57% de cet article à lire. La suite est réservée aux abonnés.",
        "Join the conversation",
        "Follow Port Gazette on Google News",
        "Did you enjoy this article? Please support our journalism with a donation.",
    ],
    "dateline": [
        "Stand: 22.04.2024, 06:00 Uhr",
        "Updated May 3, 2024",
        "Published: 3 May 2024 14:32",
        "03.05.2024 | 14:32",
        "2025年1月14日 01時28分 (1月14日 01時40分更新)",
    ],
    "cjk_widget": ["この記事は会員限定です。", "関連記事", "分享让更多人看到"],
}

KEEPS = {
    "ad_label": [
        "Advertisement revenue at the paper fell by a third last year, the owners said.",
    ],
    "related_teaser": [
        "Read the full report on the council's website, the mayor told residents on Monday "
        "evening, adding that the budget would be published in a fortnight and that residents "
        "could comment on it until the end of the month before the final vote in the chamber.",
        "Readers wrote in to ask about the toll.",
        "Related to this, the council also voted to cut the ferry fares.",
        "Zum Thema Klima sagte der Minister am Montag, die Ziele seien erreichbar.",
        "Trending upward, house prices rose again in May.",
    ],
    "credit": [
        "The photographer said the picture was taken from the bridge at dawn.",
        "Getty Images declined to comment on the sale.",
        "Copyright law was changed in 2019.",
        "Getty Images, the agency, reported record sales of pictures of the event in a statement "
        "on Friday and said it would hire more staff in the region next year.",
    ],
    "embed_placeholder": [
        "The council's new privacy settings for the parking app drew complaints from residents "
        "who said the software shared their location with third parties without asking, and "
        "the city promised an independent review of the contract by the end of the summer.",
        "The bakery sells cookies.",
        "The court will allow the company to publish content online.",
        "The app's privacy settings were changed last year.",
        "— the mayor, speaking on Tuesday",
    ],
    "prompt": [
        "Share prices rose 3 percent after the announcement.",
        "Subscribers to the service grew by two million in the quarter, the company said.",
        "The charity asked residents to support the appeal.",
        "Register to vote by Friday, officials urged.",
    ],
    "dateline": [
        "On 22.04.2024 the council met at 18:00 and voted to close the old bridge for repairs.",
        "The ferry leaves at 06:00 every day.",
        "Updated guidance was issued on May 3, 2024.",
    ],
    "cjk_widget": [
        "港の橋は火曜日に再開した。",
        "市によると、橋の修理は予定より一週間早く終わり、通行料は今年は上がらないという。"
        "住民の多くはフェリーを使わずに済むようになったと話している。",
    ],
}


@pytest.mark.parametrize(("rule", "line"), [(r, line) for r, ls in FIRES.items() for line in ls])
def test_rule_fires(rule: str, line: str) -> None:
    assert RULES[rule](line)


@pytest.mark.parametrize(("rule", "line"), [(r, line) for r, ls in KEEPS.items() for line in ls])
def test_rule_keeps_story_lines(rule: str, line: str) -> None:
    assert not RULES[rule](line)


STORY = [
    "The harbour bridge reopened on Tuesday after three months of repairs.",
    "Engineers replaced the cables and resurfaced the deck, the city said.",
    "Traffic is expected to return to normal by the weekend.",
]


def signals_of(body: str) -> MarkupSignals:
    return markup_signals(lxml_html.document_fromstring(f"<html><body>{body}</body></html>"))


# The same lines as boilerplate markup puts them: an advertising slot, a teaser link, a caption.
BOILERPLATE_PAGE = (
    "<article><p>{}</p><div class='ad-slot'>Advertisement</div>"
    "<p>Read more: <a href='/ferry'>Ferry timetable changes</a></p><p>{}</p>"
    "<figure><img src='a.jpg'><figcaption>Photo: Cy Dale/Getty Images</figcaption></figure>"
    "<p>{}</p></article>"
).format(*STORY)


def test_clean_text_removes_boilerplate_lines_and_keeps_the_story() -> None:
    text = "\n".join(
        [
            "Harbour bridge reopens | Port Gazette",
            "By Ann Lee and Bo Chen",
            STORY[0],
            "Advertisement",
            "Read more: Ferry timetable changes",
            STORY[1],
            "Photo: Cy Dale/Getty Images",
            STORY[2],
            "Ann Lee",
        ]
    )
    cleaned = clean_text(
        text,
        "Harbour bridge reopens",
        ["Ann Lee", "Bo Chen"],
        titles=["Harbour bridge reopens | Port Gazette"],
        signals=signals_of(BOILERPLATE_PAGE),
    )
    assert cleaned.split("\n") == STORY


def test_each_removed_line_names_its_reason() -> None:
    text = "\n".join([STORY[0], "Advertisement", "Read more: Ferry timetable changes", STORY[1]])
    reasons = dict(clean_lines(text, signals=signals_of(BOILERPLATE_PAGE)))
    assert reasons["Advertisement"] == "ad_label"
    assert reasons["Read more: Ferry timetable changes"] == "related_teaser"
    assert reasons[STORY[0]] is None


def test_every_word_rule_needs_a_markup_signal() -> None:
    assert set(RULE_SIGNALS) == set(RULES)
    assert all(RULE_SIGNALS.values())
    assert not set(RULES) & STRONG_REASONS  # a word list is never strong evidence on its own


@pytest.mark.parametrize(
    ("line", "markup"),
    [
        # Lines that fit a word rule, in markup that says the page shows them as furniture.
        ("Advertisement", "<div class='ad-slot'>Advertisement</div>"),
        ("Read more: Ferry timetable changes", "<a href='/x'>Ferry timetable changes</a>"),
        ("Photo: Cy Dale", "<figure><figcaption>Photo: Cy Dale</figcaption></figure>"),
        ("Updated May 3, 2024", "<time datetime='2024-05-03'>Updated May 3, 2024</time>"),
        ("Sign up for our morning newsletter", "<form>Sign up for our morning newsletter</form>"),
        ("Share this article", "<aside>Share this article</aside>"),
        ("Stand: 22.04.2024, 06:00 Uhr", "<p>Stand: 22.04.2024, 06:00 Uhr</p>"),  # on its own
    ],
)
def test_a_word_rule_fires_with_its_markup_signal(line: str, markup: str) -> None:
    page = f"<p>{STORY[0]}</p>{markup}<p>{STORY[1]}</p>"
    assert clean_text(f"{STORY[0]}\n{line}\n{STORY[1]}", signals=signals_of(page)) == (
        f"{STORY[0]}\n{STORY[1]}"
    )


@pytest.mark.parametrize(
    "line",
    ["Advertisement", "Read more: Ferry timetable changes", "Photo: Cy Dale", "Share this article"],
)
def test_a_word_rule_alone_removes_nothing(line: str) -> None:
    # The words are inside a sentence of the story in the page: no markup marks them off.
    page = f"<p>{STORY[0]} {line} is what the sign said. {STORY[1]}</p>"
    text = f"{STORY[0]}\n{line}\n{STORY[1]}"
    assert clean_text(text, signals=signals_of(page)) == text
    assert clean_text(text) == text  # and without the page, nothing to go on


# Short lines that fit word rules, each distinct (not repeated: weak evidence only).
LABELS = [
    "Share this article",
    "Read more",
    "Comments",
    "Advertisement",
    "Sign up for our morning newsletter",
    "Follow us on Instagram",
    "Copy link",
    "Print",
    "Skip advertisement",
    "Subscribe now for full access",
    "Already a subscriber? Log in",
    "Join the conversation",
]


def test_the_guard_keeps_the_text_when_weak_rules_would_cut_too_much() -> None:
    # A layout the rules misread: a third or more of the text sits in <aside> elements.
    page = "".join(f"<aside>{line}</aside>" for line in LABELS) + "".join(
        f"<p>{line}</p>" for line in STORY
    )
    text = "\n".join([*LABELS, *STORY])
    assert sum(map(len, LABELS)) > CUT_GUARD_SHARE * sum(map(len, text.split("\n")))
    assert len(text.split()) >= GUARD_MIN_WORDS
    assert clean_text(text, signals=signals_of(page)) == text
    # Two of them: well under the share, so they go.
    text = "\n".join([*LABELS[:2], *STORY])
    assert clean_text(text, signals=signals_of(page)) == "\n".join(STORY)


def test_the_guard_leaves_a_text_without_a_story_to_the_rules() -> None:
    # A script-written page whose only text is its <noscript> notice: nothing to protect.
    notice = "Please enable JavaScript to read this story."
    page = f"<div id='app'></div><noscript>{notice}</noscript>"
    assert clean_lines(notice, signals=signals_of(page)) == [(notice, "embed_placeholder")]


def test_the_guard_does_not_keep_lines_the_page_repeats() -> None:
    # Half the text is one widget line repeated: strong evidence, cut however much it is.
    widget = "Subscribe to the harbour newsletter for more news from the quay"
    text = "\n".join([STORY[0], widget, STORY[1], widget, STORY[2], widget, widget])
    assert clean_text(text) == "\n".join(STORY)


def test_clean_text_repeated_widget_lines_and_duplicate_pull_quotes() -> None:
    widget = "External content not loaded"
    quote = "“We are proud of the work,” the mayor said."
    text = "\n".join(
        [
            *(STORY[0], widget, quote, STORY[1], widget, quote, STORY[2], widget),
            *("MORE | Tolls rise", "MORE | Ferry delays"),
        ]
    )
    assert clean_text(text).split("\n") == [STORY[0], quote, STORY[1], STORY[2]]


def test_clean_text_keeps_headline_words_in_story_and_names_inside_sentences() -> None:
    text = "\n".join(
        [
            "The bridge reopens a week early, the city said on Tuesday.",
            "Ann Lee, who lives nearby, welcomed the news.",
            STORY[1],
        ]
    )
    # The first line shares words with the headline but is a sentence of the story.
    cleaned = clean_text(text, "Bridge reopens", ["Ann Lee"])
    assert cleaned == text


def test_leading_breadcrumb_list_is_dropped_but_not_a_list_inside_the_story() -> None:
    crumbs = ["- Home", "- News", "- Local", "- Harbour"]
    text = "\n".join([*crumbs, STORY[0], "- cables", "- deck", "- lights", STORY[1]])
    assert clean_text(text).split("\n") == [STORY[0], "- cables", "- deck", "- lights", STORY[1]]
    # Two short items are not enough to call it a menu.
    assert clean_text("\n".join(["- Home", "- News", STORY[0]])).startswith("- Home")


def test_add_lede_only_when_visible_and_missing() -> None:
    lede = "Three months of repairs ended a week early, and tolls will not rise this year."
    page = visible_text(
        lxml_html.document_fromstring(f"<html><body><p class=intro>{lede}</p></body></html>")
    )
    body = "\n".join(STORY)
    assert add_lede(body, lede, page) == f"{lede}\n{body}"
    # Not shown in the page (a search-engine description): not added.
    assert add_lede(body, lede, "Somethingelseentirely") == body
    # Already in the text: not added twice.
    assert add_lede(f"{lede}\n{body}", lede, page) == f"{lede}\n{body}"
    # Truncated or too short: not added.
    assert add_lede(body, lede[:40] + "...", page) == body
    assert add_lede(body, "Bridge open.", page) == body


def test_visible_text_skips_scripts() -> None:
    tree = lxml_html.document_fromstring(
        "<html><body><p>Shown text</p><script>var hidden = 1;</script></body></html>"
    )
    assert visible_text(tree) == "Showntext"


def test_the_pages_text_is_read_in_document_order() -> None:
    # A tail comes after its element's children: a lede with a link in it is found as shown,
    # and the chrome kept for a site sample reads as the page does.
    lede = "The harbour bridge reopened on Tuesday, a week earlier than the city had planned."
    tree = lxml_html.document_fromstring(
        "<html><body><p>The <a href='/bridge'>harbour <b>bridge</b></a> reopened on Tuesday, "
        "a week earlier than the city had planned.</p><footer>Contact us</footer></body></html>"
    )
    assert visible_text(tree) == "".join(f"{lede}Contact us".split())
    body = "\n".join(STORY)
    assert add_lede(body, lede, visible_text(tree)) == f"{lede}\n{body}"
    parts = [" ".join(p.split()) for p in MarkupSignals(tree).text_parts() if p.strip()]
    assert parts == ["The", "harbour", "bridge", "reopened on Tuesday, a week earlier than the "
                     "city had planned.", "Contact us"]  # fmt: skip


def test_choose_text_prefers_extraction_unless_article_body_holds_much_more() -> None:
    extracted = "\n".join(STORY[:1])
    longer = " ".join(STORY * 3)
    assert choose_text(extracted, longer) == (longer, "json-ld")
    # A teaser body, a different text, or about the same text: the extraction stays.
    full = "\n".join(STORY)
    assert choose_text(full, STORY[0]) == (full, "article")
    assert choose_text(full, "A different story about the weather entirely today.") == (
        full,
        "article",
    )
    assert choose_text(full, " ".join(STORY)) == (full, "article")
    assert choose_text(None, longer) == (longer, "json-ld")
    assert choose_text(full, None) == (full, "article")


# -- teaser cards after the story, author profiles ------------------------------------------

PAGE_URL = "https://www.gazette.example/news/2024/05/harbour-bridge-reopens"
CARD = "FERRY DELAYS: Crews expect the morning boats to run late for another week"


def _card_page(href: str, after: str = "") -> str:
    story = "".join(f"<p>{line}</p>" for line in STORY)
    card = f"<a href='{href}'><h3>Ferry delays</h3><p>{CARD}</p></a>"
    return f"<article>{story}</article><section>{card}</section>{after}"


def _cleaned(page: str, text: str) -> list[tuple[str, str | None]]:
    tree = lxml_html.document_fromstring(f"<html><body>{page}</body></html>")
    return clean_lines(text, signals=markup_signals(tree, PAGE_URL))


def test_a_teaser_card_of_the_site_after_the_story_is_cut() -> None:
    text = "\n".join([*STORY, CARD])
    for href in ("/news/2024/05/ferry-delays", "https://gazette.example/news/ferry-delays"):
        assert _cleaned(_card_page(href), text)[-1] == (CARD, "teaser"), href
    # A card as long as the story goes too: its link says it is another page, and that is
    # evidence enough whatever its share (the guard does not put it back).
    long_card = " ".join([CARD] * 6)
    page = _card_page("/news/ferry-delays").replace(CARD, long_card)
    assert [r for _l, r in _cleaned(page, "\n".join([*STORY, long_card]))] == [
        None,
        None,
        None,
        "teaser",
    ]


def test_a_link_that_is_not_a_teaser_of_the_site_stays() -> None:
    text = "\n".join([*STORY, CARD])
    for href in (
        "https://other-paper.example/news/ferry-delays",  # another site's story: a citation
        "http://gazette.example/news/2024/05/harbour-bridge-reopens/",  # the page itself
        "#comments",
    ):
        assert _cleaned(_card_page(href), text)[-1] == (CARD, None), href
    # Story after the card: the card is inside the story, not after it.
    assert _cleaned(_card_page("/news/ferry"), "\n".join([CARD, *STORY]))[0] == (CARD, None)
    # A card layout that wraps the whole story in a link: nothing would be left, all stays.
    story = "".join(f"<p>{line}</p>" for line in STORY)
    page = f"<a href='/news/2024/05/other'>{story}</a>"
    assert {r for _l, r in _cleaned(page, "\n".join(STORY))} == {None}
    # A short link (a menu entry, a tag) is never a teaser's sentence.
    page = "<p>Traffic</p><a href='/traffic'>Traffic</a>"
    assert _cleaned(page, "\n".join([*STORY, "Traffic"]))[-1] == ("Traffic", None)


BIO = (
    "Ann Lee has covered the harbour for the Gazette since 2009.\n\n"
    "Before that she reported on shipping for the Coast Herald."
)


def test_the_authors_profile_from_the_pages_metadata_is_cut() -> None:
    lines = [*STORY, "Ann Lee has covered the harbour for the Gazette since 2009.",
             "Before that she reported on shipping for the Coast Herald."]  # fmt: skip
    reasons = dict(clean_lines("\n".join(lines), bios=[BIO]))
    assert [reasons[line] for line in lines] == [None, None, None, "author_bio", "author_bio"]
    assert "author_bio" in STRONG_REASONS  # the page's own metadata: the guard keeps nothing
    # A phrase of the profile inside a story line, or a short line, is not the profile.
    story = "The harbour for the Gazette since 2009 has changed, Ann Lee writes."
    assert dict(clean_lines("\n".join([story, "Ann Lee"]), bios=[BIO])) == {
        story: None,
        "Ann Lee": None,
    }
    assert dict(clean_lines("\n".join(lines))) == dict.fromkeys(lines)  # no profile given


def test_the_profile_is_read_from_the_json_ld_author() -> None:
    from archive.extraction.news_metadata import read_news_meta

    ld = (
        '{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Bridge",'
        ' "author": [{"@id": "#ann"}, {"@type": "Person", "name": "Bo Ek"}],'
        ' "@graph": []}'
    )
    person = json.dumps({"@id": "#ann", "@type": "Person", "name": "Ann Lee", "description": BIO})
    html = (
        f"<html><head><script type='application/ld+json'>{ld}</script>"
        f"<script type='application/ld+json'>{person}</script></head><body></body></html>"
    )
    meta = read_news_meta(lxml_html.document_fromstring(html), PAGE_URL)
    assert meta.authors == ("Ann Lee", "Bo Ek")
    assert meta.author_bios == (" ".join(BIO.split()),)
