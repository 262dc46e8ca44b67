"""Load balancers (`/v2/load_balancers`).
"""

from __future__ import annotations

from exporter.simulator.building import (
    HOUR,
    BuildContext,
    GivenContext,
    JsonObject,
    given_item,
    monthly,
    text,
)
from exporter.simulator.catalog import LOAD_BALANCER_MONTHLY_PER_NODE
from exporter.simulator.determinism import stable_hex
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.kubernetes_clusters import cluster_plans
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def load_balancers(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("load_balancers")


def list_load_balancers(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "load_balancers", load_balancers(fleet.resources), fleet)


def build_load_balancers(context: BuildContext) -> Built:
    count = context.counts.load_balancers
    rng = context.rng("load_balancers")
    clusters = cluster_plans(context)
    kubernetes = clusters[: min(len(clusters), count // 2)]
    errored = None
    if context.problems is True or (context.problems is None and count >= 5):
        errored = len(kubernetes) if count > len(kubernetes) else 0
    newest = count - 1 if context.problems is not False and count >= 5 else None
    certificates = context.built("certificates").bodies
    verified = [body["id"] for body in certificates if body["state"] == "verified"]
    serving = context.serving()
    by_region: dict[str, list[JsonObject]] = {}
    for droplet in serving:
        by_region.setdefault(droplet["region"]["slug"], []).append(droplet)
    out: list[tuple[Item, JsonObject]] = []
    for index in range(count):
        lb_id = context.uuid("load_balancer", index)
        created = context.created("load_balancer", index, count)
        if index < len(kubernetes):
            plan = kubernetes[index]
            region, tag = plan.region, f"k8s:{plan.id}"
            targets = list(plan.droplet_ids)
            name = "a" + stable_hex(31, context.spec.seed, context.account, "lb-name", index)
            project = context.project_for(plan.id)
            created = max(created, plan.created + HOUR)
        else:
            region = context.region_at(index)
            local = by_region.get(region, [])
            chosen = rng.sample(local, min(len(local), 2 + rng.randrange(3)))
            targets = [d["id"] for d in chosen]
            role = context.role(chosen[0]) if chosen else "web"
            name, tag = f"{role}-{region}-lb-{index + 1:02d}", ""
            project = context.droplet_project(targets[0]) if targets else context.project_for(lb_id)
        status = "active"
        if index == errored:
            status = "errored"
        elif index == newest:
            status = "new"
        rules: list[JsonObject] = [
            {
                "entry_protocol": "http",
                "entry_port": 80,
                "target_protocol": "http",
                "target_port": 80 if tag else 8080,
                "certificate_id": "",
                "tls_passthrough": False,
            }
        ]
        if verified and not tag:
            rules.append(
                {
                    "entry_protocol": "https",
                    "entry_port": 443,
                    "target_protocol": "http",
                    "target_port": 8080,
                    "certificate_id": verified[index % len(verified)],
                    "tls_passthrough": False,
                }
            )
        size_unit = 1 + (index % 3 == 2)
        body: JsonObject = {
            "id": lb_id,
            "name": name,
            "ip": f"138.197.{index // 250}.{index % 250 + 2}",
            "size_unit": size_unit,
            "size": "lb-small",
            "algorithm": "round_robin",
            "status": status,
            "created_at": iso_utc(created),
            "forwarding_rules": rules,
            "health_check": {
                "protocol": "http",
                "port": 80 if tag else 8080,
                "path": "/healthz" if tag else "/",
                "check_interval_seconds": 10,
                "response_timeout_seconds": 5,
                "healthy_threshold": 3,
                "unhealthy_threshold": 5,
            },
            "sticky_sessions": {"type": "none"},
            "region": context.factory.region_object(region),
            "tag": tag,
            "droplet_ids": targets,
            "redirect_http_to_https": len(rules) > 1,
            "enable_proxy_protocol": False,
            "enable_backend_keepalive": False,
            "http_idle_timeout_seconds": 60,
            "vpc_uuid": context.factory.vpc_uuid(region),
            "project_id": project,
            "disable_lets_encrypt_dns_records": False,
            "firewall": {"deny": [], "allow": []},
            "network": "EXTERNAL",
            "network_stack": "IPV4",
            "type": "REGIONAL",
            # only a global load balancer targets others; regional ones answer an empty list
            "target_load_balancer_ids": [],
            "tls_cipher_policy": "DEFAULT",
        }
        urn = f"do:loadbalancer:{lb_id}"
        item = make_item(
            body,
            id=lb_id,
            name=name,
            region=region,
            created_at=iso_utc(created),
            urn=urn,
            droplet_ids=tuple(targets),
            hourly_cost=monthly(LOAD_BALANCER_MONTHLY_PER_NODE * size_unit),
            extra=status,
        )
        context.assign(urn, f"/v2/load_balancers/{lb_id}", iso_utc(created), project)
        context.member(context.factory.vpc_uuid(region), urn, name, iso_utc(created))
        out.append((item, body))
    return Built(items=tuple(item for item, _ in out), bodies=tuple(body for _, body in out))


def given_load_balancers(context: GivenContext) -> Built:
    items = []
    for lb in context.objects("load_balancers"):
        urn = f"do:loadbalancer:{lb.get('id')}"
        context.assign(urn, f"/v2/load_balancers/{lb.get('id')}", text(lb.get("created_at")))
        vpc = text(lb.get("vpc_uuid"))
        if vpc:
            context.member(vpc, urn, text(lb.get("name")), text(lb.get("created_at")))
        items.append(given_item(lb, droplet_ids=tuple(lb.get("droplet_ids") or ()), urn=urn))
    return Built(items=tuple(items))


def forget_targets(load_balancer: JsonObject, gone: set[int]) -> None:
    load_balancer["droplet_ids"] = [
        i for i in load_balancer.get("droplet_ids") or () if i not in gone
    ]


KIND = Kind(
    name="load_balancers",
    routes=(
        Endpoint("/v2/load_balancers", "load_balancer:read", list_load_balancers, paged=True),
    ),
    list_endpoint="/v2/load_balancers",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=2),
    build=build_load_balancers,
    after=("certificates",),
    given=given_load_balancers,
    forget=forget_targets,
    in_state=True,
)
