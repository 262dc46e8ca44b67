"""Per-token rate limits with DigitalOcean's semantics, on an injected clock.

Two rolling windows per credential: each request counts against the hourly limit for one hour
after it was made, and against the burst limit for one minute. `ratelimit-remaining` is what
is left of the hourly window; `ratelimit-reset` is when its oldest counted request expires.
A request refused with 429 is not counted. Over the burst limit the 429 carries `retry-after`;
over the hourly limit it does not.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

HOUR = 3600.0
MINUTE = 60.0


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int | None = None
    """Seconds until the burst window has room again; only when the burst limit refused."""

    def headers(self) -> dict[str, str]:
        headers = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset),
        }
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers


@dataclass
class RequestWindows:
    hour: deque[float] = field(default_factory=deque)
    minute: deque[float] = field(default_factory=deque)

    def expire(self, now: float) -> None:
        while self.hour and self.hour[0] + HOUR <= now:
            self.hour.popleft()
        while self.minute and self.minute[0] + MINUTE <= now:
            self.minute.popleft()


class RateLimiter:
    """Counts requests per credential. Thread-safe."""

    def __init__(self, *, per_hour: int, per_minute: int) -> None:
        self.per_hour = per_hour
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, RequestWindows] = {}

    def _reset(self, windows: RequestWindows, now: float) -> int:
        oldest = windows.hour[0] + HOUR if windows.hour else now
        return math.ceil(oldest)

    def admit(self, key: str, now: float) -> RateDecision:
        """Count one request of `key` at `now`, unless a limit refuses it."""
        with self._lock:
            windows = self._windows.setdefault(key, RequestWindows())
            windows.expire(now)
            if len(windows.hour) >= self.per_hour:
                return RateDecision(False, self.per_hour, 0, self._reset(windows, now))
            if len(windows.minute) >= self.per_minute:
                wait = max(1, math.ceil(windows.minute[0] + MINUTE - now))
                remaining = self.per_hour - len(windows.hour)
                return RateDecision(
                    False, self.per_hour, remaining, self._reset(windows, now), retry_after=wait
                )
            windows.hour.append(now)
            windows.minute.append(now)
            remaining = self.per_hour - len(windows.hour)
            return RateDecision(True, self.per_hour, remaining, self._reset(windows, now))

    def current(self, key: str, now: float) -> RateDecision:
        """The state of `key` without counting a request."""
        with self._lock:
            windows = self._windows.setdefault(key, RequestWindows())
            windows.expire(now)
            remaining = self.per_hour - len(windows.hour)
            return RateDecision(True, self.per_hour, remaining, self._reset(windows, now))
