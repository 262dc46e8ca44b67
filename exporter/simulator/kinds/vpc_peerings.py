"""VPC peerings (`/v2/vpc_peerings`): each joins two of the account's VPC networks.

Peerings pair the VPCs in list order (the first with the second, the second with the third,
...); a fleet with a single VPC peers it with a VPC of another team. With problems on, the
second peering is still `PROVISIONING`. Peerings are not billed.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def vpc_peerings(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("vpc_peerings")


def list_vpc_peerings(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "vpc_peerings", vpc_peerings(fleet.resources), fleet)


def build_vpc_peerings(context: BuildContext) -> Built:
    count = context.counts.vpc_peerings
    vpcs = [str(item.id) for item in context.built("custom_vpcs").items]
    provisioning = 1 if context.problems is True and count >= 2 else None
    items: list[Item] = []
    for index in range(count):
        peering_id = context.uuid("vpc_peering", index)
        if len(vpcs) >= 2:
            pair = [vpcs[index % len(vpcs)], vpcs[(index + 1) % len(vpcs)]]
        else:
            pair = [*vpcs[:1], context.uuid("peer_vpc", index)][:2]
            if len(pair) < 2:
                pair.append(context.uuid("peer_vpc_second", index))
        name = f"{context.slug}-peering-{index + 1}"
        body: JsonObject = {
            "id": peering_id,
            "name": name,
            "vpc_ids": pair,
            "created_at": iso_utc(context.created("vpc_peering", index, count)),
            "status": "PROVISIONING" if index == provisioning else "ACTIVE",
        }
        items.append(make_item(body, id=peering_id, name=name))
    return Built(items=tuple(items))


def given_vpc_peerings(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(p, name=text(p.get("name")))
                             for p in context.objects("vpc_peerings")))


KIND = Kind(
    name="vpc_peerings",
    routes=(Endpoint("/v2/vpc_peerings", "vpc_peering:read", list_vpc_peerings, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/vpc_peerings",
    count=Count(derive=lambda droplets, _: droplets // 500),
    build=build_vpc_peerings,
    after=("custom_vpcs",),
    given=given_vpc_peerings,
)
