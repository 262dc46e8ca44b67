"""Reserved IPs: GET /v2/reserved_ips and GET /v2/reserved_ipv6 (scope reserved_ip:read, default
every 5m, both lists read concurrently).

A reserved IP that is not assigned to a Droplet is still billed, so each address exports whether
it is assigned and, when it is, one `_droplet_info` series naming the Droplet. The address itself
is the id label (`reserved_ip`, `reserved_ipv6`). GET /v2/floating_ips is not read: floating IPs
were renamed reserved IPs in 2022 and that legacy list returns the same IPv4 addresses, so reading
it would only count them twice.

    digitalocean_reserved_ip_info{account="production",reserved_ip="45.55.96.47",region="nyc3",project_id="746c6152-2fa2-11ed-92d3-27aaa54e4988"} 1
    digitalocean_reserved_ip_assigned{account="production",reserved_ip="45.55.96.47"} 0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, FieldScope, ResourceReader, Sample
from exporter.collectors.fields import (
    as_object,
    objects,
    optional_bool,
    optional_str,
    required_int,
    required_str,
    timestamp,
)
from exporter.tasks import all_or_nothing

IPV4_ENDPOINT = "/v2/reserved_ips"
IPV6_ENDPOINT = "/v2/reserved_ipv6"
IPV4_KEY = "reserved_ips"
IPV6_KEY = "reserved_ipv6s"  # not "reserved_ipv6": the list key is plural, unlike the path

IPV4_INFO = Family(
    "digitalocean_reserved_ip_info",
    "Reserved IPv4 address region and project (always 1), polled from /v2/reserved_ips.",
    ("reserved_ip", "region", "project_id"),
)
IPV4_ASSIGNED = Family(
    "digitalocean_reserved_ip_assigned",
    "1 if the reserved IPv4 address is assigned to a Droplet, 0 if it is unassigned (and still "
    "billed), polled from /v2/reserved_ips.",
    ("reserved_ip",),
)
IPV4_LOCKED = Family(
    "digitalocean_reserved_ip_locked",
    "1 while pending actions on the reserved IPv4 address block new ones, polled from "
    "/v2/reserved_ips.",
    ("reserved_ip",),
)
IPV4_DROPLET = Family(
    "digitalocean_reserved_ip_droplet_info",
    "The Droplet the reserved IPv4 address is assigned to (always 1), polled from /v2/reserved_ips.",
    ("reserved_ip", "droplet_id"),
)
IPV6_INFO = Family(
    "digitalocean_reserved_ipv6_info",
    "Reserved IPv6 address region (always 1), polled from /v2/reserved_ipv6.",
    ("reserved_ipv6", "region"),
)
IPV6_ASSIGNED = Family(
    "digitalocean_reserved_ipv6_assigned",
    "1 if the reserved IPv6 address is assigned to a Droplet, 0 if it is unassigned, polled from "
    "/v2/reserved_ipv6.",
    ("reserved_ipv6",),
)
IPV6_DROPLET = Family(
    "digitalocean_reserved_ipv6_droplet_info",
    "The Droplet the reserved IPv6 address is assigned to (always 1), polled from /v2/reserved_ipv6.",
    ("reserved_ipv6", "droplet_id"),
)
IPV6_CREATED = Family(
    "digitalocean_reserved_ipv6_created_timestamp_seconds",
    "When the IPv6 address was reserved, polled from /v2/reserved_ipv6.",
    ("reserved_ipv6",),
)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Whether an address is assigned, and to which Droplet; `assigned` is None when unknown."""

    assigned: bool | None
    droplet_id: int | None


@dataclass(frozen=True, slots=True)
class ReservedIpRecord:
    ip: str
    region: str
    project_id: str
    locked: bool | None
    assignment: Assignment


@dataclass(frozen=True, slots=True)
class ReservedIpv6Record:
    ip: str
    region: str
    created_at: float | None
    assignment: Assignment


@dataclass(frozen=True, slots=True)
class ReservedIps:
    ipv4: tuple[ReservedIpRecord, ...]
    ipv6: tuple[ReservedIpv6Record, ...]


