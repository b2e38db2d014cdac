"""One soft-404 probe for many directories of a site's article URL pattern, where it is safe.

A probe (``archive.liveness.soft404.probe_url``) is made per host and directory, because a host may
answer unknown URLs differently in different sections. News sites file articles in dated
directories (``/news/2024/05/03/slug``), so a feed of 25 stories made up to 25 probes: as many
requests as pages. Directories that differ only by date-like or numeric segments share a
*pattern* (``/news/<n>/<n>/<n>/``); once the probes of two directories of one pattern gave the
same answer (same status, same landing place, the same error page), the host is taken to answer
every directory of that pattern alike, and further directories reuse that answer instead of
being probed. Two probes that differ make the pattern *divergent*: each directory is probed
on its own, as before. ``docs/liveness.md`` gives the figures.

Probe URLs are recognisable (``is_probe_url``): ``morgue index`` leaves them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from archive.liveness.soft404 import SAME_TEXT, Baseline, probe_key, similarity

__all__ = [
    "PROBES_TO_AGREE",
    "PatternEvidence",
    "is_probe_url",
    "probe_pattern",
    "same_answer",
    "shared_baseline",
]

#: Directories of one pattern whose probes must agree before the others reuse their answer.
PROBES_TO_AGREE = 2

_NUMBER = re.compile(r"^\d+$")
# 2024-05-03, 2024_05_03, 2024-05, 03.05.2024: dates written as one segment.
_DATE = re.compile(r"^\d{2,4}[-_.]\d{1,2}(?:[-_.]\d{1,4})?$")
# The last segment of a probe URL: "morgue-" and 16 random lower-case letters (soft404.probe_url).
_PROBE_SEGMENT = re.compile(r"^morgue-[a-z]{16}(?:\.[0-9A-Za-z]{1,5})?$")


def probe_pattern(url: str) -> tuple[str, str]:
    """(host, pattern): the probe key with date-like and numeric segments generalised."""
    host, prefix = probe_key(url)
    segments = []
    for segment in prefix.split("/"):
        if _NUMBER.match(segment):
            segments.append("<n>")
        elif _DATE.match(segment):
            segments.append("<date>")
        else:
            segments.append(segment)
    return host, "/".join(segments)


def is_probe_url(url: str) -> bool:
    """Whether ``url`` is a probe's (a sibling URL made not to exist)."""
    path = urlsplit(url).path
    return bool(_PROBE_SEGMENT.match(path.rsplit("/", 1)[-1]))


def _landing(baseline: Baseline, probe_url: str) -> str | None:
    """Where the probe ended: None when it stayed on its own URL (a page served in place)."""
    final = baseline.final_url
    if not final or final == probe_url:
        return None
    parts = urlsplit(final)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}?{parts.query}"


def same_answer(a: Baseline, a_url: str, b: Baseline, b_url: str) -> bool:
    """Whether two probes (``a_url``, ``b_url``) got the same answer: the same status, the
    same landing place (each its own URL, or one and the same page), title and error text."""
    if a.status != b.status or _landing(a, a_url) != _landing(b, b_url):
        return False
    if (a.title or None) != (b.title or None):
        return False
    if not a.text and not b.text:
        return True
    return similarity(a.text, b.text) >= SAME_TEXT


@dataclass(slots=True)
class PatternEvidence:
    """What the probes of one host's directories of one pattern have answered so far."""

    seen: dict[str, tuple[str, Baseline]] = field(default_factory=dict)  # prefix: (url, answer)
    shared: Baseline | None = None
    divergent: bool = False

    @property
    def decided(self) -> bool:
        return self.shared is not None or self.divergent

    def observe(self, prefix: str, probe_url: str, baseline: Baseline) -> None:
        """Add one directory's probe; decide once ``PROBES_TO_AGREE`` directories answered."""
        if self.decided or prefix in self.seen:
            return
        self.seen[prefix] = (probe_url, baseline)
        if len(self.seen) < PROBES_TO_AGREE:
            return
        answers = list(self.seen.values())
        first_url, first = answers[0]
        if all(same_answer(first, first_url, other, url) for url, other in answers[1:]):
            self.shared = first
        else:
            self.divergent = True


def shared_baseline(
    url: str, probes: Iterable[tuple[str, str, Baseline]]
) -> tuple[PatternEvidence, Baseline | None]:
    """The evidence of stored probes (``(prefix, probe_url, baseline)`` of ``url``'s host, newest
    first) about ``url``'s pattern, and the answer it shares, if it shares one."""
    _, pattern = probe_pattern(url)
    evidence = PatternEvidence()
    for prefix, probe_url, baseline in probes:
        if probe_pattern(probe_url)[1] == pattern:
            evidence.observe(prefix, probe_url, baseline)
    return evidence, evidence.shared
