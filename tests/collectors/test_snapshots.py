"""Snapshots against the official examples: sizes in whole bytes, source, regions, age."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import snapshots
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import spec_example

DROPLET_SNAPSHOT = "6372321"
VOLUME_SNAPSHOT = "fbe805e8-866b-11e6-96bf-000f53315a41"
GIB = 1073741824


def sample_map(records: tuple[snapshots.SnapshotRecord, ...]) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in snapshots.samples(records)}


async def test_values_from_the_all_snapshots_example() -> None:
    reader = FakeReader({"/v2/snapshots": spec_example("/v2/snapshots", "All Snapshots")})
    records = await snapshots.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", "/v2/snapshots", "snapshots")
    ]
    assert [r.snapshot_id for r in records] == [DROPLET_SNAPSHOT, VOLUME_SNAPSHOT]
    samples = sample_map(records)
    assert samples == {
        ("digitalocean_snapshot_info", (DROPLET_SNAPSHOT, "web-01-1595954862243", "droplet",
                                        "200776916")): 1,
        # one series per region the snapshot is stored in, never a list in one label
        ("digitalocean_snapshot_region_info", (DROPLET_SNAPSHOT, "nyc3")): 1,
        ("digitalocean_snapshot_region_info", (DROPLET_SNAPSHOT, "sfo3")): 1,
        # 2.34 GiB = 2512555868.16 bytes, rounded to whole bytes
        ("digitalocean_snapshot_size_bytes", (DROPLET_SNAPSHOT,)): 2512555868,
        ("digitalocean_snapshot_min_disk_size_bytes", (DROPLET_SNAPSHOT,)): 25 * GIB,
        ("digitalocean_snapshot_created_timestamp_seconds", (DROPLET_SNAPSHOT,)): 1595954864,
        ("digitalocean_snapshot_info", (VOLUME_SNAPSHOT, "pvc-01-1595954862243", "volume",
                                        "89bcc42f-85cf-11e6-a004-000f53315871")): 1,
        ("digitalocean_snapshot_region_info", (VOLUME_SNAPSHOT, "nyc1")): 1,
        # 0.1008 GiB = 108233175.8592 bytes
        ("digitalocean_snapshot_size_bytes", (VOLUME_SNAPSHOT,)): 108233176,
        ("digitalocean_snapshot_min_disk_size_bytes", (VOLUME_SNAPSHOT,)): 2 * GIB,
        ("digitalocean_snapshot_created_timestamp_seconds", (VOLUME_SNAPSHOT,)): 1569712470,
    }
    assert all(type(v) is int for (n, _), v in samples.items() if n.endswith("_bytes"))


def test_the_filtered_examples_are_the_two_kinds() -> None:
    droplets = snapshots.parse_snapshots(spec_example("/v2/snapshots", "Droplets Snapshots")["snapshots"])
    volumes = snapshots.parse_snapshots(spec_example("/v2/snapshots", "Volume Snapshots")["snapshots"])
    assert [(r.snapshot_id, r.resource_type) for r in droplets] == [(DROPLET_SNAPSHOT, "droplet")]
    assert [(r.snapshot_id, r.resource_type) for r in volumes] == [(VOLUME_SNAPSHOT, "volume")]


def test_missing_and_null_descriptive_fields_are_tolerated() -> None:
    [record] = snapshots.parse_snapshots([{
        "id": "s1", "name": None, "resource_type": None, "size_gigabytes": None,
        "min_disk_size": "25", "created_at": "yesterday",
    }])
    assert record == snapshots.SnapshotRecord("s1", "", "", "", (), None, None, None)
    assert list(snapshots.samples((record,))) == [
        ("digitalocean_snapshot_info", ("s1", "", "", ""), 1)  # no regions: no region series
    ]


def test_numeric_source_id_regions_and_whole_sizes() -> None:
    [record] = snapshots.parse_snapshots([{
        "id": "s1", "resource_id": 200776916, "regions": ["sfo3", "nyc3", "sfo3", 7],
        "size_gigabytes": 1.5, "min_disk_size": 10,
    }])
    assert (record.resource_id, record.regions) == ("200776916", ("nyc3", "sfo3"))
    assert list(snapshots.samples((record,)))[:3] == [
        ("digitalocean_snapshot_info", ("s1", "", "", "200776916"), 1),
        ("digitalocean_snapshot_region_info", ("s1", "nyc3"), 1),  # sorted, each once
        ("digitalocean_snapshot_region_info", ("s1", "sfo3"), 1),
    ]
    assert sample_map((record,)) == {
        ("digitalocean_snapshot_info", ("s1", "", "", "200776916")): 1,
        ("digitalocean_snapshot_region_info", ("s1", "nyc3")): 1,
        ("digitalocean_snapshot_region_info", ("s1", "sfo3")): 1,
        ("digitalocean_snapshot_size_bytes", ("s1",)): 1610612736,
        ("digitalocean_snapshot_min_disk_size_bytes", ("s1",)): 10 * GIB,
    }


async def test_an_id_repeated_by_a_shifting_list_counts_once_and_output_is_sorted_by_id() -> None:
    # the reader drops the repeat (as the client does); the collector only sorts
    reader = FakeReader({"/v2/snapshots": {"snapshots": [
        {"id": "b", "name": "first"}, {"id": "a"}, {"id": "b", "name": "second"},
    ]}}, page_size=2)
    records = await snapshots.fetch(reader)
    assert [(r.snapshot_id, r.name) for r in records] == [("a", ""), ("b", "first")]
    assert reader.dropped == {"/v2/snapshots": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no id"}], "/v2/snapshots snapshots[0].id: expected a non-empty string, got null"),
        ([{"id": 6372321}],
         "/v2/snapshots snapshots[0].id: expected a non-empty string, got the number 6372321"),
        ([{"id": "a"}, []], "/v2/snapshots snapshots[1]: expected an object, got a list"),
        ({"snapshots": []}, "/v2/snapshots snapshots: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        snapshots.parse_snapshots(items)
    assert str(caught.value) == message
