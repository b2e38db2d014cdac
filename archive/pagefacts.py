"""Placeholder until the soft-404 work lands its page facts (owned by the soft-404 helper)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PageFacts", "page_facts"]


@dataclass(frozen=True, slots=True)
class PageFacts:
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def page_facts(tree: Any, url: str) -> PageFacts:
    titles = tree.xpath("//title/text()")
    return PageFacts(title=titles[0].strip() if titles else None)
