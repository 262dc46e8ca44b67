"""VPC peerings: GET /v2/vpc_peerings (scope vpc_peering:read, default every 15m).

Each peering joins two VPC networks: its name on `_info`, one `_vpc_info` series per peered
VPC (join `vpc_id` with `digitalocean_vpc_info`), its state as a state set and its creation
time. A peering stuck in `provisioning` or gone to `deleting` shows up. Peerings are not billed.

    digitalocean_vpc_peering_info{account="production",vpc_peering_id="6b5c619c-359c-44ca-87e2-47e98170c01d",name="example-vpc-peering"} 1
    digitalocean_vpc_peering_vpc_info{account="production",vpc_peering_id="6b5c619c-359c-44ca-87e2-47e98170c01d",vpc_id="997615ce-132d-4bae-9270-9ee21b395e5d"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Facts, Family, PollContext, ResourceReader, Sample, state_set
from exporter.collectors.fields import objects, optional_str, required_str, sorted_by, string_list, timestamp

ENDPOINT = "/v2/vpc_peerings"
STATUSES = ("PROVISIONING", "ACTIVE", "DELETING")  # the spec's enum

INFO = Family(
    "digitalocean_vpc_peering_info",
    "VPC peering name (always 1), polled from /v2/vpc_peerings.",
    ("vpc_peering_id", "name"),
)
VPC = Family(
    "digitalocean_vpc_peering_vpc_info",
    "A VPC network the peering joins, one series per VPC (always 1), polled from "
    "/v2/vpc_peerings.",
    ("vpc_peering_id", "vpc_id"),
)
STATUS = Family(
    "digitalocean_vpc_peering_status",
    "VPC peering state (1 for the current one), polled from /v2/vpc_peerings.",
    ("vpc_peering_id", "status"),
)
CREATED = Family(
    "digitalocean_vpc_peering_created_timestamp_seconds",
    "When the VPC peering was created, polled from /v2/vpc_peerings.",
    ("vpc_peering_id",),
)


@dataclass(frozen=True, slots=True)
class VpcPeeringRecord:
    vpc_peering_id: str
    name: str
    vpc_ids: tuple[str, ...]  # sorted, each once
    status: str
    created_at: float | None


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} vpc_peerings"
) -> list[VpcPeeringRecord]:
    return [
        VpcPeeringRecord(
            vpc_peering_id=required_str(peering, "id", path),
            name=optional_str(peering, "name"),
            vpc_ids=tuple(sorted(set(string_list(peering, "vpc_ids")) - {""})),
            status=optional_str(peering, "status"),
            created_at=timestamp(peering, "created_at"),
        )
        for path, peering in objects(items, where, start)
    ]


def by_id(records: Iterable[VpcPeeringRecord]) -> tuple[VpcPeeringRecord, ...]:
    return sorted_by(records, lambda r: r.vpc_peering_id)


async def fetch(reader: ResourceReader) -> tuple[VpcPeeringRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[VpcPeeringRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = by_id(await reader.list_all(ENDPOINT, "vpc_peerings", parse=parse_page))
    return context.selection.keep(records, lambda r: Facts(r.vpc_peering_id, name=r.name))


def samples(peerings: tuple[VpcPeeringRecord, ...]) -> Iterator[Sample]:
    for p in peerings:
        key = (p.vpc_peering_id,)
        yield INFO.name, (*key, p.name), 1
        for vpc_id in p.vpc_ids:
            yield VPC.name, (*key, vpc_id), 1
        yield from state_set(STATUS.name, key, p.status or "unknown", STATUSES)
        if p.created_at is not None:
            yield CREATED.name, key, p.created_at


COLLECTOR: Collector[tuple[VpcPeeringRecord, ...]] = Collector(
    name="vpc_peerings",
    summary="VPC peerings: the two peered VPC networks, state, creation time",
    endpoints=(ENDPOINT,),
    id_label="vpc_peering_id",
    paged=ENDPOINT,
    scope="vpc_peering:read",
    interval=900.0,
    families=(INFO, VPC, STATUS, CREATED),
    fetch=fetch,
    filters=("name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
