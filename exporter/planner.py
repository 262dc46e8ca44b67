"""The request budget planner: what the configured intervals cost per hour, and how far they
must stretch to stay inside a token's budget.

Each collector's cost is measured, not guessed: the requests its last poll made (a fleet of
50,000 Droplets costs 250 requests per Droplet poll). Until a collector has polled, it counts as
one request. When the hourly total exceeds the budget's planning share, every interval of the
account stretches by the same factor, so the mix of collectors keeps its proportions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Plan to 90 % of the budget: retries, 429 waits and token checks need the rest.
PLANNING_SHARE = 0.9


@dataclass(frozen=True)
class Plan:
    planned_per_hour: float  # requests per hour at the configured intervals
    factor: float  # >= 1: how much every interval is stretched
    intervals: Mapping[str, float] = field(default_factory=dict)  # effective, seconds

    @property
    def stretched(self) -> bool:
        return self.factor > 1.0


def plan(
    requests_per_poll: Mapping[str, int], intervals: Mapping[str, float], requests_per_hour: int
) -> Plan:
    """The plan for one account; `intervals` are the configured ones of its enabled collectors."""
    planned = sum(
        max(1, requests_per_poll.get(name, 1)) * 3600.0 / interval
        for name, interval in intervals.items()
    )
    allowed = requests_per_hour * PLANNING_SHARE
    factor = max(1.0, planned / allowed) if allowed > 0 else 1.0
    return Plan(
        planned_per_hour=planned,
        factor=factor,
        intervals={name: interval * factor for name, interval in intervals.items()},
    )
