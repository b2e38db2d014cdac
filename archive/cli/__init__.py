"""The ``morgue`` command line: thin commands over the library.

``main`` is the entry point. It starts the crawl process of ``morgue archive`` before it
imports the application (archive.cli.application), so that the two import side by side: for one URL,
the imports are most of the time the command takes.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    from archive.cli.prestart import prestart

    prestart(sys.argv[1:])
    # Thousands of classes and functions are made while the application imports: collecting
    # garbage among them finds none, and costs a tenth of the import here.
    gc.disable()
    try:
        from archive.cli.application import main as run
    finally:
        gc.enable()
    run()


def __getattr__(name: str) -> Any:
    if name == "app":  # imported on demand: see the module's docstring
        from archive.cli.application import app

        return app
    raise AttributeError(name)
