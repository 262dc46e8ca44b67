"""The per-token request budget: how fast one account may call the DigitalOcean API.

DigitalOcean allows 5,000 requests per rolling hour and 250 per rolling minute per token. The
exporter keeps its own, lower budget (`api.requests_per_hour`, and a per-minute cap below 250) so a
poll never trips the real limit, and pauses every request of a token when the API says to wait
(a 429, or `ratelimit-remaining: 0`).
"""

from __future__ import annotations

import asyncio
from collections import deque

from exporter.clock import Clock

HOUR = 3600.0
MINUTE = 60.0
DEFAULT_PER_MINUTE = 200  # below DigitalOcean's 250/min, leaving room for retries


class RequestBudget:
    """Rolling-window pacing for one token; `acquire()` waits until a request is allowed."""

    def __init__(self, per_hour: int, clock: Clock, per_minute: int = DEFAULT_PER_MINUTE) -> None:
        self.per_hour = per_hour
        self.per_minute = min(per_minute, per_hour)
        self._clock = clock
        self._hour: deque[float] = deque()
        self._minute: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _purge(self, now: float) -> None:
        while self._hour and self._hour[0] <= now - HOUR:
            self._hour.popleft()
        while self._minute and self._minute[0] <= now - MINUTE:
            self._minute.popleft()

    def _wait(self, now: float) -> float:
        self._purge(now)
        wait = self._paused_until - now
        if len(self._hour) >= self.per_hour:
            wait = max(wait, self._hour[0] + HOUR - now)
        if len(self._minute) >= self.per_minute:
            wait = max(wait, self._minute[0] + MINUTE - now)
        return wait

    async def acquire(self) -> None:
        # One waiter at a time, so requests leave in the order they asked.
        async with self._lock:
            while (wait := self._wait(self._clock.monotonic())) > 0:
                await self._clock.sleep(wait)
            now = self._clock.monotonic()
            self._hour.append(now)
            self._minute.append(now)

    def pause(self, seconds: float) -> None:
        """Hold every request of this token for `seconds` (the API asked us to back off)."""
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def used_last_hour(self) -> int:
        self._purge(self._clock.monotonic())
        return len(self._hour)
