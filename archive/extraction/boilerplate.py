"""Cleaning the news boilerplate that survives article extraction, with general rules.

No rule knows a publisher: each one recognises a kind of line that news sites put inside or around
the article body (advertising labels, "Read more" teasers, image credits, consent placeholders
of embedded content, newsletter and share prompts, the headline, byline and dateline repeated
at the top, lines repeated all over the page), and only short lines are ever candidates, so a
paragraph of the story that happens to contain such words stays.

Words are never enough: a line is removed because the page repeats it, because the page's own
metadata names it (its headline, its authors), or because its words fit a rule *and* the page's
markup marks it off (``RULE_SIGNALS``, read by ``archive.extraction.markup_signals``). Lines cut
on that weaker evidence are put back when they would add up to more than ``CUT_GUARD_SHARE`` of
the text. ``clean_lines`` gives the reason of each removal.

``choose_text`` decides between trafilatura's text and the page's JSON-LD ``articleBody``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from archive.extraction.markup_signals import MarkupSignals

__all__ = [
    "CUT_GUARD_SHARE",
    "GUARD_MIN_WORDS",
    "RULES",
    "RULE_SIGNALS",
    "STRONG_REASONS",
    "add_lede",
    "choose_text",
    "clean_lines",
    "clean_text",
    "shingle_set",
    "visible_text",
]

_TOKEN_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")
_BYLINE_NAME_RE = re.compile(r"^(?:by|von|par|por|di|door|av|af)\s+", re.IGNORECASE)


def _words(line: str) -> int:
    return len(line.split())


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


# A line that is nothing but an advertising label, in the languages of the news.
_AD_LABEL_RE = _pattern(
    r"^(?:advertisement|advertising|sponsored(?: content)?|anzeige|werbung|publicit[ée]|"
    r"publicidad|pubblicit[àa]|publicidade|reklame|reklama|annonse|annons|advertentie|"
    r"mainos|hirdet[ée]s)\W*$",
    r"^(?:skip|close|hide)\s+(?:advertisement|ad)\W*$",
    r"^(?:story|article|text) continues below(?: this)?(?: advertisement| ad)?\W*$",
    r"^(?:continue|keep) reading(?: the main story| below| after (?:the )?ad(?:vertisement)?)?\W*$",
    r"^(?:scroll|weiterlesen|lesen sie weiter)(?: (?:to|down to) continue(?: with content)?)?\W*$",
    r"^(?:artikel|article) (?:wird|continues) (?:nach|after) (?:der|the) (?:anzeige|ad)\b.*$",
    r"^(?:read|see|show|view) (?:more|less|all|full (?:article|story))\W*$",
    r"^(?:mehr|weniger) (?:anzeigen|lesen)\W*$",
)
# "Read more: <headline>" and its siblings: a teaser for another story.
_SEP_OR_END = r"\s*(?:[:|>\-\u2013\u2014]|$)"  # a label is followed by a separator or nothing
_RELATED_RE = _pattern(
    r"^(?:read|see|watch|listen)(?: also| more| next)?\s*[:|>\-\u2013\u2014]",
    r"^(?:also read|related(?: articles?| stories| content| coverage)?|more on this|"
    r"more from|recommended(?: for you)?|top stories|most read|trending)" + _SEP_OR_END,
    r"^(?:lesen sie (?:auch|mehr|hier)|mehr zum thema|auch interessant|das k[öo]nnte sie "
    r"(?:auch )?interessieren|weitere artikel|lies auch|zum thema)" + _SEP_OR_END,
    r"^(?:lire aussi|[àa] lire aussi|voir aussi|lire la suite|sur le m[êe]me sujet)" + _SEP_OR_END,
    r"^(?:leer (?:tambi[ée]n|m[áa]s)|lea tambi[ée]n|te puede interesar|m[áa]s informaci[óo]n)"
    + _SEP_OR_END,
    r"^(?:leggi anche|potrebbe interessarti|vedi anche)" + _SEP_OR_END,
    r"^(?:leia (?:tamb[ée]m|mais)|veja tamb[ée]m)" + _SEP_OR_END,
    r"^(?:les ogs[åa]|l[äa]s ocks[åa]|l[æa]s ogs[åa]|lees ook|lue my[öo]s)" + _SEP_OR_END,
)
# A photo or video credit line.
_CREDIT_LABEL_RE = _pattern(
    r"^(?:photo|photograph|picture|image|video|graphic|illustration|credit|source|foto|bild|"
    r"grafik|quelle|cr[ée]dit|fuente|fotograf[ií]a|imagen|immagine|kuva|zdj[eę]cie)s?"
    r"(?:\s*(?:by|von|:|\u00a9|/))",
    r"^\s*(?:\u00a9|\(c\))",
    r"^copyright\s*(?:\u00a9|\(c\)|:|\d{4})",
)
_CREDIT_AGENCY_RE = _pattern(
    r"\b(?:getty images|shutterstock|istock(?:photo)?|imago(?: images)?|picture[- ]alliance|"
    r"alamy|ap photo|afp via|reuters/|dpa/|epa/|keystone/|ritzau scanpix|ntb/|tt/|anp/)",
)
# Consent placeholders left where embedded content (a tweet, a video, a chart) did not load.
# A consent placeholder names what is blocked (a consent term) and what to do or what failed
# (an action term); a story sentence rarely has both in a short line.
_CONSENT_TERM_RE = _pattern(
    r"\b(?:javascript|cookies?|consent|privacy settings|privatsph[äa]re|datenschutz\w*|"
    r"extern\w* (?:content|inhalte?)|external content|embedded content|third[- ]party content|"
    r"drittanbieter\w*|contenu externe|contenido externo)\b",
)
_ACTION_TERM_RE = _pattern(
    r"\b(?:enable|activate|aktivier\w*|allow|accept|akzeptier\w*|einverstanden|agree|"
    r"prevent\w*|verhinder\w*|block\w*|load\w*|laden|anzeig\w*|angezeigt|display\w*|view|"
    r"nicht verf[üu]gbar|not available|unavailable|required|disabled|deaktiviert|activer|"
    r"activa\w*|consentir)\b",
)
_EMBED_RE = _pattern(
    r"^(?:externer? inhalt|external content|empfohlener (?:redaktioneller )?inhalt)\W*$",
    r"^link (?:to|zum) (?:the )?(?:youtube|twitter|x|instagram|tiktok|facebook)[- ]",
)
# Calls to sign up, subscribe, share, follow or comment.
_PROMPT_RE = _pattern(
    r"^(?:sign up|subscribe|register|log ?in|join|get|receive) .{0,60}"
    r"\b(?:newsletter|briefing|alerts?|updates|conversation|commenting|comments)\b",
    r"^(?:newsletter|comments?|kommentare|share(?: this(?: article| story)?)?|"
    r"teilen|partager|compartir|condividi|del|dela|print|drucken|copy link|link kopieren|"
    r"follow us(?: on \w+)?|folgen sie uns(?: auf \w+)?)\W*$",
    r"^(?:share|teilen|partager) (?:on|auf|sur) (?:facebook|twitter|x|whatsapp|linkedin|e-?mail)",
    r"^(?:this article|dieser artikel|cet article) (?:is|ist|est) (?:for|nur f[üu]r|r[ée]serv[ée] "
    r"aux) (?:subscribers|abonnenten|abonn[ée]s)",
    r"^(?:already a subscriber|bereits abonnent|d[ée]j[àa] abonn[ée])\b",
    r"^(?:sign up|subscribe) (?:for|to|now)\b",
    r"^click here\b",
    r"\b(?:r[ée]serv[ée]e? aux abonn[ée]s|(?:for|to) subscribers only|nur f[üu]r abonnenten|"
    r"exclusivo para suscriptores|riservato agli abbonati)\b",
    r"^il vous reste \d",
    r"\b(?:to continue reading|before commenting|display name|commenting forum|"
    r"join the conversation|thought-provoking conversations)\b",
    r"\btu suscripci[óo]n\b",
    r"^follow \S+(?: \S+)? on (?:google news|twitter|x|facebook|instagram|linkedin|whatsapp)\b",
    r"\b(?:support (?:us|our (?:journalism|work|reporting))|unterst[üu]tzen sie uns|"
    r"soutenez[- ]nous|ap[óo]yanos)\b",
    r"^(?:did you (?:enjoy|like) this (?:article|story)|hat ihnen (?:dieser|der) artikel "
    r"gefallen)\b",
)
# The attribution line of an embedded post: "— Jane Doe (@janedoe) April 25, 2024".
_EMBED_ATTRIBUTION_RE = re.compile(r"^[\u2014\u2013-]\s*.{0,60}\(@\w+\)")
# A dateline that is only a date and time ("Stand: 22.04.2024, 06:00 Uhr", "Updated 5 May 2024").
_DATE_BITS_RE = _pattern(
    r"\b\d{1,2}[./]\d{1,2}[./](?:\d{2}|\d{4})\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
    "(?:\\d{4}\u5e74)?\\d{1,2}\u6708\\d{1,2}\u65e5",  # 2025年1月14日
    "\\d{1,2}\u6642\\d{1,2}\u5206",  # 01時28分
    r"\b\d{1,2}:\d{2}\b",
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}\b",
    r"\b\d{1,2}\.? (?:jan|feb|m[äa]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz])"
    r"[a-z]*\.? \d{4}\b",
)
_DATELINE_WORDS_RE = _pattern(
    r"^(?:stand|updated|update|published|posted|last updated|ver[öo]ffentlicht|aktualisiert|"
    r"publi[ée]|mis [àa] jour|actualizado|publicado|aggiornato|pubblicato|oppdatert|publisert|"
    r"uppdaterad|publicerad|opdateret)\s*(?::|on\b|at\b|am\b|um\b|le\b|el\b|il\b|\d|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)",
)


# The same kinds of line on Japanese and Chinese sites, where lines have no spaces to count:
# related-story lists, members-only and sign-up notices, share and follow buttons.
_CJK_RE = re.compile(
    "|".join(
        (
            "\u95a2\u9023(?:\u30ad\u30fc\u30ef\u30fc\u30c9|\u8a18\u4e8b)",  # related
            "\u304a\u3059\u3059\u3081",  # recommended
            "\u4f1a\u54e1(?:\u9650\u5b9a|\u767b\u9332)",  # members only, sign up
            "\u6709\u6599\u4f1a\u54e1",  # paying members
            "\u5b9a\u671f\u8cfc\u8aad",  # subscription
            "\u76f8\u5173(?:\u65b0\u95fb|\u9605\u8bfb)",  # related news (zh)
            "\u63a8\u8350\u9605\u8bfb",  # recommended reading (zh)
            "\u5206\u4eab",  # share (zh)
        )
    )
)


def _is_cjk_widget(line: str) -> bool:
    return len(line) <= 60 and bool(_CJK_RE.search(line))


def _is_ad_label(line: str) -> bool:
    return _words(line) <= 10 and bool(_AD_LABEL_RE.search(line))


def _is_related_teaser(line: str) -> bool:
    return _words(line) <= 25 and bool(_RELATED_RE.search(line))


def _is_credit(line: str) -> bool:
    if _words(line) > 12 or line.rstrip().endswith("?"):
        return False
    if _CREDIT_LABEL_RE.search(line):
        return True
    # "Jane Doe/Getty Images", but not "Getty Images declined to comment on the sale."
    sentence = line.rstrip().endswith((".", "!")) and _words(line) > 4
    return not sentence and bool(_CREDIT_AGENCY_RE.search(line))


def _is_embed_placeholder(line: str) -> bool:
    if _EMBED_ATTRIBUTION_RE.search(line) or _EMBED_RE.search(line):
        return True
    return (
        _words(line) <= 40
        and bool(_CONSENT_TERM_RE.search(line))
        and bool(_ACTION_TERM_RE.search(line))
    )


def _is_prompt(line: str) -> bool:
    return _words(line) <= 20 and bool(_PROMPT_RE.search(line))


def _is_dateline(line: str) -> bool:
    if _words(line) > 10 or not _DATE_BITS_RE.search(line):
        return False
    # Only dates, times, short labels and punctuation: little left once the dates are removed.
    rest = _DATE_BITS_RE.sub(" ", line)
    if _DATELINE_WORDS_RE.search(line.strip()):
        return True
    return len(_TOKEN_RE.findall(rest)) <= 2


#: The single-line rules, by name (the name is what tests and logs refer to).
RULES: dict[str, Callable[[str], bool]] = {
    "ad_label": _is_ad_label,
    "related_teaser": _is_related_teaser,
    "credit": _is_credit,
    "embed_placeholder": _is_embed_placeholder,
    "prompt": _is_prompt,
    "dateline": _is_dateline,
    "cjk_widget": _is_cjk_widget,
}


#: The most words a line may have for any rule but ``embed_placeholder`` to fit it (its own
#: consent-notice test stops at 40 words too; its embed labels are tested at any length).
_LONGEST_RULE_LINE = 40
_LONG_LINE_RULES = (("embed_placeholder", _is_embed_placeholder),)


def _norm(text: str) -> str:
    # str.split() splits on the same Unicode whitespace as \s, at a fraction of a regex's cost
    return " ".join(text.split()).casefold()


def _strip_list_marker(line: str) -> str:
    return line[2:] if line.startswith("- ") else line


def _is_byline(line: str, authors: Iterable[str]) -> bool:
    """A short line naming the authors ("By Jane Doe and John Roe", "Von Jane Doe")."""
    names = [a for a in authors if a]
    if not names or _words(line) > 4 + 3 * len(names):
        return False
    rest = line.casefold()
    found = False
    for name in names:
        if name.casefold() in rest:
            rest = rest.replace(name.casefold(), " ")
            found = True
    # What remains besides the names: a byline word, "and", a comma, perhaps a date.
    return found and len(_TOKEN_RE.findall(_DATE_BITS_RE.sub(" ", rest))) <= 3


def _is_headline(line: str, title_words: set[str]) -> bool:
    """A line made of the headline's words: the headline, perhaps with its kicker or site."""
    words = [w.casefold() for w in _TOKEN_RE.findall(line)]
    if len(words) < 2 or len(words) > 40 or not title_words:
        return False
    return sum(w in title_words for w in words) / len(words) >= 0.7


