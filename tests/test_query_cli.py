"""``morgue query``, ``history`` and ``stats`` as a user runs them, on captures of the mock site.

One module-scoped data directory holds two ``morgue archive`` runs against the mock news site
(tests/mockserver); every test reads it through the CLI in a subprocess. The PostgreSQL test
archives into its own schema.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from archive.captures.table import CAPTURE_FIELDS, CONTRACT_FIELDS
from archive.cli import run
from archive.query.capture_query import MARK_END, MARK_START
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer

pytestmark = pytest.mark.slow

FIRST = [
    "/articles/alpha.html",
    "/articles/beta.html",
    "/articles/gamma.html",
    "/status/404",
    "/status/403",
    "/status/500",
    "/stub-appended.html",
]
SECOND = ["/articles/alpha.html", "/status/404"]


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def archive(server: MockServer, data_dir: Path, paths: list[str], *db: str) -> list[dict[str, Any]]:
    urls = [server.url(path) for path in paths]
    proc = ok(
        run_morgue(
            "--data-dir", str(data_dir), *db, "archive", "--format", "json", "--no-recover",
            *FAST, *urls,
        )
    )  # fmt: skip
    return json_lines(proc.stdout)


def in_process(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``morgue ARGS`` through ``archive.cli.run`` in this process: what a user sees, faster.

    The end-to-end tests that matter for exit statuses also run the real console script
    (``run_morgue``); the rest run here to keep the suite quick.
    """
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    env = {"COLUMNS": str(columns)}
    with (
        mock.patch.object(sys, "argv", ["morgue", *args]),
        mock.patch.dict(os.environ, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            run()
        except SystemExit as exc:
            code = exc.code
    return subprocess.CompletedProcess(
        ["morgue", *args], int(code or 0), out.getvalue(), err.getvalue()
    )


@dataclass
class Site:
    server: MockServer
    data_dir: Path
    first: list[dict[str, Any]]
    second: list[dict[str, Any]]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.first + self.second

    def url(self, path: str) -> str:
        return self.server.url(path)

    def morgue(self, *args: str) -> subprocess.CompletedProcess[str]:
        return in_process("--data-dir", str(self.data_dir), *args)

    def wide(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI on a 200-column terminal, so that table cells do not wrap."""
        return in_process("--data-dir", str(self.data_dir), *args, columns=200)

    def query(self, *args: str) -> list[dict[str, Any]]:
        return json_lines(ok(self.morgue("query", "--format", "json", *args)).stdout)

    def ids(self, *args: str) -> list[int]:
        return [row["capture_id"] for row in self.query(*args)]

    def capture_of(self, path: str, run: int = 1) -> dict[str, Any]:
        rows = self.first if run == 1 else self.second
        (row,) = [row for row in rows if row["url"] == self.url(path)]
        return row


@pytest.fixture(scope="module")
def site(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Site:
    data_dir = tmp_path_factory.mktemp("query") / "data"
    first = archive(mock_server, data_dir, FIRST)
    second = archive(mock_server, data_dir, SECOND)
    # The lead's link-rot monitoring fills pages.state from captures; here we set it directly.
    db = sqlite3.connect(data_dir / "morgue.sqlite3")
    try:
        with db:
            db.execute("UPDATE pages SET state = 'alive'")
            db.execute(
                "UPDATE pages SET state = 'dead_suspected', dead_since = '2024-06-01 00:00:00' "
                "WHERE url LIKE '%/status/404'"
            )
            db.execute("UPDATE pages SET state = 'dead_confirmed' WHERE url LIKE '%/status/500'")
    finally:
        db.close()
    return Site(mock_server, data_dir, first, second)


def newest_first(rows: list[dict[str, Any]]) -> list[int]:
    ordered = sorted(rows, key=lambda r: (r["fetched_at"], r["capture_id"]), reverse=True)
    return [r["capture_id"] for r in ordered]


# -- query --------------------------------------------------------------------------------------


def test_json_lines_are_the_contract_newest_first(site: Site) -> None:
    rows = site.query()
    assert all(tuple(row) == CAPTURE_FIELDS for row in rows)
    assert [row["capture_id"] for row in rows] == newest_first(site.rows)
    # The same objects `morgue archive --format json` printed.
    by_id = {row["capture_id"]: row for row in site.rows}
    assert all(row == by_id[row["capture_id"]] for row in rows)


def test_verdict_filter(site: Site) -> None:
    expected = [r for r in site.rows if r["verdict"] == "not_found"]
    assert len(expected) == 2
    assert site.ids("--verdict", "not_found") == newest_first(expected)
    several = [r for r in site.rows if r["verdict"] in ("blocked", "server_error")]
    assert site.ids("--verdict", "blocked,server_error") == newest_first(several)
    assert site.ids("--verdict", "blocked", "--verdict", "server_error") == newest_first(several)


def test_latest_and_url_prefix(site: Site) -> None:
    latest = site.ids("--latest")
    assert len(latest) == len(FIRST)
    assert site.capture_of("/articles/alpha.html", run=2)["capture_id"] in latest
    assert site.capture_of("/articles/alpha.html", run=1)["capture_id"] not in latest
    articles = site.ids("--url-prefix", site.url("/articles/"), "--latest")
    expected = [
        site.capture_of("/articles/alpha.html", run=2)["capture_id"],
        site.capture_of("/articles/beta.html")["capture_id"],
        site.capture_of("/articles/gamma.html")["capture_id"],
    ]
    assert sorted(articles) == sorted(expected)


def test_state_filter(site: Site) -> None:
    dead = site.query("--state", "dead_suspected", "--state", "dead_confirmed")
    assert sorted(r["capture_id"] for r in dead) == sorted(
        r["capture_id"] for r in site.rows if r["url"].endswith(("/status/404", "/status/500"))
    )
    with_state = site.query("--state", "dead_suspected", "--fields", "+state,dead_since")
    assert {r["state"] for r in with_state} == {"dead_suspected"}
    assert {r["dead_since"] for r in with_state} == {"2024-06-01T00:00:00Z"}
    assert tuple(with_state[0])[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS


def test_domain_and_time_filters(site: Site) -> None:
    assert len(site.ids("--domain", "127.0.0.1")) == len(site.rows)
    assert site.ids("--domain", "elsewhere.example") == []
    assert site.ids("--until", "2000-01-01") == []
    assert site.ids("--since", "1d") == newest_first(site.rows)
    second_run_start = min(r["fetched_at"] for r in site.second)
    assert sorted(site.ids("--since", second_run_start)) == sorted(
        r["capture_id"] for r in site.second
    )


def test_search_finds_one_article_and_ranks_it_first(site: Site) -> None:
    # "pediatrician" is in the alpha article only; alpha was captured twice.
    found = site.query("--search", "pediatrician")
    assert {r["url"] for r in found} == {site.url("/articles/alpha.html")}
    assert len(found) == 2
    # "bridge" is all over beta (title too) and nowhere else but maybe in passing.
    ranked = site.query("--search", "bridge", "--fields", "capture_id,rank,snippet")
    assert ranked[0]["capture_id"] == site.capture_of("/articles/beta.html")["capture_id"]
    assert "bridge" in ranked[0]["snippet"].lower()
    assert all(a["rank"] >= b["rank"] for a, b in itertools.pairwise(ranked))
    phrase = site.ids("--search", '"community garden"', "--latest")
    assert phrase == [site.capture_of("/articles/gamma.html")["capture_id"]]


def test_search_table_highlights_the_match(site: Site) -> None:
    proc = ok(site.wide("query", "--search", "pediatrician", "--latest"))
    assert "School board delays vote" in proc.stdout
    assert "pediatrician" in proc.stdout.lower()
    assert "1 capture(s)" in proc.stderr


def test_csv_parses(site: Site) -> None:
    proc = ok(site.morgue("query", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert tuple(rows[0]) == CAPTURE_FIELDS
    assert [int(r["capture_id"]) for r in rows] == newest_first(site.rows)
    by_id = {row["capture_id"]: row for row in site.rows}
    for row in rows:
        expected = by_id[int(row["capture_id"])]
        assert row["url"] == expected["url"]
        assert row["title"] == (expected["title"] or "")
        assert row["http_status"] == str(expected["http_status"] or "")
    picked = ok(site.morgue("query", "--format", "csv", "--fields", "url,verdict", "--limit", "2"))
    assert picked.stdout.splitlines()[0] == "url,verdict"
    assert len(picked.stdout.splitlines()) == 3


def test_fields_and_sort(site: Site) -> None:
    rows = site.query("--fields", "capture_id,text_chars", "--sort", "chars", "--verdict", "ok")
    assert all(tuple(r) == ("capture_id", "text_chars") for r in rows)
    assert [r["text_chars"] for r in rows] == sorted((r["text_chars"] for r in rows), reverse=True)
    oldest = site.ids("--sort", "oldest", "--limit", "1")
    assert oldest == newest_first(site.rows)[-1:]
    with_text = site.query("--search", "pediatrician", "--latest", "--fields", "url,text")
    assert "The district is already short four drivers." in with_text[0]["text"]


def test_table_lists_rows(site: Site) -> None:
    proc = ok(site.wide("query", "--verdict", "not_found"))
    assert proc.stdout.count("not_found") == 2
    assert "2 capture(s)" in proc.stderr
    empty = ok(site.morgue("query", "--domain", "elsewhere.example"))
    assert empty.stdout == "" and "No captures match" in empty.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--search", '"unclosed'], "unbalanced quote"),
        (["--search", "-only"], "every word is excluded"),
        (["--search", "a OR"], "OR needs a word"),
        (["--verdict", "gone"], "unknown verdict"),
        (["--state", "zombie"], "unknown state"),
        (["--since", "last tuesday"], "invalid time"),
        (["--sort", "size"], "unknown sort"),
        (["--fields", "capture_id,nope"], "unknown field 'nope'"),
        (["--format", "xml"], "xml"),
    ],
)
def test_bad_usage_is_one_line(site: Site, args: list[str], fragment: str) -> None:
    proc = site.morgue("query", "--format", "json", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("morgue: error: ")
    assert fragment in lines[0]


def test_console_script_end_to_end(site: Site) -> None:
    """The real console script in its own process: JSON on stdout, exit 2 and one line."""
    proc = ok(run_morgue("--data-dir", str(site.data_dir), "query", "--format", "json"))
    assert [r["capture_id"] for r in json_lines(proc.stdout)] == newest_first(site.rows)
    bad = run_morgue("query", "--data-dir", str(site.data_dir), "--search", '"unclosed')
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["morgue: error: unbalanced quote in search '\"unclosed'"]


def test_query_on_a_missing_database(tmp_path: Path) -> None:
    proc = run_morgue("--data-dir", str(tmp_path / "none"), "query")
    assert proc.returncode == 2
    assert "no morgue database" in proc.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.postgres
def test_query_on_postgresql(mock_server: MockServer, postgres_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rows = archive(mock_server, data_dir, FIRST, "--db", postgres_url)
    rows += archive(mock_server, data_dir, SECOND, "--db", postgres_url)
    assert not (data_dir / "morgue.sqlite3").exists()

    def query(*args: str) -> list[dict[str, Any]]:
        proc = ok(in_process("query", "--db", postgres_url, "--format", "json", *args))
        return json_lines(proc.stdout)

    assert query() == sorted(rows, key=lambda r: (r["fetched_at"], r["capture_id"]), reverse=True)
    assert [r["capture_id"] for r in query("--verdict", "not_found")] == newest_first(
        [r for r in rows if r["verdict"] == "not_found"]
    )
    assert len(query("--latest")) == len(FIRST)
    found = query("--search", "pediatrician")
    assert {r["url"] for r in found} == {mock_server.url("/articles/alpha.html")}
    ranked = query("--search", "bridge")
    assert ranked[0]["url"] == mock_server.url("/articles/beta.html")
    bad = in_process("query", "--db", postgres_url, "--search", '"unclosed')
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    table = ok(in_process("query", "--db", postgres_url, "--search", "pediatrician", columns=200))
    assert "School board delays vote" in table.stdout
    csv_rows = list(
        csv.DictReader(io.StringIO(ok(in_process("query", "--db", postgres_url, "--format",
                                                 "csv")).stdout))
    )  # fmt: skip
    assert len(csv_rows) == len(rows)
    assert json.loads(json.dumps(csv_rows))  # plain strings throughout


# -- history ------------------------------------------------------------------------------------


def test_history_lists_every_capture_oldest_first(site: Site) -> None:
    proc = ok(site.morgue("history", "--format", "json", site.url("/articles/alpha.html")))
    rows = json_lines(proc.stdout)
    expected = [site.capture_of("/articles/alpha.html", run) for run in (1, 2)]
    assert [r["capture_id"] for r in rows] == [r["capture_id"] for r in expected]
    assert [{k: r[k] for k in CAPTURE_FIELDS} for r in rows] == expected
    assert rows[0]["changes"] == [] and rows[1]["changes"] == []  # the page did not change
    assert {r["page_state"] for r in rows} == {"alive"}


def test_history_table_shows_the_page_state_first(site: Site) -> None:
    proc = ok(site.wide("history", site.url("/status/404") + "?utm_source=x"))
    first_line = proc.stdout.splitlines()[1]
    assert "page state: dead_suspected since 2024-06-01 00:00 UTC" in first_line
    assert "2 capture(s)" in first_line
    rows = [line.split() for line in proc.stdout.splitlines() if "not_found" in line]
    assert len(rows) == 2 and all("404" in row for row in rows)
    assert "first capture" in proc.stdout


def test_history_of_an_unknown_or_invalid_url(site: Site) -> None:
    for target, fragment in ((site.url("/never.html"), "no capture of"), ("nope", "nope")):
        proc = site.morgue("history", target)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1 and fragment in proc.stderr


# -- stats --------------------------------------------------------------------------------------


def test_stats_counts_the_archive(site: Site) -> None:
    proc = ok(site.morgue("stats", "--format", "json"))
    stats = json.loads(proc.stdout)
    assert stats["captures"] == len(site.rows)
    assert stats["pages"] == len(FIRST)
    verdicts: dict[str, int] = {}
    for row in site.rows:
        verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
    assert stats["by_verdict"] == verdicts
    assert stats["by_domain"] == [{"domain": "127.0.0.1", "captures": len(site.rows)}]
    assert stats["by_state"] == {"alive": 5, "dead_suspected": 1, "dead_confirmed": 1}
    assert sum(day["captures"] for day in stats["by_day"]) == len(site.rows)
    filtered = json.loads(ok(site.morgue("stats", "--format", "json", "--latest")).stdout)
    assert filtered["captures"] == len(FIRST)


def test_stats_table_has_charts(site: Site) -> None:
    proc = ok(site.wide("stats"))
    assert f"{len(site.rows)} capture(s) of {len(FIRST)} page(s)" in proc.stdout
    for heading in ("By verdict", "Pages by state", "By domain", "By day"):
        assert heading in proc.stdout
    assert "█" in proc.stdout


@pytest.mark.parametrize("command", ["query", "history", "stats", "export", "index"])
def test_help_has_examples(command: str) -> None:
    proc = ok(in_process(command, "--help", columns=120))
    assert "Usage:" in proc.stdout
    assert "Examples:" in proc.stdout
    assert f"morgue {command}" in proc.stdout.split("Examples:", 1)[1]


def test_readme_documents_every_query_command() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Querying the archive", 1)[1].split("\n## ", 1)[0]
    for command in ("query", "history", "stats", "export --jsonl", "export --wacz", "index"):
        assert f"morgue {command}" in section


def test_snippets_print_on_one_line_and_escaped() -> None:
    from archive.cli.query_cmd import highlighted

    snippet = f"Community\n\nThe [library] {MARK_START}reopens{MARK_END}…"
    assert highlighted(snippet) == "Community The \\[library] [bold yellow]reopens[/]…"
    assert highlighted(None) == ""
