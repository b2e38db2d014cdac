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
    reached = reached_modules(ROOT / "archive" / "sources" / f"{name}.py")
    bad = sorted(m for m in reached if m.split(".")[0] in ("sqlalchemy", "alembic"))
    assert not bad, f"archive/sources/{name}.py reaches {bad}"


def test_the_reach_check_follows_first_party_imports() -> None:
    # archive/sources/registry.py imports the models, which import SQLAlchemy.
    assert "sqlalchemy" in reached_modules(ROOT / "archive" / "sources" / "registry.py")


def test_store_names_every_module_that_writes_captures() -> None:
    """archive.captures.table adds the rows of ``captures``; each module that changes them is named
    in its docstring, so that "who writes this column?" has one place to look."""
    import archive.captures.table

    writers: set[str] = set()
    for path in sorted((ROOT / "archive").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "archive.captures.table" or module.startswith("archive.db.migrations"):
            continue
        calls = [
            node.func.id
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        ]
        assert "Capture" not in calls, f"{module} adds captures"
        # An UPDATE statement, or a capture loaded and its columns set
        # (archive.captures.extraction_pass).
        if "update(Capture)" in source or "session.get(Capture," in source:
            writers.add(module)
    assert writers == {
        "archive.captures.extraction_pass",
        "archive.integrity.resume",
        "archive.sources.registry",
        "archive.integrity.verify",
    }
    doc = archive.captures.table.__doc__ or ""
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
    through archive.liveness.judging only; the soft-404 rules are applied there and nowhere else."""
    uses = {
        "judge_page": [
            "pipelines/classify.py",
            "pipelines/recover.py",
            "archive/captures/extraction_pass.py",
        ],
        "is_html": [
            "pipelines/extract.py",
            "pipelines/recover.py",
            "archive/captures/extraction_pass.py",
        ],
        "metadata_record": ["pipelines/store.py", "archive/captures/extraction_pass.py"],
    }
    for name, paths in uses.items():
        for path in paths:
            assert name in _called(ROOT / path), f"{path} does not call {name}"
    sources = [*(ROOT / "archive").rglob("*.py"), *(ROOT / "crawler").rglob("*.py"),
               *(ROOT / "pipelines").rglob("*.py")]  # fmt: skip
    judging = [p.relative_to(ROOT).as_posix() for p in sources if "judge" in _called(p)]
    assert judging == ["archive/liveness/judging.py"], judging
    # The judging module is plain rules: no database, no crawler.
    reached = reached_modules(ROOT / "archive" / "liveness" / "judging.py")
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


# archive/ is grouped by concern, lowest first: a module may import the foundation modules, its
# own subpackage and the subpackages before its own, never one after it. The faces (cli, and the
# demo the CLI serves) come last; ``archive.api`` gathers the public names from every layer.
FOUNDATION = ("exceptions", "defaults", "durations", "urls", "paths")
LAYERS = (
    "db",
    "warc",
    "policy",
    "extraction",
    "liveness",
    "sources",
    "captures",
    "query",
    "export",
    "integrity",
    "runs",
    "distributed",
    "demo",
    "web",
    "cli",
)
ENTRY_POINTS = ("__init__", "__main__", "api")


def _place(module: str) -> tuple[str, int] | None:
    """Where an ``archive.x[.y]`` module sits: ('foundation', -1), (layer, index) or None."""
    parts = module.split(".")
    if parts[0] != "archive" or len(parts) < 2:
        return None
    if parts[1] in FOUNDATION:
        return ("foundation", -1)
    if parts[1] in LAYERS:
        return (parts[1], LAYERS.index(parts[1]))
    return ("entry", len(LAYERS))


def layer_violations(path: Path) -> list[str]:
    own = _place(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert own is not None
    bad = []
    for name in _all_imports(path):
        target = _place(name)
        if target is None or target[0] == own[0]:
            continue
        if target[1] > own[1] or (own[0] == "foundation" and target[0] != "foundation"):
            bad.append(name)
    return bad


def test_archive_holds_only_the_known_subpackages_and_modules() -> None:
    top = {p.stem for p in (ROOT / "archive").glob("*.py")}
    assert top == set(FOUNDATION) | set(ENTRY_POINTS), top
    packages = {p.parent.name for p in (ROOT / "archive").glob("*/__init__.py")}
    assert packages == set(LAYERS), packages


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "archive").rglob("*.py") if p.parent != ROOT / "archive"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_subpackages_import_only_those_below_them(path: Path) -> None:
    bad = layer_violations(path)
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}, above its own layer"


@pytest.mark.parametrize("name", FOUNDATION)
def test_foundation_modules_import_no_subpackage(name: str) -> None:
    bad = layer_violations(ROOT / "archive" / f"{name}.py")
    assert not bad, f"archive/{name}.py imports {bad}"


def test_the_layer_check_would_catch_an_upward_import(tmp_path: Path) -> None:
    fake = ROOT / "archive" / "warc" / "zz_fake.py"
    try:
        fake.write_text("from archive.runs.crawling import crawl\nfrom archive.db import engine\n")
        assert layer_violations(fake) == ["archive.runs.crawling"]
    finally:
        fake.unlink()


@pytest.mark.parametrize("package", LAYERS)
def test_each_subpackage_says_what_it_owns(package: str) -> None:
    """Each subpackage's docstring says what it owns, and importing the package costs nothing:
    its ``__init__`` imports no module (the CLI's start-up time depends on it)."""
    init = ROOT / "archive" / package / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    assert len(doc.split()) >= 15, f"archive/{package}: {doc!r}"
    if package == "cli":  # the console script's entry point: ``main`` lives there on purpose
        return
    assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], package


def test_no_two_modules_share_a_name() -> None:
    """One name, one meaning: a module's file name is unique across archive/, crawler/ and
    pipelines/ (``store.py`` in two places once meant two different things)."""
    seen: dict[str, list[str]] = {}
    for top in ("archive", "crawler", "pipelines"):
        for path in (ROOT / top).rglob("*.py"):
            if path.stem in ("__init__", "__main__") or "migrations" in path.parts:
                continue
            seen.setdefault(path.stem, []).append(path.relative_to(ROOT).as_posix())
    twice = {stem: paths for stem, paths in seen.items() if len(paths) > 1}
    assert not twice, twice