def _label(line: str) -> str | None:
    head, sep, _rest = line.partition(" | ")
    return head.casefold() if sep and _words(head) <= 6 else None


def _leading_nav(lines: list[str]) -> int:
    """How many lines at the top are a breadcrumb or menu: 3 or more list items of 1-4 words."""
    count = 0
    while count < len(lines) and lines[count].startswith("- ") and _words(lines[count]) <= 5:
        count += 1
    return count if count >= 3 else 0


# The fewest words of a line recognised as part of an author's profile.
_PROFILE_WORDS = 5


#: The markup each word rule needs as well: a line whose words fit a rule is removed only when
#: the page's markup agrees that it is furniture (``archive.extraction.markup_signals``).
RULE_SIGNALS: dict[str, tuple[str, ...]] = {
    "ad_label": ("block", "link", "chrome"),
    "related_teaser": ("block", "link", "chrome"),
    "credit": ("block", "caption", "chrome"),
    "embed_placeholder": ("block", "link", "embed", "chrome"),
    "prompt": ("block", "link", "chrome"),
    "dateline": ("block", "time", "caption", "chrome"),
    "cjk_widget": ("block", "link", "chrome"),
}

#: Reasons that rest on the page repeating itself or on its own metadata: evidence strong
#: enough to cut however much text it covers. Every other reason is markup evidence read by
#: general rules, which a layout they were not written for can fool.
STRONG_REASONS = frozenset(
    {"repeated", "duplicate", "headline", "byline", "author", "author_bio", "label", "teaser"}
)

