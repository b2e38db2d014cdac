"""The tests' network guard holds in child processes: names and addresses past 127.0.0.1 fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
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


_FAKE_PORT_CHILD = """
import socket, urllib.request
with urllib.request.urlopen("http://www.publisher.test/story.html", timeout=10) as resp:
    print(resp.read().decode())
sock = socket.socket()
try:
    sock.connect(("192.0.2.1", 80))  # a faked port opens no other address
    print("connected")
except ConnectionRefusedError:
    print("refused")
finally:
    sock.close()
"""


def test_fake_dns_and_ports_bring_a_publisher_host_to_a_local_server(tmp_path: Path) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"{self.headers['Host']} {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    log = tmp_path / "blocked.log"
    env = {
        **os.environ,
        "NETGUARD_LOG": str(log),
        "NETGUARD_FAKE_DNS": json.dumps({"www.publisher.test": "127.0.0.1"}),
        "NETGUARD_FAKE_PORTS": json.dumps({"80": server.server_address[1]}),
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _FAKE_PORT_CHILD],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=30,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    # The request reached the local server under the publisher's name.
    assert proc.stdout.splitlines() == ["www.publisher.test /story.html", "refused"]
    assert [line.split(" ", 1)[1].split(" (in ")[0] for line in log.read_text().splitlines()] == [
        "connect 192.0.2.1"
    ]
