"""NFS shares and their snapshots: GET /v2/nfs and GET /v2/nfs/snapshots (scope nfs:list,
default every 15m).

Network File Storage is billed by the provisioned size of each share (`size_gib`), and its
snapshots by theirs, so both are exported with their size, state and creation time; each VPC a
share is reachable from is its own `_vpc_info` series (a relation, one per pair). Neither list
pages. The `region` query parameter is optional in the API description: without a `filter:`
one request lists every share; with `filter: {region: [...]}` each region is asked for on its
own (`?region=`), so only those shares are read.

    digitalocean_nfs_share_info{account="production",nfs_share_id="0a1b2c3d-...",name="sammy-share-drive",region="atl1",performance_tier="PERFORMANCE_TIER_HIGH"} 1
    digitalocean_nfs_share_size_bytes{account="production",nfs_share_id="0a1b2c3d-..."} 1099511627776
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    GIB,
    ShapeError,
    describe,
    objects,
    optional_int,
    optional_str,
    required_str,
    string_list,
    timestamp,
)

SHARES = "/v2/nfs"
SNAPSHOTS = "/v2/nfs/snapshots"
SHARE_STATES = ("CREATING", "ACTIVE", "INACTIVE", "FAILED", "DELETED")
SNAPSHOT_STATES = ("UNKNOWN", "CREATING", "ACTIVE", "FAILED", "DELETED")

INFO = Family(
    "digitalocean_nfs_share_info",
    "NFS share descriptive labels (always 1), polled from /v2/nfs.",
    ("nfs_share_id", "name", "region", "performance_tier"),
)
STATUS = Family(
    "digitalocean_nfs_share_status",
    "NFS share state, one series per state (1 for the current one), polled from /v2/nfs.",
    ("nfs_share_id", "status"),
)
SIZE = Family(
    "digitalocean_nfs_share_size_bytes",
    "Provisioned (billed) size of the NFS share, polled from /v2/nfs.",
    ("nfs_share_id",),
)
CREATED = Family(
    "digitalocean_nfs_share_created_timestamp_seconds",
    "When the NFS share was created, polled from /v2/nfs.",
    ("nfs_share_id",),
)
VPC = Family(
    "digitalocean_nfs_share_vpc_info",
    "A VPC the NFS share is reachable from, one series per VPC (always 1), polled from /v2/nfs.",
    ("nfs_share_id", "vpc_uuid"),
)
SNAPSHOT_INFO = Family(
    "digitalocean_nfs_snapshot_info",
    "NFS snapshot descriptive labels and its share (always 1), polled from /v2/nfs/snapshots.",
    ("nfs_snapshot_id", "name", "region", "nfs_share_id"),
)
SNAPSHOT_STATUS = Family(
    "digitalocean_nfs_snapshot_status",
    "NFS snapshot state, one series per state (1 for the current one), "
    "polled from /v2/nfs/snapshots.",
    ("nfs_snapshot_id", "status"),
)
SNAPSHOT_SIZE = Family(
    "digitalocean_nfs_snapshot_size_bytes",
    "Size of the NFS snapshot, polled from /v2/nfs/snapshots.",
    ("nfs_snapshot_id",),
)
SNAPSHOT_CREATED = Family(
    "digitalocean_nfs_snapshot_created_timestamp_seconds",
    "When the NFS snapshot was taken, polled from /v2/nfs/snapshots.",
    ("nfs_snapshot_id",),
)


@dataclass(frozen=True, slots=True)
class ShareRecord:
    share_id: str
    name: str
    region: str
    performance_tier: str
    status: str
    size_gib: int | None
    created_at: float | None
    vpc_ids: tuple[str, ...]  # sorted, without duplicates


@dataclass(frozen=True, slots=True)
class NfsSnapshotRecord:
    snapshot_id: str
    name: str
    region: str
    share_id: str
    status: str
    size_gib: int | None
    created_at: float | None


@dataclass(frozen=True, slots=True)
class NfsData:
    shares: tuple[ShareRecord, ...]
    snapshots: tuple[NfsSnapshotRecord, ...]


def listed(body: Mapping[str, Any], key: str, endpoint: str) -> list[Any]:
    items = body.get(key)
    if items is None:
        return []  # an account without shares may be answered with null
    if not isinstance(items, list):
        raise ShapeError(f"{endpoint} {key}: expected a list, got {describe(items)}")
    return items


def parse_shares(items: list[Any], where: str = f"{SHARES} shares") -> tuple[ShareRecord, ...]:
    records = {}
    for path, share in objects(items, where):
        record = ShareRecord(
            share_id=required_str(share, "id", path),
            name=optional_str(share, "name"),
            region=optional_str(share, "region"),
            performance_tier=optional_str(share, "performance_tier"),
            status=optional_str(share, "status"),
            size_gib=optional_int(share, "size_gib"),
            created_at=timestamp(share, "created_at"),
            vpc_ids=tuple(sorted(set(string_list(share, "vpc_ids")))),
        )
        records[record.share_id] = record
    return tuple(records[key] for key in sorted(records))


def parse_snapshots(
    items: list[Any], where: str = f"{SNAPSHOTS} snapshots"
) -> tuple[NfsSnapshotRecord, ...]:
    records = {}
    for path, snapshot in objects(items, where):
        record = NfsSnapshotRecord(
            snapshot_id=required_str(snapshot, "id", path),
            name=optional_str(snapshot, "name"),
            region=optional_str(snapshot, "region"),
            share_id=optional_str(snapshot, "share_id"),
            status=optional_str(snapshot, "status"),
            size_gib=optional_int(snapshot, "size_gib"),
            created_at=timestamp(snapshot, "created_at"),
        )
        records[record.snapshot_id] = record
    return tuple(records[key] for key in sorted(records))


async def fetch_with(reader: ResourceReader, context: PollContext) -> NfsData:
    regions = context.selection.regions
    queries: tuple[dict[str, str], ...] = tuple({"region": r} for r in regions) or ({},)
    shares: list[Any] = []
    snapshots: list[Any] = []
    for query in queries:
        shares += listed(await reader.get(SHARES, params=query or None), "shares", SHARES)
        snapshots += listed(await reader.get(SNAPSHOTS, params=query or None), "snapshots",
                            SNAPSHOTS)
    selection = context.selection
    kept = tuple(s for s in parse_shares(shares)
                 if selection.matches(object_id=s.share_id, name=s.name, region=s.region))
    # A filter selects shares; their snapshots follow them.
    kept_ids = {share.share_id for share in kept}
    return NfsData(
        shares=kept,
        snapshots=tuple(s for s in parse_snapshots(snapshots)
                        if selection.everything or s.share_id in kept_ids),
    )


async def fetch(reader: ResourceReader) -> NfsData:
    return await fetch_with(reader, PollContext())


def samples(data: NfsData) -> Iterator[Sample]:
    for share in data.shares:
        key = (share.share_id,)
        yield INFO.name, (*key, share.name, share.region, share.performance_tier), 1
        yield from state_set(STATUS.name, key, share.status, SHARE_STATES)
        yield from known_values(key, (
            (SIZE, None if share.size_gib is None else share.size_gib * GIB),
            (CREATED, share.created_at),
        ))
        for vpc in share.vpc_ids:
            yield VPC.name, (*key, vpc), 1
    for snapshot in data.snapshots:
        key = (snapshot.snapshot_id,)
        yield SNAPSHOT_INFO.name, (*key, snapshot.name, snapshot.region, snapshot.share_id), 1
        yield from state_set(SNAPSHOT_STATUS.name, key, snapshot.status, SNAPSHOT_STATES)
        yield from known_values(key, (
            (SNAPSHOT_SIZE, None if snapshot.size_gib is None else snapshot.size_gib * GIB),
            (SNAPSHOT_CREATED, snapshot.created_at),
        ))


COLLECTOR: Collector[NfsData] = Collector(
    name="nfs",
    summary="NFS shares and their snapshots: size, state, region, VPCs, age",
    endpoints=(SHARES, SNAPSHOTS),
    id_label="nfs_share_id",
    paged=None,
    scope="nfs:list",
    interval=900.0,
    families=(INFO, STATUS, SIZE, CREATED, VPC, SNAPSHOT_INFO, SNAPSHOT_STATUS, SNAPSHOT_SIZE,
              SNAPSHOT_CREATED),
    fetch=fetch,
    samples=samples,
    filters=("region", "name", "id"),
    fetch_with=fetch_with,
)