#: When the lines cut on weaker evidence add up to more than this share of the text (in
#: characters), they are kept. Boilerplate that survives trafilatura is a few lines: general
#: rules that want a third of the article have misread the layout, and keeping some boilerplate
#: costs less than losing the story. Chosen by that reasoning, not fitted to the corpus.
CUT_GUARD_SHARE = 0.3
#: The guard protects a story: a text shorter than this (in words), a paragraph or so, has none
#: to protect, and is often nothing but a notice ("Please enable JavaScript") that must go.
GUARD_MIN_WORDS = 50


_SIGNAL_TESTS: dict[str, Callable[[MarkupSignals, str], bool]] = {
    "block": MarkupSignals.is_block,
    "link": MarkupSignals.is_link,
    "chrome": MarkupSignals.in_chrome,
    "caption": MarkupSignals.in_caption,
    "time": MarkupSignals.in_time,
    "embed": MarkupSignals.in_embed,
}


def _word_rule(line: str, signals: MarkupSignals) -> str | None:
    """The first word rule that fits the line and whose markup signal the line has.

    The signals are tested in the order ``RULE_SIGNALS`` names them, cheapest first, and only
    for lines that fit a rule: most pages never pay for reading their markup regions.
    """
    # Every rule but the embed placeholder's wants a short line: a paragraph of prose is only
    # tried against that one (most lines of an article are such paragraphs).
    rules = RULES.items() if _words(line) <= _LONGEST_RULE_LINE else _LONG_LINE_RULES
    for name, rule in rules:
        if rule(line) and any(_SIGNAL_TESTS[sig](signals, line) for sig in RULE_SIGNALS[name]):
            return name
    return None


