"""A page's template, as a fingerprint of its markup's structure: no words in it.

Two pages of one site built from the same template (an error page with one message and a
removal notice with another, say) share nearly every parent-child pair of elements, named by tag
and class, whatever language their text is in; an article of that site adds the elements of its
article block. The fingerprint is the set of those pairs, hashed, kept as a bottom-k sketch (the
``SKETCH_SIZE`` smallest hashes) so that a probe's fingerprint stays small in the DB, and
compared by the Jaccard overlap the sketches estimate (exact for pages with fewer pairs).

Classes have their digits removed (``col-3``, ``css-1x2y3z`` vary between renders of one
template), and only the first three, sorted, are kept. What scripts, styles and templates
contain is left out: it is no part of the page a reader sees.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = ["SKETCH_SIZE", "template_similarity", "template_sketch"]

#: Hashes kept per page: a page of up to this many distinct element pairs is kept whole (most
#: news pages have 130 to 600; the overlap of larger ones is estimated within a few hundredths).
SKETCH_SIZE = 512
_DIGITS_RE = re.compile(r"\d+")
_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg"})


def _name(element: Any) -> str:
    classes = sorted(_DIGITS_RE.sub("", c) for c in (element.get("class") or "").split())
    kept = [c for c in classes if c][:3]
    return f"{element.tag}.{'.'.join(kept)}" if kept else str(element.tag)


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), "big")


def template_sketch(tree: Any) -> tuple[int, ...]:
    """The sorted bottom-k sketch of the element pairs under a parsed page's ``<body>``."""
    body = tree.find("body")
    if body is None:
        return ()
    pairs: set[int] = set()
    names: dict[Any, str] = {body: _name(body)}
    stack = [body]
    while stack:
        parent = stack.pop()
        parent_name = names.pop(parent)
        for child in parent:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            child_name = _name(child)
            pairs.add(_hash(f"{parent_name}>{child_name}"))
            if child.tag not in _HIDDEN:
                names[child] = child_name
                stack.append(child)
    return tuple(sorted(pairs)[:SKETCH_SIZE])


def template_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The Jaccard overlap two sketches estimate (0 when either is empty).

    The bottom-k estimate: of the k smallest hashes of both sketches together, the share found
    in both.
    """
    if not a or not b:
        return 0.0
    size = min(SKETCH_SIZE, len(set(a) | set(b)))
    union = sorted(set(a) | set(b))[:size]
    both = set(a) & set(b)
    return sum(1 for value in union if value in both) / len(union)
