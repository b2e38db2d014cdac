"""A page's liveness state, derived from its captures: alive, dead_suspected or dead_confirmed.

Only conclusive observations count: an ``ok`` capture says the page lives, a dead one
(``archive.liveness.verdicts.is_dead``) that it is gone. A blocked page, a server error or a timeout
says nothing either way, and a copy recovered from a web archive is not an observation of the page.
A page is ``dead_confirmed`` when its latest conclusive observations are ``checks`` dead ones
spanning at least ``span`` (first to last); one dead observation, or several too close together,
leave it ``dead_suspected``: a server down for a day is not link rot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import archive.defaults as defaults
from archive.liveness.verdicts import is_dead

__all__ = ["DEFAULT_RULE", "Observation", "StateRule", "derive_state"]


@dataclass(frozen=True, slots=True)
class StateRule:
    checks: int = defaults.LIVENESS_DEAD_CHECKS
    span: timedelta = timedelta(days=defaults.LIVENESS_DEAD_SPAN)

    @classmethod
    def from_settings(cls, settings: defaults.SettingsLike | None) -> StateRule:
        """The rule a crawl's ``LIVENESS_DEAD_CHECKS`` and ``LIVENESS_DEAD_SPAN`` (days) make."""
        return cls(
            checks=int(defaults.setting(settings, "LIVENESS_DEAD_CHECKS")),
            span=timedelta(days=float(defaults.setting(settings, "LIVENESS_DEAD_SPAN"))),
        )


DEFAULT_RULE = StateRule()


@dataclass(frozen=True, slots=True)
class Observation:
    fetched_at: datetime
    verdict: str
    reason: str
    recovered: bool = False


def derive_state(
    observations: Iterable[Observation], rule: StateRule | None = None
) -> tuple[str | None, datetime | None]:
    """(state, dead_since) of a page; (None, None) while nothing conclusive was observed."""
    rule = rule or DEFAULT_RULE
    conclusive = sorted(
        (o for o in observations if not o.recovered and (o.verdict == "ok" or _dead(o))),
        key=lambda o: o.fetched_at,
    )
    if not conclusive:
        return None, None
    streak: list[Observation] = []
    for obs in reversed(conclusive):
        if obs.verdict == "ok":
            break
        streak.append(obs)
    if not streak:
        return "alive", None
    first, last = streak[-1].fetched_at, streak[0].fetched_at
    if len(streak) >= max(rule.checks, 1) and last - first >= rule.span:
        return "dead_confirmed", first
    return "dead_suspected", first


def _dead(obs: Observation) -> bool:
    return is_dead(obs.verdict, obs.reason)
