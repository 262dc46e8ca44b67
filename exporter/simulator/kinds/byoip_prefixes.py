"""BYOIP prefixes (`/v2/byoip_prefixes`): IP ranges the account brought to DigitalOcean.

Most are `active` and advertised; with problems on, the second is `active` but no longer
advertised, and from three prefixes the newest is still `in_progress` (not advertised yet).
Prefixes are not billed.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources


def byoip_prefixes(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("byoip_prefixes")


def list_byoip_prefixes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "byoip_prefixes", byoip_prefixes(fleet.resources), fleet)


def build_byoip_prefixes(context: BuildContext) -> Built:
    count = context.counts.byoip_prefixes
    withdrawn = 1 if context.problems is True and count >= 2 else None
    pending = count - 1 if count >= 3 else None
    items: list[Item] = []
    for index in range(count):
        prefix_id = context.uuid("byoip_prefix", index)
        region = context.region_at(index, vpc=False)
        status = "in_progress" if index == pending else "active"
        body: JsonObject = {
            "uuid": prefix_id,
            "name": "",
            "prefix": f"100.{64 + index // 256 % 64}.{index % 256}.0/24",
            "status": status,
            "region": region,
            "validations": [],
            "failure_reason": "",
            "locked": False,
            "advertised": status == "active" and index != withdrawn,
            "project_id": context.project_for(("byoip_prefix", index)),
        }
        items.append(make_item(body, id=prefix_id, region=region))
    return Built(items=tuple(items))


def given_byoip_prefixes(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(p, "uuid") for p in context.objects("byoip_prefixes")))


KIND = Kind(
    name="byoip_prefixes",
    routes=(Endpoint("/v2/byoip_prefixes", "byoip_prefix:read", list_byoip_prefixes, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/byoip_prefixes",
    count=Count(derive=lambda droplets, _: droplets // 500),
    build=build_byoip_prefixes,
    given=given_byoip_prefixes,
)
