"""Real pages turned into dead ones, as publishers do, for the liveness tests and the eval.

``error_page`` keeps a page's chrome and replaces its article with an error message, the way a
CMS renders its error or removal template; ``stub_page`` appends a "not available" stub inside
the article; ``sibling_page`` is another article of the same site: the same template and chrome
around another story's paragraphs. The pages come from the corpus at run time; only the
transformation lives here.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree
from lxml import html as lxml_html

__all__ = ["error_page", "has_article_block", "sibling_page", "stub_page"]


def _main_container(tree: etree._Element) -> etree._Element | None:
    """The element whose own paragraphs hold the most text: where the article is."""
    best, best_len = None, 0
    scores: dict[etree._Element, int] = defaultdict(int)
    for p in tree.iter("p"):
        parent = p.getparent()
        if parent is not None:
            scores[parent] += len(p.text_content())
    for element, size in scores.items():
        if size > best_len:
            best, best_len = element, size
    return best


def _parse(body: bytes) -> etree._Element:
    # Decoded as morgue decodes it: lxml's own guess garbles pages without a charset header.
    from archive.extraction.article import decode_html

    return lxml_html.document_fromstring(decode_html(body))


def error_page(body: bytes, title: str, message: str, with_404: bool) -> bytes:
    """The page's chrome with its article replaced by an error message, as a CMS would."""
    tree = _parse(body)
    heading = f"404 - {title}" if with_404 else title
    for script in tree.xpath("//script[@type='application/ld+json']"):
        script.getparent().remove(script)
    for meta in tree.xpath("//meta[starts-with(@property, 'article:')]"):
        meta.getparent().remove(meta)
    for meta in tree.xpath("//meta[@property='og:type']"):
        meta.set("content", "website")
    for meta in tree.xpath("//meta[@property='og:title' or @name='twitter:title']"):
        meta.set("content", heading)
    for meta in tree.xpath("//meta[@property='og:description' or @name='description']"):
        meta.set("content", message)
    for node in tree.xpath("//title"):
        site = (node.text or "").rsplit("|", 1)[-1].rsplit(" - ", 1)[-1].strip()
        node.text = f"{heading} | {site}" if site else heading
    container = _main_container(tree)
    for h1 in tree.xpath("//h1"):
        h1.getparent().remove(h1)
    if container is not None:
        for child in list(container):
            container.remove(child)
        container.text = None
        h1 = etree.SubElement(container, "h1")
        h1.text = heading
        p = etree.SubElement(container, "p")
        p.text = message
    for article in tree.xpath("//article"):
        if container is None or container not in article.iter():
            article.drop_tree()
    # Whatever else still holds a long text (article text kept in other blocks or in page data
    # scripts) goes too: an error page does not carry the article it replaces.
    for element in tree.xpath("//body//p | //body//script | //body//div[not(.//div)]"):
        if element is h1.getparent() if container is not None else False:
            continue
        if len(element.text_content()) > 200 and element.getparent() is not None:
            element.drop_tree()
    return bytes(lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>"))


def stub_page(body: bytes, title: str, message: str, live_text: str | None) -> bytes:
    """The page with a stub appended after the last paragraph of its article."""
    tree = _parse(body)
    last, last_at = None, -1
    flat = " ".join((live_text or "").split())
    for p in tree.iter("p"):
        words = " ".join(p.text_content().split())[:60]
        at = flat.find(words) if len(words) >= 30 else -1
        if at > last_at:  # the paragraph that comes last in the article's text
            last, last_at = p, at
    if last is None:
        return body
    parent = last.getparent()
    index = parent.index(last)
    for offset, text in enumerate((title, message), start=1):
        p = lxml_html.Element("p")
        p.text = text
        parent.insert(index + offset, p)
    return bytes(lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>"))


def has_article_block(body: bytes) -> bool:
    """Whether the page has an element whose paragraphs hold its text (``sibling_page`` puts
    another story there)."""
    return _main_container(_parse(body)) is not None


def sibling_page(body: bytes, title: str, paragraphs: list[str]) -> bytes:
    """Another article of the page's site: its chrome, article markup and article block, with
    another headline and the paragraphs of another story in place of its own."""
    tree = _parse(body)
    for h1 in tree.xpath("//h1"):
        h1.text, h1[:] = title, []
    container = _main_container(tree)
    assert container is not None, "no article block to put a sibling's story in"
    spots = list(container.iter("p"))
    for spot, text in zip(spots, paragraphs, strict=False):
        spot[:] = []
        spot.text = text
    for spot in spots[len(paragraphs) :]:
        spot.drop_tree()
    for text in paragraphs[len(spots) :]:
        etree.SubElement(container, "p").text = text
    return bytes(lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>"))
