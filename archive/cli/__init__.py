"""The ``morgue`` command line: thin commands over the library.

``main`` is the entry point (``run`` is the same without ending the process). It starts the
crawl process of ``morgue archive`` before it imports the application
(archive.cli.application), so that the two import side by side: for one URL, the imports are
most of the time the command takes. The application then imports only the module of the command
it runs, and the process ends without tearing the interpreter down.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from typing import Any

__all__ = ["app", "main", "run"]


def main() -> None:
    """The ``morgue`` program: ``run``, then the process ends (see ``_exit``)."""
    try:
        run()
        status = 0
    except SystemExit as exc:
        status = _exit_status(exc.code)
    _exit(status)


def run() -> None:
    """``morgue`` with ``sys.argv``, in this process: raises ``SystemExit`` as a command ends
    with a status other than 0. For callers that go on afterwards (tests, tools)."""
    from archive.cli.prestart import prestart

    prestart(sys.argv[1:])
    # Thousands of classes and functions are made while the application imports: collecting
    # garbage among them finds none, and costs a tenth of the import here.
    gc.disable()
    try:
        from archive.cli.application import main as run_application
    finally:
        gc.enable()
    run_application()


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # what sys.exit("message") would have printed
    return 1


def _exit(status: int) -> None:
    """Exit without tearing the interpreter down: freeing the modules of SQLAlchemy, Rich and
    the rest costs ~0.2 s (a sixth of ``morgue archive URL``) and keeps nothing. What an exit
    must still do is done first: the streams flushed and the ``atexit`` handlers run (logging's
    among them). When another thread is still running, the normal exit waits for it instead."""
    if threading.active_count() > 1:
        sys.exit(status)
    try:
        sys.stdout.flush()
    except OSError:
        status = status or 120  # as Python's own exit does when the output cannot be written
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(status)


def __getattr__(name: str) -> Any:
    if name == "app":  # imported on demand: see the module's docstring
        from archive.cli.application import app

        return app
    raise AttributeError(name)
