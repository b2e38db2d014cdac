"""'Page not found' in many languages, as publishing systems and web frameworks word it.

The phrases come from the translation catalogues of packages whose not-found pages many sites
serve (Django's admin, Plone, Wagtail, Docusaurus), extracted by ``bench/gone_wording_build.py``
into ``gone_wording.json`` with each phrase's source, language and message id. The soft-404
rules (``archive.liveness.soft404.stub_phrase``) read them beside their own patterns, always
with the same structural conditions: a heading, a thin page, a short closing paragraph.

A phrase is found in a text when its normalised form (case folded, punctuation dropped, spaces
collapsed) stands in the normalised text: between word boundaries in scripts that separate
words with spaces, anywhere in those that do not (Chinese, Japanese, Thai...).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["DATA_FILE", "Phrase", "find_gone_phrase", "normalise", "phrases"]

DATA_FILE = Path(__file__).with_name("gone_wording.json")

# Scripts written without spaces between words: a phrase in them is matched as a substring.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)


@dataclass(frozen=True, slots=True)
class Phrase:
    lang: str
    text: str
    source: str
    normal: str
    spaced: bool  # matched between word boundaries


def normalise(text: str) -> str:
    """Case folded, compatibility-normalised, punctuation dropped, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Letters, marks and digits stay: Thai and Devanagari write vowels as marks, which ``\w``
    # would take for word breaks.
    kept = (ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in folded)
    return " ".join("".join(kept).split())


@cache
def phrases() -> tuple[Phrase, ...]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    found = []
    for entry in data["phrases"]:
        normal = normalise(entry["text"])
        found.append(
            Phrase(
                entry["lang"], entry["text"], entry["source"], normal, not _UNSPACED.search(normal)
            )
        )
    return tuple(found)


@cache
def _matcher(without: frozenset[str]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    spaced = sorted(
        {p.normal for p in phrases() if p.spaced and p.lang not in without}, key=len, reverse=True
    )
    unspaced = tuple(
        sorted({p.normal for p in phrases() if not p.spaced and p.lang not in without})
    )
    pattern = (
        re.compile(r"(?:^| )(?:" + "|".join(map(re.escape, spaced)) + r")(?= |$)")
        if spaced
        else None
    )
    return pattern, unspaced


def find_gone_phrase(text: str | None, without: Iterable[str] = ()) -> str | None:
    """The catalogue phrase ``text`` contains (normalised), if any; ``without`` leaves out the
    phrases of those languages (for the leave-one-language-out evaluation)."""
    if not text:
        return None
    normal = normalise(text)
    if not normal:
        return None
    pattern, unspaced = _matcher(frozenset(without))
    if pattern is not None:
        match = pattern.search(normal)
        if match:
            return match.group(0).strip()
    compact = normal.replace(" ", "")
    return next((p for p in unspaced if p.replace(" ", "") in compact), None)
