"""Load balancers: GET /v2/load_balancers (scope load_balancer:read, default every 1m).

Each load balancer exports its status as a state set, its node count (which is what it is billed
by), and how many Droplets, forwarding rules and target load balancers it has, so an errored
balancer or one left without backends shows up. Global load balancers have no region: their
`region` label is empty. Counts are exported only when the answer carries the list, so a missing
list never reads as zero.

    digitalocean_load_balancer_info{account="production",load_balancer_id="56775c3f-04ab-4fb3-a7ed-40ef9bc8eece",name="prod-web-lb-01",region="nyc3",type="",network="",size="lb-small",ip="45.55.125.24",vpc_uuid="587d698c-de84-11e8-80bc-3cfdfea9fcd1"} 1
    digitalocean_load_balancer_status{account="production",load_balancer_id="56775c3f-04ab-4fb3-a7ed-40ef9bc8eece",status="active"} 1
"""

from __future__ import annotations

from collections.abc import Iterator
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
    timestamp,
)

ENDPOINT = "/v2/load_balancers"
STATUSES = ("new", "active", "errored")
# The spec documents the deprecated size slugs as fixed node counts; `size_unit` replaces them
# everywhere except AMS2, NYC2 and SFO1, where only the slug is sent.
NODES_BY_LEGACY_SIZE = {"lb-small": 1, "lb-medium": 3, "lb-large": 6}

INFO = Family(
    "digitalocean_load_balancer_info",
    "Load balancer descriptive labels (always 1), polled from /v2/load_balancers.",
    ("load_balancer_id", "name", "region", "type", "network", "size", "ip", "vpc_uuid"),
)
STATUS = Family(
    "digitalocean_load_balancer_status",
    "Load balancer status as a state set (1 for the current status), polled from /v2/load_balancers.",
    ("load_balancer_id", "status"),
)
NODES = Family(
    "digitalocean_load_balancer_nodes",
    "Nodes of the load balancer (size_unit, or the node count of a legacy size slug), polled from "
    "/v2/load_balancers.",
    ("load_balancer_id",),
)
DROPLETS = Family(
    "digitalocean_load_balancer_droplets",
    "Droplets assigned to the load balancer as backends, polled from /v2/load_balancers.",
    ("load_balancer_id",),
)
FORWARDING_RULES = Family(
    "digitalocean_load_balancer_forwarding_rules",
    "Forwarding rules of the load balancer, polled from /v2/load_balancers.",
    ("load_balancer_id",),
)
TARGET_LOAD_BALANCERS = Family(
    "digitalocean_load_balancer_target_load_balancers",
    "Regional load balancers a global load balancer forwards to, polled from /v2/load_balancers.",
    ("load_balancer_id",),
)
CREATED = Family(
    "digitalocean_load_balancer_created_timestamp_seconds",
    "When the load balancer was created, polled from /v2/load_balancers.",
    ("load_balancer_id",),
)


@dataclass(frozen=True, slots=True)
class LoadBalancerRecord:
    load_balancer_id: str
    name: str
    region: str
    type: str  # REGIONAL, REGIONAL_NETWORK, GLOBAL; "" when the answer omits it
    network: str  # EXTERNAL, INTERNAL; "" when the answer omits it
    size: str  # deprecated size slug
    ip: str
    vpc_uuid: str
    status: str
    nodes: int | None
    droplets: int | None
    forwarding_rules: int | None
    target_load_balancers: int | None
    created_at: float | None


def parse_load_balancers(
    items: list[Any], where: str = f"{ENDPOINT} load_balancers"
) -> tuple[LoadBalancerRecord, ...]:
    records: list[LoadBalancerRecord] = []
    for path, lb in objects(items, where):
        size = optional_str(lb, "size")
        nodes = optional_int(lb, "size_unit")
        record = LoadBalancerRecord(
            load_balancer_id=required_str(lb, "id", path),
            name=optional_str(lb, "name"),
            region=optional_str(lb, "region", "slug"),
            type=optional_str(lb, "type"),
            network=optional_str(lb, "network"),
            size=size,
            ip=optional_str(lb, "ip"),
            vpc_uuid=optional_str(lb, "vpc_uuid"),
            status=optional_str(lb, "status") or "unknown",
            nodes=nodes if nodes is not None else NODES_BY_LEGACY_SIZE.get(size),
            droplets=list_length(lb, "droplet_ids"),
            forwarding_rules=list_length(lb, "forwarding_rules"),
            target_load_balancers=list_length(lb, "target_load_balancer_ids"),
            created_at=timestamp(lb, "created_at"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.load_balancer_id))


async def fetch(reader: ResourceReader) -> tuple[LoadBalancerRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[LoadBalancerRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = parse_load_balancers(await reader.list_all(ENDPOINT, "load_balancers"))
    return context.selection.keep(records, lambda r: Facts(r.load_balancer_id, name=r.name, region=r.region))


def samples(load_balancers: tuple[LoadBalancerRecord, ...]) -> Iterator[Sample]:
    for lb in load_balancers:
        key = (lb.load_balancer_id,)
        yield INFO.name, (*key, lb.name, lb.region, lb.type, lb.network, lb.size, lb.ip,
                          lb.vpc_uuid), 1
        yield from state_set(STATUS.name, key, lb.status, STATUSES)
        yield from known_values(key, (
            (NODES, lb.nodes),
            (DROPLETS, lb.droplets),
            (FORWARDING_RULES, lb.forwarding_rules),
            (TARGET_LOAD_BALANCERS, lb.target_load_balancers),
            (CREATED, lb.created_at),
        ))


COLLECTOR: Collector[tuple[LoadBalancerRecord, ...]] = Collector(
    name="load_balancers",
    summary="load balancers: status, nodes, backend Droplets, forwarding rules",
    endpoints=(ENDPOINT,),
    id_label="load_balancer_id",
    paged=ENDPOINT,
    scope="load_balancer:read",
    interval=60.0,
    families=(INFO, STATUS, NODES, DROPLETS, FORWARDING_RULES, TARGET_LOAD_BALANCERS, CREATED),
    fetch=fetch,
    filters=("region", "name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
