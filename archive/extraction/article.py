"""Article extraction: the one place that calls trafilatura.

``extract_article`` is a plain function of bytes so that it can run in a worker process (see
``archive.extraction.pool``); it never runs on the crawler's reactor thread.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from types import ModuleType
from typing import Any

from lxml import html as lxml_html

from archive.exceptions import ExtractError
from archive.extraction.boilerplate import add_lede, choose_text, clean_text
from archive.extraction.markup_signals import MarkupSignals, markup_signals
from archive.extraction.news_metadata import (
    NewsMeta,
    is_publication,
    read_news_meta,
    site_names,
    strip_site_suffix,
)
from archive.extraction.news_normalise import (
    detect_language,
    normalise_authors,
    normalise_date,
)
from archive.extraction.page_facts import AnchorFact, PageFacts, page_facts
from archive.extraction.ruby import flatten_ruby
from archive.extraction.text_width import text_width

__all__ = [
    "CHROME_CHARS",
    "SAMPLE_MIN_CHARS",
    "WORKER_PRELOAD",
    "ExtractResult",
    "Extraction",
    "charset_from_content_type",
    "cited_links",
    "decode_html",
    "extract_article",
    "extract_page",
    "page_chrome",
]

logger = logging.getLogger(__name__)

_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_LANG_RE = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")


#: What a process that extracts should import up front (``KillablePool(preload=...)``):
#: archive.extraction.warmup imports trafilatura and fills the caches its first calls fill.
WORKER_PRELOAD = ("archive.extraction.warmup",)


@functools.cache
def _trafilatura_lib() -> ModuleType:
    # Imported on first use: trafilatura (htmldate, courlan, justext...) takes about 0.4 s to
    # import, and most processes that import this module never extract (the CLI's read-only
    # commands, the crawl's main process, whose extraction runs in worker processes).
    import trafilatura
    import trafilatura.metadata
    import trafilatura.settings
    import trafilatura.utils

    return trafilatura


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
    #: Every author, in page order; ``author`` is the same names joined by "; ".
    authors: tuple[str, ...] = ()
    date_modified: str | None = None
    #: Where each field came from: ``json-ld``, ``microdata``, ``opengraph``, ``meta`` (other
    #: ``<meta>`` names and ``<html lang>``), ``html-lang`` (``og:locale``, Content-Language),
    #: ``trafilatura``, ``htmldate``, ``url``, ``langid``; ``text``: ``article`` (trafilatura's
    #: extraction), ``article+description`` (with the page's visible standfirst put back in
    #: front) or ``json-ld`` (the page's ``articleBody``).
    field_sources: dict[str, str] = field(default_factory=dict)

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
    decoded = _trafilatura_lib().utils.decode_file(body)
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


# Comments and processing instructions are dropped at parsing, as trafilatura's own parser
# drops them: given a tree with them, trafilatura loses the text that follows a comment inside a
# paragraph ("begins <!-- ad slot --> and goes on": "and goes on" is gone).
_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
# Bytes that are UTF-8 (as decode_html reads them) are given to libxml2 as they are: the same
# tree as from their decoded text, without lxml encoding that text back (0.2 ms a page).
_UTF8_PARSER = lxml_html.HTMLParser(
    remove_comments=True, remove_pis=True, collect_ids=False, encoding="utf-8"
)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.startswith(codecs.BOM_UTF8)


def _parse(body: bytes, content_type: str | None) -> Any:
    if _is_utf8(body):
        source: str | bytes = body
        parser = _UTF8_PARSER
    else:
        source, parser = decode_html(body, content_type), _PARSER
    try:
        return lxml_html.document_fromstring(source, parser=parser)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise ExtractError(f"unparseable HTML: {exc}") from exc


_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[-_.]|$)")


def _url_date(url: str) -> str | None:
    match = _URL_DATE_RE.search(url)
    if not match:
        return None
    return normalise_date(f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}")


# Posts embedded from social networks: their standard embed markup, whatever the publisher.
_EMBEDDED_POSTS = [
    "//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media')"
    " or contains(@class, 'tiktok-embed') or contains(@class, 'bluesky-embed')"
    " or contains(@class, 'threads-post') or contains(@class, 'mastodon-embed')]",
]


def _trafilatura(tree: Any, url: str) -> dict[str, Any] | None:
    try:
        doc = _trafilatura_lib().bare_extraction(
            tree,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            prune_xpath=_EMBEDDED_POSTS,
        )
    except Exception as exc:  # trafilatura raises many kinds on odd pages; one capture fails
        raise ExtractError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc
    if doc is None:
        return None
    return doc if isinstance(doc, dict) else doc.as_dict()


def _fallback_metadata(tree: Any, url: str, news: NewsMeta) -> dict[str, Any]:
    """trafilatura's metadata for the fields the page's own leaves empty.

    Most news pages state title, date, authors and site name in structured form, and then this
    costs nothing. trafilatura's ``extract_metadata`` runs every search whatever is missing:
    htmldate's search of the whole page for the date and the byline search over every element
    take 10 to 20 ms on a large page. Only the searches for the missing fields are run here,
    with trafilatura's own functions in its order, so a field comes out as
    ``extract_metadata`` gives it (``tests/test_extract_corpus.py`` checks this on the corpus).
    """
    if news.title and news.published and news.authors and news.site_name:
        return {}
    lib = _trafilatura_lib()
    meta = lib.metadata
    try:
        doc = meta.examine_meta(tree)
        if doc.author and " " not in doc.author:
            doc.author = None  # trafilatura's own rule: one word is not a byline
        try:
            doc = meta.extract_meta_json(tree, doc)
        except Exception:  # bugs in trafilatura's JSON-LD reading; it carries on as well
            logger.debug("trafilatura JSON metadata failed for %s", url, exc_info=True)
        if not news.title and not doc.title:
            doc.title = meta.extract_title(tree)
        if not news.authors and not doc.author:
            doc.author = meta.extract_author(tree)
        if not doc.url:
            doc.url = meta.extract_url(tree, url)
        if not news.published:
            doc.date = meta.find_date(tree, **{**lib.settings.set_date_params(), "url": doc.url})
        if not news.site_name:
            doc.sitename = _fallback_site_name(tree, doc, meta)
        doc.clean_and_trim()
    except Exception:  # a metadata bug in trafilatura must not cost the article
        logger.debug("trafilatura metadata failed for %s", url, exc_info=True)
        return {}
    found: dict[str, Any] = doc.as_dict()
    return found


def _fallback_site_name(tree: Any, doc: Any, meta: ModuleType) -> str | None:
    """The site's name as trafilatura's ``extract_metadata`` finds it."""
    name = doc.sitename or meta.extract_sitename(tree)
    if name:
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return name or None
    match = meta.META_URL.match(doc.url) if doc.url else None
    return match[1] if match else None


_ROLE_WORDS_RE = re.compile(
    r"\b(?:redaktion|r[ée]daction|redacci[óo]n|redazione|editors?|editorial|staff|team|desk|"
    r"newsroom|quelle|source|fuente|sendung|agency|agentur(?:en)?)\b",
    re.IGNORECASE,
)


# Bylines in scripts without capital letters that name a body, not a person: a newspaper,
# an agency, a desk or department, an editorial office, a broadcaster.
_UNCASED_DESK_RE = re.compile(
    r"(?:新聞|新闻|通信|日報|日报|晚报|社|部|局|室|編集|编辑|記者|记者|网|網|台|"
    r"센터|中心|组|組|신문|일보|뉴스|통신|편집|기자|취재|국|부|팀)$"
)


def _looks_like_a_person(name: str) -> bool:
    """Two or three capitalised words and no desk or source word: "Jane Doe", not "Quelle dpa".

    In a script without capital letters (Chinese, Japanese, Korean, Arabic, Thai ...) a name is
    two or three words, or one word of two to five letters as Chinese, Japanese and Korean
    names are written ("山田花子"), that does not end as a body's name does ("社会部").
    """
    words = name.split()
    if not words or any(c.isdigit() for c in name) or _ROLE_WORDS_RE.search(name):
        return False
    if any(c.isupper() or c.islower() for c in name):
        return 2 <= len(words) <= 3 and all(w[0].isupper() for w in words)
    if _UNCASED_DESK_RE.search(name):
        return False
    if len(words) == 1:
        return 2 <= len(name) <= 5 and name.isalpha()
    return len(words) <= 3


_HEADLINE_ARTICLE = lxml_html.etree.XPath("(//h1/ancestor::article[1])[1]")
_HEADLINE_MAIN = lxml_html.etree.XPath("(//h1/ancestor::*[self::main or @role='main'][1])[1]")


def _people_first(tree: Any, url: str, news: NewsMeta) -> NewsMeta:
    """Authors that are people rather than the publication, when the page names both.

    A page whose structured author is only the publication ("Port Gazette") often prints a
    person's byline, which trafilatura finds; a list of people and the publication loses the
    publication.
    """
    if not news.authors:
        return news
    people = tuple(a for a in news.authors if not is_publication(a, news.site_name, url))
    if people:
        return news if len(people) == len(news.authors) else replace(news, authors=people)
    # extract_author copies what it is given and runs regular expressions over every element
    # (up to 25 ms on a large page): give it the <article> that holds the headline, or the
    # page's only <article>, or the <main> that holds the headline, and the whole page only
    # when there is none of them.
    articles = _HEADLINE_ARTICLE(tree) or tree.xpath("//article")
    if len(articles) != 1:
        articles = _HEADLINE_MAIN(tree)
    scope = articles[0] if len(articles) == 1 else tree
    try:
        byline = _trafilatura_lib().metadata.extract_author(scope)
    except Exception:  # a metadata bug in trafilatura must not cost the article
        return news
    found = tuple(
        a
        for a in normalise_authors((byline or "").split(";"))
        if _looks_like_a_person(a) and not is_publication(a, news.site_name, url)
    )
    if not found:
        return news
    return replace(news, authors=found, sources={**news.sources, "authors": "trafilatura"})


def _canonical_url(tree: Any, url: str) -> str | None:
    try:
        found = _trafilatura_lib().metadata.extract_url(tree, url)
    except Exception:
        return url
    return found if isinstance(found, str) else url


def _merge(
    news: NewsMeta,
    data: dict[str, Any],
    page_lang: str | None,
    url: str,
    signals: MarkupSignals,
) -> Extraction:
    """The page's own metadata first, then trafilatura's, then the URL for the date."""
    sources = dict(news.sources)

    def pick(name: str, own: Any, fallback: Any, fallback_source: str = "trafilatura") -> Any:
        if own:
            return own
        if fallback:
            sources[name] = fallback_source
            return fallback
        sources.pop(name, None)
        return None

    authors = news.authors or tuple(normalise_authors((data.get("author") or "").split(";")))
    if not news.authors and authors:
        sources["authors"] = "trafilatura"
    published = pick("published", news.published, normalise_date(data.get("date")), "htmldate")
    if not published:
        published = pick("published", None, _url_date(url), "url")
    site_name = pick("site_name", news.site_name, data.get("sitename"))
    fallback_title = data.get("title")
    if fallback_title:
        fallback_title = strip_site_suffix(fallback_title, site_names(site_name, url))
    title = pick("title", news.title, fallback_title)
    text, text_source = choose_text(data.get("text"), news.article_body)
    if text:
        sources["text"] = text_source
        text = clean_text(text, title, authors, news.titles, signals, news.author_bios)
    description = pick("description", news.description, data.get("description"))
    if text and text_source == "article":
        with_lede = add_lede(text, description, lambda: signals.visible)
        if with_lede != text:
            text, sources["text"] = with_lede, "article+description"
    language = news.language
    if not language and page_lang:
        language, sources["language"] = page_lang, "html-lang"
    if not language:
        language = pick("language", None, detect_language(text), "langid")
    return Extraction(
        title=title,
        author="; ".join(authors) or None,
        authors=authors,
        published=published,
        date_modified=news.modified,
        language=language,
        site_name=site_name,
        canonical_url=data.get("url") or None,
        description=description,
        text=text or None,
        field_sources={
            ("date_modified" if k == "modified" else k): v
            for k, v in sources.items()
            if k != "article_body"
        },
    )


def _extract_tree(tree: Any, url: str) -> tuple[Extraction, MarkupSignals]:
    # trafilatura prunes the tree it is given, so read what the page says about itself first.
    page_lang = _html_lang(tree)
    news = _people_first(tree, url, read_news_meta(tree, url))
    flatten_ruby(tree)  # before the signals, which read the text nodes the cleaning compares
    signals = markup_signals(tree, url)
    data = _fallback_metadata(tree, url, news)
    data["url"] = _canonical_url(tree, url)
    data.update((k, v) for k, v in (_trafilatura(tree, url) or {}).items() if k == "text")
    return _merge(news, data, page_lang, url, signals), signals


def extract_article(body: bytes, url: str, content_type: str | None = None) -> Extraction | None:
    """Extract the article of one HTML page; None when the page holds no text at all.

    Raises ``ExtractError`` when the page cannot be parsed.
    """
    if not body.strip():
        return None
    return _extract_tree(_parse(body, content_type), url)[0]


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """What a worker sends back for one page: the article, and the facts the liveness rules use."""

    extraction: Extraction | None
    facts: PageFacts | None
    links: tuple[AnchorFact, ...] = ()
    #: The page's text outside its story (menus, forms, boxes, footers), read for a page that
    #: may be kept as a sample of its site's articles (``page_chrome``).
    chrome: str | None = None


def extract_page(body: bytes, url: str, content_type: str | None = None) -> ExtractResult | None:
    """Parse a page once; extract its article and read the facts the soft-404 rules need.

    None when the body is empty. Raises ``ExtractError`` when the page cannot be parsed.
    """
    if not body.strip():
        return None
    tree = _parse(body, content_type)
    # trafilatura prunes the tree it is given: read the page's facts first.
    facts = page_facts(tree, url)
    extraction, signals = _extract_tree(tree, url)
    chrome = None
    if facts.article_markup and text_width(extraction.text, SAMPLE_MIN_CHARS) >= SAMPLE_MIN_CHARS:
        chrome = page_chrome(signals.text_parts(), extraction.text or "")
    links = cited_links(facts.anchors, extraction.text, url)
    return ExtractResult(extraction, facts, links, chrome)


#: The text a live article needs to be kept as a sample of its site's template: not thin by the
#: liveness rules (``archive.liveness.soft404.THIN_TEXT``, the same line, which this layer
#: cannot import). Only such a page's chrome is read.
SAMPLE_MIN_CHARS = 600
#: The most characters of chrome kept for a page (9 in 10 dev articles have less).
CHROME_CHARS = 12_000


def page_chrome(parts: list[str], story: str) -> str:
    """The page's text pieces that are not lines of its story, in page order, up to
    ``CHROME_CHARS``: what the site shows around every article (its menus, sign-in and comment
    forms, paywall boxes, footers). A page of the site that shows the same text around a notice
    has no more to say than its notice."""
    lines = {" ".join(line.split()) for line in story.split("\n")}
    kept: list[str] = []
    size = 0
    for part in parts:
        piece = " ".join(part.split())
        if not piece or piece in lines:
            continue
        if size + len(piece) > CHROME_CHARS:
            break
        kept.append(piece)
        size += len(piece) + 1
    return "\n".join(kept)


def cited_links(
    anchors: tuple[AnchorFact, ...], text: str | None, url: str
) -> tuple[AnchorFact, ...]:
    """The links of running text whose anchor text made it into the article: its citations."""
    if not text:
        return ()
    own = url.split("#", 1)[0]
    return tuple(a for a in anchors if a.text in text and a.url.split("#", 1)[0] != own)
