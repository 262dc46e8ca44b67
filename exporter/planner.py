"""The request budget planner: what the configured intervals cost per hour, and how far they
must stretch to stay inside a token's budget.

Each collector's cost is measured, not guessed: the requests its last poll made (a fleet of
50,000 Droplets costs 250 requests per Droplet poll). Until a collector has polled, it counts as
one request, except a Monitoring API collector, whose cost is known before it runs (requests per
watched object x objects selected) and can be hundreds of times an inventory collector's.

When the hourly total exceeds the budget's planning share, the Monitoring API collectors are
stretched first, all by the same factor, up to MONITORING_MAX_INTERVAL: inventory and billing
keep their intervals as long as the budget allows. A monitoring selection that does not fit even
at that interval is an overflow: the plan says how many objects would fit, and the poller
refuses to poll it (a clear error instead of a budget spent on one collector). Only when the
other collectors alone exceed the budget are their intervals stretched too, every one alike.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

# Plan to 90 % of the budget: retries, 429 waits and token checks need the rest.
PLANNING_SHARE = 0.9
# The longest a Monitoring API collector is stretched to; beyond it "the latest value" would be
# hours old, so a selection that needs more is refused instead.
MONITORING_MAX_INTERVAL = 3 * 3600.0


@dataclass(frozen=True)
class Overflow:
    """A monitoring collector whose selection cannot fit, even at MONITORING_MAX_INTERVAL."""

    needed_per_hour: float  # at MONITORING_MAX_INTERVAL
    available_per_hour: float  # its share of what the other collectors leave
    fits: int | None  # the most objects that fit, when the cost per object is known


@dataclass(frozen=True)
class Plan:
    planned_per_hour: float  # requests per hour at the configured intervals
    factor: float  # >= 1: how much the intervals of the other collectors are stretched
    intervals: Mapping[str, float] = field(default_factory=dict)  # effective, seconds
    monitoring_factor: float = 1.0  # >= 1: how much the monitoring collectors are stretched
    per_hour: Mapping[str, float] = field(default_factory=dict)  # at the effective intervals
    overflow: Mapping[str, Overflow] = field(default_factory=dict)

    @property
    def stretched(self) -> bool:
        return self.factor > 1.0 or self.monitoring_factor > 1.0

    @property
    def effective_per_hour(self) -> float:
        return sum(self.per_hour.values())


def plan(
    requests_per_poll: Mapping[str, int],
    intervals: Mapping[str, float],
    requests_per_hour: int,
    *,
    monitoring: Collection[str] = (),
    per_object: Mapping[str, int] | None = None,
    max_interval: float = MONITORING_MAX_INTERVAL,
) -> Plan:
    """The plan for one account; `intervals` are the configured ones of its enabled collectors,
    `monitoring` names the collectors stretched first, `per_object` their requests per object."""

    def cost(name: str) -> float:
        return max(1, requests_per_poll.get(name, 1)) * 3600.0

    others = {n: i for n, i in intervals.items() if n not in monitoring}
    watched = {n: i for n, i in intervals.items() if n in monitoring}
    base = sum(cost(n) / i for n, i in others.items())
    wanted = sum(cost(n) / i for n, i in watched.items())
    allowed = requests_per_hour * PLANNING_SHARE
    effective = dict(intervals)
    overflow: dict[str, Overflow] = {}
    monitoring_factor = 1.0
    if watched and base + wanted > allowed:
        room = max(0.0, allowed - base)
        monitoring_factor = wanted / room if room > 0 else math.inf
        for name, interval in watched.items():
            effective[name] = min(max_interval, max(interval, interval * monitoring_factor))
            if interval * monitoring_factor > max_interval:
                share = room * (cost(name) / interval) / wanted
                unit = (per_object or {}).get(name)
                fits = None if not unit else int(share * max_interval / 3600.0 // unit)
                overflow[name] = Overflow(cost(name) / max_interval, share, fits)
        monitoring_factor = min(monitoring_factor, max(max_interval / i for i in watched.values()))
    # what the monitoring collectors still spend: their stretched cost, or nothing if refused
    kept = sum(cost(n) / effective[n] for n in watched if n not in overflow)
    factor = 1.0
    if base > 0 and base + kept > allowed:
        factor = max(1.0, base / max(allowed - kept, allowed * 0.1)) if allowed > 0 else 1.0
        for name, interval in others.items():
            effective[name] = interval * factor
    per_hour = {n: 0.0 if n in overflow else cost(n) / effective[n] for n in intervals}
    return Plan(
        planned_per_hour=base + wanted,
        factor=factor,
        intervals=effective,
        monitoring_factor=monitoring_factor,
        per_hour=per_hour,
        overflow=overflow,
    )
