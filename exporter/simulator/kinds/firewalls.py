"""Cloud firewalls (`/v2/firewalls`).
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
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

ANYWHERE = ("0.0.0.0/0", "::/0")


def firewalls(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("firewalls")


def list_firewalls(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "firewalls", firewalls(fleet.resources), fleet)


def build_firewalls(context: BuildContext) -> Built:
    count = context.counts.firewalls
    rng = context.rng("firewalls")
    serving = context.serving()
    roles = list(context.spec.tags) or ["app"]
    waiting = 3 if context.problems is not False and count >= 4 else None
    failed = 4 if context.problems is not False and count >= 5 else None
    load_balancers = context.built("load_balancers").bodies
    lb_ids = [body["id"] for body in load_balancers if not body["tag"]]
    items: list[Item] = []
    for index in range(count):
        role = roles[index % len(roles)]
        suffix = "" if index < len(roles) else f"-{index // len(roles) + 1}"
        name = f"{role}-firewall{suffix}"
        targets = (
            [int(d["id"]) for d in rng.sample(serving, min(len(serving), 2))]
            if index % 2 == 0
            else []
        )
        web = role in ("web", "api") and lb_ids
        inbound: list[JsonObject] = [
            {"protocol": "tcp", "ports": "22", "sources": {"addresses": ["203.0.113.0/24"]}},
            {
                "protocol": "tcp",
                "ports": "80",
                "sources": {"load_balancer_uids": lb_ids[:2]}
                if web
                else {"addresses": list(ANYWHERE)},
            },
            {"protocol": "icmp", "ports": "0", "sources": {"addresses": list(ANYWHERE)}},
        ]
        outbound: list[JsonObject] = [
            {"protocol": protocol, "ports": ports, "destinations": {"addresses": ANYWHERE}}
            for protocol, ports in (("tcp", "1-65535"), ("udp", "1-65535"), ("icmp", "0"))
        ]
        status = "succeeded"
        pending: list[JsonObject] = []
        if index == waiting:
            status = "waiting"
            pending_target = targets[0] if targets else (int(serving[0]["id"]) if serving else None)
            if pending_target is not None:
                pending = [{"droplet_id": pending_target, "removing": False, "status": "waiting"}]
        elif index == failed:
            status = "failed"
        firewall_id = context.uuid("firewall", index)
        body: JsonObject = {
            "id": firewall_id,
            "name": name,
            "status": status,
            "inbound_rules": inbound,
            "outbound_rules": outbound,
            "created_at": iso_utc(context.created("firewall", index, count)),
            "droplet_ids": targets,
            "tags": [role],
            "pending_changes": pending,
        }
        referenced = {*targets, *(p["droplet_id"] for p in pending)}
        items.append(
            make_item(
                body, id=firewall_id, name=name, droplet_ids=tuple(sorted(referenced)),
                extra=status,
            )
        )
    return Built(items=tuple(items))


def given_firewalls(context: GivenContext) -> Built:
    return Built(
        items=tuple(
            given_item(fw, droplet_ids=tuple(fw.get("droplet_ids") or ()))
            for fw in context.objects("firewalls")
        )
    )


def forget_droplets(firewall: JsonObject, gone: set[int]) -> None:
    firewall["droplet_ids"] = [i for i in firewall.get("droplet_ids") or () if i not in gone]
    firewall["pending_changes"] = [
        change
        for change in firewall.get("pending_changes") or ()
        if change.get("droplet_id") not in gone
    ]


KIND = Kind(
    name="firewalls",
    routes=(Endpoint("/v2/firewalls", "firewall:read", list_firewalls, paged=True, field_scopes=(
        ("firewalls[].droplet_ids", "droplet:read"), ("firewalls[].tags", "tag:create"),
        ("firewalls[].tags", "tag:read"),
    )),),
    list_endpoint="/v2/firewalls",
    count=Count(derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets else 0),
    build=build_firewalls,
    after=("load_balancers",),
    given=given_firewalls,
    forget=forget_droplets,
)
