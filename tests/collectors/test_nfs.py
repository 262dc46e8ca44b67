"""NFS shares and snapshots: the spec's schema examples (the operations have no example of their
own) parsed into exact series; a region filter asks the API per region; identity is strict,
the rest lenient; a 403 names the scope."""

from __future__ import annotations

import re

import pytest

from exporter.collectors import nfs
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import example_reader, response_example

SHARE = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
SNAPSHOT = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"  # the spec reuses the id in both examples
SOURCE = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


async def test_the_schema_examples_become_exact_series() -> None:
    reader = example_reader()
    data = await nfs.fetch(reader)
    assert list(nfs.samples(data)) == [
        ("digitalocean_nfs_share_info", (SHARE, "sammy-share-drive", "atl1",
                                         "PERFORMANCE_TIER_HIGH"), 1),
        ("digitalocean_nfs_share_status", (SHARE, "creating"), 0),
        ("digitalocean_nfs_share_status", (SHARE, "active"), 1),
        ("digitalocean_nfs_share_status", (SHARE, "inactive"), 0),
        ("digitalocean_nfs_share_status", (SHARE, "failed"), 0),
        ("digitalocean_nfs_share_status", (SHARE, "deleted"), 0),
        ("digitalocean_nfs_share_size_bytes", (SHARE,), 1024 * 2**30),
        ("digitalocean_nfs_share_created_timestamp_seconds", (SHARE,), 1672531200.0),
        ("digitalocean_nfs_share_vpc_info", (SHARE, "796c6fe3-2a1d-4da2-9f3e-38239827dc91"), 1),
        ("digitalocean_nfs_snapshot_info", (SNAPSHOT, "daily-backup", "atl1", SOURCE), 1),
        ("digitalocean_nfs_snapshot_status", (SNAPSHOT, "unknown"), 0),
        ("digitalocean_nfs_snapshot_status", (SNAPSHOT, "creating"), 1),
        ("digitalocean_nfs_snapshot_status", (SNAPSHOT, "active"), 0),
        ("digitalocean_nfs_snapshot_status", (SNAPSHOT, "failed"), 0),
        ("digitalocean_nfs_snapshot_status", (SNAPSHOT, "deleted"), 0),
        ("digitalocean_nfs_snapshot_size_bytes", (SNAPSHOT,), 1024 * 2**30),
        ("digitalocean_nfs_snapshot_created_timestamp_seconds", (SNAPSHOT,), 1699979361.0),
    ]
    # Neither list pages: one plain request each, without a region.
    assert [(r.method, r.route) for r in reader.requests] == [
        ("get", "/v2/nfs"), ("get", "/v2/nfs/snapshots")]


async def test_a_region_filter_asks_per_region_and_keeps_the_selected_shares_snapshots() -> None:
    share = response_example("/v2/nfs")["shares"][0]
    snapshot = response_example("/v2/nfs/snapshots")["snapshots"][0]
    other = {**share, "id": "s2", "name": "scratch", "region": "nyc3"}
    reader = FakeReader({
        "/v2/nfs?region=atl1": {"shares": [share]},
        "/v2/nfs?region=nyc3": {"shares": [other]},
        "/v2/nfs/snapshots?region=atl1": {"snapshots": [{**snapshot, "share_id": SHARE}]},
        "/v2/nfs/snapshots?region=nyc3": {"snapshots": [{**snapshot, "id": "n2", "share_id": "s2",
                                                         "region": "nyc3"}]},
    })
    context = PollContext(selection=Selection(regions=("atl1", "nyc3"), name=re.compile("sammy.*")))
    data = await nfs.COLLECTOR.collect(reader, context)
    assert [s.share_id for s in data.shares] == [SHARE]
    assert [s.snapshot_id for s in data.snapshots] == [SNAPSHOT]
    assert sorted(r.route for r in reader.requests) == [
        "/v2/nfs/snapshots?region=atl1", "/v2/nfs/snapshots?region=nyc3",
        "/v2/nfs?region=atl1", "/v2/nfs?region=nyc3"]


def test_a_share_without_id_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        nfs.parse_shares([{"id": "a"}, {"name": "no id"}])
    assert str(caught.value) == "/v2/nfs shares[1].id: expected a non-empty string, got null"


async def test_a_list_of_the_wrong_type_fails_and_null_reads_as_none() -> None:
    with pytest.raises(ShapeError, match=r"^/v2/nfs shares: expected a list, got an object$"):
        await nfs.fetch(FakeReader({"/v2/nfs": {"shares": {}}, "/v2/nfs/snapshots": {}}))
    data = await nfs.fetch(FakeReader({"/v2/nfs": {"shares": None},
                                       "/v2/nfs/snapshots": {"snapshots": None}}))
    assert data == nfs.NfsData(shares=(), snapshots=())


def test_descriptive_fields_are_lenient_and_an_unknown_state_shows() -> None:
    [share] = nfs.parse_shares([{"id": "x", "size_gib": "big", "status": "RESIZING",
                                 "vpc_ids": ["v2", None, "v1", "v2"], "created_at": "yesterday"}])
    got = list(nfs.samples(nfs.NfsData(shares=(share,), snapshots=())))
    assert ("digitalocean_nfs_share_status", ("x", "resizing"), 1) in got
    assert [labels for name, labels, _ in got if name == "digitalocean_nfs_share_vpc_info"] == [
        ("x", "v1"), ("x", "v2")]
    names = {name for name, _, _ in got}
    assert "digitalocean_nfs_share_size_bytes" not in names
    assert "digitalocean_nfs_share_created_timestamp_seconds" not in names
