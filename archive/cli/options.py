"""Options shared by every command, declared once.

``--data-dir`` and ``--db`` are accepted before the command name (``morgue --data-dir D query``)
and after it (``morgue query --data-dir D``); the one given after the command wins.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from archive.exceptions import InvalidInput
from archive.paths import DataPaths, data_paths

__all__ = [
    "ALLOW_PRIVATE",
    "PROGRESS_THRESHOLD",
    "AllowPrivateOption",
    "DataDirOption",
    "DbOption",
    "ExtractOption",
    "ExtractWhen",
    "FormatOption",
    "OutputFormat",
    "Paths",
    "RedisOption",
    "RedisPrefixOption",
    "SettingOption",
    "fetch_overrides",
    "parse_settings",
    "resolve_paths",
    "split_values",
]


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Where WARC files (DIR/warcs) and the default SQLite DB live. "
        "[env: MORGUE_DATA_DIR; default: ./morgue-data]",
        show_default=False,
        file_okay=False,
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db. "
        "[env: MORGUE_DB_URL; default: sqlite:///DATA_DIR/morgue.sqlite3]",
        show_default=False,
    ),
]
SettingOption = Annotated[
    list[str] | None,
    typer.Option(
        "-s",
        "--set",
        help="Scrapy setting override NAME=VALUE (repeatable), as in `scrapy crawl -s`.",
        metavar="NAME=VALUE",
        show_default=False,
    ),
]


class OutputFormat(StrEnum):
    """``--format``: a table for people, JSON Lines for scripts."""

    table = "table"
    json = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="table for people, json for JSON Lines.")
]


class ExtractWhen(StrEnum):
    """``--extract``: while fetching, or later with ``morgue extract``."""

    now = "now"
    later = "later"


#: Show a progress bar for more URLs than this, on a terminal.
PROGRESS_THRESHOLD = 3


#: The data dir and database of a command (the library's type).
Paths = DataPaths


def resolve_paths(ctx: typer.Context, data_dir: Path | None, db: str | None) -> Paths:
    """Combine the command's own options, the global ones, the environment and the defaults."""
    root: dict[str, Any] = ctx.find_root().obj or {}
    return data_paths(data_dir or root.get("data_dir"), db or root.get("db") or None)


def fetch_overrides(
    setting: list[str] | None,
    *,
    timeout: float | None = None,
    ignore_robots: bool = False,
    no_recover: bool = False,
    timegate: str | None = None,
    extract: ExtractWhen = ExtractWhen.now,
    allow_private: bool = False,
    requisites: bool | None = None,
) -> dict[str, Any]:
    """The Scrapy settings that the fetching options of ``archive`` and ``crawl`` stand for.

    ``requisites`` None is the command's default, which a ``-s REQUISITES_ENABLED`` overrides."""
    from archive.liveness.memento import check_timegate
    from archive.runs.archiving import EXTRACT_LATER

    overrides: dict[str, Any] = parse_settings(setting)
    if timeout is not None:
        overrides["DOWNLOAD_TIMEOUT"] = timeout
    if ignore_robots:
        overrides["ROBOTSTXT_OBEY"] = False
    if no_recover:
        overrides["MEMENTO_ENABLED"] = False
    if timegate is not None:
        overrides["MEMENTO_TIMEGATE"] = check_timegate(timegate)
    if extract is ExtractWhen.later:
        overrides.update(EXTRACT_LATER)
    if allow_private:
        overrides.update(ALLOW_PRIVATE)
    if requisites is not None:
        overrides["REQUISITES_ENABLED"] = requisites
    return overrides


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeated options and comma-separated lists alike: ``--verdict a,b --verdict c``."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(out))


def parse_settings(values: list[str] | None) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` to a dict; a malformed pair is bad usage."""
    settings: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not name.replace("_", "").isalnum() or not name.isupper():
            raise InvalidInput(
                f"invalid setting {item!r}: expected NAME=VALUE, e.g. DOWNLOAD_DELAY=0"
            )
        settings[name] = value
    return settings


# -- options of every command that fetches pages (recheck, links --check) ----------------------

TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout", metavar="SECONDS", help="Seconds to wait for a server (default 30).", min=0.1
    ),
]
NoRecoverOption = Annotated[
    bool, typer.Option("--no-recover", help="Do not look dead pages up in a web archive.")
]
TimegateOption = Annotated[
    str | None,
    typer.Option(
        "--timegate",
        metavar="URL",
        envvar="MORGUE_TIMEGATE",
        help="Memento TimeGate for dead pages; the page URL is appended to it. "
        "[default: https://web.archive.org/web/]",
        show_default=False,
    ),
]
IgnoreRobotsOption = Annotated[
    bool, typer.Option("--ignore-robots", help="Fetch pages that robots.txt disallows.")
]
ExtractOption = Annotated[
    ExtractWhen,
    typer.Option(
        "--extract",
        help="now: extract while fetching; later: archive and judge by status only, "
        "then run `morgue extract`.",
    ),
]
AllowPrivateOption = Annotated[
    bool,
    typer.Option(
        "--allow-private",
        help="Follow links and redirects to loopback, private, link-local and multicast "
        "addresses too (by default only to the kinds of network the given URLs are on).",
    ),
]

#: The setting ``--allow-private`` stands for.
ALLOW_PRIVATE: dict[str, Any] = {"NETPOLICY_ALLOW_PRIVATE": True}

RedisOption = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="Queue the work in this Redis (redis://HOST:6379/0) for `morgue worker`s "
        "instead of doing it here.",
        metavar="URL",
    ),
]
RedisPrefixOption = Annotated[
    str,
    typer.Option("--redis-prefix", help="Prefix of the frontier's Redis keys.", metavar="PREFIX"),
]
