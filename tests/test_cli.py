"""The ``morgue`` command line as a user runs it: bad usage, URL lists, options, ``show``.

Every test runs the CLI in its own process against the mock news site (tests/mockserver). The
crawls are shared where possible: one module-scoped data directory holds two runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.captures.table import CAPTURE_FIELDS
from tests.conftest import FAST as _FAST
from tests.conftest import ROOT, json_lines
from tests.mockserver import MockServer

pytestmark = pytest.mark.slow

ALPHA = "/articles/alpha.html"
BETA = "/articles/beta.html"
GAMMA = "/articles/gamma.html"
# Dead pages here are results to show, not pages to recover (tests/test_recover.py does that,
# from a local pywb): without --no-recover they would be looked up in the Wayback Machine.
FAST = [*_FAST, "--no-recover"]
# A sentence of the alpha article's body (tests/mockserver/app.py), not of its title or lead.
ALPHA_SENTENCE = "The district is already short four drivers."


def morgue(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Like ``tests.conftest.run_morgue``, with ``env`` added to a MORGUE_*-free environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=environ,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\n{proc.stderr}"
    return proc


def show_json(data_dir: Path, target: str | int, *extra: str) -> dict[str, Any]:
    proc = ok(morgue("--data-dir", str(data_dir), "show", "--json", str(target), *extra))
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    details: dict[str, Any] = json.loads(lines[0])
    return details


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url) as resp:
        body: bytes = resp.read()
    return body


# -- 1. bad usage -------------------------------------------------------------------------------


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("morgue: error: ") and lines[0] != "morgue: error: "
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["not-a-url"], ["not-a-url"]),
        (["ftp://example.org/x"], ["ftp"]),
        (["-i", "/nonexistent/file.txt"], ["/nonexistent/file.txt"]),
        (["--format", "json"], ["no URLs"]),  # options, but no URL
        (["-s", "BADSETTING", "http://127.0.0.1:1/"], ["BADSETTING"]),
        # One bad URL among good ones: nothing is fetched or written.
        (["http://127.0.0.1:1/a.html", "http://exa mple.org/", "http://127.0.0.1:1/b"], ["exa"]),
    ],
    ids=[
        "no-scheme",
        "ftp",
        "missing-file",
        "no-urls",
        "bad-setting",
        "one-bad-url",
    ],
)
def test_archive_bad_usage_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    data_dir = tmp_path / "data"
    proc = morgue("--data-dir", str(data_dir), "archive", *args)
    assert_one_line_error(proc, *fragments)
    assert not data_dir.exists()


def test_archive_strict_refuses_a_list_with_a_bad_line(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# list\nhttp://127.0.0.1:1/a.html\n\nmailto:someone@example.org\nnope\n")
    data_dir = tmp_path / "data"
    proc = morgue("archive", "--data-dir", str(data_dir), "--strict", "-i", str(url_file))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"{url_file}:4: ") and "mailto" in lines[0]
    assert lines[1].startswith(f"{url_file}:5: ") and "nope" in lines[1]
    assert lines[2] == f"morgue: error: 2 bad line(s) in {url_file}; nothing archived (--strict)"
    assert len(lines) == 3
    assert not data_dir.exists()


def test_archive_list_of_bad_lines_only(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("example.org/a\n")
    data_dir = tmp_path / "data"
    proc = morgue("archive", "--data-dir", str(data_dir), "-i", str(url_file))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith(f"{url_file}:1: ")
    assert proc.stderr.splitlines()[-1].startswith("morgue: error: no valid URL in")
    assert not data_dir.exists()


def test_archive_skips_bad_lines_and_archives_the_rest(
    mock_server: MockServer, tmp_path: Path
) -> None:
    url_file = tmp_path / "urls.txt"
    lines = [
        "# today",
        mock_server.url(ALPHA),
        "not a url",
        "",
        "ftp://x.example/",
        mock_server.url(BETA),
    ]
    url_file.write_text("\n".join(lines) + "\n")
    data_dir = tmp_path / "data"
    proc = morgue(
        "--data-dir", str(data_dir), "archive", "--format", "json", *FAST, "-i", str(url_file)
    )
    assert proc.returncode == 3, proc.stderr  # done, but not all of the input
    assert [row["url"] for row in json_lines(proc.stdout)] == [
        mock_server.url(ALPHA),
        mock_server.url(BETA),
    ]
    err = proc.stderr.splitlines()
    assert err[0].startswith(f"{url_file}:3: ") and err[1].startswith(f"{url_file}:5: ")
    assert "2 bad line(s)" in err[-1] and "2 URL(s) archived" in err[-1]


def test_archive_reads_a_browser_bookmarks_export(mock_server: MockServer, tmp_path: Path) -> None:
    exported = tmp_path / "bookmarks.html"  # any name: the content says what it is
    exported.write_text(
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n"
        "<DL><p>\n"
        f'    <DT><A HREF="{mock_server.url(GAMMA)}" ADD_DATE="1700000000">Gamma</A>\n'
        '    <DT><A HREF="place:sort=8&amp;maxResults=10">Most Visited</A>\n'
        f'    <DT><A HREF="{mock_server.url(ALPHA)}">Alpha</A>\n'
        "</DL><p>\n",
        encoding="utf-8",
    )
    data_dir = tmp_path / "data"
    proc = morgue("--data-dir", str(data_dir), "archive", "--format", "json", *FAST, "-i",
                  str(exported))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [row["url"] for row in json_lines(proc.stdout)] == [
        mock_server.url(GAMMA),
        mock_server.url(ALPHA),
    ]
    assert "1 bookmark(s) that are not web pages skipped" in proc.stderr


def test_archive_input_file_with_only_comments(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# nothing to do today\n\n   \n")
    data_dir = tmp_path / "data"
    proc = morgue("archive", "--data-dir", str(data_dir), "-i", str(url_file))
    assert_one_line_error(proc, "no URLs")
    assert not data_dir.exists()


def test_archive_undecodable_input_file(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_bytes(b"http://127.0.0.1:1/caf\xe9.html\n")  # Latin-1, not UTF-8
    data_dir = tmp_path / "data"
    proc = morgue("archive", "--data-dir", str(data_dir), "-i", str(url_file))
    assert_one_line_error(proc, str(url_file))
    assert not data_dir.exists()


def test_archive_without_any_argument(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = morgue("--data-dir", str(data_dir), "archive")
    assert not data_dir.exists()
    assert_one_line_error(proc, "no URLs")


def test_archive_with_only_options_after_the_command(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = morgue("archive", "--data-dir", str(data_dir))
    assert_one_line_error(proc, "no URLs")
    assert not data_dir.exists()


def test_parser_usage_errors_are_one_line_too(tmp_path: Path) -> None:
    # Errors found while parsing options, before the command runs.
    data_dir = tmp_path / "data"
    proc = morgue("--data-dir", str(data_dir), "archive", "--format", "xml", "http://a.example/")
    assert_one_line_error(proc, "--format", "'xml'")
    assert not data_dir.exists()
    assert_one_line_error(morgue("archive", "--no-such-option"), "--no-such-option")
    assert_one_line_error(morgue("no-such-command"), "no-such-command")


@pytest.mark.parametrize("command", ["query", "extract", "recheck"])
def test_a_misspelt_verdict_is_bad_usage_everywhere(command: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert morgue("--data-dir", str(data_dir), "db", "upgrade").returncode == 0
    proc = morgue("--data-dir", str(data_dir), command, "--verdict", "ok,bogus")
    assert_one_line_error(proc, "unknown verdict 'bogus'", "not_found")


def test_run_due_with_no_schedule_says_so(tmp_path: Path) -> None:
    proc = morgue("--data-dir", str(tmp_path / "data"), "schedule", "run-due")
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr == "no schedules: add one with `morgue schedule add`\n"


def test_show_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for target in ("999999", "http://127.0.0.1:1/x.html"):
        proc = morgue("--data-dir", str(data_dir), "show", target)
        assert_one_line_error(proc, "no morgue database")
        assert not data_dir.exists()


def test_show_unknown_id_and_url(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert morgue("--data-dir", str(data_dir), "db", "upgrade").returncode == 0
    assert_one_line_error(morgue("--data-dir", str(data_dir), "show", "999999"), "999999")
    url = "http://127.0.0.1:1/x.html"
    assert_one_line_error(morgue("--data-dir", str(data_dir), "show", url), url)


def test_show_invalid_url(tmp_path: Path) -> None:
    proc = morgue("--data-dir", str(tmp_path / "data"), "show", "ftp://example.org/x")
    assert_one_line_error(proc, "ftp")


def test_show_two_views_at_once(tmp_path: Path) -> None:
    proc = morgue("--data-dir", str(tmp_path / "data"), "show", "--text", "--html", "1")
    assert_one_line_error(proc, "--text", "--html", "--json")


# -- 7. help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["archive"], ["show"], ["demo"], ["db", "upgrade"], ["verify"]],
    ids=" ".join,
)
def test_help_has_an_example(command: list[str], tmp_path: Path) -> None:
    proc = morgue(*command, "--help", env={"COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout
    assert "Usage:" in proc.stdout


# -- 2., 3., 4. a shared data directory with two runs -------------------------------------------


@dataclass
class Site:
    server: MockServer
    data_dir: Path
    first: list[dict[str, Any]]  # run 1: alpha, beta as arguments
    second: list[dict[str, Any]]  # run 2: a list on stdin
    stdin_urls: list[str]  # the distinct URLs of run 2, in input order
    decoys: list[Path]  # data dirs run 2 was told about but must not use
    second_requests: list[str]  # the paths the mock server was asked for during run 2

    def url(self, path: str) -> str:
        return self.server.url(path)


@pytest.fixture(scope="module")
def site(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("cli")
    data_dir = root / "data"
    url = mock_server.url
    # Run 1: --data-dir before the command name.
    first = ok(
        morgue(
            "--data-dir", str(data_dir), "archive", "--format", "json", *FAST, url(ALPHA), url(BETA)
        )
    )
    # Run 2: URLs on stdin, with comments, blank lines, surrounding spaces and duplicates;
    # --data-dir after the command name wins over the one before it and over the environment.
    stdin = "\n".join(
        [
            "# today's list",
            "",
            f"  {url(GAMMA)}  ",
            url(ALPHA),
            "   # indented comment",
            url(GAMMA),
            "",
            url("/query?id=7"),
            url(ALPHA),
            "",
        ]
    )
    decoys = [root / "before", root / "from-env"]
    seen = len(mock_server.requests())  # the server is shared with other modules
    second = ok(
        morgue(
            "--data-dir",
            str(decoys[0]),
            "archive",
            "--format",
            "json",
            "-i",
            "-",
            *FAST,
            "--data-dir",
            str(data_dir),
            stdin=stdin,
            env={"MORGUE_DATA_DIR": str(decoys[1])},
        )
    )
    return Site(
        mock_server,
        data_dir,
        json_lines(first.stdout),
        json_lines(second.stdout),
        [url(GAMMA), url(ALPHA), url("/query?id=7")],
        decoys,
        [r["path"] for r in mock_server.requests()[seen:]],
    )


def test_arguments_give_one_json_line_per_url_in_order(site: Site) -> None:
    assert [row["url"] for row in site.first] == [site.url(ALPHA), site.url(BETA)]
    for row in site.first:
        assert tuple(row) == CAPTURE_FIELDS
        assert row["verdict"] == "ok"


def test_stdin_list_gives_one_json_line_per_distinct_url_in_order(site: Site) -> None:
    assert [row["url"] for row in site.second] == site.stdin_urls
    assert all(tuple(row) == CAPTURE_FIELDS for row in site.second)
    assert [row["verdict"] for row in site.second] == ["ok"] * 3
    ids = [row["capture_id"] for row in site.first + site.second]
    assert len(set(ids)) == len(ids)


def test_stdin_duplicates_are_fetched_once(site: Site) -> None:
    fetched = site.second_requests
    # robots.txt and the soft-404 probes (/.../morgue-RANDOM) are not pages of the list.
    pages = [p for p in fetched if p != "/robots.txt" and "/morgue-" not in p]
    assert sorted(pages) == sorted([GAMMA, ALPHA, "/query?id=7"])


def test_input_file_with_env_data_dir(mock_server: MockServer, tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        f"# weekly\n\n{mock_server.url(BETA)}\n{mock_server.url('/status/404')}\n"
        f"\n{mock_server.url(BETA)}\n   \n{mock_server.url('/redirect/chain')}\n# done\n",
        encoding="utf-8",
    )
    data_dir = tmp_path / "env-data"
    proc = ok(
        morgue(
            "archive",
            "--format",
            "json",
            "-i",
            str(url_file),
            *FAST,
            env={"MORGUE_DATA_DIR": str(data_dir)},
        )
    )
    rows = json_lines(proc.stdout)
    assert [(row["url"], row["verdict"]) for row in rows] == [
        (mock_server.url(BETA), "ok"),
        (mock_server.url("/status/404"), "not_found"),
        (mock_server.url("/redirect/chain"), "ok"),
    ]
    assert rows[2]["final_url"] == mock_server.url(GAMMA)
    # The environment chose where everything went.
    assert (data_dir / "morgue.sqlite3").is_file()
    assert {row["warc_file"] for row in rows} <= {p.name for p in (data_dir / "warcs").iterdir()}
    shown = ok(
        morgue("show", "--json", str(rows[2]["capture_id"]), env={"MORGUE_DATA_DIR": str(data_dir)})
    )
    details = json.loads(shown.stdout)
    assert details["url"] == mock_server.url("/redirect/chain")
    # `show --json` lists the redirect hops.
    assert [hop["status"] for hop in details["redirects"]] == [301, 302]
    assert [hop["url"] for hop in details["redirects"]] == [
        mock_server.url("/redirect/chain"),
        mock_server.url("/redirect/chain/2"),
    ]


def test_data_dir_before_and_after_the_command(site: Site, tmp_path: Path) -> None:
    # Both runs of the fixture wrote into the same place, whichever side --data-dir was on.
    assert (site.data_dir / "morgue.sqlite3").is_file()
    warcs = {p.name for p in (site.data_dir / "warcs").glob("*.warc.gz")}
    assert {row["warc_file"] for row in site.first + site.second} <= warcs
    assert (
        len({row["warc_file"] for row in site.first} | {r["warc_file"] for r in site.second}) == 2
    )
    # The --data-dir after the command beat the one before it and MORGUE_DATA_DIR.
    for decoy in site.decoys:
        assert not decoy.exists()

    capture_id = str(site.first[0]["capture_id"])
    empty = tmp_path / "empty"
    before = ok(morgue("--data-dir", str(site.data_dir), "show", "--json", capture_id))
    assert json.loads(before.stdout)["url"] == site.url(ALPHA)
    # Given on both sides, the one after the command wins, in both directions.
    wins = morgue(
        "--data-dir", str(empty), "show", "--json", capture_id, "--data-dir", str(site.data_dir)
    )
    assert json.loads(ok(wins).stdout) == json.loads(before.stdout)
    loses = morgue(
        "--data-dir",
        str(site.data_dir),
        "show",
        "--json",
        capture_id,
        "--data-dir",
        str(empty / "other"),
    )
    assert_one_line_error(loses, "no morgue database", str(empty / "other"))
    assert not (empty / "other").exists()


def test_data_dir_from_the_environment(site: Site, tmp_path: Path) -> None:
    capture_id = str(site.first[0]["capture_id"])
    from_env = ok(morgue("show", "--json", capture_id, env={"MORGUE_DATA_DIR": str(site.data_dir)}))
    assert json.loads(from_env.stdout)["capture_id"] == int(capture_id)
    # An option beats the environment (before the command name here; after it in the fixture).
    env = {"MORGUE_DATA_DIR": str(tmp_path / "elsewhere")}
    args = ["--data-dir", str(site.data_dir), "show", "--json", capture_id]
    assert json.loads(ok(morgue(*args, env=env)).stdout)["capture_id"] == int(capture_id)


def test_db_before_and_after_the_command_and_from_the_environment(
    site: Site, tmp_path: Path
) -> None:
    real = f"sqlite:///{(site.data_dir / 'morgue.sqlite3').as_posix()}"
    empty = f"sqlite:///{(tmp_path / 'empty.sqlite3').as_posix()}"
    capture_id = str(site.first[0]["capture_id"])
    other_dir = str(tmp_path / "no-data")  # --db is used, not DATA_DIR/morgue.sqlite3
    for args, env in (
        (["--db", real, "--data-dir", other_dir, "show", "--json", capture_id], {}),
        (["--db", empty, "show", "--json", capture_id, "--db", real, "--data-dir", other_dir], {}),
        (["show", "--json", capture_id], {"MORGUE_DB_URL": real}),
        (["show", "--json", capture_id, "--db", real], {"MORGUE_DB_URL": empty}),
    ):
        shown = ok(morgue(*args, env=env))
        assert json.loads(shown.stdout)["url"] == site.url(ALPHA), args
    loses = morgue("--db", real, "show", "--json", capture_id, "--db", empty)
    assert_one_line_error(loses, "no morgue database", "empty.sqlite3")
    assert not (tmp_path / "empty.sqlite3").exists()


def test_show_default_view_has_the_title(site: Site) -> None:
    row = site.first[0]
    proc = ok(
        morgue(
            "--data-dir", str(site.data_dir), "show", str(row["capture_id"]), env={"COLUMNS": "200"}
        )
    )
    assert row["title"] == "School board delays vote on later start times"
    assert row["title"] in proc.stdout
    assert site.url(ALPHA) in proc.stdout
    assert proc.stderr == ""


def test_show_json_has_every_contract_field_and_redirects(site: Site) -> None:
    row = site.first[0]
    details = show_json(site.data_dir, row["capture_id"])
    for field in CAPTURE_FIELDS:
        assert details[field] == row[field], field
    assert details["authors"] and details["field_sources"]["title"]
    assert details["redirects"] == []
    assert details["extract_error"] is None


def test_show_text_prints_the_article(site: Site) -> None:
    proc = ok(
        morgue("--data-dir", str(site.data_dir), "show", "--text", str(site.first[0]["capture_id"]))
    )
    assert ALPHA_SENTENCE in proc.stdout
    assert "<p>" not in proc.stdout
    assert len(proc.stdout) >= site.first[0]["text_chars"]


def test_show_html_prints_the_archived_body(site: Site) -> None:
    row = site.first[1]  # beta
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "archive",
            "--data-dir",
            str(site.data_dir),
            "show",
            "--html",
            str(row["capture_id"]),
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8") == fetch(site.url(BETA)).decode("utf-8")


def test_show_url_finds_the_newest_capture(site: Site) -> None:
    alpha_first = site.first[0]["capture_id"]
    alpha_second = next(r for r in site.second if r["url"] == site.url(ALPHA))["capture_id"]
    assert alpha_first != alpha_second
    assert show_json(site.data_dir, site.url(ALPHA))["capture_id"] == alpha_second
    assert show_json(site.data_dir, site.url(BETA))["capture_id"] == site.first[1]["capture_id"]
    text = ok(morgue("--data-dir", str(site.data_dir), "show", "--text", site.url(ALPHA)))
    assert ALPHA_SENTENCE in text.stdout


@pytest.mark.parametrize(
    "variant",
    [
        "{base}/articles/alpha.html?utm_source=newsletter&utm_medium=email",
        "{base}/articles/alpha.html#comments",
        "HTTP://127.0.0.1:{port}/articles/alpha.html",
    ],
    ids=["utm", "fragment", "scheme-case"],
)
def test_show_url_lookup_is_normalised(site: Site, variant: str) -> None:
    url = variant.format(base=site.server.base_url.rstrip("/"), port=site.server.port)
    newest = next(r for r in site.second if r["url"] == site.url(ALPHA))
    assert show_json(site.data_dir, url)["capture_id"] == newest["capture_id"]


def test_show_url_keeps_meaningful_query_parameters(site: Site) -> None:
    query = next(r for r in site.second if r["url"] == site.url("/query?id=7"))
    found = show_json(site.data_dir, site.url("/query?id=7&utm_campaign=spring"))
    assert found["capture_id"] == query["capture_id"]
    missing = morgue("--data-dir", str(site.data_dir), "show", "--json", site.url("/query?id=8"))
    assert_one_line_error(missing, "/query?id=8")


# -- 5. PostgreSQL ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_archive_and_show_on_postgresql(
    mock_server: MockServer, postgres_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    urls = [mock_server.url(ALPHA), mock_server.url("/status/410"), mock_server.url(GAMMA)]
    proc = ok(
        morgue(
            "--data-dir",
            str(data_dir),
            "archive",
            "--format",
            "json",
            *FAST,
            *urls,
            "--db",
            postgres_url,
        )
    )
    rows = json_lines(proc.stdout)
    assert [row["url"] for row in rows] == urls
    assert [(row["verdict"], row["reason"]) for row in rows] == [
        ("ok", "http_200"),
        ("not_found", "http_410"),
        ("ok", "http_200"),
    ]
    assert all(tuple(row) == CAPTURE_FIELDS for row in rows)
    # Nothing went to the default SQLite file: the rows are in PostgreSQL.
    assert not (data_dir / "morgue.sqlite3").exists()
    for row in rows:
        shown = ok(
            morgue(
                "--db",
                postgres_url,
                "--data-dir",
                str(data_dir),
                "show",
                "--json",
                str(row["capture_id"]),
            )
        )
        details = json.loads(shown.stdout)
        assert {field: details[field] for field in CAPTURE_FIELDS} == row
    by_url = ok(
        morgue(
            "show",
            "--json",
            mock_server.url(ALPHA) + "?utm_source=x",
            "--db",
            postgres_url,
            "--data-dir",
            str(data_dir),
        )
    )
    assert json.loads(by_url.stdout)["capture_id"] == rows[0]["capture_id"]
    html = ok(
        morgue(
            "--db",
            postgres_url,
            "--data-dir",
            str(data_dir),
            "show",
            "--html",
            str(rows[2]["capture_id"]),
        )
    )
    assert html.stdout == fetch(mock_server.url(GAMMA)).decode("utf-8")
    from_env = ok(
        morgue(
            "--data-dir",
            str(data_dir),
            "show",
            "--text",
            str(rows[0]["capture_id"]),
            env={"MORGUE_DB_URL": postgres_url},
        )
    )
    assert ALPHA_SENTENCE in from_env.stdout


# -- 6. extraction failures ---------------------------------------------------------------------


def test_extraction_timeouts_are_recorded_and_the_crawl_goes_on(
    mock_server: MockServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    # The long read takes seconds to extract, the ordinary article milliseconds.
    urls = [mock_server.url("/long-read.html"), mock_server.url(BETA)]
    proc = ok(
        morgue(
            "--data-dir",
            str(data_dir),
            "archive",
            "--format",
            "json",
            *FAST,
            "-s",
            "EXTRACT_TIMEOUT=0.5",
            *urls,
        )
    )
    rows = json_lines(proc.stdout)
    assert [row["url"] for row in rows] == urls
    long_read, article = rows
    for row in rows:
        assert (row["verdict"], row["http_status"]) == ("ok", 200) and row["warc_file"]
    assert long_read["text_chars"] == 0
    assert "exceeded" in (show_json(data_dir, long_read["capture_id"])["extract_error"] or "")
    # The worker that was stopped is replaced: the next page is extracted.
    assert article["text_chars"] > 0
    assert show_json(data_dir, article["capture_id"])["extract_error"] is None
