"""``morgue export`` (JSON Lines, WACZ) and ``morgue index`` (CDXJ for pywb) on mock-site captures.

The WACZ is checked with py-wacz's own ``wacz validate``; the CDXJ index by a real pywb, started
on 127.0.0.1 over the data directory with the collection config README.md documents.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.captures.table import CAPTURE_FIELDS, CONTRACT_FIELDS
from tests.conftest import FAST, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.pywb_server import PywbServer
from tests.readers import reader, reader_env
from tests.test_query_cli import in_process, ok

pytestmark = pytest.mark.slow

PATHS = [
    "/articles/alpha.html",
    "/articles/beta.html",
    "/br/harbour-lights.html",  # brotli, as CDNs serve: py-wacz must read it through warcio
    "/redirect/chain",
    "/status/404",
    "/hang",
]
PYWB_CONFIG = """\
collections:
  morgue:
    index_paths: ./morgue-data/indexes/
    archive_paths: ./morgue-data/warcs/
"""


@dataclass
class Archived:
    server: MockServer
    root: Path
    rows: list[dict[str, Any]]

    @property
    def data_dir(self) -> Path:
        return self.root / "morgue-data"

    def morgue(self, *args: str) -> Any:
        return in_process("--data-dir", str(self.data_dir), *args)

    def row(self, path: str) -> dict[str, Any]:
        (found,) = [r for r in self.rows if r["url"] == self.server.url(path)]
        return found


@pytest.fixture(scope="module")
def archived(mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Archived:
    root = tmp_path_factory.mktemp("export")
    urls = [mock_server.url(path) for path in PATHS]
    proc = ok(
        run_morgue(
            "--data-dir", str(root / "morgue-data"), "archive", "--format", "json",
            "--no-recover", "--timeout", "2", *FAST, *urls,
        )
    )  # fmt: skip
    return Archived(mock_server, root, json_lines(proc.stdout))


# -- JSON Lines ---------------------------------------------------------------------------------


def test_jsonl_has_the_contract_and_the_text(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "captures.jsonl"
    proc = ok(archived.morgue("export", "--jsonl", str(dest)))
    assert f"Wrote {len(archived.rows)} capture(s)" in proc.stderr
    rows = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(archived.rows)
    by_id = {r["capture_id"]: r for r in archived.rows}
    for row in rows:
        assert tuple(row)[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
        assert {k: row[k] for k in CAPTURE_FIELDS} == by_id[row["capture_id"]]
        assert {"page_url", "state", "text", "description"} <= set(row)
    alpha = next(r for r in rows if r["url"] == archived.server.url("/articles/alpha.html"))
    assert "The district is already short four drivers." in alpha["text"]
    assert len(alpha["text"]) == alpha["text_chars"]


def test_jsonl_filters_and_stdout(archived: Archived) -> None:
    proc = ok(archived.morgue("export", "--jsonl", "-", "--verdict", "ok", "--search", "bridge"))
    rows = json_lines(proc.stdout)
    assert [r["url"] for r in rows] == [archived.server.url("/articles/beta.html")]
    assert "Harbor Street" in rows[0]["text"]


def test_export_needs_exactly_one_target(archived: Archived, tmp_path: Path) -> None:
    for args in ([], ["--jsonl", "-", "--wacz", str(tmp_path / "x.wacz")]):
        proc = archived.morgue("export", *args)
        assert proc.returncode == 2
        assert proc.stderr.splitlines() == [
            "morgue: error: choose one of --jsonl FILE and --wacz FILE"
        ]


def test_failed_export_leaves_nothing(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "x.jsonl"
    proc = archived.morgue("export", "--jsonl", str(dest), "--search", '"unclosed')
    assert proc.returncode == 2
    assert list(tmp_path.iterdir()) == []


# -- WACZ ---------------------------------------------------------------------------------------


def test_wacz_validates_and_lists_the_pages(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "archive.wacz"
    proc = ok(archived.morgue("export", "--wacz", str(dest), "--title", "Courier"))
    with_response = [r for r in archived.rows if r["warc_file"]]
    assert f"Wrote {len(with_response)} page(s)" in proc.stderr
    check = run([reader("wacz"), "validate", "-f", str(dest)], env=reader_env())
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(dest) as zf:
        names = set(zf.namelist())
        assert {"datapackage.json", "pages/pages.jsonl"} <= names
        assert any(n.startswith("archive/") and n.endswith(".warc.gz") for n in names)
        assert any(n.startswith("indexes/") for n in names)
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        package = json.loads(zf.read("datapackage.json"))
    assert pages[0]["format"] == "json-pages-1.0" and pages[0]["title"] == "Courier"
    assert package["title"] == "Courier"
    listed = {p["id"]: p for p in pages[1:]}
    assert set(listed) == {f"capture-{r['capture_id']}" for r in with_response}
    alpha = listed[f"capture-{archived.row('/articles/alpha.html')['capture_id']}"]
    assert alpha["url"] == archived.server.url("/articles/alpha.html")
    assert alpha["title"] == "School board delays vote on later start times"
    assert "short four drivers" in alpha["text"]
    # The redirect chain's final page is listed under the URL its response came from.
    chain = listed[f"capture-{archived.row('/redirect/chain')['capture_id']}"]
    assert chain["url"] == archived.row("/redirect/chain")["final_url"]
    lights = listed[f"capture-{archived.row('/br/harbour-lights.html')['capture_id']}"]
    assert lights["title"] == archived.row("/br/harbour-lights.html")["title"]
    assert len(lights["text"]) > 200


def test_wacz_with_filters_holds_only_those_records(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "beta.wacz"
    ok(archived.morgue("export", "--wacz", str(dest), "--url-prefix",
                       archived.server.url("/articles/beta")))  # fmt: skip
    with zipfile.ZipFile(dest) as zf:
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()][1:]
        index = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("indexes/"))
    assert [p["url"] for p in pages] == [archived.server.url("/articles/beta.html")]
    assert b"articles/beta.html" in index and b"articles/alpha.html" not in index


def test_wacz_of_nothing_is_an_error(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "none.wacz"
    proc = archived.morgue("export", "--wacz", str(dest), "--verdict", "server_error")
    assert proc.returncode == 2 and "nothing to put" in proc.stderr
    assert not dest.exists()


# -- CDXJ and pywb ------------------------------------------------------------------------------


def test_index_then_pywb_replays_from_the_data_dir(archived: Archived) -> None:
    proc = ok(archived.morgue("index"))
    index = archived.data_dir / "indexes" / "index.cdxj"
    assert "Indexed 1 WARC file(s)" in proc.stderr
    lines = index.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    warc_names = {p.name for p in (archived.data_dir / "warcs").glob("*.warc.gz")}
    assert {e["filename"] for e in entries} == warc_names  # relative to the WARC directory
    alpha = archived.row("/articles/alpha.html")
    assert any(
        e["url"] == alpha["url"] and int(e["offset"]) == alpha["warc_offset"] for e in entries
    )
    (archived.root / "config.yaml").write_text(PYWB_CONFIG, encoding="utf-8")
    with PywbServer(archived.root) as pywb:
        body = pywb.fetch_raw("morgue", alpha["url"])
    assert b"The district is already short four drivers." in body


def test_index_to_a_chosen_file_and_without_warcs(archived: Archived, tmp_path: Path) -> None:
    dest = tmp_path / "idx" / "x.cdxj"
    ok(archived.morgue("index", "-o", str(dest)))
    assert dest.read_text(encoding="utf-8").count("\n") >= len(PATHS)
    empty = in_process("--data-dir", str(tmp_path / "empty"), "index")
    assert empty.returncode == 2
    assert empty.stderr.startswith("morgue: error: no WARC files in ")


def run(cmd: list[str], env: dict[str, str] | None = None) -> Any:
    import subprocess

    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


# -- file modes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_exports_follow_the_umask(archived: Archived, tmp_path: Path, umask: int) -> None:
    """Exports are for other readers (a web server, pywb as another user): mode as open() gives."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    made = {name: tmp_path / name for name in ("captures.jsonl", "captures.wacz", "index.cdxj")}
    for args in (
        ["export", "--jsonl", str(made["captures.jsonl"])],
        ["export", "--wacz", str(made["captures.wacz"])],
        ["index", "-o", str(made["index.cdxj"])],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "archive", "--data-dir", str(archived.data_dir), *args],
            capture_output=True, text=True, timeout=300, env=env, umask=umask,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    expected = 0o666 & ~umask
    assert {
        name: stat.S_IMODE(path.stat().st_mode) for name, path in made.items()
    } == dict.fromkeys(made, expected)
    # The model: WARC files, written by open() under this process's umask.
    ours = os.umask(0o022)
    os.umask(ours)
    warcs = list((archived.data_dir / "warcs").glob("*.warc.gz"))
    assert warcs and stat.S_IMODE(warcs[0].stat().st_mode) == 0o666 & ~ours
