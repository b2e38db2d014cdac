"""The tests' network guard holds in child processes: names and addresses past 127.0.0.1 fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

_CHILD = """
import socket, urllib.request
outcomes = []
for host in ("web.archive.org", "gone.invalid", "localhost"):
    try:
        socket.getaddrinfo(host, 80)
        outcomes.append("resolved")
    except socket.gaierror:
        outcomes.append("unknown")
sock = socket.socket()
try:
    sock.connect(("192.0.2.1", 80))
    outcomes.append("connected")
except ConnectionRefusedError:
    outcomes.append("refused")
finally:
    sock.close()
print(" ".join(outcomes))
"""


def test_a_child_process_cannot_reach_past_loopback(tmp_path: Path) -> None:
    log = tmp_path / "blocked.log"
    env = {**os.environ, "NETGUARD_LOG": str(log)}  # not the session's log: these are expected
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["unknown", "unknown", "resolved", "refused"]
    blocked = [line.split(" ", 1)[1].split(" (in ")[0] for line in log.read_text().splitlines()]
    # .invalid never resolves anywhere, so asking for it is no attempt to reach the network.
    assert blocked == ["lookup web.archive.org", "connect 192.0.2.1"]
