"""``morgue serve --replay pywb``: the archived page replayed with its requisites, rewritten by
pywb to the archive, from the replay origin (archive.web.pywb_replay)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FAST, ROOT, json_lines, run_morgue
from tests.mockserver import MockServer
from tests.readers import pywb

pytestmark = pytest.mark.slow

STORY = "/photo/harbour-lights.html"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:  # nothing listening (yet)
        return 0, b""


def test_a_page_replays_with_its_images_and_stylesheets_through_pywb(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with MockServer() as site:
        archived = run_morgue(
            "--data-dir", str(data), "archive", "--format", "json", "--no-recover", *FAST,
            site.url(STORY),
        )  # fmt: skip
    assert archived.returncode == 0, archived.stderr
    (row,) = json_lines(archived.stdout)
    ui, replay = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    env["MORGUE_WAYBACK"] = pywb("wayback")
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "--data-dir", str(data), "serve", "--port", str(ui),
         "--replay-port", str(replay), "--replay", "pywb"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while _get(f"http://127.0.0.1:{ui}/")[0] != 200:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "morgue serve did not start"
            time.sleep(0.3)
        status, page = _get(f"http://127.0.0.1:{ui}/captures/{row['capture_id']}")
        assert status == 200
        src = re.search(r'<iframe id="replay"[^>]* src="([^"]+)"', page.decode())
        assert src is not None
        frame = src.group(1).replace("&amp;", "&")
        assert frame.startswith(f"http://127.0.0.1:{replay}/morgue/") and "mp_/" in frame
        status, html = _get(frame)
        assert status == 200 and b"Harbour" in html
        # pywb rewrote the page's images and stylesheet to the archive; each answers from it.
        rewritten = set(re.findall(rb'(/morgue/\d{14}(?:im_|cs_)/[^"\'\s)>]+)', html))
        kinds = {b"im_" if b"im_/" in path else b"cs_" for path in rewritten}
        assert kinds == {b"im_", b"cs_"}, rewritten
        for path in rewritten:
            status, body = _get(f"http://127.0.0.1:{replay}{path.decode()}")
            assert status == 200 and body, path
            if path.endswith(b".png"):
                assert body.startswith(b"\x89PNG"), path
    finally:
        # SIGTERM, as a service manager stops it: uvicorn shuts down, then ends the process
        # with the signal again, before any clean-up of ours; pywb must die with it all the same.
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while _answers(replay) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _answers(replay), "pywb outlived morgue serve"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_pywb_that_cannot_start_is_one_line_and_a_failure(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with MockServer() as site:
        archived = run_morgue("--data-dir", str(data), "archive", "--no-recover",
                              "--no-requisites", *FAST, site.url(STORY))  # fmt: skip
    assert archived.returncode == 0, archived.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("MORGUE_")}
    env["MORGUE_WAYBACK"] = str(tmp_path / "no-such-wayback")
    proc = subprocess.run(
        [sys.executable, "-m", "archive", "--data-dir", str(data), "serve",
         "--port", str(_free_port()), "--replay", "pywb"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith("morgue: error: cannot start pywb (")
    assert "Traceback" not in proc.stderr
