"""The per-token request budget: how fast one account may call the DigitalOcean API.

DigitalOcean allows 5,000 requests per rolling hour and 250 per rolling minute per token. The
exporter keeps its own, lower budget (`api.requests_per_hour`, and a per-minute cap below 250) so a
poll never trips the real limit, and pauses every request of a token when the API says to wait
(a 429, or `ratelimit-remaining: 0`).

Replicas of the same shard (`api.replicas: N`, for high availability) each poll every account
with the same tokens, so each keeps 1/N of both windows: together they stay inside the budget.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextvars import ContextVar

from exporter.clock import Clock

HOUR = 3600.0
MINUTE = 60.0
DEFAULT_PER_MINUTE = 200  # below DigitalOcean's 250/min, leaving room for retries
# Requests made while this is True (the Monitoring API collectors: hundreds per poll) yield to
# every other request of the token, and leave this share of each window to them, so a long
# metrics poll never holds up inventory or billing.
background: ContextVar[bool] = ContextVar("background", default=False)
BACKGROUND_SHARE = 0.75


def replica_share(per_hour: int, per_minute: int = DEFAULT_PER_MINUTE,
                  replicas: int = 1) -> tuple[int, int]:
    """This process's hourly and per-minute allowance when `replicas` processes spend the same
    token's budget: 1/replicas of each (rounded down, at least 1)."""
    return max(1, per_hour // replicas), max(1, min(per_minute, per_hour) // replicas)


class RequestBudget:
    """Rolling-window pacing for one token; `acquire()` waits until a request is allowed."""

    def __init__(
        self, per_hour: int, clock: Clock, per_minute: int = DEFAULT_PER_MINUTE, replicas: int = 1
    ) -> None:
        self.per_hour, self.per_minute = replica_share(per_hour, per_minute, replicas)
        self.replicas = replicas
        self._clock = clock
        self._hour: deque[float] = deque()
        self._minute: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def set_limits(self, per_hour: int, replicas: int = 1,
                   per_minute: int = DEFAULT_PER_MINUTE) -> None:
        """New limits (a reload), keeping the requests already counted in both windows."""
        self.per_hour, self.per_minute = replica_share(per_hour, per_minute, replicas)
        self.replicas = replicas

    def _purge(self, now: float) -> None:
        while self._hour and self._hour[0] <= now - HOUR:
            self._hour.popleft()
        while self._minute and self._minute[0] <= now - MINUTE:
            self._minute.popleft()

    def _wait(self, now: float, share: float = 1.0) -> float:
        self._purge(now)
        wait = self._paused_until - now
        per_hour = max(1, int(self.per_hour * share))
        per_minute = max(1, int(self.per_minute * share))
        if len(self._hour) >= per_hour:
            wait = max(wait, self._hour[len(self._hour) - per_hour] + HOUR - now)
        if len(self._minute) >= per_minute:
            wait = max(wait, self._minute[len(self._minute) - per_minute] + MINUTE - now)
        return wait

    async def acquire(self) -> None:
        if background.get():
            await self._acquire_background()
            return
        # One waiter at a time, so requests leave in the order they asked.
        async with self._lock:
            while (wait := self._wait(self._clock.monotonic())) > 0:
                await self._clock.sleep(wait)
            self._take()

    async def _acquire_background(self) -> None:
        """Take a request only when no foreground request waits, within BACKGROUND_SHARE of
        each window; sleep without holding the lock, so foreground requests pass first."""
        while True:
            async with self._lock:
                wait = self._wait(self._clock.monotonic(), BACKGROUND_SHARE)
                if wait <= 0:
                    self._take()
                    return
            await self._clock.sleep(max(wait, 0.05))

    def _take(self) -> None:
        now = self._clock.monotonic()
        self._hour.append(now)
        self._minute.append(now)

    def pause(self, seconds: float) -> None:
        """Hold every request of this token for `seconds` (the API asked us to back off)."""
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def used_last_hour(self) -> int:
        self._purge(self._clock.monotonic())
        return len(self._hour)
