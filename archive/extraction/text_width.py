"""How much a text says, measured in the columns it takes to show: a wide letter (the
ideographs, kana and hangul of Chinese, Japanese and Korean) counts two, as in a terminal.

The liveness rules call a text thin below a number of characters (``THIN_TEXT``). A news report
in Japanese says in 450 characters what a European language says in 900 or more, so a count of
characters calls full reports in those scripts thin, and the site-template rule never learns
their sites' articles. Columns, Unicode's East Asian Width, put both on one scale without a
table per language.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["text_width"]


@functools.cache
def _wide_letters() -> re.Pattern[str]:
    # Derived from the running Python's Unicode database (about 60 ms, once a process): letters
    # only, so that wide punctuation and emoji add nothing to what a text says.
    ranges: list[str] = []
    start: int | None = None
    for point in range(0x1100, min(sys.maxunicode, 0x3FFFF) + 2):
        char = chr(point) if point <= sys.maxunicode else ""
        wide = bool(char) and unicodedata.east_asian_width(char) in ("W", "F")
        if wide and not unicodedata.category(char).startswith("L"):
            wide = False
        if wide and start is None:
            start = point
        elif not wide and start is not None:
            ranges.append(f"{chr(start)}-{chr(point - 1)}")
            start = None
    return re.compile(f"[{''.join(ranges)}]")


def text_width(text: str | None, cap: int | None = None) -> int:
    """The columns ``text`` takes: its characters, and one more for each wide letter; no more
    than ``cap`` when one is given. A rule that only compares with a line passes it as the cap:
    a text as long as the line in characters is that wide, and its letters go uncounted (the
    crawl judges on its reactor thread)."""
    if not text:
        return 0
    if cap is not None and len(text) >= cap:
        return cap
    if text.isascii():
        return len(text)
    width = len(text) + len(_wide_letters().findall(text))
    return width if cap is None else min(width, cap)
