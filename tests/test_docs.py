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


def _ini_blocks(text: str) -> list[dict[str, list[tuple[str, str]]]]:
    """The ``ini`` code blocks of a Markdown page as systemd reads a unit: sections of
    ``Key=value`` lines, a key may repeat (``Environment=``)."""
    units = []
    for block in re.findall(r"```ini\n(.*?)```", text, flags=re.DOTALL):
        unit: dict[str, list[tuple[str, str]]] = {}
        section = None
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                unit.setdefault(section, [])
                continue
            key, sep, value = line.partition("=")
            assert section is not None and sep, f"not a unit line: {line!r}"
            unit[section].append((key.strip(), value.strip()))
        units.append(unit)
    return units


def test_systemd_units_in_the_docs_name_real_commands_and_options() -> None:
    import shlex

    from tests.conftest import run_morgue

    text = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    units = _ini_blocks(text)
    services = [dict(unit["Service"]) for unit in units if "Service" in unit]
    assert len(services) >= 3 and any("Timer" in unit for unit in units)
    cli = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "archive" / "cli").glob("*.py"))
    read_env = set(re.findall(r'envvar="(MORGUE_[A-Z_]+)"', cli))
    helps: dict[str, str] = {}
    for unit in units:
        for key, value in unit.get("Service", []):
            if key == "Environment":
                assert value.split("=", 1)[0] in read_env, value
        exec_start = dict(unit.get("Service", [])).get("ExecStart")
        if exec_start is None:
            continue
        program, *args = shlex.split(exec_start)
        assert program.endswith("/bin/morgue"), exec_start
        words = [a for a in args if not a.startswith("-")]
        command = words[0] if words[0] != "schedule" else f"schedule {words[1]}"
        if command not in helps:
            proc = run_morgue(*command.split(), "--help")
            assert proc.returncode == 0, f"{command}: {proc.stderr}"
            helps[command] = proc.stdout
        for option in (a.split("=", 1)[0] for a in args if a.startswith("--")):
            found = re.search(rf"{re.escape(option)}(?![\w-])", helps[command])
            assert found, f"morgue {command} has no {option}"
