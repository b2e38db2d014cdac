"""What a page says about itself, read from its whole HTML before extraction prunes it.

The soft-404 rules (``archive.liveness.soft404``) need more than the extracted article: the title
and first heading, whether the page declares itself an article (JSON-LD, Open Graph), where its
canonical URL points, whether it asks not to be indexed, and which links sit in its prose. These
are read here, once, in the extraction worker, from the same parsed tree.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archive.extraction.page_template import template_sketch

__all__ = ["ARTICLE_TYPES", "AnchorFact", "PageFacts", "page_facts"]

# schema.org types that say "this page is one article".
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "blogposting",
        "liveblogposting",
        "scholarlyarticle",
        "techarticle",
        "report",
    }
)
_PROSE_TAGS = frozenset({"p", "li", "blockquote", "em", "strong", "b", "i", "span", "figcaption"})
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "form", "menu"})
_SPACE_RE = re.compile(r"\s+")
# Scripts and frames that only challenge pages load (reCAPTCHA or a DataDome tag alone are on
# many ordinary pages: comment forms, newsletter boxes, analytics).
_CHALLENGE_RE = re.compile(
    r"challenge-platform|cf-chl|cf_chl|_Incapsula_Resource|captcha-delivery\.com|px-captcha",
    re.IGNORECASE,
)
# Elements whose content a reader never sees as text.
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template"})
# Visible text is counted up to this many characters (not spaces): enough to tell a page that
# shows almost nothing from one that shows something, without walking a long page to its end.
VISIBLE_CHARS_CAP = 1000
# The element a script application renders into (React, Next.js, Nuxt, Vue, Gatsby, AngularJS).
_APP_ROOTS = (
    "//body//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt' or @id='___gatsby' "
    "or @ng-view or @ui-view or @data-reactroot]"
)
_JS_WORD_RE = re.compile(r"javascript", re.IGNORECASE)


def _clean(value: str | None, limit: int = 500) -> str | None:
    if value is None:
        return None
    value = _SPACE_RE.sub(" ", value).strip()
    return value[:limit] or None


@dataclass(frozen=True, slots=True)
class AnchorFact:
    """A link found in running text, outside the page's navigation chrome."""

    url: str
    text: str


@dataclass(frozen=True, slots=True)
class PageFacts:
    title: str | None = None
    h1: str | None = None
    og_title: str | None = None
    og_type: str | None = None
    og_url: str | None = None
    canonical: str | None = None
    jsonld_types: tuple[str, ...] = ()
    noindex: bool = False
    accessible_for_free: bool | None = None
    anchors: tuple[AnchorFact, ...] = field(default=())
    # Short headings and paragraphs outside the chrome: on an error page, its message.
    prose: tuple[str, ...] = field(default=())
    # The page runs a bot-detection challenge (Cloudflare, Imperva, DataDome, PerimeterX...).
    bot_challenge: bool = False
    # Script elements that run code (JSON data blocks and templates left out).
    scripts: int = 0
    # Characters (not spaces) of text a reader sees in the body, up to VISIBLE_CHARS_CAP.
    visible_chars: int = 0
    # The page is a script application's shell: an empty mount element (#root, #app, #__next,
    # ng-view...), or a <noscript> asking for JavaScript.
    app_shell: bool = False
    # The structure of the page's markup (archive.extraction.page_template): which template of
    # its site it was built from.
    template: tuple[int, ...] = field(default=())

    @property
    def article_markup(self) -> bool:
        """Whether the page declares itself an article (JSON-LD or ``og:type``)."""
        if any(t.lower() in ARTICLE_TYPES for t in self.jsonld_types):
            return True
        return (self.og_type or "").lower() == "article"

    def headings(self) -> list[str]:
        return [h for h in (self.title, self.h1, self.og_title) if h]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["anchors"] = len(self.anchors)  # the links themselves are stored apart
        data["prose"] = len(self.prose)
        data["template"] = len(self.template)  # a fingerprint, of no use to a reader
        return data


