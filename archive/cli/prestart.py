"""Start the crawl process of a command that will need one, before the CLI imports the rest.

Only the arguments are read here, with nothing heavier than the standard library imported;
the command takes the process with ``CrawlProcess.take`` once it has prepared its run. A
command that ends without taking it (bad usage, ``--help``) leaves it to stop by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.runs.crawl_process import CrawlProcess

__all__ = ["command_named", "prestart"]

# The root options that take a value, and the commands that crawl what they are given.
_VALUED = frozenset({"--data-dir", "--db"})
_CRAWLING = frozenset({"archive"})


def prestart(argv: Sequence[str]) -> None:
    """Start a crawl process when ``argv`` runs a command that crawls (not for ``--help``)."""
    command = command_named(argv)
    # --redis queues the URLs for the workers: nothing is crawled here.
    if command not in _CRAWLING or {"-h", "--help", "--redis"} & set(argv):
        return
    CrawlProcess.prestart(extract="--no-extract" not in argv)


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word after the root options."""
    args = iter(argv)
    for arg in args:
        if arg in _VALUED:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None
