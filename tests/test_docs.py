"""Documentation that must not fall behind the code."""

from __future__ import annotations

import re
from pathlib import Path

import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", doc))
    defined = {name for name in dir(settings) if name.isupper() and not name.startswith("_")}
    missing = sorted(defined - documented)
    assert not missing, (
        f"settings.py defines settings docs/settings.md does not describe: {missing}"
    )


def test_custom_settings_are_prefixed() -> None:
    prefixes = (
        "CRAWL_",
        "WARC_",
        "EXTRACT_",
        "STORE_",
        "PROGRESS_EVENTS_",
        "LIVENESS_",
        "MEMENTO_",
        "SOURCES_",
        "NETPOLICY_",
        "REQUISITES_",
        "BROWSER_",
        "MORGUE_REDIS_",
    )
    from scrapy.settings import default_settings

    scrapy_names = {name for name in dir(default_settings) if name.isupper()}
    custom = {n for n in dir(settings) if n.isupper() and not n.startswith("_")} - scrapy_names
    custom -= {"BOT_NAME", "SPIDER_MODULES", "NEWSPIDER_MODULE"}
    assert all(name.startswith(prefixes) for name in custom), sorted(custom)


def test_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_readme_names_every_page_state_the_cli_shows() -> None:
    from archive.db.models import PAGE_STATES, UNKNOWN_STATE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    state = readme.split("- **State.**", 1)[1].split("\n- ", 1)[0]
    for name in (*PAGE_STATES, UNKNOWN_STATE):
        assert f"`{name}`" in state, name


def test_readme_says_what_a_capture_holds() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What a capture holds", 1)[1].split("\n#", 1)[0]
    # Requisites are archived by default for `archive`, not for a crawl, and how to turn off.
    for said in ("requisites", "--no-requisites", "--requisites", "revisit"):
        assert said in section, said
    for way in ("morgue show --html", "morgue export --wacz", "morgue index"):
        assert way in section
