"""VPC NAT gateways (`/v2/vpc_nat_gateways`), each serving one of the account's VPC networks.

Billed per gateway unit (`size`) and month (`nat_gateway_unit_month` in prices.yml), from its
creation; see `ledger.nat_gateway_charges`. With problems on, the second gateway is in `ERROR`.
"""

from __future__ import annotations

from exporter.simulator.building import (
    HOUR,
    BuildContext,
    GivenContext,
    JsonObject,
    given_item,
    text,
)
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    named_as_asked,
    paged_items,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def nat_gateways(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("nat_gateways")


def list_nat_gateways(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    gateways = named_as_asked(request, nat_gateways(fleet.resources))
    return paged_items(request, "vpc_nat_gateways", gateways, fleet)


def gateway_ip(index: int) -> str:
    return f"10.{100 + index % 100}.0.{2 + index // 100 % 250}"


def build_nat_gateways(context: BuildContext) -> Built:
    count = context.counts.nat_gateways
    vpcs = context.built("custom_vpcs").items
    errored = 1 if context.problems is True and count >= 2 else None
    items: list[Item] = []
    for index in range(count):
        gateway_id = context.uuid("nat_gateway", index)
        if vpcs:
            vpc = vpcs[index % len(vpcs)]
            vpc_id, region = str(vpc.id), vpc.region
        else:
            region = context.region_at(index)
            vpc_id = context.factory.vpc_uuid(region)
        created = context.created("nat_gateway", index, count)
        name = f"{context.slug}-{region}-nat-{index + 1}"
        body: JsonObject = {
            "id": gateway_id,
            "name": name,
            "type": "PUBLIC",
            "state": "ERROR" if index == errored else "ACTIVE",
            "region": region,
            "size": 2 if index % 3 == 2 else 1,
            "vpcs": [{"vpc_uuid": vpc_id, "gateway_ip": gateway_ip(index)}],
            # an errored gateway has lost its public address
            "egresses": {"public_gateways": [] if index == errored else [
                {"ipv4": f"192.0.2.{1 + index % 254}"}
            ]},
            "udp_timeout_seconds": 30,
            "icmp_timeout_seconds": 30,
            "tcp_timeout_seconds": 300,
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
        }
        items.append(make_item(body, id=gateway_id, name=name, region=region,
                               created_at=iso_utc(created)))
    return Built(items=tuple(items))


def given_nat_gateways(context: GivenContext) -> Built:
    return Built(items=tuple(
        given_item(g, name=text(g.get("name")), region=text(g.get("region")))
        for g in context.objects("nat_gateways")
    ))


KIND = Kind(
    name="nat_gateways",
    routes=(Endpoint("/v2/vpc_nat_gateways", "nat_gateway:read", list_nat_gateways, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/vpc_nat_gateways",
    count=Count(derive=lambda droplets, _: droplets // 250),
    build=build_nat_gateways,
    after=("custom_vpcs",),
    given=given_nat_gateways,
)
