"""Kubernetes clusters (`/v2/kubernetes/clusters`); their nodes are Droplets of the fleet.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from exporter.simulator.building import (
    HOUR,
    BuildContext,
    GivenContext,
    JsonObject,
    base36,
    given_item,
    monthly,
    text,
    unix,
)
from exporter.simulator.catalog import (
    KUBERNETES_HA_CONTROL_PLANE_MONTHLY,
    KUBERNETES_NODE_SIZES,
    KUBERNETES_VERSIONS,
)
from exporter.simulator.determinism import stable_int
from exporter.simulator.droplet_factory import KubernetesNode
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

POOL_NAMES = ("default-pool", "workers", "highmem", "batch")


def kubernetes_clusters(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("kubernetes_clusters")


def list_kubernetes_clusters(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "kubernetes_clusters", kubernetes_clusters(fleet.resources), fleet)


@dataclass
class NodePlan:
    id: str
    name: str
    droplet_id: int
    created_at: str
    state: str = "running"


@dataclass
class PoolPlan:
    id: str
    name: str
    size: str
    tags: tuple[str, ...]
    nodes: list[NodePlan]
    auto_scale: bool = False
    min_nodes: int = 0
    max_nodes: int = 0


@dataclass
class ClusterPlan:
    index: int
    id: str
    name: str
    region: str
    version: str
    state: str
    message: str
    tags: tuple[str, ...]
    pools: list[PoolPlan]
    created: int = 0
    ha: bool = False

    @property
    def droplet_ids(self) -> tuple[int, ...]:
        return tuple(node.droplet_id for pool in self.pools for node in pool.nodes)


def cluster_plans(context: BuildContext) -> list[ClusterPlan]:
    """The clusters planned (`plan_kubernetes`), for the kinds that target their nodes."""
    return cast(list[ClusterPlan], context.plans.setdefault("kubernetes_clusters", []))


def plan_kubernetes(context: BuildContext) -> None:
    """Turns Droplets into nodes: runs before volumes are attached, so attachments agree
    with the nodes' regions."""
    count = context.counts.kubernetes_clusters
    if not count:
        return
    rng = context.rng("kubernetes")
    active = [d for d in context.droplets if d["status"] == "active"]
    candidates = iter(
        [d for d in active if "k8s" in d["tags"]] + [d for d in active if "k8s" not in d["tags"]]
    )
    degraded, provisioning, upgrading = cluster_variety(context, count)
    for index in range(count):
        cluster_id = context.uuid("kubernetes", index)
        region = context.region_at(index)
        state, message = "running", "Cluster is running"
        if index == degraded:
            state, message = "degraded", "Cluster is degraded: a node pool is below its minimum"
        elif index == provisioning:
            state, message = "provisioning", "Cluster is provisioning"
        elif index == upgrading:
            state, message = "upgrading", "Cluster is upgrading"
        tags = (context.factory.env_tag, "k8s", f"k8s:{cluster_id}")
        plan = ClusterPlan(
            index=index,
            id=cluster_id,
            name=f"k8s-{region}-{index + 1:02d}",
            region=region,
            version=KUBERNETES_VERSIONS[0 if state == "provisioning" else index % 3],
            state=state,
            message=message,
            tags=tags,
            pools=[],
            ha=index % 3 == 0,
        )
        pool_count = 1 + rng.randrange(3)
        for pool_index in range(pool_count):
            plan_pool(context, plan, pool_index, rng, candidates)
        shape_pools(plan)
        created = [unix(n.created_at) for p in plan.pools for n in p.nodes]
        plan.created = min(created) - HOUR
        cluster_plans(context).append(plan)
        context.droplet_groups[f"k8s:{plan.id}"] = plan.id


def cluster_variety(context: BuildContext, count: int) -> tuple[int | None, int | None, int | None]:
    """(degraded, provisioning, upgrading) cluster positions."""
    if context.problems is False:
        return None, None, None
    if context.problems is True:
        degraded: int | None = 1 if count >= 2 else 0
    else:
        degraded = 1 if count >= 3 else None
    provisioning = count - 1 if count >= 5 else None
    upgrading = 2 if count >= 6 else None
    return degraded, provisioning, upgrading


def plan_pool(
    context: BuildContext,
    plan: ClusterPlan,
    pool_index: int,
    rng: random.Random,
    candidates: Iterator[JsonObject],
) -> None:
    pool_id = context.uuid(f"node-pool:{plan.id}", pool_index)
    name = POOL_NAMES[pool_index % len(POOL_NAMES)]
    size = KUBERNETES_NODE_SIZES[(plan.index + pool_index) % len(KUBERNETES_NODE_SIZES)]
    tags = (*plan.tags, "k8s:worker")
    pool = PoolPlan(id=pool_id, name=name, size=size, tags=tags, nodes=[])
    for node_index in range(1 + rng.randrange(3)):
        droplet = next(candidates, None)
        if droplet is None:
            droplet = dedicated_node_droplet(context, plan)
        node_name = f"{name}-{base36(int(droplet['id']))[-5:]}"
        node = KubernetesNode(name=node_name, size=size, region=plan.region, tags=tags)
        rewritten = context.factory.droplet(
            rng,
            droplet_id=int(droplet["id"]),
            index=node_index,
            created_at=unix(droplet["created_at"]),
            status="active",
            node=node,
        )
        droplet.clear()
        droplet.update(rewritten)
        context.node_ids.add(int(droplet["id"]))
        pool.nodes.append(
            NodePlan(
                id=context.uuid(f"node:{pool_id}", node_index),
                name=node_name,
                droplet_id=int(droplet["id"]),
                created_at=str(droplet["created_at"]),
            )
        )
    if rng.random() < 0.4:
        pool.auto_scale = True
        pool.min_nodes = 1
        pool.max_nodes = len(pool.nodes) + 2
    plan.pools.append(pool)


