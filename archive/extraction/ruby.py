"""Ruby annotations read as text: the base, and its reading where the page spells one out.

Japanese and Chinese pages annotate words with their reading in ``<ruby>``: ``<rb>`` holds the
base, ``<rt>`` the reading shown above it, and the optional ``<rp>`` the parentheses a reader
without ruby support shows around the reading. Left as markup, the extractor breaks the
sentence at the ruby's elements into three lines and drops the reading. Read here the way the
page says to read it without ruby: with ``<rp>``, the base and then the reading inside the
page's own parentheses, the text form its author wrote; without ``<rp>``, the base
alone, since a reading is a pronunciation aid over the text, not words of the sentence.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flatten_ruby"]

_READING = frozenset({"rt", "rtc"})


def _ruby_text(ruby: Any) -> str:
    spelled = any(child.tag == "rp" for child in ruby.iter())
    parts = [ruby.text or ""]
    for child in ruby:
        # A comment's own text is not the page's; a reading counts only where rp spells it out.
        if isinstance(child.tag, str) and (spelled or child.tag not in _READING):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts)


def flatten_ruby(tree: Any) -> int:
    """Replace every ``<ruby>`` of a parsed page with its text, in place; returns how many."""
    rubies = [r for r in tree.iter("ruby") if not any(a.tag == "ruby" for a in r.iterancestors())]
    for ruby in rubies:
        ruby.tail = _ruby_text(ruby) + (ruby.tail or "")
        ruby.drop_tree()  # keeps the tail, joined to the text before it
    return len(rubies)
