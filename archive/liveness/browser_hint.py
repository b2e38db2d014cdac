"""Pages that need a browser: live, but their article is written by scripts.

A page served with 200 whose HTML holds no article text and almost nothing a reader would see,
while it loads scripts, is a script application's shell: the text comes later, from code that
morgue does not run. Such a page is not dead (its verdict stays ``ok``), but its capture holds
no article. The evidence entry ``needs_browser`` says so, for ``morgue show`` and the crawl
summary, and names the pages a browser capture should load.

The rule reads the page's own facts (``archive.extraction.page_facts``), never its wording: scripts
present, an extracted text under ``BROWSER_TEXT`` characters, and either under
``BROWSER_VISIBLE`` characters of visible text in the whole body or an app shell (an empty
mount element, a <noscript> asking for JavaScript). A thin page with a real menu and footer but
no such shell is left alone: that is a short page, not a script's. ``bench/browser_hint_eval.py``
checks it on every page of the corpus.
"""

from __future__ import annotations

from archive.extraction.page_facts import PageFacts

__all__ = ["BROWSER_TEXT", "BROWSER_VISIBLE", "NEEDS_BROWSER", "needs_browser"]

#: The evidence entry of a capture whose page may need a browser.
NEEDS_BROWSER = "needs_browser"
#: Below this many characters of extracted text, a page shows no article.
BROWSER_TEXT = 200
#: Below this many characters (not spaces) of visible body text, a page shows nothing at all:
#: even a short live page has a menu, a headline and a footer above it.
BROWSER_VISIBLE = 400


def needs_browser(facts: PageFacts | None, text: str | None) -> bool:
    """Whether a 2xx HTML page's article is probably written by its scripts."""
    if facts is None or facts.scripts == 0:
        return False
    if len((text or "").strip()) >= BROWSER_TEXT:
        return False
    return facts.app_shell or facts.visible_chars < BROWSER_VISIBLE
