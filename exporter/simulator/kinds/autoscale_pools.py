"""Droplet autoscale pools (`/v2/droplets/autoscale`), their members (`.../{id}/members`) and
their scaling history (`.../{id}/history`).

Dynamic pools (a minimum, a maximum and a CPU target) and, every third one, a static pool (a
fixed number of Droplets), in the account's regions. With problems on, the second pool runs at
its maximum with one unhealthy member and the third is in `error` (no members, its last scaling
event failed), so the dashboards have something to show. A pool's history starts with its
creation (a configuration change) and scales up to the Droplets it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import (
    ApiError,
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


def pool_listing(resources: Resources, request: ApiRequest, what: str) -> tuple[Item, ...]:
    """A pool's members or history; 404 for a pool the account does not have."""
    pool_id = request.path_params["autoscale_pool_id"]
    if not any(str(pool.id) == pool_id for pool in autoscale_pools(resources)):
        raise ApiError(404)
    return resources.related("autoscale_pools", f"{what}:{pool_id}") or ()


def list_autoscale_pool_members(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    members = pool_listing(fleet.resources, request, "members")
    return paged_items(request, "droplets", members, fleet)


def list_autoscale_pool_history(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    events = pool_listing(fleet.resources, request, "history")
    return paged_items(request, "history", events, fleet)


def list_autoscale_pools(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    pools = named_as_asked(request, autoscale_pools(fleet.resources))
    return paged_items(request, "autoscale_pools", pools, fleet)


def build_autoscale_pools(context: BuildContext) -> Built:
    count = context.counts.autoscale_pools
    rng = context.rng("autoscale_pools")
    at_max = 1 if context.problems is not False and count >= 2 else None
    errored = 2 if context.problems is not False and count >= 3 else None
    items: list[Item] = []
    related: dict[str, tuple[Item, ...]] = {}
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
        running = int(body["active_resources_count"])
        related[f"members:{pool_id}"] = members(
            context, pool_id, created, running, unhealthy=index == at_max)
        related[f"history:{pool_id}"] = history(
            context, pool_id, created, running, failed=index == errored)
    return Built(items=tuple(items), related=related)


def members(context: BuildContext, pool_id: str, created: int, running: int, *,
            unhealthy: bool) -> tuple[Item, ...]:
    """The pool's running Droplets, ids of their own (the simulator does not list them among
    the account's Droplets); the last one unhealthy where `unhealthy`."""
    rng = context.rng(f"autoscale_members:{pool_id}")
    first = 600_000_000 + rng.randrange(10_000_000)
    out = []
    for index in range(running):
        droplet_id = first + index * 7
        sick = unhealthy and index == running - 1
        member: JsonObject = {
            "droplet_id": droplet_id,
            "created_at": iso_utc(created + (index + 1) * 600),
            "updated_at": iso_utc(created + HOUR),
            "health_status": "unhealthy" if sick else "healthy",
            "status": "active",
            "current_utilization": {"memory": round(0.3 + 0.4 * rng.random(), 4),
                                    "cpu": 0.97 if unhealthy else round(0.2 + 0.5 * rng.random(), 4)},
        }
        if sick:
            member["unhealthy_reason"] = "Droplet failed health check"
        out.append(make_item(member, id=droplet_id))
    return tuple(out)


def history(context: BuildContext, pool_id: str, created: int, running: int, *,
            failed: bool) -> tuple[Item, ...]:
    """A configuration change at creation, then one scale-up per Droplet beyond the first; the
    last event failed where `failed`."""
    rng = context.rng(f"autoscale_history:{pool_id}")
    events = [("CONFIGURATION_CHANGE", 0, max(running, 1))]
    events += [("SCALE_UP", count, count + 1) for count in range(1, running)]
    if failed:
        events.append(("SCALE_UP", 0, 1))
    out = []
    for index, (reason, current, desired) in enumerate(events):
        at = created + index * 1800 + rng.randrange(600)
        event_id = context.uuid(f"autoscale_event:{pool_id}", index)
        event: JsonObject = {
            "history_event_id": event_id,
            "current_instance_count": current,
            "desired_instance_count": desired,
            "reason": reason,
            "status": "error" if failed and index == len(events) - 1 else "success",
            "created_at": iso_utc(at),
            "updated_at": iso_utc(at + 120),
        }
        out.append(make_item(event, id=event_id))
    return tuple(out)


def given_autoscale_pools(context: GivenContext) -> Built:
    """Pools as given; `autoscale_pool_members` and `autoscale_pool_history` ({pool id: [...]})
    are their listings (empty for a pool not named there)."""
    related: dict[str, tuple[Item, ...]] = {}
    for what, key, id_field in (("members", "autoscale_pool_members", "droplet_id"),
                                ("history", "autoscale_pool_history", "history_event_id")):
        given: Mapping[str, Sequence[Mapping[str, object]]] = context.value(key) or {}
        for pool_id, rows in given.items():
            related[f"{what}:{pool_id}"] = tuple(given_item(row, key=id_field) for row in rows)
    return Built(items=tuple(given_item(p, name=text(p.get("name")))
                             for p in context.objects("autoscale_pools")), related=related)


KIND = Kind(
    name="autoscale_pools",
    routes=(Endpoint("/v2/droplets/autoscale", "droplet:read", list_autoscale_pools, paged=True,
                     in_spec=False),
            Endpoint("/v2/droplets/autoscale/{autoscale_pool_id}/members", "droplet:read",
                     list_autoscale_pool_members, paged=True, in_spec=False),
            Endpoint("/v2/droplets/autoscale/{autoscale_pool_id}/history", "droplet:read",
                     list_autoscale_pool_history, paged=True, in_spec=False)),
    list_endpoint="/v2/droplets/autoscale",
    count=Count(derive=lambda droplets, _: min(3, droplets // 10), problems_minimum=3),
    build=build_autoscale_pools,
    given=given_autoscale_pools,
    given_keys=("autoscale_pools", "autoscale_pool_members", "autoscale_pool_history"),
    in_state=True,
)