def clean_lines(
    text: str,
    title: str | None = None,
    authors: Iterable[str] = (),
    titles: Iterable[str] = (),
    signals: MarkupSignals | None = None,
    bios: Iterable[str] = (),
) -> list[tuple[str, str | None]]:
    """Every non-blank line of ``text`` with the reason it is removed (None: it stays).

    ``title`` and ``titles`` (the other headlines the page gives: Open Graph, JSON-LD, ``<h1>``)
    recognise the headline repeated at the top of the body; ``authors`` the byline; ``bios``
    (what the page's metadata says of its authors) their profiles; ``signals`` where each line
    sat in the page's markup (without it no word rule removes anything).
    """
    signals = signals or MarkupSignals()
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    keys = [_norm(line) for line in lines]
    counts = Counter(keys)
    labels = Counter(label for line in lines if (label := _label(line)))
    title_words = {w.casefold() for t in (title or "", *titles) for w in _TOKEN_RE.findall(t or "")}
    names = {a.casefold() for a in authors}
    authors = tuple(authors)
    profiles = [f" {_tokens(bio)} " for bio in bios]
    result: list[tuple[str, str | None]] = []
    kept = 0
    seen: set[str] = set()
    nav = _leading_nav(lines)
    for index, (line, key) in enumerate(zip(lines, keys, strict=True)):
        bare = _strip_list_marker(line)
        reason: str | None = None
        if index < nav:
            reason = "leading_nav"
        elif counts[key] >= 3 and _words(line) <= 30:
            reason = "repeated"  # the same short line all over the page: a widget
        elif key in seen and _words(line) <= 30:
            reason = "duplicate"  # a pull quote or a caption repeated: keep the first
        elif index - nav < 4 and kept < 2 and _is_headline(line, title_words):
            reason = "headline"  # the headline (with its kicker) repeated at the top
        elif index - nav < 6 and kept < 3 and _is_byline(line, authors):
            reason = "byline"
        elif _BYLINE_NAME_RE.sub("", key).strip(" .") in names:
            reason = "author"  # an author's name alone on a line, above or below the story
        elif profiles and _in_profile(line, profiles):
            reason = "author_bio"  # the author's profile, as the page's metadata gives it
        elif (label := _label(line)) and labels[label] >= 2:
            reason = "label"  # "MORE NEWS | <headline>" teasers
        elif rule := _word_rule(bare, signals):
            reason = rule
        if reason is None:
            seen.add(key)
            kept += 1
        result.append((line, reason))
    _cut_trailing_teasers(result, signals)
    return _guard(result)


