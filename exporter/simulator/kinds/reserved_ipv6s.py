"""Reserved IPv6 addresses (`/v2/reserved_ipv6`).
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.catalog import REGIONS_BY_SLUG
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import DropletRef, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.reserved_ips import unassigned_positions
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def reserved_ipv6s(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("reserved_ipv6s")


def list_reserved_ipv6s(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ipv6s", reserved_ipv6s(fleet.resources), fleet)


def build_reserved_ipv6s(context: BuildContext) -> Built:
    count = context.counts.reserved_ipv6s
    rng = context.rng("reserved_ipv6s")
    unassigned = unassigned_positions(context, count, 3)
    capable = [d for d in context.serving() if d["networks"]["v6"]]
    hosts = rng.sample(capable, min(len(capable), count))
    items: list[Item] = []
    for index in range(count):
        host = hosts[index] if index < len(hosts) and index not in unassigned else None
        region = host["region"]["slug"] if host else context.region_at(index, vpc=False)
        octet = list(REGIONS_BY_SLUG).index(region) + 16
        ip = f"2604:a880:{octet:x}:d1::{index + 1:x}"
        body: JsonObject = {
            "ip": ip,
            "region_slug": region,
            "reserved_at": iso_utc(context.created("reserved_ipv6", index, count)),
            "droplet": DropletRef(int(host["id"])) if host else None,
        }
        items.append(
            make_item(
                body, id=ip, name=ip, region=region, extra=int(host["id"]) if host else None
            )
        )
    return Built(items=tuple(items))


def given_reserved_ipv6s(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(ip, key="ip") for ip in context.objects("reserved_ipv6s")))


KIND = Kind(
    name="reserved_ipv6s",
    routes=(
        Endpoint("/v2/reserved_ipv6", "reserved_ip:read", list_reserved_ipv6s, paged=True,
                 field_scopes=(("reserved_ipv6s[].droplet", "droplet:read"),)),
    ),
    list_endpoint="/v2/reserved_ipv6",
    count=Count(derive=lambda droplets, _: droplets // 100),
    build=build_reserved_ipv6s,
    given=given_reserved_ipv6s,
)
