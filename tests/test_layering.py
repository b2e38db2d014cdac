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


def _module_path(name: str) -> Path | None:
    """The file of a first-party module (``archive.x`` -> archive/x.py), if it is one."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reached_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, directly or through the first-party modules it imports
    (``archive.__init__`` is imported on the way to any ``archive.x``, so it counts too)."""
    seen: set[Path] = set()
    found: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in imported_modules(current):
            found.add(name)
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                module = _module_path(".".join(parts[:depth]))
                if module is not None:
                    todo.append(module)
    return found


@pytest.mark.parametrize("name", ["feeds", "sitemaps", "entries"])
def test_xml_parsers_reach_no_database(name: str) -> None:
    """The feed and sitemap parsers are pure: parsing a document needs no SQLAlchemy."""
    reached = reached_modules(ROOT / "archive" / f"{name}.py")
    bad = sorted(m for m in reached if m.split(".")[0] in ("sqlalchemy", "alembic"))
    assert not bad, f"archive/{name}.py reaches {bad}"


def test_the_reach_check_follows_first_party_imports() -> None:
    # archive/sources.py imports the models, which import SQLAlchemy.
    assert "sqlalchemy" in reached_modules(ROOT / "archive" / "sources.py")


def test_store_names_every_module_that_writes_captures() -> None:
    """archive.store adds the rows of ``captures``; each module that changes them is named in
    its docstring, so that "who writes this column?" has one place to look."""
    import archive.store

    writers: set[str] = set()
    for path in sorted((ROOT / "archive").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "archive.store" or module.startswith("archive.migrations"):
            continue
        calls = [
            node.func.id
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        ]
        assert "Capture" not in calls, f"{module} adds captures"
        # An UPDATE statement, or a capture loaded and its columns set (archive.reextract).
        if "update(Capture)" in source or "session.get(Capture," in source:
            writers.add(module)
    assert writers == {"archive.reextract", "archive.resume", "archive.sources", "archive.verify"}
    doc = archive.store.__doc__ or ""
    assert all(f"``{module}" in doc for module in writers), doc


def _called(path: Path) -> set[str]:
    """Names of the functions ``path`` calls by name (``f(...)``, ``mod.f(...)``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def test_one_path_judges_a_page() -> None:
    """The crawl and ``morgue extract`` judge pages, pick HTML bodies and write metadata records
    through archive.judging only; the soft-404 rules are applied there and nowhere else."""
    uses = {
        "judge_page": ["pipelines/classify.py", "pipelines/recover.py", "archive/reextract.py"],
        "is_html": ["pipelines/extract.py", "pipelines/recover.py", "archive/reextract.py"],
        "metadata_record": ["pipelines/store.py", "archive/reextract.py"],
    }
    for name, paths in uses.items():
        for path in paths:
            assert name in _called(ROOT / path), f"{path} does not call {name}"
    sources = [*(ROOT / "archive").rglob("*.py"), *(ROOT / "crawler").rglob("*.py"),
               *(ROOT / "pipelines").rglob("*.py")]  # fmt: skip
    judging = [p.relative_to(ROOT).as_posix() for p in sources if "judge" in _called(p)]
    assert judging == ["archive/judging.py"], judging
    # The judging module is plain rules: no database, no crawler.
    reached = reached_modules(ROOT / "archive" / "judging.py")
    assert not [m for m in reached if m.split(".")[0] in ("sqlalchemy", "scrapy", "twisted")]


def test_submodules_are_imported_by_their_full_name() -> None:
    """``from archive import defaults`` asks the package for an attribute, and archive's lazy
    ``__getattr__`` answers by importing the public API: a circular import from any module the
    API stands on. Submodules are imported as ``archive.x``."""
    import archive

    sources = [*(ROOT / "archive").rglob("*.py"), *(ROOT / "crawler").rglob("*.py"),
               *(ROOT / "pipelines").rglob("*.py"), ROOT / "settings.py"]  # fmt: skip
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "archive" and not node.level:
                names = [alias.name for alias in node.names]
                bad = [n for n in names if n not in archive.__all__]
                assert not bad, f"{path.relative_to(ROOT)}: from archive import {bad}"
