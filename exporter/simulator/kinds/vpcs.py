"""VPCs (`/v2/vpcs`, `/v2/vpcs/{vpc_id}/members`); the count is of custom VPCs (a default one per
region in use always exists).
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, unix
from exporter.simulator.catalog import REGIONS_BY_SLUG
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    paged_list,
)
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def vpcs(resources: Resources) -> tuple[Item, ...]:
    """Every VPC: the default ones and the custom ones (the kind's count)."""
    return resources.objects("custom_vpcs")


def list_vpcs(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "vpcs", vpcs(fleet.resources), fleet)


def list_vpc_members(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not in the spec subset; the real API's shape: `{"members": [{urn, name, created_at}]}`."""
    members = fleet.vpc_members(request.path_params["vpc_id"])
    if members is None:
        raise ApiError(404)
    return paged_list(request, "members", members)


def custom_vpcs(context: BuildContext) -> list[tuple[str, str]]:
    """(id, region) of the custom VPCs."""
    return [
        (context.uuid("custom_vpc", index), context.region_at(index))
        for index in range(context.counts.custom_vpcs)
    ]


def build_vpcs(context: BuildContext) -> Built:
    """The default VPC of every region in use (built after every kind that places objects in
    one), then the custom ones."""
    items: list[Item] = []
    first: dict[str, str] = {}
    for droplet in (*context.droplets, *context.gpu_droplets):
        first.setdefault(droplet["region"]["slug"], droplet["created_at"])
    used = {region: unix(created) for region, created in first.items()}
    for slug in REGIONS_BY_SLUG:
        if slug not in context.regions_in_use:
            continue
        vpc_id = context.factory.vpc_uuid(slug)
        created = used.get(slug, context.start) - DAY
        octet = list(REGIONS_BY_SLUG).index(slug) + 16
        body: JsonObject = {
            "id": vpc_id,
            "urn": f"do:vpc:{vpc_id}",
            "name": f"default-{slug}",
            "description": "",
            "region": slug,
            "ip_range": f"10.{octet}.0.0/16",
            "created_at": iso_utc(created),
            "default": True,
        }
        items.append(make_item(body, id=vpc_id, name=str(body["name"]), region=slug))
    for index, (vpc_id, region) in enumerate(custom_vpcs(context)):
        body = {
            "id": vpc_id,
            "urn": f"do:vpc:{vpc_id}",
            "name": f"{context.slug}-{region}-private-{index + 1}",
            "description": f"Private network of {context.account} in {region}",
            "region": region,
            "ip_range": f"10.{200 + index % 50}.{index // 50 * 16}.0/20",
            "created_at": iso_utc(context.created("custom_vpc", index, context.counts.custom_vpcs)),
            "default": False,
        }
        items.append(make_item(body, id=vpc_id, name=str(body["name"]), region=region))
    return Built(items=tuple(items))


def given_vpcs(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(vpc) for vpc in context.objects("vpcs")))


KIND = Kind(
    name="custom_vpcs",
    routes=(
        Endpoint("/v2/vpcs", "vpc:read", list_vpcs, paged=True),
        Endpoint(
            "/v2/vpcs/{vpc_id}/members", "vpc:read", list_vpc_members, paged=True, in_spec=False
        ),
    ),
    list_endpoint="/v2/vpcs",
    count=Count(derive=lambda droplets, _: droplets // 1000),
    build=build_vpcs,
    after=("load_balancers", "kubernetes_clusters", "databases"),
    given=given_vpcs,
    given_keys=("vpcs",),
)
