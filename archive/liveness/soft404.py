"""Soft-404 detection: a page that answers 200 but whose article is gone (design.md section 4).

No single signal is enough, so several are combined and each one that fires is named in the
evidence stored with the capture:

- **redirects**: to the site root, to a shorter section path, to an error URL (/404, /notfound);
- **the host's probe**: what the host serves for a sibling URL that cannot exist. The same final
  URL, or near-identical text, means the page is that error page (``probe_match``);
- **error stubs**: title, first heading or a thin main text saying the page is gone, in several
  languages, counted only together with structure (no article markup, thin text, noindex),
  because wording lists alone overfit.

Calling a live article dead is the worst error this tool can make, so every rule leans towards
``ok``: a page that declares itself an article and carries a real text is never judged by its
wording, and home pages and section fronts are never compared with the probe.

Stubs *appended* to a real article (the seed page's "This page is not available" paragraphs) are
cut from the text by ``strip_appended_stub``; the page stays ``ok``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archive.extraction.page_facts import PageFacts
from archive.extraction.text_width import text_width
from archive.liveness.browser_hint import NEEDS_BROWSER, needs_browser
from archive.liveness.error_template import own_text_chars, same_error_template
from archive.liveness.gone_wording import find_gone_phrase

__all__ = [
    "WITHHOLD_ENV",
    "Baseline",
    "Judgement",
    "is_front_page",
    "judge",
    "known_stub_paragraphs",
    "looks_like_error_path",
    "probe_key",
    "probe_url",
    "similarity",
    "strip_appended_stub",
    "stub_phrase",
]

# A main text shorter than this holds no article.
THIN_TEXT = 600
# An article must keep at least this much text before a stub for the stub to be cut.
MIN_ARTICLE_BEFORE_STUB = 300
# A paywalled page with less text than this holds no more than a teaser: blocked.
PAYWALLED_TEXT = 300
# The end of a text searched for an appended stub, at least.
TAIL_CHARS = 1000
# Shingle overlap from which two texts are the same page.
SAME_TEXT = 0.8
# Overlap from which a thin page without article markup is the host's error page re-worded.
SIMILAR_TO_ERROR = 0.3
#: Evidence: the page is the host's error template (archive.liveness.error_template).
PROBE_SAME_TEMPLATE = "probe_same_template"

# "This page is gone", in the languages the rules were written for, by language; the catalogue
# phrases of many more come from archive.liveness.gone_wording. Tested in tests/test_soft404.py;
# the evaluation (bench/liveness_eval.py) also measures wording and languages that are in
# neither, and withholds one language at a time (``WITHHOLD_ENV``) to show what the others give.
_STUB_PATTERNS: dict[str, list[str]] = {
    "en": [
        r"\bpage (?:was |is |has )?not (?:be(?:en)? )?found\b",
        r"\b(?:page|article|story|content|video|post)s? (?:you (?:are|were|re) looking for |you "
        r"requested )?(?:is |are |was )?(?:no longer|not|currently not|not currently) "
        r"(?:available|exists?|accessible|online)\b",
        r"\b(?:page|article|story|content|url|link) (?:no longer|does not|doesn't|did not) exists?",
        r"\bno longer exists\b",
        r"\b(?:has|have) been (?:removed|deleted|taken down|unpublished|archived)\b",
        r"\b(?:can'?not|can't|could not|couldn't|unable to) (?:find|locate) (?:the |that |"
        r"this |your )?(?:page|article|story|content)\b",
        r"\boops\b.{0,40}\b(?:page|wrong)\b",
    ],
    "de": [
        r"\bseite (?:wurde )?nicht gefunden\b",
        r"\b(?:seite|artikel|inhalt|beitrag) (?:ist |existiert )?(?:nicht mehr|leider nicht) "
        r"(?:verfügbar|vorhanden|erreichbar|online)?",
        r"\b(?:existiert|gibt es)(?: \w+){0,3} nicht mehr\b",
        r"\bnicht (?:mehr )?verfügbar\b",
    ],
    "fr": [
        r"\bpage (?:est )?introuvable\b",
        r"\bpage (?:demandée )?(?:n'existe|n'est) (?:pas|plus)\b",
        r"\bn'est plus disponible\b",
        r"\bpage non trouvée\b",
    ],
    "es": [
        r"\bpágina no (?:encontrada|existe|disponible|se encuentra)\b",
        r"\b(?:ya )?no (?:existe|está disponible)\b",
        r"\bno (?:se )?(?:ha podido|pudo|podemos) encontrar\b",
    ],
    "it": [
        r"\bpagina non (?:trovata|disponibile|esiste|è disponibile)\b",
        r"\bnon è (?:più )?disponibile\b",
    ],
    "pt": [
        r"\bpágina não (?:encontrada|existe|está disponível|disponível)\b",
        r"\bnão (?:está )?(?:mais )?disponível\b",
    ],
    "nl": [
        r"\bpagina (?:is )?niet gevonden\b",
        r"\b(?:bestaat|is) niet (?:meer|langer) (?:beschikbaar)?",
    ],
}
# The status code beside "error" is no one language's wording: never withheld.
_STATUS_404 = (
    r"\b(?:error|erro|fehler|erreur|errore|fout)\s*404\b|\b404\s*(?:error|not found|page)\b"
)
WITHHOLD_ENV = "MORGUE_EVAL_WITHHOLD_LANGUAGES"
# Languages whose wording the rules leave out: for the leave-one-language-out evaluation only.
# Read once per process; the crawl's extraction workers inherit it from the environment.
_WITHHELD = frozenset(filter(None, os.environ.get(WITHHOLD_ENV, "").split(",")))


def _stub_re(without: frozenset[str]) -> re.Pattern[str]:
    patterns = [p for lang, group in _STUB_PATTERNS.items() if lang not in without for p in group]
    patterns.append(_STATUS_404)
    # Typographic apostrophes are as common as straight ones in these messages.
    return re.compile(
        "|".join(f"(?:{p})".replace("'", "['\u2019]") for p in patterns), re.IGNORECASE
    )


_STUB_RE = _stub_re(_WITHHELD)
# "You were refused", not "the page is gone": bot walls and paywalls are blocked, not dead.
_WALL_RE = re.compile(
    r"\b(?:access (?:is |was )?denied|forbidden|are you a (?:robot|human)|"
    r"verify (?:that )?you(?: are|'re) (?:a )?human|captcha|unusual traffic|"
    r"checking (?:if the site connection is secure|your browser)|attention required|"
    r"just a moment|(?:please )?enable (?:javascript and )?cookies|"
    r"request (?:was |has been )?blocked)",
    re.IGNORECASE,
)
_PAYWALL_RE = re.compile(
    r"\b(?:subscribe (?:now )?to (?:continue|keep) reading|already a subscriber|"
    r"(?:this|the) (?:article|story|content) is (?:only )?(?:available )?(?:for|to) "
    r"(?:subscribers|members)|subscribers only|to read (?:the full|this) (?:article|story))",
    re.IGNORECASE,
)
_TITLE_404_RE = re.compile(r"(?<![\d/.,])404(?![\d/.,])")
_ERROR_SEGMENT_RE = re.compile(
    r"^(?:404|410|error|errors|not[-_]?found|page[-_]?not[-_]?found|404[-_.]?\w*|error[-_]?404|"
    r"fehler|erreur|nicht[-_]?gefunden|introuvable|no[-_]?encontrad[ao])(?:\.\w{2,5})?$",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SECTION_SEGMENT_RE = re.compile(r"^[a-z][a-z_]*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the host served for a URL that cannot exist: its error page, whatever its status."""

    status: int | None
    final_url: str | None
    title: str | None = None
    text: str | None = None
    prose: tuple[str, ...] = ()  # its short headings and paragraphs (the error message)
    template: tuple[int, ...] = ()  # its markup's fingerprint (archive.extraction.page_template)

    @property
    def soft(self) -> bool:
        """The host answers unknown URLs with 200: the case that makes soft 404s."""
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Baseline:
        return cls(
            status=data.get("status"),
            final_url=data.get("final_url"),
            title=data.get("title"),
            text=data.get("text"),
            prose=tuple(data.get("prose") or ()),
            template=tuple(int(v) for v in data.get("template") or ()),
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: str
    reason: str
    confidence: float
    evidence: tuple[str, ...]


def stub_phrase(text: str | None) -> str | None:
    """The "page is gone" wording found in ``text``, if any."""
    if not text:
        return None
    match = _STUB_RE.search(text)
    if match:
        return match.group(0)
    return find_gone_phrase(text, _WITHHELD)


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def is_front_page(url: str) -> bool:
    """A home page or a section front (/news/, /politics): never compared with the probe.

    A section front here is a path of one segment made of letters only; article slugs carry
    hyphens, digits or an extension.
    """
    parts = urlsplit(url)
    segments = _segments(parts.path)
    if not segments:
        return True
    if len(segments) == 1:
        segment = segments[0]
        if segment.lower() in ("index.html", "index.htm", "index.php", "default.aspx"):
            return True
        return bool(_SECTION_SEGMENT_RE.match(segment)) and not parts.query
    return False


def looks_like_error_path(url: str | None) -> bool:
    """A URL such as /404, /errors/not-found.html or /page-not-found."""
    if not url:
        return False
    return any(_ERROR_SEGMENT_RE.match(s) for s in _segments(urlsplit(url).path))


def probe_key(url: str) -> tuple[str, str]:
    """(host, path prefix): probes are made and reused per host and directory."""
    parts = urlsplit(url)
    path = parts.path or "/"
    prefix = path[: path.rfind("/") + 1] or "/"
    return parts.netloc.lower(), prefix


def probe_url(url: str, token: str | None = None) -> str:
    """A sibling of ``url`` that cannot exist: its last path segment replaced by random letters.

    The extension of the last segment is kept (some servers route on it); the query is dropped.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    prefix, _, last = path.rpartition("/")
    token = token or "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))
    suffix = ""
    if "." in last:
        ext = last.rsplit(".", 1)[1]
        if ext.isalnum() and len(ext) <= 5:
            suffix = f".{ext}"
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/morgue-{token}{suffix}", "", ""))


def _shingles(text: str, size: int = 4) -> set[int]:
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if len(words) < size:
        return {_hash(" ".join(words))} if words else set()
    return {_hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1)}


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


def similarity(a: str | None, b: str | None) -> float:
    """Jaccard overlap of the 4-word shingles of two texts (0 when either is empty)."""
    if not a or not b:
        return 0.0
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _same_url(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc.lower(), pa.path.rstrip("/"), pa.query) == (
        pb.netloc.lower(),
        pb.path.rstrip("/"),
        pb.query,
    )


def _redirect_signal(url: str, final_url: str | None) -> str | None:
    if not final_url or _same_url(url, final_url):
        return None
    start, end = urlsplit(url), urlsplit(final_url)
    if looks_like_error_path(final_url) and not looks_like_error_path(url):
        return "error_url"
    start_segments, end_segments = _segments(start.path), _segments(end.path)
    same_site = _site(start.netloc) == _site(end.netloc)
    if not end_segments and start_segments and not end.query:
        return "redirect_to_home" if same_site else None
    if (
        same_site
        and 0 < len(end_segments) < len(start_segments)
        and start_segments[: len(end_segments)] == end_segments
    ):
        # /news/2024/some-story -> /news/: the story went, its section is what is left.
        return "redirect_to_section"
    return None


def _site(netloc: str) -> str:
    host = netloc.lower().split(":")[0]
    return host[4:] if host.startswith("www.") else host


def _matches_probe(
    final_url: str | None, title: str | None, text: str | None, baseline: Baseline
) -> str | None:
    if baseline.soft and baseline.final_url and _same_url(final_url, baseline.final_url):
        return "probe_same_url"
    if not text or not baseline.text:
        return None
    if len(text) > 3 * max(len(baseline.text), 200):
        return None  # far more text than the error page: an article
    score = similarity(text, baseline.text)
    if score >= SAME_TEXT:
        return "probe_same_text"
    if title and baseline.title and title == baseline.title and score >= 0.5:
        return "probe_same_title_text"
    return None


def judge(
    *,
    url: str,
    final_url: str | None,
    title: str | None,
    text: str | None,
    facts: PageFacts | None,
    baseline: Baseline | None,
) -> Judgement:
    """The soft-404 verdict of a page that was served with a 2xx status."""
    facts = facts or PageFacts()
    final = final_url or url
    # Columns (a Japanese report is not thin at 450 characters), counted up to the line: every
    # use below compares with THIN_TEXT or less.
    chars = text_width(text, cap=THIN_TEXT)
    thin = chars < THIN_TEXT
    evidence: list[str] = []

    redirect = _redirect_signal(url, final)
    if redirect is not None and not is_front_page(url):
        evidence.append(redirect)
        if redirect in ("redirect_to_home", "error_url"):
            return Judgement("soft_404", redirect, 0.95, tuple(evidence))
        if not facts.article_markup or thin:
            return Judgement("soft_404", redirect, 0.85, tuple(evidence))

    if thin and (facts.bot_challenge or not facts.article_markup):
        wall_text = " ".join(
            [*(h for h in facts.headings()), title or "", (text or "")[:THIN_TEXT]]
        )
        if facts.bot_challenge or _WALL_RE.search(wall_text):
            evidence.append("bot_challenge" if facts.bot_challenge else "wall_wording")
            return Judgement("blocked", "bot_wall", 0.85, tuple(evidence))
    if chars < PAYWALLED_TEXT and (
        facts.accessible_for_free is False or _PAYWALL_RE.search(text or "")
    ):
        evidence.append("paywall")
        return Judgement("blocked", "paywall", 0.8, tuple(evidence))

    for declared in (facts.canonical, facts.og_url):
        if looks_like_error_path(declared) and not looks_like_error_path(url):
            evidence.append("error_canonical")
            return Judgement("soft_404", "error_url", 0.9, tuple(evidence))

    if baseline is not None and not is_front_page(url):
        match = _matches_probe(final, title or facts.title, text, baseline)
        # A thin page that declares no article and shares much of its text with the host's
        # error page is that error page with another message (live pages share < 15 %).
        if (
            match is None
            and thin
            and not facts.article_markup
            and similarity(text, baseline.text) >= SIMILAR_TO_ERROR
        ):
            match = "probe_similar"
        if match is not None:
            evidence.append(match)
            confidence = 0.75 if match == "probe_similar" else 0.9
            return Judgement("soft_404", "probe_match", confidence, tuple(evidence))

    headings = [h for h in (*facts.headings(), title) if h]
    stub_heading = any(stub_phrase(h) or _TITLE_404_RE.search(h) for h in headings)
    stub_text = thin and stub_phrase((text or "")[:THIN_TEXT]) is not None
    if stub_heading:
        evidence.append("stub_heading")
    if stub_text:
        evidence.append("stub_text")
    if thin:
        evidence.append("thin_text")
    if not facts.article_markup:
        evidence.append("no_article_markup")
    if facts.noindex:
        evidence.append("noindex")
    # Wording counts only with structure: a page that declares itself an article keeps its
    # verdict unless its own headings say it is gone.
    if stub_heading and (stub_text or thin or not facts.article_markup):
        confidence = 0.95 if stub_text and not facts.article_markup else 0.85
        return Judgement("soft_404", "error_stub", confidence, tuple(evidence))
    if stub_text and not facts.article_markup:
        return Judgement("soft_404", "error_stub", 0.8, tuple(evidence))
    browser = needs_browser(facts, text)
    if (
        baseline is not None
        and not is_front_page(url)
        and same_error_template(
            url=url,
            thin=own_text_chars(text, baseline.text) < THIN_TEXT,
            facts=facts,
            probe_template=baseline.template,
            browser=browser,
        )
    ):
        # The host's error page in markup, with a message no rule knows
        # (archive.liveness.error_template).
        evidence.append(PROBE_SAME_TEMPLATE)
        return Judgement("soft_404", "probe_match", 0.75, tuple(evidence))
    if browser:
        # Live, but what it holds was not seen: its scripts write it
        # (archive.liveness.browser_hint).
        evidence.append(NEEDS_BROWSER)
        return Judgement("ok", "", 0.5, tuple(evidence))
    return Judgement("ok", "", 0.9 if chars >= THIN_TEXT else 0.7, tuple(evidence))


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n+", text) if p.strip()]


def _normal(paragraph: str) -> str:
    return " ".join(_WORD_RE.findall(paragraph.lower()))


def strip_appended_stub(
    text: str | None, known_stubs: Iterable[str] = (), window: int = 6
) -> tuple[str | None, list[str]]:
    """Cut a "page not available" stub from the end of an article's text.

    Only the end is looked at: the last ``window`` paragraphs, or the last 1,000 characters (a
    stub may be followed by a byline, tags or a newsletter line), and only what follows a real
    text. A paragraph goes when it is found in one of the host's ``known_stubs`` (the text of
    its probe page), or when it is a short heading saying the page is gone, together with the
    short explanation after it. Wording in a long paragraph alone never cuts it: "the statue
    has been removed" is news.
    Returns the text and what was cut.
    """
    if not text:
        return text, []
    # Extractors join an error page's lines in their own way: match within its whole text.
    known = " | ".join(_normal(stub) for stub in known_stubs)
    paragraphs = _paragraphs(text)
    first, tail_chars = len(paragraphs), 0
    # The last ``window`` paragraphs, or more while they are short (tag lists, share lines).
    while first > 0 and len(paragraphs) - first < 3 * window:
        if len(paragraphs) - first >= window and tail_chars >= TAIL_CHARS:
            break
        first -= 1
        tail_chars += len(paragraphs[first])
    marked: set[int] = set()
    for i in range(first, len(paragraphs)):
        para = paragraphs[i]
        normal = _normal(para)
        if known and len(normal) >= 12 and len(para) <= 400 and normal in known:
            marked.add(i)
        elif len(para) <= 100 and stub_phrase(para):
            marked.add(i)
            following = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
            if (
                following
                and (len(following) <= 250 or stub_phrase(following))
                and len(following) <= 400
            ):
                marked.add(i + 1)
    # Only what follows a real text is an appendix; a page that is all stub is left to judge().
    before = 0
    for i, para in enumerate(paragraphs):
        if before >= MIN_ARTICLE_BEFORE_STUB:
            break
        marked.discard(i)
        before += len(para)
    if not marked:
        return text, []
    cut = [p for i, p in enumerate(paragraphs) if i in marked]
    kept = [p for i, p in enumerate(paragraphs) if i not in marked]
    return "\n".join(kept), cut


def known_stub_paragraphs(baselines: Sequence[Baseline]) -> list[str]:
    """The text of a host's error pages, to strip when appended to its articles.

    A probe that landed on the home page shows no error message, only teasers: none of it is a
    stub.
    """
    known: list[str] = []
    for baseline in baselines:
        if baseline.final_url and not _segments(urlsplit(baseline.final_url).path):
            continue
        if baseline.text and len(baseline.text) <= 2000:
            known.append(baseline.text)
        known.extend(baseline.prose)
    return known
