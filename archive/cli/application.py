"""The ``morgue`` Typer application: every command registered, errors turned into one line.

Library errors become one line on stderr: exit status 2 for bad usage or bad input, 1 for
anything else that stopped the command. A reader that stops early (``morgue query | head``)
is no error: the command exits 0, quietly.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer._click import Context

from archive import __version__
from archive.exceptions import ArchiveError, InvalidInput

from .helpformat import HelpGroup, use_help_format
from .options import DataDirOption, DbOption
from .prestart import command_named

__all__ = ["COMMANDS", "build_app", "main"]  # and `app`, built on first use

# Each command's module, in the order ``morgue --help`` lists them, with the names it registers.
# A run imports only the module of the command it names (the others cost a tenth of a second).
COMMANDS: dict[str, tuple[str, ...]] = {
    "archive_cmd": ("archive",),
    "crawl_cmd": ("crawl",),
    "worker_cmd": ("worker", "workers"),
    "show_cmd": ("show",),
    "query_cmd": ("query",),
    "history_cmd": ("history",),
    "diff_cmd": ("diff",),
    "stats_cmd": ("stats",),
    "export_cmd": ("export",),
    "index_cmd": ("index",),
    "extract_cmd": ("extract",),
    "recheck_cmd": ("recheck",),
    "links_cmd": ("links",),
    "schedule_cmd": ("schedule", "scheduler"),
    "verify_cmd": ("verify",),
    "serve_cmd": ("serve",),
    "demo_cmd": ("demo",),
    "db_cmd": ("db",),
}
# Commands that use another's parser: ``schedule add`` reads its arguments as ``crawl`` would.
_USES = {"schedule_cmd": ("crawl_cmd",)}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"morgue {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            envvar="MORGUE_DATA_DIR",
            help="Data directory (default ./morgue-data).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            envvar="MORGUE_DB_URL",
            help="SQLAlchemy DB URL (default SQLite in the data dir).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Archive news pages, including the ones that have died.

    Each page goes into a WARC file as it came over the wire; its article is extracted, it gets
    a liveness verdict, and a database row points at its WARC record.

    Examples:

      morgue demo                    # a first run, offline, on a sample site

      morgue archive https://example.org/news/story.html

      morgue --data-dir ./newsroom show --text 1
    """
    ctx.obj = {"data_dir": data_dir, "db": db}


class _ClosedPipe(Exception):
    """stdout's reader has gone; not an OSError, so that Typer does not make it exit 1."""


class _Root(HelpGroup):
    """The ``morgue`` group, which turns a closed stdout into ``_ClosedPipe`` wherever it shows:
    in ``--help`` (written while the arguments are parsed) or in a command's output."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError as exc:
            raise _ClosedPipe from exc

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise _ClosedPipe from exc


def _stdout_closed(console: Console) -> None:
    raise _ClosedPipe


# Rich's documented hook for a closed pipe exits 1 from inside print(); every console of the CLI
# hands it to main() instead, which exits 0.
Console.on_broken_pipe = _stdout_closed  # type: ignore[method-assign,assignment]

_ = (DataDirOption, DbOption)


def build_app(command: str | None = None) -> typer.Typer:
    """The application with ``command``'s module registered, or every command's when
    ``command`` names none of them (no command, ``--help``, a mistyped name)."""
    new = typer.Typer(
        name="morgue",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(root)
    wanted = {module for module, names in COMMANDS.items() if command in names}
    wanted |= {used for module in wanted for used in _USES.get(module, ())}
    for module in [module for module in COMMANDS if module in wanted] or COMMANDS:
        importlib.import_module(f"archive.cli.{module}").register(new)
    use_help_format(new)  # after every command is registered: plain help, no type names
    new.info.cls = _Root
    return new


_app: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    global _app
    if name == "app":  # every command: for tests and tools that inspect the whole CLI
        if _app is None:
            _app = build_app()
        return _app
    raise AttributeError(name)


def main() -> None:
    try:
        _main()
        sys.stdout.flush()  # here, where a closed pipe can still be told from a failure
    except (_ClosedPipe, BrokenPipeError):
        _closed_pipe()


def _main() -> None:
    try:
        # standalone_mode=False: usage errors come back to us, to be printed as one line too.
        result = build_app(command_named(sys.argv[1:]))(standalone_mode=False, prog_name="morgue")
    except InvalidInput as exc:
        _fail(str(exc), 2)
    except ArchiveError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message())  # type: ignore[attr-defined]  # `morgue` alone: help
            return
        # Click's usage errors (vendored by Typer): a bad option, a missing argument.
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            hint = " (see --help)" if getattr(exc, "exit_code", 0) == 2 else ""
            _fail(f"{exc.format_message()}{hint}", exc.exit_code)  # type: ignore[attr-defined]
        if type(exc).__name__ == "Abort":
            _fail("aborted", 1)
        raise
    if isinstance(result, int) and result:
        sys.exit(result)


def _closed_pipe() -> NoReturn:
    """Exit 0 without a word: what is left in stdout's buffer goes nowhere, not to a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(0)


def _fail(message: str, status: int) -> NoReturn:
    print(f"morgue: error: {message}", file=sys.stderr)
    sys.exit(status)
