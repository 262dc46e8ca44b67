"""Kubernetes: GET /v2/kubernetes/clusters (scope kubernetes:read, default every 1m).

Clusters, their node pools and the nodes in each pool, all from the one paged list. A node pool's
`size` is the Droplet size slug its workers run on, which links pools to Droplet prices for cost;
each node's `droplet_id` links it to its Droplet. Nodes by state are a `count by` over
`digitalocean_kubernetes_node_status == 1`, so no separate count is exported.

    digitalocean_kubernetes_cluster_info{account="production",kubernetes_cluster_id="bd5f5959-5e1e-4205-a714-a914373942af",name="prod-cluster-01",region="nyc1",version="1.18.6-do.0",vpc_uuid="c33931f2-a26a-4e61-b85c-4e95a2ec431b"} 1
    digitalocean_kubernetes_node_pool_nodes{account="production",kubernetes_cluster_id="bd5f5959-5e1e-4205-a714-a914373942af",node_pool_id="cdda885e-7663-40c8-bc74-3a036c66545d"} 3
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    FILTER_KEYS,
    Collector,
    Facts,
    Family,
    FieldScope,
    PollContext,
    ResourceReader,
    Sample,
    state_set,
)
from exporter.collectors.fields import (
    objects,
    optional_bool,
    optional_int,
    optional_str,
    required_str,
    string_list,
    timestamp,
)

ENDPOINT = "/v2/kubernetes/clusters"
LIST_KEY = "kubernetes_clusters"
# The enums of cluster_read.status.state and node.status.state, in the spec's order.
CLUSTER_STATES = ("running", "provisioning", "degraded", "error", "deleted", "upgrading", "deleting")
NODE_STATES = ("provisioning", "running", "draining", "deleting")

CLUSTER = ("kubernetes_cluster_id",)
POOL = ("kubernetes_cluster_id", "node_pool_id")
NODE = ("kubernetes_cluster_id", "node_pool_id", "node_id")

CLUSTER_INFO = Family(
    "digitalocean_kubernetes_cluster_info",
    f"Kubernetes cluster descriptive labels (always 1), polled from {ENDPOINT}.",
    (*CLUSTER, "name", "region", "version", "vpc_uuid"),
)
CLUSTER_STATUS = Family(
    "digitalocean_kubernetes_cluster_status",
    f"Kubernetes cluster state as a state set (1 for the current state), polled from {ENDPOINT}.",
    (*CLUSTER, "status"),
)
CLUSTER_HA = Family(
    "digitalocean_kubernetes_cluster_ha",
    f"1 if the cluster control plane is highly available, polled from {ENDPOINT}.",
    CLUSTER,
)
CLUSTER_AUTO_UPGRADE = Family(
    "digitalocean_kubernetes_cluster_auto_upgrade",
    f"1 if the cluster is upgraded to new patch releases automatically, polled from {ENDPOINT}.",
    CLUSTER,
)
CLUSTER_SURGE_UPGRADE = Family(
    "digitalocean_kubernetes_cluster_surge_upgrade",
    f"1 if upgrades bring up new nodes before removing old ones, polled from {ENDPOINT}.",
    CLUSTER,
)
CLUSTER_CREATED = Family(
    "digitalocean_kubernetes_cluster_created_timestamp_seconds",
    f"When the Kubernetes cluster was created, polled from {ENDPOINT}.",
    CLUSTER,
)
POOL_INFO = Family(
    "digitalocean_kubernetes_node_pool_info",
    f"Node pool descriptive labels; size is the Droplet size slug of its workers (always 1), "
    f"polled from {ENDPOINT}.",
    (*POOL, "name", "size"),
)
POOL_NODES = Family(
    "digitalocean_kubernetes_node_pool_nodes",
    f"Nodes the node pool is set to run (its count), polled from {ENDPOINT}.",
    POOL,
)
POOL_MIN_NODES = Family(
    "digitalocean_kubernetes_node_pool_min_nodes",
    f"Fewest nodes the autoscaler may scale the pool to (only while auto-scaling), "
    f"polled from {ENDPOINT}.",
    POOL,
)
POOL_MAX_NODES = Family(
    "digitalocean_kubernetes_node_pool_max_nodes",
    f"Most nodes the autoscaler may scale the pool to (only while auto-scaling), "
    f"polled from {ENDPOINT}.",
    POOL,
)
POOL_AUTO_SCALE = Family(
    "digitalocean_kubernetes_node_pool_auto_scale",
    f"1 if the node pool is auto-scaled, polled from {ENDPOINT}.",
    POOL,
)
NODE_INFO = Family(
    "digitalocean_kubernetes_node_info",
    f"Kubernetes node name and the Droplet it runs on (always 1), polled from {ENDPOINT}.",
    (*NODE, "name", "droplet_id"),
)
NODE_STATUS = Family(
    "digitalocean_kubernetes_node_status",
    f"Kubernetes node state as a state set (1 for the current state), polled from {ENDPOINT}.",
    (*NODE, "status"),
)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    node_id: str
    name: str
    status: str
    droplet_id: str  # a string in the API; "" while the Droplet is not yet assigned
    created_at: float | None  # billing of a node starts about here (the cost estimates use it)


@dataclass(frozen=True, slots=True)
class NodePoolRecord:
    node_pool_id: str
    name: str
    size: str
    count: int | None
    auto_scale: bool | None
    min_nodes: int | None
    max_nodes: int | None
    nodes: tuple[NodeRecord, ...]  # sorted by node_id


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    cluster_id: str
    name: str
    region: str
    version: str
    vpc_uuid: str
    status: str
    ha: bool | None
    auto_upgrade: bool | None
    surge_upgrade: bool | None
    created_at: float | None
    node_pools: tuple[NodePoolRecord, ...]  # sorted by node_pool_id
    tags: tuple[str, ...] = ()  # for `filter:` only; not exported


def _state(obj: Mapping[str, Any]) -> str:
    return optional_str(obj, "status", "state") or "unknown"


def _droplet_id(node: Mapping[str, Any]) -> str:
    value = node.get("droplet_id")
    # Documented as a string; an integer would name the same Droplet, so it is accepted too.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else ""


def _list(obj: Mapping[str, Any], key: str) -> object:
    # An absent or null list is an empty one (a pool whose nodes are not created yet); any other
    # non-list still fails in `objects`, naming the place.
    value = obj.get(key)
    return [] if value is None else value


def parse_nodes(items: object, where: str) -> tuple[NodeRecord, ...]:
    by_id: dict[str, NodeRecord] = {}
    for path, node in objects(items, where):
        record = NodeRecord(
            node_id=required_str(node, "id", path),
            name=optional_str(node, "name"),
            status=_state(node),
            droplet_id=_droplet_id(node),
            created_at=timestamp(node, "created_at"),
        )
        by_id[record.node_id] = record
    return tuple(by_id[key] for key in sorted(by_id))


def parse_node_pools(items: object, where: str) -> tuple[NodePoolRecord, ...]:
    by_id: dict[str, NodePoolRecord] = {}
    for path, pool in objects(items, where):
        record = NodePoolRecord(
            node_pool_id=required_str(pool, "id", path),
            name=optional_str(pool, "name"),
            size=optional_str(pool, "size"),
            count=optional_int(pool, "count"),
            auto_scale=optional_bool(pool, "auto_scale"),
            min_nodes=optional_int(pool, "min_nodes"),
            max_nodes=optional_int(pool, "max_nodes"),
            nodes=parse_nodes(_list(pool, "nodes"), f"{path}.nodes"),
        )
        by_id[record.node_pool_id] = record
    return tuple(by_id[key] for key in sorted(by_id))


def parse_clusters(items: object, where: str = f"{ENDPOINT} {LIST_KEY}") -> tuple[ClusterRecord, ...]:
    records: list[ClusterRecord] = []
    for path, cluster in objects(items, where):
        record = ClusterRecord(
            cluster_id=required_str(cluster, "id", path),
            name=optional_str(cluster, "name"),
            region=optional_str(cluster, "region"),
            version=optional_str(cluster, "version"),
            vpc_uuid=optional_str(cluster, "vpc_uuid"),
            status=_state(cluster),
            ha=optional_bool(cluster, "ha"),
            auto_upgrade=optional_bool(cluster, "auto_upgrade"),
            surge_upgrade=optional_bool(cluster, "surge_upgrade"),
            created_at=timestamp(cluster, "created_at"),
            node_pools=parse_node_pools(_list(cluster, "node_pools"), f"{path}.node_pools"),
            tags=string_list(cluster, "tags"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.cluster_id))


async def fetch(reader: ResourceReader) -> tuple[ClusterRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[ClusterRecord, ...]:
    """The clusters the `filter:` keeps (the list takes no filter: applied here)."""
    records = parse_clusters(await reader.list_all(ENDPOINT, LIST_KEY))
    return context.selection.keep(records, lambda c: Facts(c.cluster_id, name=c.name, region=c.region, tags=c.tags))


def samples(clusters: tuple[ClusterRecord, ...]) -> Iterator[Sample]:
    for c in clusters:
        cluster_key = (c.cluster_id,)
        yield CLUSTER_INFO.name, (*cluster_key, c.name, c.region, c.version, c.vpc_uuid), 1
        yield from state_set(CLUSTER_STATUS.name, cluster_key, c.status, CLUSTER_STATES)
        for family, flag in ((CLUSTER_HA, c.ha), (CLUSTER_AUTO_UPGRADE, c.auto_upgrade),
                             (CLUSTER_SURGE_UPGRADE, c.surge_upgrade)):
            if flag is not None:
                yield family.name, cluster_key, int(flag)
        if c.created_at is not None:
            yield CLUSTER_CREATED.name, cluster_key, c.created_at
        for p in c.node_pools:
            pool_key = (*cluster_key, p.node_pool_id)
            yield POOL_INFO.name, (*pool_key, p.name, p.size), 1
            if p.count is not None:
                yield POOL_NODES.name, pool_key, p.count
            if p.auto_scale is not None:
                yield POOL_AUTO_SCALE.name, pool_key, int(p.auto_scale)
            # Without auto-scaling the API sends 0 for both bounds: not limits, so not exported
            # (an alert on nodes >= max_nodes would otherwise fire for every fixed-size pool).
            if p.auto_scale:
                for family, bound in ((POOL_MIN_NODES, p.min_nodes), (POOL_MAX_NODES, p.max_nodes)):
                    if bound is not None:
                        yield family.name, pool_key, bound
            for n in p.nodes:
                node_key = (*pool_key, n.node_id)
                yield NODE_INFO.name, (*node_key, n.name, n.droplet_id), 1
                yield from state_set(NODE_STATUS.name, node_key, n.status, NODE_STATES)


COLLECTOR: Collector[tuple[ClusterRecord, ...]] = Collector(
    name="kubernetes",
    summary="kubernetes clusters, node pools and nodes: state, version, pool sizes and node counts",
    endpoints=(ENDPOINT,),
    id_label="kubernetes_cluster_id",
    paged=ENDPOINT,
    scope="kubernetes:read",
    field_scopes=(
        FieldScope("vpc_uuid", ("vpc:read",), ("digitalocean_kubernetes_cluster_info{vpc_uuid}",)),
    ),
    interval=60.0,
    families=(
        CLUSTER_INFO, CLUSTER_STATUS, CLUSTER_HA, CLUSTER_AUTO_UPGRADE, CLUSTER_SURGE_UPGRADE,
        CLUSTER_CREATED, POOL_INFO, POOL_NODES, POOL_MIN_NODES, POOL_MAX_NODES, POOL_AUTO_SCALE,
        NODE_INFO, NODE_STATUS,
    ),
    fetch=fetch,
    filters=FILTER_KEYS,
    fetch_with=fetch_selected,
    samples=samples,
)
