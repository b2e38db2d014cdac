"""The mock news site the tests crawl: "The Valley Courier", on the standard library's server.

Every route a crawler can meet on a bad day has a path here: redirects, error statuses, a request
that never gets an answer, bodies too large or too compressed, wrong charsets, binary served as
HTML, a live article followed by a "page not available" stub. ``GET /__requests`` returns what the
server has received so far, so a test can check what the crawler sent. See ``ROUTES`` below;
the news section is in ``news.py``, the photo stories and their images, CSS and fonts in
``assets.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import brotli

from tests.mockserver.assets import ASSET_PREFIX_ROUTES, ASSET_ROUTES
from tests.mockserver.news import NEWS_PREFIX_ROUTES, NEWS_ROUTES

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# The Content-Encodings Scrapy asks for, as a server would apply them (/gzip/, /br/, /zstd/).
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "br": brotli.compress,
    "zstd": zstd.compress,
}

__all__ = [
    "BOMB_INFLATED_SIZE",
    "HUGE_SIZE",
    "Article",
    "MockHTTPServer",
    "MockHandler",
    "article",
    "make_server",
]

SITE_NAME = "The Valley Courier"
HUGE_SIZE = 40 * 1024 * 1024
BOMB_INFLATED_SIZE = 80 * 1024 * 1024
HTML_UTF8 = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    author: str
    published: str  # ISO date
    paragraphs: tuple[str, ...]
    lang: str = "en"


_ARTICLES = {
    "alpha": Article(
        "alpha",
        "School board delays vote on later start times",
        "Ruth Abernathy",
        "2024-02-13",
        (
            "The Valley Unified school board put off a decision on Monday night about pushing "
            "back the first bell at the district's two high schools, after parents, bus drivers "
            "and a pediatrician filled the meeting room at the district office.",
            "Under the proposal, classes at Valley High and Creekside High would start at "
            "8:30 a.m. instead of 7:35 a.m. starting next fall. Supporters pointed to research "
            "suggesting teenagers learn better and miss fewer days when they can sleep later.",
            "\u201cMy son leaves the house in the dark for half the year,\u201d said Alicia "
            "Moreno, who has two children at Valley High. \u201cHe is not lazy. He is tired.\u201d",
            "Transportation manager Curtis Beal said the change would mean the district's "
            "buses could no longer run the high school routes before the elementary ones, and "
            "that the district would need at least six more drivers to keep every trip under "
            "forty minutes. The district is already short four drivers.",
            "Coaches raised a separate worry: practices would end later, and teams that travel "
            "for games would miss more afternoon classes.",
            "Neighboring districts have tried it both ways. Pine Ridge moved its high school "
            "start to 8:15 two years ago and reports fewer tardy slips, while Lakeview reversed "
            "a similar change after a single year because of bus costs.",
            "Dr. Imani Castellanos, a pediatrician at the Valley Family Clinic, told the board "
            "that the teenagers she sees are often getting six hours of sleep or less on school "
            "nights. \u201cTheir body clocks shift during adolescence. Asking them to be alert at "
            "seven-thirty is like asking adults to take a math test at four in the morning,\u201d "
            "she said.",
            "Not every parent agreed. Several families with children in both elementary and "
            "high school said a later bell would leave older siblings unable to walk younger "
            "ones home, and one father said his daughter's after-school job would become "
            "impossible. A student member of the board, senior Kayla Dunmore, said a poll of "
            "about five hundred students found roughly two-thirds in favor of the change.",
            "Board president Samuel Ito asked staff to return in March with two versions of "
            "the bus schedule and a cost estimate for each. \u201cWe are not saying no. We are "
            "saying show us how,\u201d he said. The board meets again on March 11.",
        ),
    ),
    "beta": Article(
        "beta",
        "Harbor Street bridge to close for six weeks of repairs",
        "Tomasz Lindgren",
        "2024-04-02",
        (
            "The Harbor Street bridge, which carries about eleven thousand vehicles a day over "
            "Cedar Creek, will close to traffic on April 22 for six weeks while crews replace "
            "its deck joints and repair concrete that inspectors flagged last autumn.",
            "County engineer Helen Obi said the bridge remains safe, but that water seeping "
            "through worn joints has begun to rust the steel bearings underneath. \u201cIf we "
            "fix it now, this is a six-week job. If we wait three years, it could be a "
            "two-year one,\u201d she said.",
            "Drivers will be sent along Mill Road and the Route 12 bypass, a detour that adds "
            "roughly two miles. Pedestrians and cyclists will be able to use a temporary "
            "walkway on the north side of the bridge for all but three days of the work.",
            "Business owners on the east side of the creek say they are bracing for a slow "
            "spring. Dana Whitley, who runs a bakery two blocks from the bridge, said she "
            "would put signs at both ends of the detour. \u201cPeople forget we are here when "
            "they cannot drive past the window,\u201d she said.",
            "The county will pay for the $1.9 million project with state bridge funds and its "
            "own road budget. Work will run from 7 a.m. to 6 p.m. on weekdays, with some night "
            "work planned for the final week, when the new surface is poured.",
            "The bridge was built in 1968 and last had major work in 2003, when its railings "
            "were replaced. Inspectors rated its deck in fair condition in October, one step "
            "above the rating that would have forced the county to lower the weight limit for "
            "trucks. Obi said the repairs should keep the structure in good shape for another "
            "fifteen to twenty years, after which a full replacement will likely be needed.",
            "School buses that normally cross the creek will use the bypass, and the Valley "
            "Unified transportation office said families on the east side should expect "
            "morning pickups up to ten minutes earlier. Fire and ambulance crews have arranged "
            "to station an extra ambulance at the east side fire hall for the duration, so that "
            "emergency response times do not grow while the detour is in place.",
        ),
    ),
    "gamma": Article(
        "gamma",
        "Community garden harvest feeds three hundred families",
        "Nadia Ferreira",
        "2024-09-28",
        (
            "Volunteers at the Elm Hollow community garden weighed their last big harvest of "
            "the season on Saturday: 4,300 pounds of tomatoes, squash, beans, peppers and "
            "greens grown since April on what used to be an empty lot behind the fire station.",
            "Nearly all of it went to the Valley food pantry, which says the garden's produce "
            "reached about three hundred families this summer. Pantry director Luis Carvalho "
            "said fresh vegetables are the items clients ask for most and receive least. "
            "\u201cCans last. Lettuce does not. This garden changes what we can offer,\u201d he "
            "said.",
            "The garden began four years ago with eight raised beds built by a high school "
            "shop class. It now has forty-two, a rain barrel system, a tool shed painted by "
            "local children and a waiting list of residents who want a plot of their own.",
            "Retired nurse Geraldine Park, who coordinates the weekly volunteer shifts, said "
            "the garden also grew something harder to weigh. \u201cPeople who lived on the same "
            "street for twenty years met each other here, on their knees, pulling weeds,\u201d "
            "she said.",
            "The season was not without setbacks. A hailstorm in July shredded most of the "
            "squash leaves in a single afternoon, and a family of groundhogs spent much of "
            "August helping themselves to the beans before volunteers buried wire mesh along "
            "the fence. Two of the three rain barrels cracked during a dry spell and had to be "
            "replaced with donated ones from a hardware store on Elm Street.",
            "Several gardeners said they learned as much from each other as from any book. "
            "Eighty-year-old Tomas Reyes taught younger volunteers how to save seeds from the "
            "tomatoes his family has grown for three generations, and a group of students from "
            "the middle school kept a chart of rainfall and harvest weights that they plan to "
            "present at a science night in the spring.",
            "The group plans to plant garlic and cover crops next month and will hold a seed "
            "swap at the public library in February. Anyone who wants to volunteer can stop by "
            "on Saturday mornings, when the gate is open from eight until noon.",
        ),
    ),
    "stub-appended": Article(
        "stub-appended",
        "Volunteer fire company marks a century of answering the siren",
        "Owen Marchetti",
        "2024-06-15",
        (
            "The Cedar Creek Volunteer Fire Company turned one hundred on Saturday, and it "
            "celebrated the way it has marked most occasions since 1924: with a pancake "
            "breakfast in the engine bay and a long line of neighbors waiting for syrup.",
            "The company was founded after a barn fire that year burned for hours while "
            "farmers waited for a pumper from the next town. Twelve men bought a used engine "
            "with money raised at a county fair. Today the company has forty-one members, "
            "eleven of them women, and answers about six hundred calls a year.",
            "Chief Marisa Kowalczyk, whose grandfather joined in 1961, said recruiting has "
            "become the hardest part of the job. \u201cPeople work farther from home now. It is "
            "hard to drop everything when the pager goes off if your office is forty minutes "
            "away,\u201d she said.",
            "Former members came from three states for the anniversary. Walter Ames, 88, who "
            "served for fifty-two years, brought a photograph of the company's first engine "
            "and a brass nozzle he said he had kept \u201cfor safekeeping\u201d since 1979.",
            "Ames remembered winters when members chipped ice off the engine before every run, "
            "and a flood in 1972 when the company spent three days pumping out basements along "
            "Cedar Creek. \u201cNobody paid us, and nobody thought to ask. That was just what you "
            "did for the people on your road,\u201d he said, as younger members gathered to "
            "listen.",
            "The company now runs two engines, a tanker and a rescue truck from the brick "
            "station on Main Street, which members built themselves in 1958. A fundraising "
            "drive for a new roof and a training room raised about $60,000 last year, most of "
            "it through chicken barbecues and a raffle of a hand-made quilt.",
            "By mid-afternoon the pancakes were gone, and two teenagers had signed up for the "
            "September class. Kowalczyk called that the best anniversary present the company "
            "could have asked for.",
            "The afternoon included a parade of old and new apparatus down Main Street and a "
            "demonstration of the company's rescue tools on a donated car. The company hopes "
            "the anniversary will bring in a few new recruits; training classes start in "
            "September and are free.",
        ),
    ),
}

# Markup where text belongs, as a hostile or careless page may put it: the web UI must show it
# as text (tests/test_web.py).
HOSTILE = Article(
    "hostile",
    '<script>alert("title")</script> Council <b>approves</b> the harbour budget',
    '<img src=x onerror="alert(1)"> Mallory <i>Quill</i>',
    "2024-06-20",
    (
        "The harbour commission approved its budget on Thursday after a short debate about "
        "dredging, pier repairs and the ferry schedule for the coming summer season.",
        "Commissioners said the dredging would begin in the autumn, once the last of the "
        "sailing regattas had left the harbour, and would take about six weeks to finish.",
        "<script>document.title = 'pwned'</script> The pier repairs, which were delayed last "
        "year, are expected to cost about two hundred thousand dollars in all.",
    ),
)

_STUB_BLOCK = """
<section class="not-available">
  <h2>This page is not available</h2>
  <p>The page you were looking for has been removed, or perhaps it was never here. Check the
  address for mistakes, or follow one of the links below to find your way back.</p>
  <ul><li><a href="/">Front page</a></li><li><a href="/articles/alpha.html">Schools</a></li></ul>
