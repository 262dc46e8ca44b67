"""Snapshots: GET /v2/snapshots (scope snapshot:read, default every 15m).

Droplet and volume snapshots are billed by size every month and are easy to forget, so each one
is exported with its size, the source it was taken from and its creation time (for age alerts).
Sizes arrive in GiB (`size_gigabytes` is a float) and are exported in whole bytes. Each region
a snapshot is stored in is its own `_region_info` series (a relation, one per pair), so
`count by (region)` and joins on `region` work; a list in one label would change its value, and
so the `_info` series, whenever a copy is added or removed.

    digitalocean_snapshot_info{account="production",snapshot_id="6372321",name="web-01-1595954862243",resource_type="droplet",resource_id="200776916"} 1
    digitalocean_snapshot_region_info{account="production",snapshot_id="6372321",region="nyc3"} 1
    digitalocean_snapshot_size_bytes{account="production",snapshot_id="6372321"} 2512555868
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import (
    GIB,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_str,
    sorted_by,
    string_list,
    timestamp,
)

ENDPOINT = "/v2/snapshots"

INFO = Family(
    "digitalocean_snapshot_info",
    "Snapshot descriptive labels: name and source resource (always 1), polled from /v2/snapshots.",
    ("snapshot_id", "name", "resource_type", "resource_id"),
)
REGION = Family(
    "digitalocean_snapshot_region_info",
    "A region the snapshot is stored in, one series per region (always 1), "
    "polled from /v2/snapshots.",
    ("snapshot_id", "region"),
)
SIZE = Family(
    "digitalocean_snapshot_size_bytes",
    "Billable size of the snapshot, polled from /v2/snapshots.",
    ("snapshot_id",),
)
MIN_DISK_SIZE = Family(
    "digitalocean_snapshot_min_disk_size_bytes",
    "Smallest disk a Droplet or volume restored from the snapshot needs, polled from /v2/snapshots.",
    ("snapshot_id",),
)
CREATED = Family(
    "digitalocean_snapshot_created_timestamp_seconds",
    "When the snapshot was taken, polled from /v2/snapshots.",
    ("snapshot_id",),
)


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    snapshot_id: str
    name: str
    resource_type: str  # "droplet" or "volume"
    resource_id: str  # the source Droplet's or volume's id, as text
    regions: tuple[str, ...]  # sorted, without duplicates
    size_bytes: int | None
    min_disk_size_bytes: int | None
    created_at: float | None


def gib_to_bytes(gib: float) -> int:
    """Whole bytes from a GiB figure. The API rounds `size_gigabytes` to a few decimals, so a
    fraction of a byte carries no information; Decimal keeps 2.34 GiB from becoming
    2512555868.1599998."""
    return int((Decimal(repr(gib)) * GIB).to_integral_value(ROUND_HALF_EVEN))


def id_text(obj: Mapping[str, Any], key: str) -> str:
    """An id that the spec types as a string but that names a resource whose own id may be an
    integer (a Droplet's): both read as text, anything else as ""."""
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def parse_snapshots(
    items: list[Any], where: str = f"{ENDPOINT} snapshots"
) -> tuple[SnapshotRecord, ...]:
    return by_id(parse_page(items, 0, where))


def by_id(records: Iterable[SnapshotRecord]) -> tuple[SnapshotRecord, ...]:
    return sorted_by(records, lambda r: r.snapshot_id)


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} snapshots"
) -> list[SnapshotRecord]:
    """Records of one page of the snapshot list (`start`: the index of its first item)."""
    records = []
    for path, snapshot in objects(items, where, start):
        size_gib = optional_number(snapshot, "size_gigabytes")
        min_disk_gib = optional_int(snapshot, "min_disk_size")
        record = SnapshotRecord(
            snapshot_id=required_str(snapshot, "id", path),
            name=optional_str(snapshot, "name"),
            resource_type=optional_str(snapshot, "resource_type"),
            resource_id=id_text(snapshot, "resource_id"),
            regions=tuple(sorted(set(string_list(snapshot, "regions")))),
            size_bytes=None if size_gib is None else gib_to_bytes(size_gib),
            min_disk_size_bytes=None if min_disk_gib is None else min_disk_gib * GIB,
            created_at=timestamp(snapshot, "created_at"),
        )
        records.append(record)
    return records


async def fetch(reader: ResourceReader) -> tuple[SnapshotRecord, ...]:
    # No `resource_type` filter: one list holds both kinds, and it is paged like any other.
    return by_id(await reader.list_all(ENDPOINT, "snapshots", parse=parse_page))


def samples(snapshots: tuple[SnapshotRecord, ...]) -> Iterator[Sample]:
    for s in snapshots:
        key = (s.snapshot_id,)
        yield INFO.name, (*key, s.name, s.resource_type, s.resource_id), 1
        for region in s.regions:
            yield REGION.name, (*key, region), 1
        yield from known_values(key, (
            (SIZE, s.size_bytes),
            (MIN_DISK_SIZE, s.min_disk_size_bytes),
            (CREATED, s.created_at),
        ))


COLLECTOR: Collector[tuple[SnapshotRecord, ...]] = Collector(
    name="snapshots",
    summary="droplet and volume snapshots: size, source resource, regions, age",
    endpoints=(ENDPOINT,),
    id_label="snapshot_id",
    paged=ENDPOINT,
    scope="snapshot:read",
    interval=900.0,
    families=(INFO, REGION, SIZE, MIN_DISK_SIZE, CREATED),
    fetch=fetch,
    samples=samples,
)
