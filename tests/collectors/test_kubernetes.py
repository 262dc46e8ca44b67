"""Kubernetes against the official example: clusters, node pools and nodes as exact series."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import kubernetes
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example

ENDPOINT = "/v2/kubernetes/clusters"
CLUSTER = "bd5f5959-5e1e-4205-a714-a914373942af"
FRONTEND = "cdda885e-7663-40c8-bc74-3a036c66545d"
BACKEND = "f49f4379-7e7f-4af5-aeb6-0354bd840778"

Samples = dict[tuple[str, tuple[str, ...]], float]


def example_body() -> Any:
    return spec_example(ENDPOINT, "All Kubernetes Clusters")


def sample_map(records: tuple[kubernetes.ClusterRecord, ...]) -> Samples:
    return {(name, labels): value for name, labels, value in kubernetes.samples(records)}


def states(samples: Samples, family: str, key: tuple[str, ...]) -> dict[str, float]:
    return {labels[-1]: v for (name, labels), v in samples.items()
            if name == family and labels[:-1] == key}


async def example_records() -> tuple[kubernetes.ClusterRecord, ...]:
    reader = FakeReader({ENDPOINT: example_body()})
    return await kubernetes.fetch(reader)


async def test_fetch_reads_the_paged_list_through_list_all() -> None:
    reader = FakeReader({ENDPOINT: example_body()})
    records = await kubernetes.fetch(reader)
    assert [(r.method, r.endpoint, r.key, r.params) for r in reader.requests] == [
        ("list_all", ENDPOINT, "kubernetes_clusters", {})
    ]
    assert [r.cluster_id for r in records] == [CLUSTER]


async def test_cluster_series_from_the_official_example() -> None:
    samples = [s for s in kubernetes.samples(await example_records())
               if s[0].startswith("digitalocean_kubernetes_cluster_")]
    key = (CLUSTER,)
    assert samples == [
        ("digitalocean_kubernetes_cluster_info",
         (*key, "prod-cluster-01", "nyc1", "1.18.6-do.0", "c33931f2-a26a-4e61-b85c-4e95a2ec431b"), 1),
        ("digitalocean_kubernetes_cluster_status", (*key, "running"), 0),
        ("digitalocean_kubernetes_cluster_status", (*key, "provisioning"), 1),
        ("digitalocean_kubernetes_cluster_status", (*key, "degraded"), 0),
        ("digitalocean_kubernetes_cluster_status", (*key, "error"), 0),
        ("digitalocean_kubernetes_cluster_status", (*key, "deleted"), 0),
        ("digitalocean_kubernetes_cluster_status", (*key, "upgrading"), 0),
        ("digitalocean_kubernetes_cluster_status", (*key, "deleting"), 0),
        ("digitalocean_kubernetes_cluster_ha", key, 0),
        ("digitalocean_kubernetes_cluster_auto_upgrade", key, 0),
        ("digitalocean_kubernetes_cluster_surge_upgrade", key, 0),
        ("digitalocean_kubernetes_cluster_created_timestamp_seconds", key, 1542297611.0),
    ]


async def test_node_pool_series_from_the_official_example() -> None:
    samples = [s for s in kubernetes.samples(await example_records())
               if s[0].startswith("digitalocean_kubernetes_node_pool_")]
    frontend, backend = (CLUSTER, FRONTEND), (CLUSTER, BACKEND)
    assert samples == [
        ("digitalocean_kubernetes_node_pool_info", (*frontend, "frontend-pool", "s-1vcpu-2gb"), 1),
        ("digitalocean_kubernetes_node_pool_nodes", frontend, 3),
        ("digitalocean_kubernetes_node_pool_auto_scale", frontend, 0),
        # frontend-pool does not auto-scale: its 0/0 bounds are placeholders, not limits.
        ("digitalocean_kubernetes_node_pool_info", (*backend, "backend-pool", "g-4vcpu-16gb"), 1),
        ("digitalocean_kubernetes_node_pool_nodes", backend, 2),
        ("digitalocean_kubernetes_node_pool_auto_scale", backend, 1),
        ("digitalocean_kubernetes_node_pool_min_nodes", backend, 2),
        ("digitalocean_kubernetes_node_pool_max_nodes", backend, 5),
    ]


async def test_node_series_from_the_official_example() -> None:
    samples = sample_map(await example_records())
    info = sorted(labels for name, labels in samples if name == "digitalocean_kubernetes_node_info")
    assert info == [
        (CLUSTER, FRONTEND, "478247f8-b1bb-4f7a-8db9-2a5f8d4b8f8f", "adoring-newton-3niq", "205545370"),
        (CLUSTER, FRONTEND, "ad12e744-c2a9-473d-8aa9-be5680500eb1", "adoring-newton-3nim", "205545371"),
        (CLUSTER, FRONTEND, "e46e8d07-f58f-4ff1-9737-97246364400e", "adoring-newton-3ni7", "205545372"),
        (CLUSTER, BACKEND, "3385619f-8ec3-42ba-bb23-8d21b8ba7518", "affectionate-nightingale-3nif",
         "205545373"),
        (CLUSTER, BACKEND, "4b8f60ff-ba06-4523-a6a4-b8148244c7e6", "affectionate-nightingale-3niy",
         "205545374"),
    ]
    node = (CLUSTER, BACKEND, "4b8f60ff-ba06-4523-a6a4-b8148244c7e6")
    assert states(samples, "digitalocean_kubernetes_node_status", node) == {
        "provisioning": 1, "running": 0, "draining": 0, "deleting": 0,
    }
    assert sum(v for (name, _), v in samples.items()
               if name == "digitalocean_kubernetes_node_status") == 5


async def test_docstring_lines_are_real_exposition() -> None:
    fragment = encode_collector("production", kubernetes.COLLECTOR, await example_records())
    rendered = b"".join(fragment.values()).decode()
    documented = [line.strip() for line in (kubernetes.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_families_follow_the_naming_rules() -> None:
    for family in kubernetes.COLLECTOR.families:
        assert family.name.startswith(("digitalocean_kubernetes_cluster_",
                                       "digitalocean_kubernetes_node_pool_",
                                       "digitalocean_kubernetes_node_"))
        assert family.help.endswith(f", polled from {ENDPOINT}.")
        assert '"' not in family.help
        assert "\\" not in family.help
        assert not family.name.endswith("_total")
        assert "id" not in family.labels
    assert (kubernetes.COLLECTOR.scope, kubernetes.COLLECTOR.interval) == ("kubernetes:read", 60.0)


def test_pools_and_nodes_are_sorted_by_id() -> None:
    [cluster] = kubernetes.parse_clusters([{"id": "c", "node_pools": [
        {"id": "p2", "nodes": [{"id": "n2"}, {"id": "n1"}]},
        {"id": "p1", "nodes": []},
    ]}])
    assert [p.node_pool_id for p in cluster.node_pools] == ["p1", "p2"]
    assert [n.node_id for n in cluster.node_pools[1].nodes] == ["n1", "n2"]


async def test_clusters_are_sorted_by_id_and_an_id_a_shifting_list_repeats_counts_once() -> None:
    reader = FakeReader({"/v2/kubernetes/clusters": {"kubernetes_clusters": [
        {"id": "b", "name": "old"}, {"id": "a"}, {"id": "b", "name": "new"}]}}, page_size=2)
    records = await kubernetes.fetch(reader)
    assert [(r.cluster_id, r.name) for r in records] == [("a", ""), ("b", "old")]
    assert reader.dropped == {"/v2/kubernetes/clusters": 1}


def test_missing_and_null_fields_are_tolerated() -> None:
    [cluster] = kubernetes.parse_clusters([
        {"id": "c", "status": None, "ha": None, "vpc_uuid": None, "created_at": "yesterday",
         "node_pools": [
             {"id": "p", "count": None, "auto_scale": True, "min_nodes": None, "max_nodes": 4,
              "nodes": [{"id": "n", "status": {}, "droplet_id": None}]},
             {"id": "q", "nodes": None},
         ]},
    ])
    samples = list(kubernetes.samples((cluster,)))
    assert samples == [
        ("digitalocean_kubernetes_cluster_info", ("c", "", "", "", ""), 1),
        *(("digitalocean_kubernetes_cluster_status", ("c", state), 0)
          for state in kubernetes.CLUSTER_STATES),
        ("digitalocean_kubernetes_cluster_status", ("c", "unknown"), 1),
        ("digitalocean_kubernetes_node_pool_info", ("c", "p", "", ""), 1),
        ("digitalocean_kubernetes_node_pool_auto_scale", ("c", "p"), 1),
        ("digitalocean_kubernetes_node_pool_max_nodes", ("c", "p"), 4),
        ("digitalocean_kubernetes_node_info", ("c", "p", "n", "", ""), 1),
        *(("digitalocean_kubernetes_node_status", ("c", "p", "n", state), 0)
          for state in kubernetes.NODE_STATES),
        ("digitalocean_kubernetes_node_status", ("c", "p", "n", "unknown"), 1),
        ("digitalocean_kubernetes_node_pool_info", ("c", "q", "", ""), 1),
    ]


def test_cluster_without_node_pools_has_only_cluster_series() -> None:
    records = kubernetes.parse_clusters([{"id": "d", "node_pools": None}, {"id": "e"}])
    assert [r.node_pools for r in records] == [(), ()]


def test_integer_droplet_id_names_the_same_droplet() -> None:
    [cluster] = kubernetes.parse_clusters(
        [{"id": "c", "node_pools": [{"id": "p", "nodes": [{"id": "n", "droplet_id": 205545370}]}]}]
    )
    assert cluster.node_pools[0].nodes[0].droplet_id == "205545370"


def test_unknown_states_are_visible_in_the_state_sets() -> None:
    records = kubernetes.parse_clusters([{
        "id": "c", "status": {"state": "hibernating", "message": "free text is never a label"},
        "node_pools": [{"id": "p", "nodes": [{"id": "n", "status": {"state": "ready"}}]}],
    }])
    samples = sample_map(records)
    assert states(samples, "digitalocean_kubernetes_cluster_status", ("c",)) == {
        "running": 0, "provisioning": 0, "degraded": 0, "error": 0, "deleted": 0,
        "upgrading": 0, "deleting": 0, "hibernating": 1,
    }
    assert states(samples, "digitalocean_kubernetes_node_status", ("c", "p", "n")) == {
        "provisioning": 0, "running": 0, "draining": 0, "deleting": 0, "ready": 1,
    }
    assert not any("free text" in label for _, labels in samples for label in labels)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no id"}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].id: expected a non-empty string, got null"),
        ([{"id": 7}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].id: expected a non-empty string, "
         "got the number 7"),
        ([{"id": "c", "node_pools": [{"id": "p"}, {"name": "x"}]}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].node_pools[1].id: "
         "expected a non-empty string, got null"),
        ([{"id": "c", "node_pools": [{"id": "p", "nodes": [{"id": ""}]}]}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].node_pools[0].nodes[0].id: "
         "expected a non-empty string, got the string ''"),
        ([{"id": "c", "node_pools": {"id": "p"}}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].node_pools: expected a list, got an object"),
        ([{"id": "c", "node_pools": [{"id": "p", "nodes": ["n"]}]}],
         "/v2/kubernetes/clusters kubernetes_clusters[0].node_pools[0].nodes[0]: "
         "expected an object, got the string 'n'"),
        ({"id": "c"}, "/v2/kubernetes/clusters kubernetes_clusters: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(items: object, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        kubernetes.parse_clusters(items)
    assert str(caught.value) == message


def test_known_states_are_the_spec_enums_in_order() -> None:
    schemas = spec()["components"]["schemas"]
    cluster_state = schemas["cluster_read"]["properties"]["status"]["properties"]["state"]
    node_state = schemas["node"]["properties"]["status"]["properties"]["state"]
    assert tuple(cluster_state["enum"]) == kubernetes.CLUSTER_STATES
    assert tuple(node_state["enum"]) == kubernetes.NODE_STATES
