"""Snapshots: the last poll of each (account, collector), immutable and swapped by reference.

A snapshot carries the parsed data (for derived families such as costs) and the same data already
encoded as exposition lines: a poll is fetch -> parse -> samples -> encoded fragment, all or
nothing, so a snapshot that has data always has its fragment.

The poller writes, the renderer and the HTTP threads read. A Snapshot is never changed in place;
publishing replaces the reference, so a reader always sees one whole poll (never half a fleet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SnapshotKey = tuple[str, str]  # (account, collector)


@dataclass(frozen=True)
class Snapshot:
    """The last good data of one (account, collector) and how its latest poll went."""

    data: Any  # the collector's parsed records; None until a poll has succeeded
    fetched_at: float | None  # wall time the data was fetched; None if never
    error: str | None  # why the latest poll failed; None if it succeeded
    polled_at: float  # wall time the latest poll ended
    duration: float  # seconds the latest poll took
    # the data encoded as exposition lines by family (made by the poll itself); None if never
    fragment: Mapping[str, bytes] | None = None
    # monotonic time the data was fetched: ages are measured on it, so a wall clock stepped
    # back (or forward) never keeps stale data alive (or drops fresh data)
    fetched_mono: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def fresh(self, monotonic_now: float, stale_after: float) -> bool:
        return self.fetched_mono is not None and monotonic_now - self.fetched_mono <= stale_after


class SnapshotStore:
    """The latest Snapshot per key, with a callback when data (not just timing) changes."""

    def __init__(self) -> None:
        self._snapshots: dict[SnapshotKey, Snapshot] = {}
        self.data_version = 0
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def get(self, key: SnapshotKey) -> Snapshot | None:
        return self._snapshots.get(key)

    def items(self) -> list[tuple[SnapshotKey, Snapshot]]:
        return list(self._snapshots.copy().items())

    def publish(self, key: SnapshotKey, snapshot: Snapshot) -> bool:
        """Store a snapshot; True (and listeners called) when its data differs from before."""
        previous = self._snapshots.get(key)
        self._snapshots[key] = snapshot
        changed = previous is None or (
            previous.data is not snapshot.data and previous.data != snapshot.data
        )
        if changed:
            self.data_version += 1
            for listener in self._listeners:
                listener()
        return changed

    def retain(self, keep: Callable[[SnapshotKey], bool]) -> None:
        """Forget snapshots of accounts or collectors that no longer exist (after a reload)."""
        dropped = [key for key in self._snapshots if not keep(key)]
        for key in dropped:
            del self._snapshots[key]
        if dropped:
            self.data_version += 1
            for listener in self._listeners:
                listener()
