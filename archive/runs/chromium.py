"""Which Chromium a browser capture runs (``--browser``), found before the crawl starts.

Chromium comes from the system (Debian's ``chromium``), never downloaded by morgue: without
it, ``--browser`` is refused in one line and ``--browser auto`` falls back to HTML alone.
"""

from __future__ import annotations

import shutil

__all__ = ["BROWSER_MODES", "CHROMIUM_NAMES", "browser_settings", "find_chromium"]

#: ``always``: every HTML page is also rendered; ``auto``: only a page whose HTML has no
#: article text and scripts (the ``needs_browser`` evidence of archive.liveness.browser_hint).
BROWSER_MODES = ("always", "auto")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium(configured: str | None = None) -> str | None:
    """The Chromium to run: ``configured`` (a path or a name on PATH), else the usual names."""
    for name in [configured] if configured else CHROMIUM_NAMES:
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def browser_settings(mode: str, executable: str) -> dict[str, object]:
    """The crawl settings of a browser capture in ``mode`` with ``executable``."""
    return {"BROWSER_ENABLED": True, "BROWSER_MODE": mode, "BROWSER_EXECUTABLE": executable}
