"""archive/ is a plain library: no Scrapy, no Twisted, no reaching into the adapters."""

from __future__ import annotations

import ast
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
