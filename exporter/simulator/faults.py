"""Which configured faults fire for a request: matching, counting and seeded chance.

A `FaultPlan` holds the active `Fault`s and their counters. For each API request the server
asks `triggered(...)` once; faults are checked in order, side-effect faults (latency, churn)
let the request go on, and the first fault that answers the request itself (error, rate
limit, hang, malformed body, token revocation) ends the list, so later faults neither fire nor
count that request as fired. Probabilities come from one `random.Random(seed)`, so a run with
the same requests in the same order fires the same faults.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from exporter.simulator.config import Fault
from exporter.simulator.determinism import seeded_random

ANSWERING_KINDS = frozenset({"error", "rate_limit", "hang", "malformed", "revoke_token"})


@dataclass(frozen=True)
class RequestFacts:
    """What a fault filter can look at."""

    endpoint: str
    page: int | None
    account: str | None
    token: str | None


@dataclass
class FaultCounter:
    fault: Fault
    matched: int = 0
    fired: int = 0

    def matches(self, facts: RequestFacts) -> bool:
        fault = self.fault
        return (
            (fault.endpoint is None or fault.endpoint == facts.endpoint)
            and (fault.page is None or fault.page == facts.page)
            and (fault.account is None or fault.account == facts.account)
            and (fault.token is None or fault.token == facts.token)
        )


class FaultPlan:
    """The active faults and how often each has matched and fired. Thread-safe."""

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._counters: list[FaultCounter] = []
        self._rng = seeded_random("faults", seed)
        self.replace(faults)

    def replace(self, faults: Iterable[Fault]) -> None:
        """Activate `faults` from scratch: counters and the random sequence start over."""
        with self._lock:
            self._counters = [FaultCounter(fault) for fault in faults]
            self._rng = seeded_random("faults", self._seed)

    def faults(self) -> tuple[Fault, ...]:
        with self._lock:
            return tuple(counter.fault for counter in self._counters)

    def fired_counts(self) -> list[int]:
        with self._lock:
            return [counter.fired for counter in self._counters]

    def triggered(self, facts: RequestFacts) -> list[Fault]:
        """The faults that fire for this request, in configuration order."""
        fired: list[Fault] = []
        with self._lock:
            for counter in self._counters:
                fault = counter.fault
                if not counter.matches(facts):
                    continue
                counter.matched += 1
                eligible = counter.matched - fault.after
                if eligible <= 0:
                    continue
                if fault.count is not None and counter.fired >= fault.count:
                    continue
                if fault.kind == "churn" and eligible % fault.every != 0:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                counter.fired += 1
                fired.append(fault)
                if fault.kind in ANSWERING_KINDS:
                    break
        return fired