def dedicated_node_droplet(context: BuildContext, plan: ClusterPlan) -> JsonObject:
    """A Droplet for a node when the fleet has no active one left (tiny fleets only)."""
    context.next_droplet_id += 1 + stable_int(context.spec.seed, context.next_droplet_id) % 5
    placeholder: JsonObject = {
        "id": context.next_droplet_id,
        "created_at": iso_utc(context.start + context.span - DAY),
        "status": "active",
    }
    context.droplets.append(placeholder)
    return placeholder


def shape_pools(plan: ClusterPlan) -> None:
    """Node states and pool sizes that match the cluster's state."""
    if plan.state == "degraded":
        pool = plan.pools[0]
        pool.auto_scale = True
        pool.min_nodes = len(pool.nodes) + 1
        pool.max_nodes = len(pool.nodes) + 3
    elif plan.state == "provisioning":
        for pool in plan.pools:
            for node in pool.nodes:
                node.state = "provisioning"
    elif plan.state == "upgrading":
        plan.pools[0].nodes[0].state = "draining"


def build_kubernetes_clusters(context: BuildContext) -> Built:
    items: list[Item] = []
    for plan in cluster_plans(context):
        vpc = context.factory.vpc_uuid(plan.region)
        created = iso_utc(plan.created)
        pools: list[JsonObject] = [
            {
                "id": pool.id,
                "name": pool.name,
                "size": pool.size,
                "count": len(pool.nodes),
                "tags": list(pool.tags),
                "labels": {"pool": pool.name} if pool.name != POOL_NAMES[0] else None,
                "taints": [],
                "auto_scale": pool.auto_scale,
                "min_nodes": pool.min_nodes,
                "max_nodes": pool.max_nodes,
                "nodes": [
                    {
                        "id": node.id,
                        "name": node.name,
                        "status": {"state": node.state},
                        "droplet_id": str(node.droplet_id),
                        "created_at": node.created_at,
                        "updated_at": node.created_at,
                    }
                    for node in pool.nodes
                ],
            }
            for pool in plan.pools
        ]
        body: JsonObject = {
            "id": plan.id,
            "name": plan.name,
            "region": plan.region,
            "version": plan.version,
            "cluster_subnet": "10.244.0.0/16",
            "service_subnet": "10.245.0.0/16",
            "vpc_uuid": vpc,
            "ipv4": f"159.223.{plan.index // 250}.{plan.index % 250 + 2}",
            "endpoint": f"https://{plan.id}.k8s.ondigitalocean.com",
            "tags": list(plan.tags),
            "node_pools": pools,
            "maintenance_policy": {"start_time": "04:00", "duration": "4h0m0s", "day": "any"},
            "auto_upgrade": plan.index % 2 == 0,
            "status": {"state": plan.state, "message": plan.message},
            "created_at": created,
            "updated_at": iso_utc(plan.created + 7 * DAY),
            "surge_upgrade": True,
            "registry_enabled": context.counts.registry and plan.index == 0,
            "ha": plan.ha,
        }
        urn = f"do:kubernetes:{plan.id}"
        cost = monthly(KUBERNETES_HA_CONTROL_PLANE_MONTHLY) if plan.ha else Decimal(0)
        items.append(
            make_item(
                body,
                id=plan.id,
                name=plan.name,
                region=plan.region,
                created_at=created,
                urn=urn,
                droplet_ids=plan.droplet_ids,
                hourly_cost=cost,
                extra=plan.state,
            )
        )
        project = context.project_for(plan.id)
        context.assign(urn, f"/v2/kubernetes/clusters/{plan.id}", created, project)
        context.member(vpc, urn, plan.name, created)
    return Built(items=tuple(items))


def given_kubernetes_clusters(context: GivenContext) -> Built:
    items = []
    for cluster in context.objects("kubernetes_clusters"):
        urn = f"do:kubernetes:{cluster.get('id')}"
        context.assign(urn, f"/v2/kubernetes/clusters/{cluster.get('id')}", text(cluster.get("created_at")))
        vpc = text(cluster.get("vpc_uuid"))
        if vpc:
            context.member(vpc, urn, text(cluster.get("name")), text(cluster.get("created_at")))
        node_ids = tuple(
            int(node["droplet_id"])
            for pool in cluster.get("node_pools") or ()
            for node in pool.get("nodes") or ()
            if str(node.get("droplet_id", "")).isdigit()
        )
        items.append(given_item(cluster, droplet_ids=node_ids, urn=urn))
    return Built(items=tuple(items))


def forget_nodes(cluster: JsonObject, gone: set[int]) -> None:
    """The pool keeps its desired `count`; the destroyed node is simply gone."""
    for pool in cluster.get("node_pools") or ():
        pool["nodes"] = [
            node
            for node in pool.get("nodes") or ()
            if not str(node.get("droplet_id", "")).isdigit() or int(node["droplet_id"]) not in gone
        ]


KIND = Kind(
    name="kubernetes_clusters",
    routes=(
        Endpoint(
            "/v2/kubernetes/clusters", "kubernetes:read", list_kubernetes_clusters, paged=True,
            field_scopes=(("kubernetes_clusters[].vpc_uuid", "vpc:read"),),
        ),
    ),
    list_endpoint="/v2/kubernetes/clusters",
    count=Count(derive=lambda droplets, _: droplets // 100, problems_minimum=2),
    build=build_kubernetes_clusters,
    plan=plan_kubernetes,
    given=given_kubernetes_clusters,
    forget=forget_nodes,
    in_state=True,
)
