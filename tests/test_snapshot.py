"""Snapshots and the store: freshness, change detection, retention."""

from __future__ import annotations

from exporter.snapshot import Snapshot, SnapshotStore


def test_publish_notifies_only_when_data_changes() -> None:
    store = SnapshotStore()
    calls: list[int] = []
    store.subscribe(lambda: calls.append(store.data_version))
    data = (1, 2)
    assert store.publish(("a", "c"), Snapshot(data, 1, None, 1, 0))
    assert not store.publish(("a", "c"), Snapshot(data, 2, None, 2, 0))  # same object
    assert not store.publish(("a", "c"), Snapshot((1, 2), 3, None, 3, 0))  # equal data
    assert not store.publish(("a", "c"), Snapshot(data, 2, "boom", 4, 0))  # failure keeps data
    assert store.publish(("a", "c"), Snapshot((1,), 5, None, 5, 0))
    assert calls == [1, 2]


def test_freshness_is_measured_on_the_monotonic_clock() -> None:
    snapshot = Snapshot((), 1_790_000_000.0, None, 1_790_000_000.0, 0, fetched_mono=100.0)
    assert snapshot.fresh(280.0, 180)
    assert not snapshot.fresh(280.1, 180)
    assert not Snapshot(None, None, "never worked", 100.0, 0).fresh(100.0, 180)


def test_retain_drops_removed_keys() -> None:
    store = SnapshotStore()
    store.publish(("a", "c"), Snapshot((), 1, None, 1, 0))
    store.publish(("b", "c"), Snapshot((), 1, None, 1, 0))
    store.retain(lambda key: key[0] == "b")
    assert [k for k, _ in store.items()] == [("b", "c")]
