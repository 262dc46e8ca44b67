"""Droplet autoscale pools (`/v2/droplets/autoscale`).

Dynamic pools (a minimum, a maximum and a CPU target) and, every third one, a static pool (a
fixed number of Droplets), in the account's regions. With problems on, the second pool runs at
its maximum and the third is in `error`, so the dashboards have something to show.
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
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

IMAGE = "ubuntu-24-04-x64"
SIZES = ("s-1vcpu-2gb", "s-2vcpu-4gb", "c-2")


def autoscale_pools(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("autoscale_pools")


def list_autoscale_pools(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    pools = named_as_asked(request, autoscale_pools(fleet.resources))
    return paged_items(request, "autoscale_pools", pools, fleet)


def build_autoscale_pools(context: BuildContext) -> Built:
    count = context.counts.autoscale_pools
    rng = context.rng("autoscale_pools")
    at_max = 1 if context.problems is not False and count >= 2 else None
    errored = 2 if context.problems is not False and count >= 3 else None
    items: list[Item] = []
    for index in range(count):
        pool_id = context.uuid("autoscale_pool", index)
        region = context.region_at(index)
        created = context.created("autoscale_pool", index, count)
        static = index % 3 == 2 and index != at_max
        if static:
            config: JsonObject = {"target_number_instances": 2 + rng.randrange(3)}
            active = int(config["target_number_instances"])
        else:
            least = 1 + rng.randrange(2)
            most = least + 2 + rng.randrange(4)
            config = {"min_instances": least, "max_instances": most,
                      "target_cpu_utilization": 0.6, "cooldown_minutes": 10}
            if index % 2 == 0:
                config["target_memory_utilization"] = 0.7
            active = most if index == at_max else least + rng.randrange(most - least)
        cpu = 0.97 if index == at_max else round(0.2 + 0.5 * rng.random(), 4)
        name = f"workers-{region}-{index + 1:02d}"
        body: JsonObject = {
            "id": pool_id,
            "name": name,
            "config": config,
            "droplet_template": {
                "name": f"worker-{region}",
                "size": SIZES[index % len(SIZES)],
                "region": region,
                "image": IMAGE,
                "ssh_keys": [],
                "tags": ["autoscale", "worker"],
                "with_droplet_agent": True,
                "public_networking": True,
                "ipv6": False,
            },
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
            "current_utilization": {"cpu": cpu, "memory": round(0.3 + 0.4 * rng.random(), 4)},
            "status": "error" if index == errored else "active",
            "active_resources_count": 0 if index == errored else active,
        }
        items.append(make_item(body, id=pool_id, name=name))
    return Built(items=tuple(items))


def given_autoscale_pools(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(p, name=text(p.get("name")))
                             for p in context.objects("autoscale_pools")))


KIND = Kind(
    name="autoscale_pools",
    routes=(Endpoint("/v2/droplets/autoscale", "droplet:read", list_autoscale_pools, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/droplets/autoscale",
    count=Count(derive=lambda droplets, _: min(3, droplets // 10), problems_minimum=3),
    build=build_autoscale_pools,
    given=given_autoscale_pools,
    in_state=True,
)