def _first(tree: Any, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        text = value if isinstance(value, str) else value.text_content()
        cleaned = _clean(text)
        if cleaned:
            return cleaned
    return None


def _meta(tree: Any, name: str) -> str | None:
    return _first(
        tree,
        f"//meta[@property='{name}']/@content | //meta[@name='{name}']/@content",
    )


def _jsonld_nodes(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [node for item in value for node in _jsonld_nodes(item)]
    if not isinstance(value, dict):
        return []
    nodes = [value]
    graph = value.get("@graph")
    if graph is not None:
        nodes.extend(_jsonld_nodes(graph))
    return nodes


def _jsonld(tree: Any) -> tuple[tuple[str, ...], bool | None]:
    types: list[str] = []
    free: bool | None = None
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue  # broken JSON-LD is common; it says nothing
        for node in _jsonld_nodes(data):
            kind = node.get("@type")
            for name in kind if isinstance(kind, list) else [kind]:
                if isinstance(name, str):
                    types.append(name.rsplit("/", 1)[-1])
            flag = node.get("isAccessibleForFree")
            if isinstance(flag, bool):
                free = flag if free is None else free and flag
            elif isinstance(flag, str) and flag.lower() in ("true", "false"):
                value = flag.lower() == "true"
                free = value if free is None else free and value
    return tuple(dict.fromkeys(types)), free


def _in_chrome(element: Any) -> bool:
    for ancestor in element.iterancestors():
        tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
        if tag in _CHROME_TAGS:
            return True
        role = (ancestor.get("role") or "").lower()
        if role in ("navigation", "banner", "contentinfo", "complementary"):
            return True
    return False


def _anchors(tree: Any, base_url: str) -> tuple[AnchorFact, ...]:
    """Links in running text: the article's citations are among these."""
    found: dict[str, AnchorFact] = {}
    for anchor in tree.xpath("//body//a[@href]"):
        parent = anchor.getparent()
        if parent is None or parent.tag not in _PROSE_TAGS:
            continue
        text = _clean(anchor.text_content(), 300)
        href = (anchor.get("href") or "").strip()
        if not text or not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base_url, href)
        if urlsplit(url).scheme not in ("http", "https") or _in_chrome(anchor):
            continue
        found.setdefault(url, AnchorFact(url, text))
    return tuple(found.values())


def _prose(tree: Any, limit: int = 40) -> tuple[str, ...]:
    found: list[str] = []
    for element in tree.xpath("//body//h1 | //body//h2 | //body//p"):
        text = _clean(element.text_content(), 401)
        if text and len(text) <= 400 and not _in_chrome(element) and text not in found:
            found.append(text)
            if len(found) >= limit:
                break
    return tuple(found)


def page_facts(tree: Any, url: str) -> PageFacts:
    """Read a parsed page's facts; ``url`` resolves relative links."""
    types, free = _jsonld(tree)
    robots = " ".join(tree.xpath("//meta[@name='robots' or @name='googlebot']/@content")).lower()
    visible = _visible_chars(tree)
    return PageFacts(
        title=_first(tree, "//title"),
        h1=_first(tree, "//body//h1"),
        og_title=_meta(tree, "og:title"),
        og_type=_meta(tree, "og:type"),
        og_url=_meta(tree, "og:url"),
        canonical=_first(tree, "//link[@rel='canonical']/@href"),
        jsonld_types=types,
        noindex="noindex" in robots,
        accessible_for_free=free,
        anchors=_anchors(tree, url),
        prose=_prose(tree),
        bot_challenge=_challenge(tree),
        scripts=sum(1 for script in tree.iter("script") if _is_code(script.get("type"))),
        visible_chars=visible,
        # A page that shows that much text is no empty shell: spare it the search.
        app_shell=visible < VISIBLE_CHARS_CAP and _app_shell(tree),
        template=template_sketch(tree),
    )


def _is_code(script_type: str | None) -> bool:
    """A script element that runs code: not a JSON data block (JSON-LD...) or a template."""
    kind = (script_type or "").lower()
    return "json" not in kind and "template" not in kind


def _visible_chars(tree: Any, cap: int = VISIBLE_CHARS_CAP) -> int:
    """Characters (spaces left out) of the body's visible text, counted up to ``cap``."""
    body = tree.find("body")
    if body is None:
        return 0
    total = 0
    walker = etree.iterwalk(body, events=("start",))
    for _, element in walker:
        if element is not body and element.tail:
            total += len("".join(element.tail.split()))
        if not isinstance(element.tag, str) or element.tag in _HIDDEN_TAGS:
            walker.skip_subtree()  # a comment's or a script's text is not shown
        elif element.text:
            total += len("".join(element.text.split()))
        if total >= cap:
            return cap
    return total


def _app_shell(tree: Any) -> bool:
    for root in tree.xpath(_APP_ROOTS):
        if len("".join(root.text_content().split())) < 100:
            return True
    return any(_JS_WORD_RE.search(n.text_content() or "") for n in tree.xpath("//noscript"))


def _challenge(tree: Any) -> bool:
    sources = " ".join(tree.xpath("//script/@src | //iframe/@src | //form/@action"))
    inline = " ".join(text[:2000] for text in tree.xpath("//script/text()"))
    return bool(_CHALLENGE_RE.search(sources) or _CHALLENGE_RE.search(inline))
