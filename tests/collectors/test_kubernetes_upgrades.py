"""Kubernetes upgrades against the spec's examples: available versions, clusterlint by
severity, status messages, three requests per cluster from the `kubernetes` collector's data
(never the list again); a never-linted cluster is no error, a deleted one is left out."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import kubernetes, kubernetes_upgrades
from exporter.collectors.base import PollContext
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, response_example, spec_example

CLUSTER = "bd5f5959-5e1e-4205-a714-a914373942af"
UPGRADES = "/v2/kubernetes/clusters/{cluster_id}/upgrades"
LINT = "/v2/kubernetes/clusters/{cluster_id}/clusterlint"
MESSAGES = "/v2/kubernetes/clusters/{cluster_id}/status_messages"


def examples() -> dict[str, Any]:
    """The spec gives no example answers for these: each is built from its schema's examples."""
    return {route: response_example(route) for route in (UPGRADES, LINT, MESSAGES)}


def example_clusters() -> tuple[kubernetes.ClusterRecord, ...]:
    listed = spec_example("/v2/kubernetes/clusters", "All Kubernetes Clusters")
    return kubernetes.parse_clusters(listed["kubernetes_clusters"])


def context(clusters: tuple[kubernetes.ClusterRecord, ...]) -> PollContext:
    return PollContext(inputs={"kubernetes": clusters})


def clusters_named(*ids: str) -> tuple[kubernetes.ClusterRecord, ...]:
    return kubernetes.parse_clusters([{"id": i} for i in ids])


async def test_the_spec_examples_into_exact_series() -> None:
    reader = FakeReader(examples())
    [only] = example_clusters()
    assert only.cluster_id == CLUSTER
    data = await kubernetes_upgrades.COLLECTOR.collect(reader, context(example_clusters()))
    key = (CLUSTER,)
    # upgrade 1.16.13-do.0 (Kubernetes 1.16.13); one warning from a run completed
    # 2019-10-30T05:34:11Z; one message posted 2018-11-15T16:00:11Z
    assert list(kubernetes_upgrades.samples(data)) == [
        ("digitalocean_kubernetes_cluster_upgrade_info", (*key, "1.16.13-do.0", "1.16.13"), 1),
        ("digitalocean_kubernetes_cluster_available_upgrades", key, 1),
        ("digitalocean_kubernetes_cluster_lint_diagnostics", (*key, "warning"), 1),
        ("digitalocean_kubernetes_cluster_lint_completed_timestamp_seconds", key, 1572413651.0),
        ("digitalocean_kubernetes_cluster_status_messages", key, 1),
        ("digitalocean_kubernetes_cluster_last_status_message_timestamp_seconds", key, 1542297611.0),
    ]
    assert kubernetes_upgrades.COLLECTOR.requests_for is not None
    assert kubernetes_upgrades.COLLECTOR.requests_for(context(example_clusters())) == len(reader.requests)
    assert sorted((r.method, r.route) for r in reader.requests) == [
        ("get_or_none", f"/v2/kubernetes/clusters/{CLUSTER}/clusterlint"),
        ("get_or_none", f"/v2/kubernetes/clusters/{CLUSTER}/status_messages"),
        ("get_or_none", f"/v2/kubernetes/clusters/{CLUSTER}/upgrades"),
    ]


async def test_up_to_date_never_linted_and_quiet() -> None:
    """null upgrades (nullable in the spec), a 404 from clusterlint (no run yet), no messages."""
    reader = FakeReader({
        UPGRADES: {"available_upgrade_versions": None},
        LINT: 404,
        MESSAGES: {"messages": []},
    })
    data = await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("c")))
    assert list(kubernetes_upgrades.samples(data)) == [
        ("digitalocean_kubernetes_cluster_available_upgrades", ("c",), 0),
        ("digitalocean_kubernetes_cluster_status_messages", ("c",), 0),
    ]
    # a 404 from clusterlint alone is not a deletion: the list is not read again
    assert "/v2/kubernetes/clusters" not in [r.route for r in reader.requests]


async def test_without_inputs_nothing_is_asked() -> None:
    reader = FakeReader(examples())
    assert await kubernetes_upgrades.COLLECTOR.fetch(reader) == ()
    assert reader.requests == []


