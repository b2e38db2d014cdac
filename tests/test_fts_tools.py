"""sqlite-utils and datasette open a morgue SQLite file and search it, as the README says.

Both tools find a table's FTS table by matching ``content="TABLE"`` or ``content=[TABLE]`` in
its DDL; migration 0008_fts_tools recreated ``captures_fts`` in that form. The tools run as a
user runs them: their own commands, in their own processes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from alembic import command
from sqlalchemy import text

from archive.captures.table import save_capture
from archive.db.engine import _alembic_config, open_database
from archive.query.capture_query import CaptureQuery, run_query
from tests.conftest import FAST, json_lines, run_morgue
from tests.corpus import CorpusSite
from tests.querydata import CAPTURES, _record, fill

BIN = Path(sys.executable).parent
# The DDL migration 0004 wrote before 0008: single quotes, which neither tool recognises.
OLD_FTS = (
    "CREATE VIRTUAL TABLE captures_fts USING fts5(title, text, content='captures', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
)


def _tool(name: str, *args: str) -> str:
    proc = subprocess.run(
        [str(BIN / name), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{name} {args}: exit {proc.returncode}\n{proc.stderr}"
    return proc.stdout


def _word(title: str) -> str:
    """The title's longest word: specific enough to find its page among a few."""
    return max(re.findall(r"[^\W\d_]{4,}", title), key=len)


@pytest.mark.slow
def test_sqlite_utils_and_datasette_search_a_real_archive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with CorpusSite(3) as site:
        proc = run_morgue(
            "--data-dir", str(data), "archive", "--format", "json", "--no-recover", *FAST,
            "--no-requisites",  # the corpus pages' images are on their publishers' hosts
            *site.article_urls,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in json_lines(proc.stdout) if r["title"]]
    assert rows, proc.stdout
    target = rows[0]
    word = _word(target["title"])
    db = data / "morgue.sqlite3"

    found = json.loads(_tool("sqlite-utils", "search", str(db), "captures", word, "-c", "id"))
    assert target["capture_id"] in [row["id"] for row in found]

    # datasette answers a request without starting a server (--get), as its tests do.
    answer = _tool(
        "datasette", str(db), "--get", f"/morgue/captures.json?_search={word}&_shape=array"
    )
    assert target["capture_id"] in [row["id"] for row in json.loads(answer)]
    page = _tool("datasette", str(db), "--get", "/morgue/captures")
    assert 'name="_search"' in page  # the search box


def test_upgrade_makes_an_old_index_visible_to_the_tools(sqlite_url: str) -> None:
    """A file whose FTS table 0004 made with single quotes: 0008 recreates it, index kept."""
    with open_database(sqlite_url) as db:
        ids = fill(db)
        path = db.engine.url.database
        with db.engine.begin() as conn:
            # Back to the schema before the FTS migration: what came after it undone first.
            command.downgrade(_alembic_config(conn), "0008_fts_tools")
            conn.execute(text("DROP TABLE captures_fts"))  # the triggers refer to it by name
            conn.execute(text(OLD_FTS))
            conn.execute(text("INSERT INTO captures_fts(captures_fts) VALUES ('rebuild')"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0007_verify'"))
    assert path
    assert sqlite_utils.Database(path)["captures"].detect_fts() is None  # the bug

    with open_database(sqlite_url) as db:  # migrates to head
        assert sqlite_utils.Database(path)["captures"].detect_fts() == "captures_fts"
        # morgue's own search and the triggers work on the recreated table.
        assert [r.capture.id for r in run_query(db, CaptureQuery(search="sandbags"))] == [
            ids["flood"]
        ]
        values = ("https://news.example/new", CAPTURES["budget"][1], "ok", "http_200", 200,
                  "Bridge reopens", "The old stone bridge reopened to traffic.")  # fmt: skip
        new_id = save_capture(db, _record(values, 99))
        assert [r.capture.id for r in run_query(db, CaptureQuery(search="bridge"))] == [new_id]
    plain = sqlite3.connect(path)
    try:
        config = plain.execute("SELECT sql FROM sqlite_master WHERE name = 'captures_fts'")
        assert 'content="captures"' in config.fetchone()[0]
    finally:
        plain.close()
    table = sqlite_utils.Database(path)["captures"]
    assert isinstance(table, sqlite_utils.db.Table)
    assert [row["id"] for row in table.search("sandbags", columns=["id"])] == [ids["flood"]]
