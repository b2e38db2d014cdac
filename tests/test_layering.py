"""archive/ is a plain library: no Scrapy, no Twisted, no reaching into the adapters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("scrapy", "twisted", "crawler", "pipelines", "settings")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "archive").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_archive_imports_no_scrapy(path: Path) -> None:
    bad = [m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_check_would_catch_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from scrapy.http import Response\nimport twisted.internet\n")
    assert imported_modules(sample) == ["twisted.internet", "scrapy.http"] or sorted(
        imported_modules(sample)
    ) == ["scrapy.http", "twisted.internet"]


# archive/__main__.py is the CLI's entry point (``python -m archive``), not library code.
LIBRARY = sorted(
    p for p in (ROOT / "archive").rglob("*.py") if "cli" not in p.parts and p.name != "__main__.py"
)
COMMANDS = sorted((ROOT / "archive" / "cli").glob("*_cmd.py"))


def _all_imports(path: Path) -> list[str]:
    """Absolute and relative imports, relative ones resolved against ``path``'s package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
                names.extend(f"{base}.{alias.name}" for alias in node.names)
            names.append(base)
    return names


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_does_not_stand_on_the_cli(path: Path) -> None:
    bad = [
        m
        for m in _all_imports(path)
        if m.split(".")[0] in ("typer", "rich") or m.startswith("archive.cli")
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
    source = path.read_text(encoding="utf-8")
    # The CLI is a face: the library never runs it as a program either.
    assert not re.search(r"""["']-m["'],\s*["']archive["']|-m archive(?![.\w])""", source), path


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_no_command_imports_another_command(path: Path) -> None:
    others = [
        m for m in _all_imports(path) if m.rsplit(".", 1)[-1].endswith("_cmd") and m != path.stem
    ]
    assert not others, f"{path.name} imports {others}"


def test_the_command_check_would_catch_a_relative_import(tmp_path: Path) -> None:
    fake = ROOT / "archive" / "cli" / "zz_fake_cmd.py"
    try:
        fake.write_text("from .archive_cmd import read_url_list\n")
        assert "archive.cli.archive_cmd" in _all_imports(fake)
    finally:
        fake.unlink()
