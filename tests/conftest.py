"""Shared fixtures: the mock news site, the morgue CLI in a subprocess, test databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mockserver import MockServer

pytest_plugins = ["tests.dbfixtures"]

ROOT = Path(__file__).resolve().parent.parent

# Politeness is for other people's servers: the mock site is ours, on 127.0.0.1.
FAST = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "RETRY_TIMES=1",
    "-s", "EXTRACT_WORKERS=2",
]  # fmt: skip


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def run_morgue(
    *args: str, stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
