"""``morgue demo`` as a newcomer runs it: the bundled site served, archived, and shown."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.captures.table import captures_for_run, get_capture
from archive.db.engine import default_db_url, open_database
from archive.db.models import Capture
from archive.demo.server import (
    ARTICLE_PATHS,
    MEMENTO_TIMESTAMP,
    MISSING_PATH,
    REDIRECTS,
    STUB_ARTICLE_PATH,
)
from tests.conftest import ROOT
from tests.readers import reader, reader_env

pytestmark = pytest.mark.slow

# From archive/demo/site/news/2025/... (<h1> of two of the articles).
TITLES = (
    "Council approves $48.2 million budget after late-night vote",
    "Carnegie library reopens its doors after a two-year renovation",
)
DEMO_PATHS = ["/", *ARTICLE_PATHS, STUB_ARTICLE_PATH, MISSING_PATH, *REDIRECTS]


def morgue(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so that Rich does not fold titles and paths over several lines.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    env["COLUMNS"] = "250"
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )


@dataclass
class Demo:
    data_dir: Path
    proc: subprocess.CompletedProcess[str]
    captures: list[Capture]

    def capture(self, path: str) -> Capture:
        """The capture fetched from the demo site (not a copy from its web archive)."""
        (found,) = [
            c
            for c in self.captures
            if c.url.split("/", 3)[3] == path.lstrip("/") and c.recovered_from is None
        ]
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    proc = morgue("demo", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    db = open_database(default_db_url(data_dir.absolute()))
    try:
        captures = captures_for_run(db, 1)  # a fresh DB: the demo is its first run
        beyond = get_capture(db, max(c.id for c in captures) + 1)
    finally:
        db.close()
    assert beyond is None, "captures outside the demo run"
    return Demo(data_dir, proc, captures)


def test_demo_prints_a_table_of_results(demo: Demo) -> None:
    out = demo.proc.stdout
    for title in TITLES:
        assert title in out
    assert STUB_ARTICLE_PATH in out
    missing = next(line for line in out.splitlines() if MISSING_PATH in line)
    assert "not_found" in missing and "404" in missing
    redirected = next(line for line in out.splitlines() if "/old/council-budget" in line)
    assert "ok" in redirected and TITLES[0] in redirected


def test_demo_says_what_to_try_next(demo: Demo) -> None:
    after = demo.proc.stdout.split("Try next:", 1)[1]
    lines = [line.strip() for line in after.splitlines() if line.strip()]
    assert lines[0] == f"export MORGUE_DATA_DIR={demo.data_dir.absolute()}"
    commands = [line.split("#", 1)[0].strip() for line in lines[1:]]
    article = demo.capture(ARTICLE_PATHS[0]).id
    for expected in (
        f"morgue show {article}",
        "morgue query --verdict not_found --verdict soft_404",
        "morgue serve",
        "morgue export --wacz demo.wacz",
        "morgue index",
        "morgue crawl --feed https://example.org/rss.xml",
    ):
        assert any(command == expected for command in commands), (expected, commands)
    # They run as shown, on the demo's archive.
    dead = morgue("--data-dir", str(demo.data_dir), "query", "--verdict", "not_found",
                  "--verdict", "soft_404", "--format", "json")  # fmt: skip
    assert dead.returncode == 0 and MISSING_PATH in dead.stdout


def test_demo_names_its_warc_dir_and_database(demo: Demo) -> None:
    out = demo.proc.stdout
    assert f"{demo.data_dir.absolute() / 'warcs'}/" in out
    assert default_db_url(demo.data_dir.absolute()) in out
    for name in {c.warc_file for c in demo.captures if c.warc_file}:
        assert name in out


def test_demo_recovers_the_dead_page_from_its_web_archive(demo: Demo) -> None:
    (copy,) = [c for c in demo.captures if c.recovered_from]
    assert copy.url == demo.capture(MISSING_PATH).url
    assert copy.recovered_from and f"/web-archive/{MEMENTO_TIMESTAMP}id_/" in copy.recovered_from
    assert copy.verdict == "ok" and copy.title and copy.title.startswith("Snow day")
    assert copy.text_chars > 1000
    assert "recovered from the demo's web archive" in demo.proc.stdout
    assert "8 URLs in" in demo.proc.stdout


def test_demo_stores_one_capture_per_demo_url(demo: Demo) -> None:
    fetched = [c for c in demo.captures if c.recovered_from is None]
    paths = sorted(c.url.split("/", 3)[3] for c in fetched)
    assert paths == sorted(p.removeprefix("/") for p in DEMO_PATHS)
    assert all(c.url.startswith("http://127.0.0.1:") for c in fetched)
    verdicts = {p: demo.capture(p).verdict for p in DEMO_PATHS if p != "/"}
    assert verdicts == {p: ("not_found" if p == MISSING_PATH else "ok") for p in verdicts}
    for path in ARTICLE_PATHS:
        capture = demo.capture(path)
        assert capture.title and capture.text_chars > 1000, path
    redirect = demo.capture(next(iter(REDIRECTS)))
    assert redirect.final_url and redirect.final_url.endswith(next(iter(REDIRECTS.values())))
    assert [hop["status"] for hop in redirect.redirects or []] == [301]


def test_demo_warcs_pass_warcio_check(demo: Demo) -> None:
    warcs = sorted((demo.data_dir / "warcs").iterdir())
    assert warcs and all(p.name.endswith(".warc.gz") for p in warcs)  # none left .open
    assert {c.warc_file for c in demo.captures} == {p.name for p in warcs}
    check = subprocess.run(
        [reader("warcio"), "check", "-v", *map(str, warcs)],
        capture_output=True,
        text=True,
        env=reader_env(),
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest fail" not in check.stdout


def test_demo_stub_article_text_has_no_stub_wording(demo: Demo) -> None:
    stub = demo.capture(STUB_ARTICLE_PATH)
    assert stub.verdict == "ok"
    proc = morgue("--data-dir", str(demo.data_dir), "show", "--text", str(stub.id))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.lower()
    assert "science fair" in text and len(text) > 1000
    assert "not available" not in text
    assert "no longer exists" not in text
