"""VPCs: GET /v2/vpcs, then GET /v2/vpcs/{vpc_id}/members per VPC (scope vpc:read, default every
15m, one request per VPC and members page on top of the list).

Each VPC network exports its region, IP range and whether it is the region's default, and how
many resources of each type are in it (the type is read from each member's URN
`do:<type>:<id>`), so a VPC that empties or fills up shows up. A VPC without members has no
`_members` series: `digitalocean_vpc_info unless on (vpc_id) digitalocean_vpc_members` finds them.
The free-text description is never read. A VPC deleted between the two requests (its members
answer 404) is left out of that poll.

    digitalocean_vpc_info{account="production",vpc_id="5a4981aa-9653-4bd1-bef5-d6bff52042e4",name="env.prod-vpc",region="nyc1",ip_range="10.10.10.0/24",default="false"} 1
    digitalocean_vpc_members{account="production",vpc_id="5a4981aa-9653-4bd1-bef5-d6bff52042e4",resource_type="droplet"} 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from exporter.collectors.base import FOLLOW_UP_CONCURRENCY, Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import (
    bool_label,
    objects,
    optional_str,
    required_str,
    timestamp,
)
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/vpcs"
MEMBERS_ENDPOINT = "/v2/vpcs/{vpc_id}/members"
UNKNOWN_TYPE = "unknown"  # a member whose URN cannot be read is still counted, visibly

INFO = Family(
    "digitalocean_vpc_info",
    "VPC network region, IP range and whether it is the default network of its region (always 1), "
    "polled from /v2/vpcs.",
    ("vpc_id", "name", "region", "ip_range", "default"),
)
MEMBERS = Family(
    "digitalocean_vpc_members",
    "Resources in the VPC network by resource type, polled from /v2/vpcs/{vpc_id}/members.",
    ("vpc_id", "resource_type"),
)
CREATED = Family(
    "digitalocean_vpc_created_timestamp_seconds",
    "When the VPC network was created, polled from /v2/vpcs.",
    ("vpc_id",),
)


@dataclass(frozen=True, slots=True)
class VpcRecord:
    vpc_id: str
    name: str
    region: str
    ip_range: str
    default: str  # "true", "false", or "" when the answer omits it
    created_at: float | None
    member_counts: tuple[tuple[str, int], ...] = ()  # (resource type, count), sorted by type


def parse_vpcs(items: list[Any], where: str = f"{ENDPOINT} vpcs") -> tuple[VpcRecord, ...]:
    """VPCs without their member counts, sorted by id."""
    records: list[VpcRecord] = []
    for path, vpc in objects(items, where):
        record = VpcRecord(
            vpc_id=required_str(vpc, "id", path),
            name=optional_str(vpc, "name"),
            region=optional_str(vpc, "region"),
            ip_range=optional_str(vpc, "ip_range"),
            default=bool_label(vpc, "default"),
            created_at=timestamp(vpc, "created_at"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.vpc_id))


def resource_type(urn: str) -> str:
    """The `<type>` of `do:<type>:<id>`, or "unknown" for anything else."""
    parts = urn.split(":", 2)
    if len(parts) == 3 and parts[0] == "do" and parts[1] and parts[2]:
        return parts[1]
    return UNKNOWN_TYPE


def count_member_types(items: list[Any], where: str) -> tuple[tuple[str, int], ...]:
    """(resource type, count) of one VPC's members, sorted by type."""
    counts = Counter(resource_type(optional_str(member, "urn")) for _, member in objects(items, where))
    return tuple(sorted(counts.items()))


def members_where(vpc_id: str) -> str:
    return f"/v2/vpcs/{vpc_id}/members members"


async def _members_or_none(reader: ResourceReader, vpc_id: str) -> list[Any] | None:
    # None: the VPC was deleted since the VPC list was read
    return await reader.list_all(MEMBERS_ENDPOINT, "members", path={"vpc_id": vpc_id},
                                 missing_ok=True)


def with_member_counts(
    vpcs: tuple[VpcRecord, ...], members: Mapping[str, list[Any] | None]
) -> tuple[VpcRecord, ...]:
    """The VPCs whose members were read, each with its counts by resource type."""
    return tuple(
        replace(vpc, member_counts=count_member_types(items, members_where(vpc.vpc_id)))
        for vpc in vpcs
        if (items := members.get(vpc.vpc_id)) is not None
    )


async def fetch(reader: ResourceReader) -> tuple[VpcRecord, ...]:
    vpcs = parse_vpcs(await reader.list_all(ENDPOINT, "vpcs"))
    answers = await all_or_nothing(
        [_members_or_none(reader, vpc.vpc_id) for vpc in vpcs], limit=FOLLOW_UP_CONCURRENCY
    )
    members = dict(zip((vpc.vpc_id for vpc in vpcs), answers, strict=True))
    gone = [vpc_id for vpc_id, items in members.items() if items is None]
    await confirm_deleted(reader, ENDPOINT, "vpcs", "id", gone=gone, follow_up=MEMBERS_ENDPOINT)
    return with_member_counts(vpcs, members)


def samples(vpcs: tuple[VpcRecord, ...]) -> Iterator[Sample]:
    for vpc in vpcs:
        key = (vpc.vpc_id,)
        yield INFO.name, (*key, vpc.name, vpc.region, vpc.ip_range, vpc.default), 1
        if vpc.created_at is not None:
            yield CREATED.name, key, vpc.created_at
        for member_type, count in vpc.member_counts:
            yield MEMBERS.name, (*key, member_type), count


COLLECTOR: Collector[tuple[VpcRecord, ...]] = Collector(
    name="vpcs",
    summary="virtual private cloud (VPC) networks: region, IP range, default network, members by type",
    endpoints=(ENDPOINT, MEMBERS_ENDPOINT),
    id_label="vpc_id",
    paged=ENDPOINT,
    scope="vpc:read",
    interval=900.0,
    families=(INFO, MEMBERS, CREATED),
    fetch=fetch,
    samples=samples,
)
