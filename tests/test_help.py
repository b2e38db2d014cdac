"""``--help`` of every command at 80 columns: no type names, sentences whole, examples indented.

In this process through ``archive.cli.run`` (one subprocess per command would cost a minute);
the console script itself is covered by tests/test_cli.py::test_help_has_an_example.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import sys
from collections.abc import Iterator
from unittest import mock

import pytest
import typer.main

from archive.cli import app, run

LEAKS = re.compile(r"<(bool|str|int|float|list|dir|path|file)\b|\brange\b|x>=|x<=|\[x")


def _commands() -> Iterator[list[str]]:
    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_commands())


def run_help(*args: str, columns: int = 80) -> tuple[int, str]:
    out = io.StringIO()
    code: int | str | None = 0
    with (
        mock.patch.object(sys, "argv", ["morgue", *args]),
        mock.patch.dict(os.environ, {"COLUMNS": str(columns)}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        try:
            run()
        except SystemExit as exc:
            code = exc.code
    return int(code or 0), out.getvalue()


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"", "archive", "query", "recheck", "schedule", "schedule add", "db upgrade"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "morgue")
def test_help_at_80_columns(command: list[str]) -> None:
    code, out = run_help(*command, "--help")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"Usage: morgue {' '.join(command)}".rstrip())
    assert not LEAKS.findall(out), f"type names in the help:\n{out}"
    assert all(len(line) <= 80 for line in lines), out
    # An Example(s) block, whose lines are indented under it.
    at = next((i for i, line in enumerate(lines) if re.match(r"\s+Examples?\b.*:$", line)), None)
    assert at is not None, f"no Example block:\n{out}"
    heading = len(lines[at]) - len(lines[at].lstrip())
    block = [line for line in lines[at + 1 :] if line.strip()]
    ends = [i for i, line in enumerate(block) if not line.startswith(" ")]
    block = block[: ends[0] if ends else len(block)]
    assert block and all(len(line) - len(line.lstrip()) > heading for line in block), out
    # The description's sentences are reflowed: no line of prose ends where the docstring did
    # while the next one could still have taken its first word.
    prose = lines[1 : at - 1]
    for first, second in itertools.pairwise(prose):
        if first.strip() and second.strip() and not second.startswith(" " * 4):
            word = second.split()[0]
            assert len(first) + 1 + len(word) > 78, f"a broken line:\n{first}\n{second}"


def test_flags_show_no_value_and_options_their_metavar() -> None:
    _code, out = run_help("query", "--help")
    assert re.search(r"^\s+--latest\s+Only the newest", out, re.MULTILINE), out
    assert re.search(r"^\s+-n, --limit N\s", out, re.MULTILINE), out
    assert re.search(r"^\s+--format \[table\|json\|csv\]\s", out, re.MULTILINE), out
    _code, out = run_help("archive", "--help")
    assert "Usage: morgue archive [OPTIONS] [URL]..." in out
    assert re.search(r"^\s+--timeout SECONDS\s", out, re.MULTILINE), out
    assert "https://web.archive.org/web/" in out  # a default that is in the help text


def test_morgue_alone_prints_the_help() -> None:
    code, out = run_help()
    assert code == 0
    assert out.startswith("Usage: morgue [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in out and "archive" in out
