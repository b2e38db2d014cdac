"""Text cut to a width in terminal cells: titles at the end, URLs in the middle."""

from __future__ import annotations

from urllib.parse import urlsplit

from rich.cells import cell_len, set_cell_size

__all__ = ["ELLIPSIS", "ellipsize", "shorten_url", "url_origin"]

ELLIPSIS = "…"


def ellipsize(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending with an ellipsis when cut."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    return set_cell_size(text, width - 1).rstrip() + ELLIPSIS


def url_origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def shorten_url(url: str, width: int) -> str:
    """``url`` in at most ``width`` cells: its start and its end around an ellipsis.

    The start keeps the whole origin (or, for a path, its first segment) when that leaves room
    for a useful end, since the end of a news URL (its slug) says most about the page.
    """
    if cell_len(url) <= width:
        return url
    if width <= 8:
        return ellipsize(url, width)
    room = width - 1
    anchor = url_origin(url) or url[: url.find("/", 1) + 1 if url.find("/", 1) > 0 else 0]
    # Room for the anchor and a dozen cells of the end, or else half and half.
    head = cell_len(anchor) if anchor and cell_len(anchor) + 12 <= room else (room + 1) // 2
    tail = room - head
    start = set_cell_size(url, head)
    # The end, cut by cells from the right.
    end = url[::-1]
    end = set_cell_size(end, tail)[::-1]
    return start + ELLIPSIS + end