</section>
"""

_LATIN1_PARAGRAPHS = (
    "Le Café Crème, la pâtisserie de la rue Principale, fête ses vingt ans cette semaine. "
    "Hélène Bérubé y prépare chaque matin des croissants, des éclairs et une crème brûlée "
    "que les habitués décrivent comme la meilleure de la vallée.",
    "« Nous avons commencé avec un seul four et beaucoup d'entêtement », raconte-t-elle. "
    "Son fils François s'occupe désormais du café, et sa nièce Zoé, arrivée de Genève "
    "l'été dernier, a ajouté des tartes aux pêches et un gâteau à la noix de coco.",
    "Pour l'anniversaire, la pâtisserie offrira un café à tous les clients samedi, de huit "
    "heures à midi. Señora Núñez, voisine fidèle depuis le premier jour, promet d'être là.",
)

_FIRST_NAMES = ("Avery", "Jonah", "Priyanka", "Marcus", "Elena", "Theo", "Simone", "Rafael")
_LAST_NAMES = ("Calloway", "Brandt", "Okonkwo", "Sørensen", "Haddad", "Whitfield", "Quist")
_SENTENCES = (
    "Residents packed the meeting room on Tuesday evening to hear the latest on {topic}.",
    "Officials said a decision on {topic} could come before the end of the month.",
    "Several people who spoke said they had followed the debate over {topic} for years.",
    "A spokesperson for the county declined to say how much {topic} would cost in total.",
    "Supporters argued that {topic} would help families on the east side of town.",
    "Critics questioned whether the plan for {topic} had been studied carefully enough.",
    "The next public hearing on {topic} is scheduled for the first Monday of next month.",
    "Local business owners said they would welcome any clarity about {topic}.",
    "Volunteers have collected more than four hundred signatures about {topic} so far.",
    "The town manager promised to publish the full report on {topic} online next week.",
    "Longtime residents recalled a similar argument about {topic} in the late 1990s.",
    "Students from the high school presented their own survey on {topic} to the council.",
)


def article(slug: str) -> Article:
    """The article served at /articles/<slug>.html: hand-written or generated from the slug."""
    if slug in _ARTICLES:
        return _ARTICLES[slug]
    digest = hashlib.sha256(slug.encode("utf-8")).digest()
    words = [w for w in slug.replace("_", "-").split("-") if w] or ["news"]
    topic = " ".join(words)
    picks = [s.format(topic=topic) for s in random.Random(digest).sample(_SENTENCES, 12)]
    paragraphs = [" ".join(picks[i : i + 3]) for i in range(0, 12, 3)]
    author = f"{_FIRST_NAMES[digest[20] % 8]} {_LAST_NAMES[digest[21] % 7]}"
    published = date(2023, 1, 1) + timedelta(days=int.from_bytes(digest[22:24], "big") % 700)
    title = f"Town weighs {topic}".capitalize()
    return Article(slug, title, author, published.isoformat(), tuple(paragraphs))


def page(
    title: str,
    body: str,
    *,
    lang: str = "en",
    head: str = "",
    charset: str | None = "utf-8",
) -> str:
    """A full HTML page with the Courier's chrome (nav, cookie notice, footer) around ``body``."""
    meta_charset = f'<meta charset="{charset}">\n' if charset else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
{meta_charset}<title>{html.escape(title)}</title>
<meta property="og:site_name" content="{SITE_NAME}">
{head}</head>
<body>
<header><p class="brand"><a href="/">{SITE_NAME}</a></p>
<nav><a href="/">Home</a> | <a href="/articles/alpha.html">Schools</a> |
<a href="/articles/beta.html">Traffic</a> | <a href="/articles/gamma.html">Community</a></nav>
</header>
<div id="cookie-notice">We use cookies to remember your settings. <button>OK</button></div>
<main>
{body}
<aside><h2>More news</h2><ul>
<li><a href="/articles/alpha.html">{html.escape(_ARTICLES["alpha"].title)}</a></li>
<li><a href="/articles/gamma.html">{html.escape(_ARTICLES["gamma"].title)}</a></li>
</ul></aside>
</main>
<footer><p>&copy; 2024 {SITE_NAME}. A fictional paper for tests.</p>
<p><a href="/">Home</a> | <a href="/private/secret.html">Staff</a></p></footer>
</body>
</html>
"""


def article_page(a: Article, *, after_article: str = "", charset: str | None = "utf-8") -> str:
    head = (
        f'<meta name="author" content="{html.escape(a.author)}">\n'
        f'<meta name="description" content="{html.escape(a.paragraphs[0][:150])}">\n'
        f'<meta property="og:title" content="{html.escape(a.title)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="article:published_time" content="{a.published}T08:00:00Z">\n'
    )
    paras = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in a.paragraphs)
    body = (
        f'<article>\n<h1>{html.escape(a.title)}</h1>\n<p class="byline">By '
        f'{html.escape(a.author)}, <time datetime="{a.published}">{a.published}</time></p>\n'
        f"{paras}\n</article>\n{after_article}"
    )
    return page(a.title, body, lang=a.lang, head=head, charset=charset)


def _status_page(code: int) -> str:
    phrase = HTTPStatus(code).phrase
    body = (
        f"<h1>{code} {phrase}</h1>\n<p>The server answered this request with {code} {phrase}.</p>"
    )
    return page(f"{code} {phrase} | {SITE_NAME}", body)


def _not_found_page() -> str:
    body = (
        "<h1>Page not found</h1>\n<p>We looked everywhere, but there is nothing at this "
        'address. Try the <a href="/">front page</a>.</p>'
    )
    return page(f"Page not found | {SITE_NAME}", body)


def _home_page() -> str:
    links = "\n".join(
        f'<li><a href="/articles/{a.slug}.html">{html.escape(a.title)}</a></li>'
        for a in _ARTICLES.values()
        if a.slug != "stub-appended"
    )
    stub_title = html.escape(_ARTICLES["stub-appended"].title)
    body = (
        f"<h1>{SITE_NAME}</h1>\n<ul>\n{links}\n"
        f'<li><a href="/stub-appended.html">{stub_title}</a></li>\n'
        '<li><a href="/latin1.html">Le Café Crème a vingt ans</a></li>\n</ul>'
    )
    return page(f"{SITE_NAME} | Local news", body)


def _binary_body() -> bytes:
    blocks = (hashlib.sha256(b"binary-%d" % i).digest() for i in range(512))
    return b"".join(blocks)  # 16 KiB, the same every run


def _huge_parts(size: int) -> tuple[bytes, bytes, bytes, int]:
    """(head, 64 KiB filler block, tail, filler length) for a page of exactly ``size`` bytes."""
    head = b"<!DOCTYPE html>\n<html><head><title>Huge</title></head><body>\n"
    tail = b"</body></html>\n"
    line = b"<p>" + b"filler " * 8 + b"</p>\n"  # 64 bytes
    return head, line * 1024, tail, size - len(head) - len(tail)


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of a few hundred KB that inflates to ``inflated`` bytes of HTML."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: gzip wrapper
    head, tail = b"<html><head><title>Bomb</title></head><body><pre>", b"</pre></body></html>"
    parts = [compressor.compress(head)]
    block = b" " * (1 << 20)
    remaining = inflated - len(head) - len(tail)
    while remaining > 0:
        parts.append(compressor.compress(block[: min(remaining, len(block))]))
        remaining -= len(block)
    parts += [compressor.compress(tail), compressor.flush()]
    return b"".join(parts)


class MockHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # /hang threads never finish; don't wait for them

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, MockHandler)
        host, port = self.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.gzip_bomb = _gzip_bomb(BOMB_INFLATED_SIZE)
        self.news_edition = 1  # version of the live story in the news section (news.py)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-response are part of the job


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ValleyCourier/1.0"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def mock(self) -> MockHTTPServer:
        return cast(MockHTTPServer, self.server)

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._dispatch(send_body=True)

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == "/__requests":
            with self.mock.lock:
                self.mock.requests.clear()
            self._send(204, b"", "text/plain")
        else:
            self._dispatch(send_body=True)

    # -- plumbing ----------------------------------------------------------------------------

    def _dispatch(self, *, send_body: bool) -> None:
        self.send_body = send_body
        path = urlsplit(self.path).path
        if path != "/__requests":
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            entry = {"method": self.command, "path": self.path, "headers": headers}
            with self.mock.lock:
                self.mock.requests.append(entry)
        handler = ROUTES.get(path)
        if handler is not None:
            handler(self)
            return
        for prefix, prefixed in PREFIX_ROUTES:
            if path.startswith(prefix):
                prefixed(self, path[len(prefix) :])
                return
        self._send(404, _not_found_page())

    def _send(
        self,
        status: int,
        body: str | bytes,
        content_type: str = HTML_UTF8,
        headers: tuple[tuple[str, str], ...] = (),
        phrase: str | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status, phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.send_body:
            self.wfile.write(data)

    def _redirect(self, status: int, location: str) -> None:
        body = page("Moved", f'<p>This page has moved to <a href="{location}">{location}</a>.</p>')
        self._send(status, body, headers=(("Location", location),))

    # -- routes ------------------------------------------------------------------------------

    def home(self) -> None:
        self._send(200, _home_page())

    def robots(self) -> None:
        robots = (
            "User-agent: *\nDisallow: /private/\n\n"
            f"Sitemap: {self.mock.base_url}/sitemap_index.xml\n"
        )
        self._send(200, robots, "text/plain; charset=utf-8")

    def secret(self) -> None:
        a = Article("secret", "Staff directory", "Courier staff", "2024-01-05", ("Internal.",) * 3)
        self._send(200, article_page(a))

    def article_route(self, rest: str) -> None:
        slug = self._slug(rest)
        if slug is not None:
            self._send(200, article_page(article(slug)))

    def encoded_route(self, coding: str, rest: str) -> None:
        slug = self._slug(rest)
        if slug is not None:
            data = _ENCODERS[coding](article_page(article(slug)).encode("utf-8"))
            headers = (("Content-Encoding", coding), ("Vary", "Accept-Encoding"))
            self._send(200, data, headers=headers)

    def chunked_route(self, rest: str) -> None:
        slug = self._slug(rest)
        if slug is None:
            return
        data = article_page(article(slug)).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", HTML_UTF8)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not self.send_body:
            return
        step = len(data) // 5 + 1
        for start in range(0, len(data), step):
            chunk = data[start : start + step]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _slug(self, rest: str) -> str | None:
        slug = rest.removesuffix(".html")
        if rest.endswith(".html") and slug and "/" not in slug:
            return slug
        self._send(404, _not_found_page())
        return None

    def query(self) -> None:
        query = urlsplit(self.path).query
        items = "\n".join(
            f"<li>{html.escape(k)} = {html.escape(v)}</li>" for k, v in parse_qsl(query)
        )
        body = f'<h1>Query echo</h1>\n<p id="query">{html.escape(query)}</p>\n<ul>\n{items}\n</ul>'
        self._send(200, page("Query echo", body))

    def multi_header(self) -> None:
        headers = (
            ("Set-Cookie", "session=courier-1; Path=/; HttpOnly"),
            ("Set-Cookie", "theme=dark; Path=/"),
            ("X-Multi", "first"),
            ("x-MiXeD-case", "kept"),
            ("X-Multi", "second"),
        )
        # An unusual reason phrase and header case: an archive records them as sent.
        self._send(
            200,
            page("Many headers", "<p>This response repeats headers.</p>"),
            headers=headers,
            phrase="Fine Thanks",
        )

    def redirect_route(self, rest: str) -> None:
        targets = {
            "301": (301, "/articles/alpha.html"),
            "302": (302, "/articles/beta.html"),
            "chain": (301, f"{self.mock.base_url}/redirect/chain/2"),  # absolute on purpose
            "chain/2": (302, "/articles/gamma.html"),
            "loop": (302, "/redirect/loop"),
            "home": (302, "/"),
        }
        if rest in targets:
            self._redirect(*targets[rest])
        else:
            self._send(404, _not_found_page())

    def status_route(self, rest: str) -> None:
        if not (rest.isdigit() and int(rest) in _CODES):
            self._send(404, _not_found_page())
            return
        code = int(rest)
        headers: tuple[tuple[str, str], ...] = ()
        if code in (429, 503):
            headers = (("Retry-After", "0"),)
        elif code == 401:
            headers = (("WWW-Authenticate", 'Basic realm="Courier subscribers"'),)
        self._send(code, _status_page(code), headers=headers)

    def hang(self) -> None:
        self.close_connection = True
        self.mock.stopping.wait()  # never answered; the thread ends with the process

    def huge(self, with_length: bool = True) -> None:
        head, block, tail, filler = _huge_parts(HUGE_SIZE)
        self.send_response(200)
        self.send_header("Content-Type", HTML_UTF8)
        if with_length:
            self.send_header("Content-Length", str(HUGE_SIZE))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not self.send_body:
            return
        try:
            for chunk in _stream(head, block, tail, filler):
                self.wfile.write(chunk)
        except OSError:  # the client stopped reading (DOWNLOAD_MAXSIZE): expected
            self.close_connection = True

    def huge_nolength(self) -> None:
        self.huge(with_length=False)

    def gzip_bomb(self) -> None:
        headers = (("Content-Encoding", "gzip"),)
        try:
            self._send(200, self.mock.gzip_bomb, headers=headers)
        except OSError:
            self.close_connection = True

    def binary(self) -> None:
        self._send(200, _binary_body(), "text/html")

    def latin1(self) -> None:
        a = Article(
            "latin1",
            "Le Café Crème a vingt ans",
            "Hélène Gagné",
            "2024-05-10",
            _LATIN1_PARAGRAPHS,
            lang="fr",
        )
        body = article_page(a, charset="iso-8859-1").encode("iso-8859-1")
        self._send(200, body, "text/html; charset=iso-8859-1")

    def wrong_charset(self) -> None:
        a = Article(
            "wrong-charset",
            "Crème brûlée à la française",
            "Zoé Bérubé",
            "2024-05-11",
            _LATIN1_PARAGRAPHS,
            lang="fr",
        )
        body = article_page(a, charset=None).encode("utf-8")  # header below says latin-1
        self._send(200, body, "text/html; charset=iso-8859-1")

    def stub_appended(self) -> None:
        self._send(200, article_page(_ARTICLES["stub-appended"], after_article=_STUB_BLOCK))

    def hostile(self) -> None:
        self._send(200, article_page(HOSTILE))

    def long_read(self) -> None:
        # About 3 MB of prose in thousands of paragraphs: seconds of extraction work, for tests
        # of the per-page extraction time limit that must not depend on the machine's speed.
        paragraphs = "".join(
            f"<p>Paragraph {i} of the longest read: the council met again, and again the "
            f"minutes ran to many pages about drains, bridges and the budget line {i}.</p>"
            for i in range(20000)
        )
        self._send(200, page("The longest read", f"<article>{paragraphs}</article>"))

    def requests_log(self) -> None:
        with self.mock.lock:
            data = json.dumps(self.mock.requests, ensure_ascii=False)
        self._send(200, data, "application/json")


def _stream(head: bytes, block: bytes, tail: bytes, filler: int) -> Iterator[bytes]:
    yield head
    full, rest = divmod(filler, len(block))
    for _ in range(full):
        yield block
    yield block[:rest]
    yield tail


_CODES = frozenset(s.value for s in HTTPStatus if 400 <= s.value <= 599)

ROUTES: dict[str, Callable[[MockHandler], None]] = {
    "/": MockHandler.home,
    "/robots.txt": MockHandler.robots,
    "/private/secret.html": MockHandler.secret,
    "/query": MockHandler.query,
    "/multi-header.html": MockHandler.multi_header,
    "/hang": MockHandler.hang,
    "/huge": MockHandler.huge,
    "/huge-nolength": MockHandler.huge_nolength,
    "/gzip-bomb": MockHandler.gzip_bomb,
    "/binary.html": MockHandler.binary,
    "/latin1.html": MockHandler.latin1,
    "/wrong-charset.html": MockHandler.wrong_charset,
    "/stub-appended.html": MockHandler.stub_appended,
    "/long-read.html": MockHandler.long_read,
    "/hostile.html": MockHandler.hostile,
    "/__requests": MockHandler.requests_log,
}
PREFIX_ROUTES: tuple[tuple[str, Callable[[MockHandler, str], None]], ...] = (
    ("/articles/", MockHandler.article_route),
    ("/gzip/", lambda handler, rest: handler.encoded_route("gzip", rest)),
    ("/br/", lambda handler, rest: handler.encoded_route("br", rest)),
    ("/zstd/", lambda handler, rest: handler.encoded_route("zstd", rest)),
    ("/chunked/", MockHandler.chunked_route),
    ("/redirect/", MockHandler.redirect_route),
    ("/status/", MockHandler.status_route),
    *NEWS_PREFIX_ROUTES,
    *ASSET_PREFIX_ROUTES,
)
ROUTES.update(NEWS_ROUTES)
ROUTES.update(ASSET_ROUTES)


def make_server(host: str = "127.0.0.1", port: int = 0) -> MockHTTPServer:
    """Bind the mock site (port 0: any free port); the caller runs ``serve_forever``."""
    return MockHTTPServer((host, port))
