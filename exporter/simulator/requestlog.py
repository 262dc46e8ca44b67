"""The record of every API request the simulator answered, for tests to count.

Entries name the token, never its secret. The log is bounded (oldest entries dropped first),
so a benchmark that runs for hours does not grow without limit; counts cover what is kept.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    method: str
    endpoint: str
    """The path template, e.g. "/v2/droplets" or "/v2/droplets/{droplet_id}"; the raw path
    when nothing matched."""
    path: str
    """Path and query as requested."""
    account: str | None
    token_name: str | None
    status: int | None
    """None when the connection was closed without an answer (a hang or a disconnect fault)."""
    time: float
    request_id: str
    fault: str | None = None
    """The kinds of fault that shaped this answer, comma-separated; None if there were none."""
    user_agent: str | None = None
    """The client's User-Agent header (a sharded exporter names its shard there)."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe, bounded list of `RequestRecord`s."""

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RequestRecord] = deque(maxlen=limit)

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._entries.append(record)

    def entries(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._entries)

    def count(
        self,
        endpoint: str | None = None,
        account: str | None = None,
        token_name: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many logged requests match every filter given."""
        return sum(
            1
            for entry in self.entries()
            if (endpoint is None or entry.endpoint == endpoint)
            and (account is None or entry.account == account)
            and (token_name is None or entry.token_name == token_name)
            and (status is None or entry.status == status)
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
