"""Tables a person reads, at 80 and 200 columns: every id whole, titles and URLs readable.

The archive behind them holds real news pages (tests/corpus.py: real titles, real sizes) and
dead pages with long URLs and long titles (a 404, a 410, a "page not available" stub), fetched
twice. Every command that prints a table runs as a user runs it, in its own process, with
``COLUMNS`` set; the assertions read the lines it printed.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from archive.captures.table import CAPTURE_FIELDS
from archive.cli.render import CAPTURE_COLUMNS, capture_cells
from archive.cli.shorten import ellipsize, shorten_url
from archive.cli.tablefit import MIN_MAIN, Column, FittedTable, Kind, Verdict
from tests.conftest import FAST, ROOT, json_lines
from tests.corpus import CorpusSite
from tests.liveness_pages import error_html

pytestmark = pytest.mark.slow

WIDTHS = (80, 200)
HTML = "text/html; charset=utf-8"
DEAD = "/news/2026/11/28/politics/city-council-votes-to-close-the-riverside-library-branch.html"
GONE = "/news/2026/10/02/sport/football-club-celebrates-its-hundredth-year-with-a-parade.html"
STUB = "/news/2026/11/27/culture/a-weekend-guide-to-the-galleries-and-museums-of-the-old-town.html"
EXTRA = {
    DEAD: (404, HTML, error_html("Page not found | The Riverside Courier, news since 1887", "No.")),
    GONE: (410, HTML, error_html("This article is no longer available on the Courier", "Gone.")),
    STUB: (
        200,
        HTML,
        error_html(
            "Sorry, the page you were looking for could not be found on our website",
            "The page you requested does not exist or has been removed.",
            suggestions=True,
        ),
    ),
}


def morgue(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# -- what "readable" means ----------------------------------------------------------------------


def _tokens(out: str) -> list[str]:
    return [token for line in out.splitlines() for token in line.split()]


def url_shown(url: str, out: str) -> bool:
    """``url`` is in ``out`` whole, without its origin, or shortened around "…" to 30+ cells."""
    origin = re.match(r"^[a-z]+://[^/]+", url)
    forms = [url] + ([url[origin.end() :]] if origin else [])
    for token in _tokens(out):
        for form in forms:
            if token == form:
                return True
            head, sep, tail = token.partition("…")
            if (
                sep
                and cell_len(token) >= min(MIN_MAIN, cell_len(form))
                and form.startswith(head)
                and form.endswith(tail)
                and len(head) + len(tail) < len(form)
            ):
                return True
    return False


def title_shown(title: str, out: str) -> bool:
    """``title`` is in ``out`` whole, or its first 29+ cells and an ellipsis (on one line)."""
    if title in out:
        return True
    for line in out.splitlines():
        at = line.find("…")
        while at >= 0:
            start = line.rfind(title[:12], 0, at)
            if start >= 0 and title.startswith(line[start:at].rstrip()) and at - start >= 29:
                return True
            at = line.find("…", at + 1)
    return False


def assert_readable(out: str, width: int, rows: list[dict[str, Any]]) -> None:
    lines = out.splitlines()
    wide = [line for line in lines if cell_len(line) > width]
    assert not wide, f"lines wider than {width}:\n" + "\n".join(wide)
    for row in rows:
        cid = str(row["capture_id"])
        (line,) = [line for line in lines if line.split()[:1] == [cid]] or [None]
        assert line is not None, f"capture {cid} has no line starting with its whole id:\n{out}"
        assert row["verdict"] in line.split(), f"verdict of {cid} not whole on its line: {line}"
        assert url_shown(row["url"], out), f"{row['url']} not readable at {width}:\n{out}"
        if row["title"]:
            assert title_shown(row["title"], out), f"{row['title']!r} not readable:\n{out}"


# -- the archive --------------------------------------------------------------------------------


@dataclass
class Archive:
    site: CorpusSite
    data_dir: Path
    tables: dict[int, str]  # `morgue archive` table output, by terminal width
    rows: list[dict[str, Any]]  # every capture, newest first

    def run(self, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
        return ok(morgue("--data-dir", str(self.data_dir), *args, columns=columns))

    def of(self, path: str) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["url"] == self.site.url(path)]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("tables") / "data"
    with CorpusSite(4, extra=EXTRA) as site:
        urls = [*site.article_urls, *(site.url(path) for path in (DEAD, GONE, STUB))]
        tables = {}
        for width in WIDTHS:  # two runs: every page has two captures
            # --no-requisites: the corpus pages' images are on their publishers' hosts.
            proc = ok(morgue("--data-dir", str(data_dir), "archive", "--no-recover", *FAST,
                             "--no-requisites", *urls, columns=width))  # fmt: skip
            tables[width] = proc.stdout
        rows = json_lines(ok(morgue("--data-dir", str(data_dir), "query", "--format",
                                    "json")).stdout)  # fmt: skip
        yield Archive(site, data_dir, tables, rows)


def test_the_archive_has_what_the_tests_need(archive: Archive) -> None:
    verdicts = {row["verdict"] for row in archive.rows}
    assert {"ok", "not_found"} <= verdicts
    assert len(archive.rows) == 14
    assert all(len(row["url"]) > 80 for row in archive.of(DEAD))
    assert all(len(row["title"] or "") > 50 for row in archive.of(STUB))


@pytest.mark.parametrize("width", WIDTHS)
def test_archive_table(archive: Archive, width: int) -> None:
    run = sorted(archive.rows, key=lambda r: r["capture_id"])
    mine = run[:7] if width == WIDTHS[0] else run[7:]
    assert_readable(archive.tables[width], width, mine)


@pytest.mark.parametrize("width", WIDTHS)
def test_query_table(archive: Archive, width: int) -> None:
    # --limit 0 (all rows) once cut ids down to "3…"
    everything = archive.run("query", "--limit", "0", columns=width).stdout
    assert_readable(everything, width, archive.rows)


def test_query_readme_example_shows_urls(archive: Archive) -> None:
    # The README's own example, at 80 columns: the dead pages with their URLs.
    out = archive.run("query", "--verdict", "soft_404", "--verdict", "not_found").stdout
    dead = [row for row in archive.rows if row["verdict"] in ("soft_404", "not_found")]
    assert dead
    assert_readable(out, 80, dead)


def test_query_search_table(archive: Archive) -> None:
    title = next(row["title"] for row in archive.rows if row["verdict"] == "ok" and row["title"])
    word = max(re.findall(r"\w+", title), key=len)  # a word of a real article's title
    out = archive.run("query", "--search", word, columns=80).stdout
    found = json_lines(archive.run("query", "--search", word, "--format", "json").stdout)
    assert found
    assert_readable(out, 80, found)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_table(archive: Archive, width: int) -> None:
    out = archive.run("history", archive.site.url(DEAD), columns=width).stdout
    # The page's URL heads the table, on one line; each capture's id, verdict and title follow.
    assert url_shown(archive.site.url(DEAD), out.splitlines()[0])
    assert_readable(out, width, archive.of(DEAD))


@pytest.fixture(scope="module")
def cited(archive: Archive) -> tuple[str, list[dict[str, Any]]]:
    """The corpus article that cites the most pages, and its links."""
    found = [
        (url, json_lines(archive.run("links", "--format", "json", url).stdout))
        for url in archive.site.article_urls
    ]
    return max(found, key=lambda pair: len(pair[1]))


@pytest.mark.parametrize("width", WIDTHS)
def test_links_table(archive: Archive, cited: tuple[str, list[dict[str, Any]]], width: int) -> None:
    article, links = cited
    assert links  # real articles cite other pages
    out = archive.run("links", article, columns=width).stdout
    assert all(cell_len(line) <= width for line in out.splitlines()), out
    for link in links:
        assert re.search(rf"^\s*{link['position'] + 1}\s", out, re.MULTILINE)
        assert url_shown(link["url"], out), f"{link['url']} not readable at {width}:\n{out}"


def test_recheck_by_url_prefix_prints_a_readable_table(archive: Archive) -> None:
    prefix = archive.site.url("/news/2026/11/2")  # two dead pages; not GONE, not the articles
    proc = archive.run("recheck", "--url-prefix", prefix, "--no-recover", *FAST)
    urls = {archive.site.url(path) for path in (DEAD, STUB)}
    rows = [row for row in archive.rows if row["url"] in urls]
    # New captures: their ids are not in `rows`, their URLs and titles are.
    assert "2 pages rechecked" in proc.stdout
    assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout
    for row in rows:
        assert url_shown(row["url"], proc.stdout), proc.stdout
    unknown = morgue("--data-dir", str(archive.data_dir), "recheck", archive.site.url("/nope"))
    assert unknown.returncode == 2 and "no capture of" in unknown.stderr


@pytest.mark.parametrize("width", WIDTHS)
def test_show_stats_and_schedules_fit(archive: Archive, width: int) -> None:
    (stub,) = archive.of(STUB)[-1:]
    outputs = [
        archive.run("show", str(stub["capture_id"]), columns=width).stdout,
        archive.run("stats", columns=width).stdout,
    ]
    for out in outputs:
        assert all(cell_len(line) <= width for line in out.splitlines()), out
    assert "evidence" in outputs[0] and "confidence" in outputs[0]


def test_schedule_list_fits(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    feed = "https://www.example-newspaper.org/feeds/politics/national/rss-full-text.xml"
    ok(morgue(*data, "schedule", "add", "politics-national-and-international", "--every", "1h",
              "--", "--feed", feed, "--max-pages", "500", "--since", "2d"))  # fmt: skip
    for width in WIDTHS:
        out = ok(morgue(*data, "schedule", "list", columns=width)).stdout
        assert all(cell_len(line) <= width for line in out.splitlines()), out
        assert "politics-national-and-international" in out


# -- the same archive: show, closed pipes ------------------------------------------------------


def test_show_explains_the_verdict(archive: Archive) -> None:
    stub = archive.of(STUB)[0]
    details = json.loads(archive.run("show", "--json", str(stub["capture_id"])).stdout)
    keys = list(details)
    # The contract's fields exactly, in order; then why the verdict.
    assert keys[: len(CAPTURE_FIELDS)] == list(CAPTURE_FIELDS)
    assert keys[len(CAPTURE_FIELDS) : len(CAPTURE_FIELDS) + 2] == ["confidence", "evidence"]
    stored = json_lines(
        archive.run("query", "--format", "json", "--url-prefix", stub["url"],
                    "--fields", "capture_id,confidence,evidence").stdout
    )  # fmt: skip
    (same,) = [row for row in stored if row["capture_id"] == stub["capture_id"]]
    assert details["confidence"] == same["confidence"] and details["evidence"] == same["evidence"]
    assert isinstance(details["confidence"], float) and details["evidence"]
    # On a terminal, the explanation follows the verdict and its reason.
    shown = [line.split()[0] for line in archive.run("show", str(stub["capture_id"])).stdout
             .splitlines() if line.strip()]  # fmt: skip
    at = shown.index("verdict")
    assert shown[at : at + 4] == ["verdict", "reason", "confidence", "evidence"]


def _closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.close()  # the reader has gone before the command writes its first line
    _out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(args, proc.returncode, b"", err)


@pytest.mark.parametrize(
    "args",
    [["query", "--limit", "0"], ["query", "--format", "json", "--fields", "+text"], ["--help"], []],
    ids=["table", "json", "help", "no-arguments"],
)
def test_a_closed_pipe_ends_quietly(archive: Archive, args: list[str]) -> None:
    done = _closed_pipe(*(["--data-dir", str(archive.data_dir)] if args else []), *args)
    assert (done.returncode, done.stderr) == (0, b"")


def test_head_ends_a_pipeline_quietly(archive: Archive) -> None:
    morgue_cmd = shlex.join([sys.executable, "-m", "archive", "--data-dir", str(archive.data_dir),
                             "query", "--format", "json", "--fields", "+text"])  # fmt: skip
    # Over 64 KiB of JSON, more than a pipe holds: morgue is still writing when head is done.
    size = len(archive.run("query", "--format", "json", "--fields", "+text").stdout)
    assert size > 1 << 16
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    shell = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{morgue_cmd} | head -n 1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert len(shell.stdout.splitlines()) == 1 and shell.stderr == ""


# -- the renderer on its own, at every width ----------------------------------------------------

LONG_TITLE = "Council approves the budget after a very long debate about the road levy and schools"
ROWS = [
    {"capture_id": 7, "verdict": "ok", "reason": "http_200", "http_status": 200,
     "text_chars": 5321, "title": LONG_TITLE,
     "url": "https://www.example-news.com/politics/2024/06/01/council-approves-budget.html"},
    {"capture_id": 123456, "verdict": "soft_404", "reason": "redirect_to_section",
     "http_status": 200, "text_chars": 0, "title": "Sorry, this page is not available any more",
     "url": "https://www.example-news.com/politics/2024/06/02/a-story-that-is-gone.html"},
    {"capture_id": 123457, "verdict": "unreachable", "reason": "dns", "http_status": None,
     "text_chars": 0, "title": None, "url": "https://gone.example/x"},
]  # fmt: skip


def render(table: FittedTable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(table)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 50, 60, 70, 80, 100, 120, 160, 200])
def test_captures_table_at_every_width(width: int) -> None:
    out = render(FittedTable(CAPTURE_COLUMNS, [capture_cells(r) for r in ROWS]), width)
    assert all(cell_len(line) <= width for line in out.splitlines()), out
    for row in ROWS:
        assert re.search(rf"(^|\s){row['capture_id']}(\s|$)", out), out
        assert row["verdict"] in out
    if width >= 60:  # a table, not blocks: titles and URLs get 30 cells at least
        for row in ROWS:
            assert url_shown(str(row["url"]), out), out
        assert title_shown(LONG_TITLE, out), out


def test_low_value_columns_go_first() -> None:
    wide = render(FittedTable(CAPTURE_COLUMNS, [capture_cells(r) for r in ROWS]), 260)
    assert "status" in wide and "chars" in wide and "(redirect_to_section)" in wide
    assert LONG_TITLE in wide
    narrow = render(FittedTable(CAPTURE_COLUMNS, [capture_cells(r) for r in ROWS]), 80)
    assert "status" not in narrow and "chars" not in narrow


def test_narrow_terminal_gets_one_block_per_record() -> None:
    out = render(FittedTable(CAPTURE_COLUMNS, [capture_cells(r) for r in ROWS]), 40)
    assert re.search(r"^123456\s+soft_404 \(redirect_to_section\)", out, re.MULTILINE), out
    assert re.search(r"^\s+url\s+https://", out, re.MULTILINE), out


def test_shared_origin_is_named_once() -> None:
    columns = (Column("id", Kind.ID), Column("verdict", Kind.VERDICT), Column("url", Kind.URL))
    rows = [
        ["1", Verdict("ok"), "https://www.example-news.com/politics/2024/06/01/" + "a" * 60],
        ["2", Verdict("ok"), "https://www.example-news.com/sport/2024/06/01/" + "b" * 60],
    ]
    out = render(FittedTable(columns, rows), 80)
    assert "(on https://www.example-news.com)" in out
    assert "https://www.example-news.com/politics" not in out
    assert re.search(r"^1\s+ok\s+/politics/…a+$", out, re.MULTILINE), out  # first segment, end


def test_shorten_url_and_ellipsize() -> None:
    url = "https://www.example-news.com/politics/2024/06/01/council-approves-new-budget.html"
    short = shorten_url(url, 50)
    assert cell_len(short) == 50 and short.startswith("https://www.example-news.com…")
    assert short.endswith("-new-budget.html")  # the origin whole, the rest from the end
    assert shorten_url(url, 200) == url
    assert cell_len(shorten_url("/a/" + "x" * 100, 30)) == 30
    assert ellipsize("Über die Brücke und weiter", 10) == "Über die…"
    wide = ellipsize("東京の新しい図書館が開館しました", 11)
    assert cell_len(wide) <= 11 and wide.endswith("…")
