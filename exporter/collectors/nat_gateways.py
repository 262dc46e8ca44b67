"""VPC NAT gateways: GET /v2/vpc_nat_gateways (scope nat_gateway:read, default every 15m).

Each gateway's name, region and type on `_info`, one `_vpc_info` series per VPC network it
serves (with the gateway's address inside it), its state as a state set, its size (units),
how many public egress addresses it has, its idle timeouts and creation time. The price and
month-to-date cost are estimated in `exporter.costs` (`nat_gateway_month` in prices.yml).

    digitalocean_nat_gateway_info{account="production",nat_gateway_id="70e1b58d-cdec-4e95-b3ee-2d4d95feff51",name="test-vpc-nat-gateways",region="tor1",type="PUBLIC"} 1
    digitalocean_nat_gateway_egress_ips{account="production",nat_gateway_id="70e1b58d-cdec-4e95-b3ee-2d4d95feff51"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    list_length,
    objects,
    optional_int,
    optional_str,
    required_str,
    sorted_by,
    timestamp,
)

ENDPOINT = "/v2/vpc_nat_gateways"
STATES = ("NEW", "PROVISIONING", "ACTIVE", "DELETING", "ERROR", "INVALID")  # the spec's enum

_LABEL = ("nat_gateway_id",)
INFO = Family(
    "digitalocean_nat_gateway_info",
    "VPC NAT gateway name, region and type (always 1), polled from /v2/vpc_nat_gateways.",
    ("nat_gateway_id", "name", "region", "type"),
)
VPC = Family(
    "digitalocean_nat_gateway_vpc_info",
    "A VPC network the NAT gateway serves and the gateway's address in it, one series per VPC "
    "(always 1), polled from /v2/vpc_nat_gateways.",
    ("nat_gateway_id", "vpc_id", "gateway_ip"),
)
STATUS = Family(
    "digitalocean_nat_gateway_status",
    "VPC NAT gateway state (1 for the current one), polled from /v2/vpc_nat_gateways.",
    ("nat_gateway_id", "status"),
)
SIZE = Family(
    "digitalocean_nat_gateway_size_units",
    "Size of the VPC NAT gateway in gateway units (each unit is billed), polled from "
    "/v2/vpc_nat_gateways.",
    _LABEL,
)
EGRESS = Family(
    "digitalocean_nat_gateway_egress_ips",
    "Public IPv4 addresses the VPC NAT gateway sends traffic from, polled from "
    "/v2/vpc_nat_gateways.",
    _LABEL,
)
TCP_TIMEOUT = Family(
    "digitalocean_nat_gateway_tcp_timeout_seconds",
    "Idle timeout of TCP connections through the VPC NAT gateway, polled from "
    "/v2/vpc_nat_gateways.",
    _LABEL,
)
UDP_TIMEOUT = Family(
    "digitalocean_nat_gateway_udp_timeout_seconds",
    "Idle timeout of UDP flows through the VPC NAT gateway, polled from /v2/vpc_nat_gateways.",
    _LABEL,
)
ICMP_TIMEOUT = Family(
    "digitalocean_nat_gateway_icmp_timeout_seconds",
    "Idle timeout of ICMP flows through the VPC NAT gateway, polled from /v2/vpc_nat_gateways.",
    _LABEL,
)
CREATED = Family(
    "digitalocean_nat_gateway_created_timestamp_seconds",
    "When the VPC NAT gateway was created, polled from /v2/vpc_nat_gateways.",
    _LABEL,
)


@dataclass(frozen=True, slots=True)
class NatGatewayRecord:
    nat_gateway_id: str
    name: str
    region: str
    type: str
    status: str
    size: int | None  # gateway units
    vpcs: tuple[tuple[str, str], ...]  # (vpc id, gateway ip), sorted
    egress_ips: int | None  # None: the answer has no list (unknown is not zero)
    tcp_timeout: int | None
    udp_timeout: int | None
    icmp_timeout: int | None
    created_at: float | None


def _lenient_object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _vpcs(gateway: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = gateway.get("vpcs")
    if not isinstance(value, list):
        return ()
    found = {
        (optional_str(vpc, "vpc_uuid"), optional_str(vpc, "gateway_ip"))
        for vpc in value
        if isinstance(vpc, dict) and optional_str(vpc, "vpc_uuid")
    }
    return tuple(sorted(found))


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} vpc_nat_gateways"
) -> list[NatGatewayRecord]:
    return [
        NatGatewayRecord(
            nat_gateway_id=required_str(gateway, "id", path),
            name=optional_str(gateway, "name"),
            region=optional_str(gateway, "region"),
            type=optional_str(gateway, "type"),
            status=optional_str(gateway, "state"),
            size=optional_int(gateway, "size"),
            vpcs=_vpcs(gateway),
            egress_ips=list_length(_lenient_object(gateway, "egresses"), "public_gateways"),
            tcp_timeout=optional_int(gateway, "tcp_timeout_seconds"),
            udp_timeout=optional_int(gateway, "udp_timeout_seconds"),
            icmp_timeout=optional_int(gateway, "icmp_timeout_seconds"),
            created_at=timestamp(gateway, "created_at"),
        )
        for path, gateway in objects(items, where, start)
    ]


def by_id(records: Iterable[NatGatewayRecord]) -> tuple[NatGatewayRecord, ...]:
    return sorted_by(records, lambda r: r.nat_gateway_id)


async def fetch(reader: ResourceReader) -> tuple[NatGatewayRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[NatGatewayRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = by_id(await reader.list_all(ENDPOINT, "vpc_nat_gateways", parse=parse_page))
    return context.selection.keep(records, lambda r: Facts(r.nat_gateway_id, name=r.name, region=r.region))


def samples(gateways: tuple[NatGatewayRecord, ...]) -> Iterator[Sample]:
    for g in gateways:
        key = (g.nat_gateway_id,)
        yield INFO.name, (*key, g.name, g.region, g.type), 1
        for vpc_id, gateway_ip in g.vpcs:
            yield VPC.name, (*key, vpc_id, gateway_ip), 1
        yield from state_set(STATUS.name, key, g.status or "unknown", STATES)
        yield from known_values(key, (
            (SIZE, g.size), (EGRESS, g.egress_ips), (TCP_TIMEOUT, g.tcp_timeout),
            (UDP_TIMEOUT, g.udp_timeout), (ICMP_TIMEOUT, g.icmp_timeout), (CREATED, g.created_at),
        ))


COLLECTOR: Collector[tuple[NatGatewayRecord, ...]] = Collector(
    name="nat_gateways",
    summary="VPC NAT gateways: region, size, VPC networks served, egress addresses, state",
    endpoints=(ENDPOINT,),
    id_label="nat_gateway_id",
    paged=ENDPOINT,
    scope="nat_gateway:read",
    interval=900.0,
    families=(INFO, VPC, STATUS, SIZE, EGRESS, TCP_TIMEOUT, UDP_TIMEOUT, ICMP_TIMEOUT, CREATED),
    fetch=fetch,
    filters=("region", "name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