def _tokens(text: str) -> str:
    return " ".join(_TOKEN_RE.findall(text.casefold()))


def _in_profile(line: str, profiles: list[str]) -> bool:
    """The line is a sentence or more of an author's profile (five words at least: a phrase
    like "the BBC" proves nothing)."""
    key = _tokens(line)
    return key.count(" ") >= _PROFILE_WORDS - 1 and any(f" {key} " in p for p in profiles)


def _cut_trailing_teasers(lines: list[tuple[str, str | None]], signals: MarkupSignals) -> None:
    """Mark the run of lines that ends the text and lies inside links to the site's other
    pages: teaser cards of other stories (headline, summary and first paragraphs wrapped in one
    link) that the extractor took in after the story's end. A text that would keep nothing
    before the run is the story itself inside a link (a card layout), and keeps it all."""
    run: list[int] = []
    for index in range(len(lines) - 1, -1, -1):
        line, reason = lines[index]
        if reason:
            continue  # already cut: the run goes on above it
        if not signals.in_site_link(_strip_list_marker(line)):
            break
        run.append(index)
    else:
        return
    for index in run:
        lines[index] = (lines[index][0], "teaser")


def _guard(lines: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Put back the lines cut on weaker evidence when they add up to too much of the text.

    Lines cut for a strong reason (the page repeats them, its metadata names them) are not
    counted: a page can hold half its text in repeated widgets and lose them rightly.
    """
    total = sum(len(line) for line, _ in lines)
    weak = sum(len(line) for line, reason in lines if reason and reason not in STRONG_REASONS)
    if not weak or weak <= CUT_GUARD_SHARE * total:
        return lines
    if sum(_words(line) for line, _ in lines) < GUARD_MIN_WORDS:
        return lines
    return [(line, reason if reason in STRONG_REASONS else None) for line, reason in lines]


def clean_text(
    text: str,
    title: str | None = None,
    authors: Iterable[str] = (),
    titles: Iterable[str] = (),
    signals: MarkupSignals | None = None,
    bios: Iterable[str] = (),
) -> str:
    """``text`` without the boilerplate lines (see ``clean_lines``); blank lines collapsed."""
    lines = clean_lines(text, title, authors, titles, signals, bios)
    return "\n".join(line for line, reason in lines if not reason)


def add_lede(text: str, lede: str | None, page_text: str | Callable[[], str]) -> str:
    """``text`` with the page's standfirst in front when extraction dropped it.

    ``lede`` is the description the page gives in its metadata; it is added only when it is a
    complete sentence or two that is shown in the page itself (``page_text``: the visible text
    of the body without whitespace, or a function that reads it) and that the text does not
    already hold. The text is compared first: reading the page's visible text costs more, and
    most texts hold their lede.
    """
    if not lede or _words(lede) < 8 or lede.rstrip().endswith(("...", "\u2026")):
        return text
    words, held = _TOKEN_RE.findall(lede), _TOKEN_RE.findall(text)
    if len(words) >= 4 and f" {' '.join(words)} " in f" {' '.join(held)} ":
        return text  # held word for word (most texts): every shingle is, without counting them
    mine = _shingles(words)
    if len(mine & _shingles(held)) >= 0.5 * len(mine):
        return text
    shown = page_text() if callable(page_text) else page_text
    if _SPACE_RE.sub("", lede)[:120] not in shown:
        return text
    return f"{lede.strip()}\n{text}" if text else lede.strip()


def shingle_set(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The distinct ``n``-word shingles of a text (for comparing two versions of an article)."""
    return _shingles(_TOKEN_RE.findall(text), n)


def _shingles(tokens: list[str], n: int = 4) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}


def choose_text(extracted: str | None, article_body: str | None) -> tuple[str | None, str]:
    """trafilatura's text, or the page's ``articleBody`` when trafilatura missed part of it.

    The body replaces the extraction only when the extraction lies almost wholly inside it and
    it holds much more: trafilatura stopped early (a page split by widgets, say). A body that
    is a teaser, a different text, or about the same as the extraction changes nothing: the
    extraction keeps its paragraphs, which a JSON-LD body often lacks.
    """
    if not article_body or not extracted:
        return (extracted, "article") if extracted else (article_body, "json-ld")
    ours, theirs = shingle_set(extracted), shingle_set(article_body)
    if not ours or not theirs:
        return extracted, "article"
    shared = len(ours & theirs)
    if shared / len(ours) >= 0.95 and shared / len(theirs) <= 0.7:
        return article_body, "json-ld"
    return extracted, "article"


def visible_text(tree: Any) -> str:
    """The text of the page's body without scripts and styles, all whitespace removed."""
    return MarkupSignals(tree).visible