def parse_assignment(address: Mapping[str, Any], where: str, *, absent_is_unassigned: bool) -> Assignment:
    """`droplet` is a Droplet object, or null when the address is unassigned.

    The field needs the droplet:read scope. An IPv4 answer always carries it (null in the spec's
    example), so a missing field is unknown rather than "unassigned", which would look like an
    address billed for nothing. The spec's IPv6 example leaves the field out for unassigned
    addresses, so there a missing field means unassigned.
    """
    if "droplet" not in address:
        return Assignment(False, None) if absent_is_unassigned else Assignment(None, None)
    droplet = address["droplet"]
    # The spec's "not assigned" alternative is a nullable *object*, so `{}` means unassigned too.
    if droplet is None or droplet == {}:
        return Assignment(False, None)
    droplet = as_object(droplet, f"{where}.droplet")
    return Assignment(True, required_int(droplet, "id", f"{where}.droplet"))


def parse_ipv4(
    items: list[Any], where: str = f"{IPV4_ENDPOINT} {IPV4_KEY}"
) -> tuple[ReservedIpRecord, ...]:
    records: list[ReservedIpRecord] = []
    for path, address in objects(items, where):
        record = ReservedIpRecord(
            ip=required_str(address, "ip", path),
            region=optional_str(address, "region", "slug"),
            project_id=optional_str(address, "project_id"),
            locked=optional_bool(address, "locked"),
            assignment=parse_assignment(address, path, absent_is_unassigned=False),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.ip))


def parse_ipv6(
    items: list[Any], where: str = f"{IPV6_ENDPOINT} {IPV6_KEY}"
) -> tuple[ReservedIpv6Record, ...]:
    records: list[ReservedIpv6Record] = []
    for path, address in objects(items, where):
        record = ReservedIpv6Record(
            ip=required_str(address, "ip", path),
            region=optional_str(address, "region_slug"),
            created_at=timestamp(address, "reserved_at"),
            assignment=parse_assignment(address, path, absent_is_unassigned=True),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.ip))


async def fetch(reader: ResourceReader) -> ReservedIps:
    ipv4, ipv6 = await all_or_nothing([
        reader.list_all(IPV4_ENDPOINT, IPV4_KEY, id_key="ip"),
        reader.list_all(IPV6_ENDPOINT, IPV6_KEY, id_key="ip"),
    ])
    return ReservedIps(parse_ipv4(ipv4), parse_ipv6(ipv6))


def assignment_samples(
    assigned: Family, droplet: Family, key: tuple[str], assignment: Assignment
) -> Iterator[Sample]:
    if assignment.assigned is not None:
        yield assigned.name, key, 1 if assignment.assigned else 0
    if assignment.droplet_id is not None:
        yield droplet.name, (*key, str(assignment.droplet_id)), 1


def samples(reserved: ReservedIps) -> Iterator[Sample]:
    for v4 in reserved.ipv4:
        key = (v4.ip,)
        yield IPV4_INFO.name, (*key, v4.region, v4.project_id), 1
        yield from assignment_samples(IPV4_ASSIGNED, IPV4_DROPLET, key, v4.assignment)
        if v4.locked is not None:
            yield IPV4_LOCKED.name, key, 1 if v4.locked else 0
    for v6 in reserved.ipv6:
        key = (v6.ip,)
        yield IPV6_INFO.name, (*key, v6.region), 1
        yield from assignment_samples(IPV6_ASSIGNED, IPV6_DROPLET, key, v6.assignment)
        if v6.created_at is not None:
            yield IPV6_CREATED.name, key, v6.created_at


COLLECTOR: Collector[ReservedIps] = Collector(
    name="reserved_ips",
    summary="reserved IPv4 and IPv6 addresses: assignment to Droplets, region, project, lock",
    endpoints=(IPV4_ENDPOINT, IPV6_ENDPOINT),
    id_label="reserved_ip",
    paged=IPV4_ENDPOINT,
    scope="reserved_ip:read",
    field_scopes=(
        FieldScope("droplet", ("droplet:read",), (
            "digitalocean_reserved_ip_assigned", "digitalocean_reserved_ip_droplet_info",
            "digitalocean_reserved_ipv6_droplet_info",
        )),
        FieldScope("project_id", ("project:read",), ("digitalocean_reserved_ip_info{project_id}",)),
    ),
    interval=300.0,
    families=(IPV4_INFO, IPV4_ASSIGNED, IPV4_LOCKED, IPV4_DROPLET,
              IPV6_INFO, IPV6_ASSIGNED, IPV6_DROPLET, IPV6_CREATED),
    fetch=fetch,
    samples=samples,
)