async def test_a_deleted_cluster_is_left_out_once_the_list_agrees() -> None:
    reader = FakeReader({
        **examples(),
        "/v2/kubernetes/clusters/gone/upgrades": 404,
        "/v2/kubernetes/clusters": {"kubernetes_clusters": [{"id": "kept"}]},
    })
    data = await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("gone", "kept")))
    assert [c.cluster_id for c in data] == ["kept"]
    routes = [r.route for r in reader.requests]
    assert routes.count("/v2/kubernetes/clusters") == 1
    assert "/v2/kubernetes/clusters/gone/clusterlint" not in routes


async def test_a_404_for_a_cluster_still_listed_fails_the_poll() -> None:
    reader = FakeReader({
        **examples(),
        "/v2/kubernetes/clusters/a/status_messages": 404,
        "/v2/kubernetes/clusters": {"kubernetes_clusters": [{"id": "a"}]},
    })
    with pytest.raises(ShapeError) as caught:
        await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("a")))
    assert str(caught.value) == (
        "/v2/kubernetes/clusters/{cluster_id}/upgrades: HTTP 404 for a, which "
        "/v2/kubernetes/clusters still lists; nothing is dropped on a 404 that is not a deletion"
    )


async def test_other_errors_fail_the_poll() -> None:
    reader = FakeReader({**examples(), "/v2/kubernetes/clusters/a/clusterlint": 500})
    with pytest.raises(ApiError) as caught:
        await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("a")))
    assert caught.value.status == 500


async def test_message_text_and_lint_objects_never_become_labels() -> None:
    reader = FakeReader({
        **examples(),
        LINT: {"diagnostics": [
            {"severity": "Error", "message": "pod secret-pod uses token dop_v1_abc", "object": {
                "name": "secret-pod", "kind": "pod", "namespace": "payments"}},
            {"severity": None, "check_name": "x"},
        ]},
        MESSAGES: {"messages": [{"message": "Incident INC-42 in nyc1", "timestamp": None}]},
    })
    data = await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("a")))
    labels = {label for _, values, _ in kubernetes_upgrades.samples(data) for label in values}
    assert {"error", "unknown"} <= labels
    for text in ("secret-pod", "dop_v1_abc", "payments", "INC-42"):
        assert not any(text in label for label in labels)
        assert text not in repr(data)


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (UPGRADES, {}, "/v2/kubernetes/clusters/a/upgrades available_upgrade_versions: "
                       "missing from the response"),
        (UPGRADES, {"available_upgrade_versions": [{"kubernetes_version": "1.2"}]},
         "/v2/kubernetes/clusters/a/upgrades available_upgrade_versions[0].slug: "
         "expected a non-empty string, got null"),
        (LINT, {"diagnostics": "none"},
         "/v2/kubernetes/clusters/a/clusterlint diagnostics: expected a list, got the string 'none'"),
    ],
)
async def test_shape_errors_name_the_cluster_and_place(route: str, body: Any, message: str) -> None:
    reader = FakeReader({**examples(), route: body})
    with pytest.raises(ShapeError) as caught:
        await kubernetes_upgrades.COLLECTOR.collect(reader, context(clusters_named("a")))
    assert str(caught.value) == message


async def test_docstring_lines_are_real_exposition() -> None:
    data = await kubernetes_upgrades.COLLECTOR.collect(FakeReader(examples()), context(example_clusters()))
    rendered = b"".join(encode_collector("production", kubernetes_upgrades.COLLECTOR, data).values()).decode()
    documented = [line.strip() for line in (kubernetes_upgrades.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_collector_contract() -> None:
    c = kubernetes_upgrades.COLLECTOR
    assert (c.name, c.scope, c.interval, c.inputs) == ("kubernetes_upgrades", "kubernetes:read",
                                                      3600.0, ("kubernetes",))
    paths = full_spec()["paths"]
    for endpoint in c.endpoints:
        assert paths[endpoint]["get"]["security"] == [{"bearer_auth": [c.scope]}], endpoint
        assert not {p["name"] for p in paths[endpoint]["get"].get("parameters", [])} & {"page", "per_page"}
    upgrades = paths[UPGRADES]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert upgrades["properties"]["available_upgrade_versions"]["nullable"] is True
    for family in c.families:
        assert family.name.startswith("digitalocean_kubernetes_cluster_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
        assert not family.name.endswith("_total")
