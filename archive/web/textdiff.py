"""The difference between the extracted texts of two captures, as lines a template can show."""

from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass

__all__ = ["DiffLine", "text_diff"]

_WIDTH = 100  # paragraphs are wrapped, so that one changed word marks a line, not a paragraph


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "add", "del", "same", "hunk"
    text: str


def _lines(text: str | None) -> list[str]:
    out: list[str] = []
    for paragraph in (text or "").splitlines():
        out.extend(textwrap.wrap(paragraph, _WIDTH) or [""])
    return out


def text_diff(before: str | None, after: str | None, *, context: int = 2) -> list[DiffLine]:
    """Unified-diff lines from ``before`` to ``after``; empty when the texts are the same."""
    kinds = {"+": "add", "-": "del", " ": "same", "@": "hunk"}
    lines = difflib.unified_diff(_lines(before), _lines(after), n=context, lineterm="")
    out = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        out.append(DiffLine(kinds.get(line[:1], "same"), line[1:] if line[:1] != "@" else line))
    return out
