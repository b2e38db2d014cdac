"""Run the mock news site: ``python -m tests.mockserver [--port N]``.

The first line on stdout is the port it listens on; then it serves until killed.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from tests.mockserver.app import make_server


def _exit(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mockserver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    signal.signal(signal.SIGTERM, _exit)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
