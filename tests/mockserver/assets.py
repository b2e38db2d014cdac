"""The Courier's photo stories: pages that load images, stylesheets, fonts and scripts.

Routes (all under the mock site's base URL):

- ``/photo/harbour-lights.html`` and ``/photo/market-day.html``: articles sharing the site's
  logo, stylesheet (which ``@import``s a print stylesheet and loads fonts and a masthead image
  with ``url()``), a preloaded font, an icon and a script; each has its own photo with a
  ``srcset`` and a ``<picture>`` source, an inline ``style`` background and a ``data:`` image
  (nothing to fetch).
- ``/photo/blocked.html``: an article whose banner lies under ``/private/`` (robots.txt
  disallows it) and whose second photo is missing (404).
- ``/photo/live-blog.html``: an empty shell whose script fetches ``/assets/live.json`` and writes
  the article from it (what only a browser archives); ``/photo/stalls.html``: an article with an
  image that never arrives (``/hang``).
- ``/photo/tracked.html``: an article whose script, once loaded, adds a picture from
  ``/private/`` (robots.txt disallows it): what only a browser would ask for.
- ``/photo/feed.xml``: an RSS feed of the two photo stories and the blocked one, for
  ``morgue crawl --requisites``.
- ``/assets/...``: the requisites themselves: real PNG images, CSS, WOFF2-headed font files,
  JavaScript. ``/assets/img/NAME.png`` draws a picture of its own for each NAME.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mockserver.app import MockHandler

__all__ = [
    "ASSET_PREFIX_ROUTES",
    "ASSET_ROUTES",
    "LIVE_JSON",
    "PHOTO_STORIES",
    "STORY_REQUISITES",
    "png",
]

SITE_CSS = """@import url("print.css") print;
@font-face {
  font-family: "Courier Serif";
  src: url("fonts/courier-serif.woff2") format("woff2"),
       url('fonts/courier-serif.woff') format("woff");
}
body { font-family: "Courier Serif", Georgia, serif; margin: 0 auto; max-width: 42em; }
.masthead { background: #123 url(img/masthead.png) no-repeat; height: 80px; }
figure img { max-width: 100%; }
"""
PRINT_CSS = """nav, aside, #cookie-notice { display: none; }
.masthead { background-image: url("img/masthead-print.png"); }
"""
APP_JS = """document.addEventListener("DOMContentLoaded", function () {
  var notice = document.getElementById("cookie-notice");
  if (notice) { notice.querySelector("button").onclick = function () { notice.remove(); }; }
});
"""


def png(name: str, size: int = 16) -> bytes:
    """A real PNG image, ``size`` pixels square, its colours drawn from ``name``."""
    seed = hashlib.sha256(name.encode("utf-8")).digest()
    rows = b"".join(
        b"\x00" + bytes((seed[(x * 3 + y) % 30] ^ (x * 9)) & 0xFF for x in range(size * 3))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _font(name: str) -> bytes:
    """Bytes with a WOFF2 signature: no browser will render them, a replay serves them back."""
    return b"wOF2" + hashlib.sha256(name.encode("utf-8")).digest() * 8


def _story_page(slug: str, title: str, photo: str, paragraphs: tuple[str, ...]) -> str:
    paras = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | The Courier</title>
<meta property="og:site_name" content="The Courier">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-06-0{len(slug) % 9 + 1}T07:30:00Z">
<link rel="stylesheet" href="/assets/site.css">
<link rel="preload" href="/assets/fonts/courier-serif.woff2" as="font" type="font/woff2"
 crossorigin>
<link rel="icon" href="/assets/img/favicon.png">
<link rel="canonical" href="/photo/{slug}.html">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="masthead"><a href="/"><img src="/assets/img/logo.png" alt="The Courier"></a></header>
<main>
<article>
<h1>{title}</h1>
<p class="byline">By Dana Ortiz</p>
<figure>
<picture>
<source srcset="/assets/img/{photo}-wide.png 2x" media="(min-width: 800px)">
<img src="/assets/img/{photo}.png"
 srcset="/assets/img/{photo}-480.png 480w, /assets/img/{photo}-960.png 960w"
 sizes="100vw" alt="{title}">
</picture>
<figcaption>Photo: Courier staff</figcaption>
</figure>
<div class="pullquote" style="background-image: url('/assets/img/{photo}-texture.png')">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
{paras}
</div>
</article>
</main>
<footer><p>&copy; 2024 The Courier. <a href="/">Home</a></p></footer>
</body>
</html>
"""


_PARAGRAPHS = (
    "The harbour authority switched on the new lights along the quay on Friday evening, "
    "ending three winters in which the fishing fleet came home in near darkness.",
    "Skippers said the change was overdue. Two boats struck the old breakwater last year, and "
    "the insurance claims alone cost more than the lamps, the authority's own report found.",
    "The lamps were paid for by the harbour levy and a grant from the coastal fund; "
    "the council will decide in the spring whether to light the slipway too.",
)
_MARKET = (
    "Stallholders set up before dawn on Saturday for the first market day since the square "
    "was repaved, and by nine the queue for the bakery van reached the fountain.",
    "Traders said footfall was the best since before the works began. The council's count put "
    "visitors at just over four thousand, double an ordinary Saturday in June.",
    "Next month's market moves to the first Sunday because of the regatta, the organisers said.",
)

PHOTO_STORIES = {
    "harbour-lights": _story_page(
        "harbour-lights", "Harbour lights switched on at last", "harbour", _PARAGRAPHS
    ),
    "market-day": _story_page("market-day", "Market day returns to the square", "market", _MARKET),
}
#: The requisites each photo story needs, as paths (what a replay must find in the archive).
STORY_REQUISITES = {
    slug: [
        "/assets/site.css",
        "/assets/fonts/courier-serif.woff2",
        "/assets/img/favicon.png",
        "/assets/app.js",
        "/assets/img/logo.png",
        f"/assets/img/{photo}-wide.png",
        f"/assets/img/{photo}.png",
        f"/assets/img/{photo}-480.png",
        f"/assets/img/{photo}-960.png",
        f"/assets/img/{photo}-texture.png",
        "/assets/print.css",
        "/assets/fonts/courier-serif.woff",
        "/assets/img/masthead.png",
    ]
    for slug, photo in (("harbour-lights", "harbour"), ("market-day", "market"))
}

_BLOCKED = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry timetable changes | The Courier</title>
<link rel="stylesheet" href="/assets/site.css"></head>
<body><img src="/private/banner.png" alt="">
<article><h1>Ferry timetable changes</h1>
<p>The first ferry of the day will leave twenty minutes earlier from Monday, the operator said,
to meet the new train connection at the mainland terminal.</p>
<img src="/assets/missing/pier.png" alt="The pier">
<p>The last crossing on Sundays is unchanged.</p></article></body></html>
"""


LIVE_JSON = {
    "headline": "Storm closes the coast road overnight",
    "paragraphs": [
        "The coast road between the harbour and the lighthouse was closed at ten last night "
        "after waves carried shingle across both lanes near the old pier.",
        "Highways crews began clearing the road at first light and expect to reopen one lane "
        "by noon, with a convoy system in place until the sea wall is inspected.",
        "Residents of the cliff cottages were asked to use the upper lane through the farm, "
        "which the landowner has opened for the day.",
    ],
}
_LIVE_BLOG = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Live | The Courier</title>
<link rel="stylesheet" href="/assets/site.css"></head>
<body><div id="app"><p class="loading">Loading…</p></div>
<script>
fetch("/assets/live.json").then(function (r) { return r.json(); }).then(function (story) {
  var html = "<article><h1>" + story.headline + "</h1>";
  story.paragraphs.forEach(function (p) { html += "<p>" + p + "</p>"; });
  document.getElementById("app").innerHTML = html + "</article>";
  document.title = story.headline + " | The Courier";
});
</script></body></html>
"""
_TRACKED = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Night ferry | The Courier</title></head>
<body><article><h1>The night ferry runs again</h1>
<p>The night ferry across the bay returned to service on Monday after a winter in dry dock, its
hull repainted and its engines rebuilt by the yard that launched it forty years ago.</p>
<p>The first crossing left the north pier at ten past eleven with thirty-one passengers, most of
them shift workers from the cannery who had driven the long way round since November.</p>
<p>The operator says the timetable will stay as it was until the summer, when a second boat
joins the route.</p>
<div id="banner"></div></article>
<script>
window.addEventListener("load", function () {
  var img = document.createElement("img");
  img.src = "/private/banner.png";
  document.getElementById("banner").appendChild(img);
});
</script></body></html>
"""
_STALLS = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pier survey | The Courier</title></head>
<body><article><h1>Pier survey finds rot in six piles</h1>
<p>Engineers surveying the pier found rot in six of its oak piles and recommended that the far
end stay closed to the public until the spring.</p>
<img src="/hang" alt="The pier at low tide">
<p>The council will ask for quotes for the repair at its next meeting.</p></article></body></html>
"""


_FEED_STORIES = (
    ("harbour-lights", "Harbour lights", "2024-06-03T07:30:00Z"),
    ("market-day", "Market day", "2024-06-04T07:30:00Z"),
    ("blocked", "Pier closed", "2024-06-05T07:30:00Z"),
)


def _photo_feed(base: str) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{base}/photo/{slug}.html</link>"
        f'<guid isPermaLink="false">courier-photo-{slug}</guid>'
        f"<pubDate>{format_datetime(datetime.fromisoformat(when), usegmt=True)}</pubDate></item>"
        for slug, title, when in _FEED_STORIES
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>The Courier: photo stories</title><link>{base}/photo/</link>"
        f"<description>Photo stories</description>{items}</channel></rss>\n"
    )


