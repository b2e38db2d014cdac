"""Each default written once (archive.defaults): the crawl's settings and the library share it."""

from __future__ import annotations

import ast
import zlib
from datetime import timedelta
from pathlib import Path

from scrapy.settings import Settings

import settings
from archive import USER_AGENT, defaults
from archive.liveness.page_state import DEFAULT_RULE, StateRule
from archive.warc.records import WarcWriter
from crawler.run import crawl_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = [name for name in defaults.__all__ if name.isupper()]


def test_settings_py_takes_each_shared_default_from_the_library() -> None:
    tree = ast.parse((ROOT / "settings.py").read_text(encoding="utf-8"))
    assigned = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    for name in SHARED:
        value = assigned[name]
        # `NAME = _defaults.NAME`, not a literal typed a second time.
        assert isinstance(value, ast.Attribute) and value.attr == name, name
        assert getattr(settings, name) == getattr(defaults, name)


def test_the_library_defaults_are_the_crawl_defaults() -> None:
    writer = WarcWriter(Path("unused"))
    assert (writer.prefix, writer.max_size, writer.gzip_level) == (
        settings.WARC_PREFIX,
        settings.WARC_MAX_SIZE,
        settings.WARC_GZIP_LEVEL,
    )
    assert StateRule.from_settings(crawl_settings()) == DEFAULT_RULE
    assert DEFAULT_RULE.span == timedelta(days=settings.LIVENESS_DEAD_SPAN)


def _warcinfo(directory: Path) -> str:
    (path,) = directory.glob("*.warc.gz")
    return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(path.read_bytes()).decode()


def test_a_writer_from_settings_honours_overrides_as_the_crawl_gives_them(tmp_path: Path) -> None:
    # `-s` values arrive as strings; Scrapy's Settings and a plain dict read alike.
    overrides = {"WARC_GZIP_LEVEL": "9", "WARC_MAX_SIZE": "5000", "ROBOTSTXT_OBEY": "False"}
    for i, given in enumerate([crawl_settings(overrides), Settings(overrides), overrides]):
        writer = WarcWriter.from_settings(tmp_path / str(i), given, prefix="p")
        assert (writer.prefix, writer.max_size, writer.gzip_level) == ("p", 5000, 9)
        assert writer.info["robots"] == "ignore"
    crawl = WarcWriter.from_settings(tmp_path / "crawl", crawl_settings({"WARC_IS_PART_OF": "r"}))
    assert crawl.prefix == settings.WARC_PREFIX
    assert crawl.info == {"http-header-user-agent": USER_AGENT, "robots": "obey", "isPartOf": "r"}
    crawl.write_metadata("https://example.org/", {"a": 1})
    crawl.close()
    assert "robots: obey" in _warcinfo(tmp_path / "crawl")
    # morgue extract fetches nothing: its files state no robots policy.
    alone = WarcWriter.from_settings(tmp_path / "alone")
    assert alone.info == {"http-header-user-agent": USER_AGENT, "isPartOf": ""}
    assert alone.gzip_level == defaults.WARC_GZIP_LEVEL


def test_state_rule_from_settings() -> None:
    rule = StateRule.from_settings({"LIVENESS_DEAD_CHECKS": "3", "LIVENESS_DEAD_SPAN": "1.5"})
    assert rule == StateRule(checks=3, span=timedelta(days=1.5))
    assert StateRule.from_settings(None) == DEFAULT_RULE
