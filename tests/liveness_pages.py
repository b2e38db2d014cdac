"""HTML pages written for the liveness tests: a small paper's articles, its error page, its stub."""

from __future__ import annotations

import html

__all__ = ["SITE_NAME", "STUB_HTML", "article_html", "error_html", "home_html"]

SITE_NAME = "The Millbrook Courier"

_PARAGRAPHS = [
    "The county board voted on Tuesday evening to extend the late bus service to the valley "
    "villages for another two years, after a petition signed by more than nine hundred "
    "residents asked it to keep the route running past eight o'clock.",
    "Board members said the service had carried an average of forty riders a night since it "
    "began as a trial last spring, most of them hospital staff and students returning from "
    "the technical college on the far side of the river.",
    "The extension will cost about one hundred and twenty thousand a year, shared between "
    "the county and the three parish councils along the route, which agreed to the split at "
    "a joint meeting held in the old market hall earlier this month.",
    "Drivers' representatives welcomed the vote but asked for a heated shelter at the "
    "terminus, where passengers changing to the last northbound service can wait for up to "
    "twenty minutes on winter nights.",
]


def _chrome(title: str, head: str, main: str) -> bytes:
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{head}</head>
<body><header><a href="/">{SITE_NAME}</a>
<nav><ul><li><a href="/news/">News</a></li><li><a href="/sport/">Sport</a></li>
<li><a href="/opinion/">Opinion</a></li></ul></nav></header>
<main>{main}</main>
<aside><h2>Most read</h2><ul><li><a href="/news/2025/ferry-timetable.html">Ferry timetable
changes for the summer</a></li><li><a href="/news/2025/school-roof.html">School roof repairs
finished early</a></li></ul></aside>
<footer><p>{SITE_NAME}, 12 Quay Street. <a href="/contact">Contact us</a></p></footer>
</body></html>"""
    return page.encode()


def article_html(
    title: str, *, paragraphs: list[str] | None = None, after: str = "", inside: str = ""
) -> bytes:
    """An article page with JSON-LD and Open Graph; ``inside`` ends the <article>, ``after``
    follows it."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs or _PARAGRAPHS)
    head = (
        '<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{html.escape(title)}">'
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        f'"@type": "NewsArticle", "headline": "{html.escape(title)}"}}</script>'
    )
    main = (
        f"<article><h1>{html.escape(title)}</h1>{body}"
        '<p>Read the <a href="https://example.org/board-minutes.pdf">board minutes</a> and the '
        '<a href="https://example.org/petition">residents\' petition</a>.</p>'
        f"{inside}</article>{after}"
    )
    return _chrome(f"{title} | {SITE_NAME}", head, main)


_SUGGESTIONS = (
    "<h2>Stories you may have missed</h2><ul>"
    "<li>Harbour ferry returns to its winter timetable next week</li>"
    "<li>Volunteers plant three hundred trees along the river path</li>"
    "<li>Library extends its Saturday opening hours until the spring</li></ul>"
)


def error_html(title: str, message: str, *, suggestions: bool = False) -> bytes:
    """The site's own error page: its chrome, a heading and a message, no article markup.

    With ``suggestions``, a list of other stories follows the message, as on many real ones.
    """
    head = '<meta property="og:type" content="website">'
    more = _SUGGESTIONS if suggestions else ""
    main = (
        f"<div class='error'><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{more}</div>"
    )
    return _chrome(f"{title} | {SITE_NAME}", head, main)


def home_html() -> bytes:
    items = "".join(
        f'<li><a href="/news/2025/story-{i}.html">Story number {i} of the day</a></li>'
        for i in range(12)
    )
    return _chrome(SITE_NAME, "", f"<h1>Today's news</h1><ul>{items}</ul>")


# A stub of the kind the seed page ends with, in our own words, outside the <article>.
STUB_HTML = (
    "<section class='gone'><h2>This page is not available</h2>"
    "<p>The page you asked for has moved or no longer exists. Check the address, or use the "
    "links on this page to find what you were looking for.</p></section>"
)