def photo_story(handler: MockHandler, rest: str) -> None:
    if rest == "feed.xml":
        handler._send(200, _photo_feed(handler.mock.base_url), "application/rss+xml")
        return
    if rest == "blocked.html":
        handler._send(200, _BLOCKED)
        return
    if rest == "live-blog.html":
        handler._send(200, _LIVE_BLOG)
        return
    if rest == "tracked.html":
        handler._send(200, _TRACKED)
        return
    if rest == "stalls.html":
        handler._send(200, _STALLS)
        return
    body = PHOTO_STORIES.get(rest.removesuffix(".html")) if rest.endswith(".html") else None
    if body is None:
        handler._send(404, "<h1>Not found</h1>")
        return
    handler._send(200, body)


def asset(handler: MockHandler, rest: str) -> None:
    if rest.startswith("img/") and rest.endswith(".png"):
        handler._send(200, png(rest), "image/png", (("Cache-Control", "max-age=86400"),))
    elif rest == "site.css":
        handler._send(200, SITE_CSS, "text/css; charset=utf-8")
    elif rest == "print.css":
        handler._send(200, PRINT_CSS, "text/css; charset=utf-8")
    elif rest.startswith("fonts/") and rest.endswith((".woff2", ".woff")):
        kind = "font/woff2" if rest.endswith(".woff2") else "font/woff"
        handler._send(200, _font(rest), kind)
    elif rest == "live.json":
        handler._send(200, json.dumps(LIVE_JSON), "application/json")
    elif rest == "app.js":
        handler._send(200, APP_JS, "text/javascript; charset=utf-8")
    else:
        handler._send(404, "not found", "text/plain")


def private_banner(handler: MockHandler) -> None:
    handler._send(200, png("banner"), "image/png")


ASSET_ROUTES = {"/private/banner.png": private_banner}
ASSET_PREFIX_ROUTES = (("/photo/", photo_story), ("/assets/", asset))
