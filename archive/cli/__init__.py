"""The ``morgue`` command line: thin commands over the library.

``main`` is the entry point. It starts the crawl process of ``morgue archive`` before it
imports the application (archive.cli.application), so that the two import side by side: for one URL,
the imports are most of the time the command takes.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    from archive.cli.prestart import prestart

    prestart(sys.argv[1:])
    from archive.cli.application import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":  # imported on demand: see the module's docstring
        from archive.cli.application import app

        return app
    raise AttributeError(name)
