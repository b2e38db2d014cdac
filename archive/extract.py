"""Article extraction: the one place that calls trafilatura.

``extract_article`` is a plain function of bytes so that it can run in a worker process (see
``archive.extract_pool``); it never runs on the crawler's reactor thread.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

import trafilatura
from lxml import html as lxml_html

from archive.exceptions import ExtractError
from archive.pagefacts import AnchorFact, PageFacts, page_facts

__all__ = [
    "ExtractResult",
    "Extraction",
    "charset_from_content_type",
    "cited_links",
    "decode_html",
    "extract_article",
    "extract_page",
]

logger = logging.getLogger(__name__)

_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_LANG_RE = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class Extraction:
    """The article and its metadata as extracted from one HTML page."""

    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    text: str | None = None

    @property
    def text_chars(self) -> int:
        return len(self.text) if self.text else 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset named by a Content-Type header, if Python knows it."""
    if not content_type:
        return None
    match = _CHARSET_RE.search(content_type)
    if not match:
        return None
    return _known_codec(match.group(1))


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body, tolerating wrong charset declarations.

    Bytes that are valid UTF-8 are read as UTF-8 whatever the declaration says: multi-byte UTF-8
    sequences almost never occur by chance in legacy single-byte text, while servers that label
    UTF-8 pages as ISO-8859-1 are common. Otherwise the HTTP header wins over the document's own
    ``<meta charset>`` (as in browsers), a declared charset that fails to decode is skipped, and
    trafilatura's detection has the last word.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    header_charset = charset_from_content_type(content_type)
    if header_charset:
        candidates.append(header_charset)
    meta = _META_CHARSET_RE.search(body[:4096])
    if meta:
        meta_charset = _known_codec(meta.group(1).decode("ascii", errors="ignore"))
        if meta_charset:
            candidates.append(meta_charset)
    for charset in candidates:
        if charset.replace("-", "").replace("_", "") in ("utf8", "ascii", "usascii"):
            continue  # already known not to fit
        try:
            return body.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    # Nothing declared fits: let trafilatura guess from the bytes.
    decoded = trafilatura.utils.decode_file(body)
    return decoded if isinstance(decoded, str) else body.decode("utf-8", errors="replace")


def _html_lang(tree: Any) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        for value in tree.xpath("//meta[@http-equiv='content-language']/@content"):
            lang = value
            break
    if not lang:
        for value in tree.xpath("//meta[@property='og:locale']/@content"):
            lang = value
            break
    if isinstance(lang, str) and _LANG_RE.match(lang.strip()):
        return lang.strip().split("-")[0].split("_")[0].lower()
    return None


def _parse(body: bytes, content_type: str | None) -> Any:
    text_html = decode_html(body, content_type)
    try:
        return lxml_html.document_fromstring(text_html)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise ExtractError(f"unparseable HTML: {exc}") from exc


def _extract_tree(tree: Any, url: str) -> Extraction:
    # trafilatura prunes the tree it is given, so read the declared language first.
    page_lang = _html_lang(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
        )
    except Exception as exc:  # trafilatura raises many kinds on odd pages; one capture fails
        raise ExtractError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc
    if doc is None:
        return Extraction(language=page_lang)
    data: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    return Extraction(
        title=data.get("title") or None,
        author=data.get("author") or None,
        published=data.get("date") or None,
        language=data.get("language") or page_lang,
        site_name=data.get("sitename") or None,
        canonical_url=data.get("url") or None,
        description=data.get("description") or None,
        text=data.get("text") or None,
    )


def extract_article(body: bytes, url: str, content_type: str | None = None) -> Extraction | None:
    """Extract the article of one HTML page; None when the page holds no text at all.

    Raises ``ExtractError`` when the page cannot be parsed.
    """
    if not body.strip():
        return None
    return _extract_tree(_parse(body, content_type), url)


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """What a worker sends back for one page: the article, and the facts the liveness rules use."""

    extraction: Extraction | None
    facts: PageFacts | None
    links: tuple[AnchorFact, ...] = ()


def extract_page(body: bytes, url: str, content_type: str | None = None) -> ExtractResult | None:
    """Parse a page once; extract its article and read the facts the soft-404 rules need.

    None when the body is empty. Raises ``ExtractError`` when the page cannot be parsed.
    """
    if not body.strip():
        return None
    tree = _parse(body, content_type)
    # trafilatura prunes the tree it is given: read the page's facts first.
    facts = page_facts(tree, url)
    extraction = _extract_tree(tree, url)
    return ExtractResult(extraction, facts, cited_links(facts.anchors, extraction.text, url))


def cited_links(
    anchors: tuple[AnchorFact, ...], text: str | None, url: str
) -> tuple[AnchorFact, ...]:
    """The links of running text whose anchor text made it into the article: its citations."""
    if not text:
        return ()
    own = url.split("#", 1)[0]
    return tuple(a for a in anchors if a.text in text and a.url.split("#", 1)[0] != own)
