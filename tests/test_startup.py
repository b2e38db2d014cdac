"""What makes `morgue archive URL` start fast, each part checked for what it promises.

The figures are in bench/one_url.py; these tests check behaviour, never timings: the crawl
process started ahead of its job, given the job later or ended without one; the politeness
delay dropped only where a host has one page; the extraction workers' caches filled before
their first page; the C library reached without a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.cli.prestart import command_named
from archive.policy.politeness import delay_overrides
from archive.runs.crawl_process import CrawlJob, CrawlProcess, extraction_enabled
from crawler.libc import glibc

ROOT = Path(__file__).resolve().parent.parent


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _gone(pids: set[int], within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = {pid for pid in pids if Path(f"/proc/{pid}").exists()}
        alive = {pid for pid in alive if "Z" not in Path(f"/proc/{pid}/stat").read_text()[-60:]}
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_a_crawl_process_without_a_job_exits_cleanly_with_its_workers() -> None:
    child = CrawlProcess.start(extract=True)
    popen = child._child
    # Its extraction forkserver starts at once, before any job: wait until it is there.
    deadline = time.monotonic() + 30
    helpers: set[int] = set()
    while time.monotonic() < deadline and not helpers:
        helpers = _children_of(popen.pid)
        time.sleep(0.05)
    assert helpers, "the crawl process started no extraction server ahead of its job"
    child.cancel()
    assert popen.returncode == 0
    assert _gone(helpers), "the extraction server outlived a crawl process that got no job"


def test_a_prestarted_process_is_taken_once_and_only_when_it_suits(tmp_path: Path) -> None:
    CrawlProcess.prestart(extract=False)
    first = CrawlProcess.take(extract=True)  # does not suit: a new one, the early one ended
    try:
        assert first.extract is True
        CrawlProcess.prestart(extract=True)
        again = CrawlProcess.take(extract=True)
        assert again is not first and again.extract is True
        # Nothing is left for a second taker: it gets a process of its own.
        other = CrawlProcess.take(extract=True)
        assert other is not again
        other.cancel()
        again.cancel()
    finally:
        first.cancel()


def test_a_job_given_late_runs_and_the_events_pipe_ends_with_the_process(tmp_path: Path) -> None:
    child = CrawlProcess.start(extract=True)
    time.sleep(1.0)  # the caller prepares its run meanwhile
    log = tmp_path / "logs" / "run.log"
    job = CrawlJob(
        "urls",
        {"urls": ["not a url"]},
        {
            "WARC_DIR": str(tmp_path / "warcs"),
            "STORE_DB_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "LIVENESS_DB_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
        },
        log_file=log,
    )
    events: list[str] = []
    result = child.run(job, lambda event: events.append(str(event.get("event"))))
    assert result.returncode == 0, log.read_text()
    assert "closed" in events
    assert result.finish_reason == "finished"
    with pytest.raises(RuntimeError):
        child.run(job)


def test_print_in_an_extraction_process_does_not_reach_the_events_pipe(tmp_path: Path) -> None:
    # fd 1 of the crawl process is a copy of stderr once it starts: what its children print
    # (or inherit) is not read as events by the CLI.
    code = (
        "import os, sys\n"
        "from crawler.run import _events_channel\n"
        "_events_channel()\n"
        "os.write(1, b'not an event\\n')\n"
        'print(\'{"event": "real"}\')\n'
        "sys.stdout.flush()\n"
        "os.system('echo from-a-child')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert proc.stdout == '{"event": "real"}\n'
    assert "not an event" in proc.stderr and "from-a-child" in proc.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["archive", "https://example.org/a"], "archive"),
        (["--data-dir", "archive", "query"], "query"),  # a data dir named like a command
        (["--db", "sqlite:///x", "--data-dir=d", "archive", "-i", "urls.txt"], "archive"),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_command_is_found_after_the_root_options(argv: list[str], command: str | None) -> None:
    assert command_named(argv) == command


def test_help_and_other_commands_start_no_crawl_process(tmp_path: Path) -> None:
    for argv in (["archive", "--help"], ["query", "--help"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive", "--data-dir", str(tmp_path), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and b"Usage" in out
        assert not _children_of(proc.pid)


def test_the_delay_is_dropped_only_when_every_host_has_one_page() -> None:
    one_each = ["https://a.example/1", "https://b.example/2", "http://c.example:8080/3"]
    assert delay_overrides(one_each, {}) == {
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_START_DELAY": 0.0,
    }
    two_on_a = [*one_each, "https://A.example/other"]  # host names compare case-blind
    assert delay_overrides(two_on_a, {}) == {}
    assert delay_overrides(one_each, {"DOWNLOAD_DELAY": "2"}) == {}  # the user's word stands
    assert delay_overrides([], {}) == {}


def test_extraction_is_on_unless_a_setting_turns_it_off() -> None:
    assert extraction_enabled({})
    assert extraction_enabled({"EXTRACT_ENABLED": "True"})
    for off in (False, "False", "0", "off"):
        assert not extraction_enabled({"EXTRACT_ENABLED": off})


def test_the_warm_up_fills_trafilatura_caches_before_any_page() -> None:
    code = (
        "import trafilatura.external as ext\n"
        "assert ext.JT_STOPLIST is None\n"
        "import archive.extraction.warmup\n"
        "assert ext.JT_STOPLIST, 'justext stop lists not loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="glibc on Linux only",
)
def test_glibc_is_reached_without_a_subprocess() -> None:
    libc = glibc()
    assert libc is not None
    assert libc.getpid() == os.getpid()


def test_the_command_table_names_what_each_module_registers() -> None:
    """``COMMANDS`` lets a run import one command's module: it must say exactly what each
    module registers, and cover every ``*_cmd.py``."""
    import importlib

    import typer

    from archive.cli.application import COMMANDS

    modules = {path.stem for path in (ROOT / "archive" / "cli").glob("*_cmd.py")}
    assert set(COMMANDS) == modules
    for module, names in COMMANDS.items():
        probe = typer.Typer()
        importlib.import_module(f"archive.cli.{module}").register(probe)
        registered = [info.name for info in probe.registered_commands] + [
            group.name or (group.typer_instance.info.name if group.typer_instance else None)
            for group in probe.registered_groups
        ]
        assert sorted(str(name) for name in registered) == sorted(names), module


def test_a_run_imports_only_its_own_command_and_exits_with_its_status(tmp_path: Path) -> None:
    code = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.endswith('_cmd'))))\n"
        "sys.argv = ['morgue', '--data-dir', sys.argv[1], 'show', '99']\n"
        "from archive.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=ROOT
    )
    # No archive there: one clear line and status 2 (bad input), through the fast exit, with
    # the atexit handlers run before it.
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("morgue: error: no morgue database at ")
    assert proc.stdout.strip() == "['archive.cli.show_cmd']"


def test_the_fast_exit_writes_all_of_a_long_output_to_a_pipe(tmp_path: Path) -> None:
    """What the CLI printed is all there when the process ends without tearing the interpreter
    down, and a mistyped command still gets the whole application's answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "--data-dir", str(tmp_path), "query", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0
    assert proc.stdout.rstrip().endswith("Show this message and exit.")
    unknown = subprocess.run(
        [sys.executable, "-m", "archive", "--data-dir", str(tmp_path), "qeury"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    # A mistyped command is told from the whole application, as before.
    assert unknown.returncode == 2 and "qeury" in unknown.stderr
