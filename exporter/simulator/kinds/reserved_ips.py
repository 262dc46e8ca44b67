"""Reserved IPv4 addresses (`/v2/reserved_ips`, and `/v2/floating_ips` under the old name).
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import DropletRef, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def reserved_ips(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("reserved_ips")


def list_reserved_ips(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ips", reserved_ips(fleet.resources), fleet)


def list_floating_ips(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """The reserved IPv4 addresses under their pre-2022 name."""
    return paged_items(request, "floating_ips", reserved_ips(fleet.resources), fleet)


def unassigned_positions(context: BuildContext, count: int, every: int) -> set[int]:
    """Positions left unassigned: every `every`-th, at least one with `problems=True`."""
    if context.problems is False:
        return set()
    chosen = {index for index in range(count) if index % every == every - 1}
    if context.problems is True and not chosen and count:
        chosen.add(count - 1)
    return chosen


def build_reserved_ips(context: BuildContext) -> Built:
    count = context.counts.reserved_ips
    rng = context.rng("reserved_ips")
    unassigned = unassigned_positions(context, count, 4)
    serving = context.serving()
    hosts = rng.sample(serving, min(len(serving), count))
    items: list[Item] = []
    for index in range(count):
        ip = f"146.190.{index // 250}.{index % 250 + 2}"
        host = hosts[index] if index < len(hosts) and index not in unassigned else None
        region = host["region"]["slug"] if host else context.region_at(index, vpc=False)
        project = (
            context.droplet_project(int(host["id"]))
            if host
            else context.project_for(("reserved_ip", ip))
        )
        body: JsonObject = {
            "ip": ip,
            "region": context.factory.region_object(region),
            "droplet": DropletRef(int(host["id"])) if host else None,
            "locked": False,
            "project_id": project,
        }
        urn = f"do:floatingip:{ip}"
        items.append(
            make_item(
                body,
                id=ip,
                name=ip,
                region=region,
                urn=urn,
                extra=int(host["id"]) if host else None,
            )
        )
        context.assign(urn, f"/v2/reserved_ips/{ip}", iso_utc(context.start), project)
    return Built(items=tuple(items))


def given_reserved_ips(context: GivenContext) -> Built:
    items = []
    for ip in context.objects("reserved_ips"):
        context.assign(f"do:floatingip:{ip.get('ip')}", f"/v2/reserved_ips/{ip.get('ip')}", "")
        items.append(given_item(ip, key="ip", extra=(ip.get("droplet") or {}).get("id")))
    return Built(items=tuple(items))


KIND = Kind(
    name="reserved_ips",
    routes=(
        Endpoint("/v2/reserved_ips", "reserved_ip:read", list_reserved_ips, paged=True,
                 field_scopes=(("reserved_ips[].droplet", "droplet:read"),
                               ("reserved_ips[].project_id", "project:read"))),
        Endpoint("/v2/floating_ips", "reserved_ip:read", list_floating_ips, paged=True),
    ),
    list_endpoint="/v2/reserved_ips",
    count=Count(derive=lambda droplets, _: droplets // 20, problems_minimum=2),
    build=build_reserved_ips,
    given=given_reserved_ips,
    in_state=True,
)
