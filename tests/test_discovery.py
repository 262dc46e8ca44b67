"""Prometheus HTTP service discovery (exporter/discovery.py): the official examples through the
collectors into exact target groups, labels, query parameters and their errors, readiness, and
the HTTP route behind the same web config as /metrics."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import bcrypt
import httpx
import pytest

from exporter.collectors import databases, droplets, kubernetes, load_balancers, projects
from exporter.collectors.base import Collector
from exporter.collectors.projects import ProjectRecord
from exporter.discovery import (
    CACHED_ANSWERS,
    META,
    PATHS,
    QueryError,
    ServiceDiscovery,
    TargetQuery,
    parse_query,
    tag_label,
    target_groups,
)
from exporter.exposition import ExpositionCache
from exporter.server import MetricsServer, ServerApp
from exporter.snapshot import Snapshot, SnapshotKey
from exporter.webconfig import WebConfig
from tests.conftest import example_reader, full_spec, spec_example

Polled = list[tuple[SnapshotKey, Snapshot]]


def snapshot(data: Any, error: str | None = None) -> Snapshot:
    return Snapshot(data, 1.0 if data is not None else None, error, 2.0, 0.1)


def fetched(collector: Collector[Any], answers: dict[str, Any] | None = None) -> Any:
    """The collector's records from the official examples (with `answers` replacing some)."""
    reader = example_reader()
    reader.answers.update(answers or {})

    async def fetch() -> Any:
        return await collector.fetch(reader)

    return asyncio.run(fetch())


def example_droplets() -> list[dict[str, Any]]:
    return [d for name in ("All Droplets", "GPU Droplets")
            for d in spec_example("/v2/droplets", name)["droplets"]]


def address(droplet: dict[str, Any], kind: str) -> str:
    return str(next(n["ip_address"] for n in droplet["networks"]["v4"] if n["type"] == kind))


def labels_of(groups: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Labels by the only target of each group (every group has exactly one)."""
    assert all(len(g["targets"]) == 1 for g in groups)
    return {g["targets"][0]: g["labels"] for g in groups}


def test_the_official_droplet_examples_become_one_target_each() -> None:
    polled = [(("production", "droplets"), snapshot(fetched(droplets.COLLECTOR)))]
    groups = target_groups("droplets", polled, TargetQuery())
    examples = {d["id"]: d for d in example_droplets()}
    assert [g["labels"]["droplet_id"] for g in groups] == [str(i) for i in sorted(examples)]
    for group in groups:
        droplet = examples[int(group["labels"]["droplet_id"])]
        assert group["targets"] == [f"{address(droplet, 'public')}:9100"]
        labels = group["labels"]
        plain = {k: v for k, v in labels.items() if not k.startswith("__")}
        assert plain == {"account": "production", "droplet_id": str(droplet["id"])}
        assert labels[META + "droplet_name"] == droplet["name"]
        assert labels[META + "region"] == droplet["region"]["slug"]
        assert labels[META + "size"] == droplet["size_slug"]
        assert labels[META + "status"] == droplet["status"]
        assert labels[META + "vpc_uuid"] == droplet["vpc_uuid"]
        assert labels[META + "public_ipv4"] == address(droplet, "public")
        assert labels[META + "private_ipv4"] == address(droplet, "private")
        tags = {k: v for k, v in labels.items() if k.startswith(META + "tag")}
        if droplet["tags"]:
            expected = {tag_label(t): "1" for t in droplet["tags"]}
            expected[META + "tags"] = "," + ",".join(droplet["tags"]) + ","
            assert tags == expected
        else:
            assert tags == {}
    # the first example's tags, spelled out: "env:prod" is not a label name as it is
    by_id = {g["labels"]["droplet_id"]: g["labels"] for g in groups}
    assert by_id["3164444"][META + "tag_env_prod"] == "1"


def test_private_network_and_port_from_the_query() -> None:
    polled = [(("production", "droplets"), snapshot(fetched(droplets.COLLECTOR)))]
    groups = target_groups("droplets", polled, TargetQuery(port=9256, network="private"))
    assert sorted(g["targets"][0] for g in groups) == sorted(
        f"{address(d, 'private')}:9256" for d in example_droplets())


def test_droplets_without_an_address_of_that_kind_are_left_out() -> None:
    bare, public_only = copy.deepcopy(example_droplets()[:2])
    bare["networks"] = {"v4": [], "v6": []}
    public_only["networks"]["v4"] = [n for n in public_only["networks"]["v4"]
                                     if n["type"] == "public"]
    records = fetched(droplets.COLLECTOR, {
        "/v2/droplets": {"droplets": [bare, public_only], "links": {}, "meta": {"total": 2}},
        "/v2/droplets?type=gpus": {"droplets": [], "links": {}, "meta": {"total": 0}},
    })
    polled = [(("production", "droplets"), snapshot(records))]
    public = target_groups("droplets", polled, TargetQuery())
    assert [g["labels"]["droplet_id"] for g in public] == [str(public_only["id"])]
    assert target_groups("droplets", polled, TargetQuery(network="private")) == []


def test_project_from_the_projects_collector() -> None:
    [first, *_] = example_droplets()
    resources = {"resources": [{"urn": f"do:droplet:{first['id']}"}], "links": {},
                 "meta": {"total": 1}}
    polled = [
        (("production", "droplets"), snapshot(fetched(droplets.COLLECTOR))),
        (("production", "projects"), snapshot(fetched(projects.COLLECTOR, {
            "/v2/projects/{project_id}/resources": resources}))),
    ]
    by_id = {g["labels"]["droplet_id"]: g["labels"]
             for g in target_groups("droplets", polled, TargetQuery())}
    example_projects = spec_example("/v2/projects")["projects"]
    # both example projects list the Droplet: the first listed (by id) names it
    project = min(example_projects, key=lambda p: p["id"])
    assert by_id[str(first["id"])][META + "project"] == project["name"]
    assert by_id[str(first["id"])][META + "project_id"] == project["id"]
    others = [labels for droplet_id, labels in by_id.items() if droplet_id != str(first["id"])]
    assert others
    assert all(META + "project" not in labels for labels in others)


def test_kubernetes_nodes_get_their_droplet_address() -> None:
    clusters = fetched(kubernetes.COLLECTOR)
    [cluster] = spec_example("/v2/kubernetes/clusters", "All Kubernetes Clusters")[
        "kubernetes_clusters"]
    nodes = [(pool, node) for pool in cluster["node_pools"] for node in pool["nodes"]]
    # Droplets for all nodes but the last, made from the official Droplet example
    template = example_droplets()[0]
    node_droplets = []
    for index, (_, node) in enumerate(nodes[:-1]):
        droplet = copy.deepcopy(template)
        droplet["id"] = int(node["droplet_id"])
        droplet["networks"]["v4"][1]["ip_address"] = f"203.0.113.{index + 1}"
        node_droplets.append(droplet)
    records = fetched(droplets.COLLECTOR, {
        "/v2/droplets": {"droplets": node_droplets, "links": {},
                         "meta": {"total": len(node_droplets)}}})
    polled = [(("production", "kubernetes"), snapshot(clusters)),
              (("production", "droplets"), snapshot(records))]
    groups = labels_of(target_groups("kubernetes_nodes", polled, TargetQuery()))
    expected = {}
    for index, (pool, node) in enumerate(nodes[:-1]):
        expected[f"203.0.113.{index + 1}:9100"] = (pool["id"], node["id"], node["droplet_id"])
    assert {target: (labels[META + "node_pool_id"], labels["node_id"], labels["droplet_id"])
            for target, labels in groups.items()} == expected
    for labels in groups.values():
        assert {k: v for k, v in labels.items() if not k.startswith("__")} == {
            "account": "production", "cluster_id": cluster["id"],
            "node_id": labels["node_id"], "droplet_id": labels["droplet_id"]}
        assert labels[META + "cluster_name"] == cluster["name"]
        assert labels[META + "tags"] == "," + ",".join(template["tags"]) + ","


def test_the_official_load_balancer_examples() -> None:
    polled = [(("staging", "load_balancers"), snapshot(fetched(load_balancers.COLLECTOR)))]
    examples = spec_example("/v2/load_balancers", "All Load Balancers")["load_balancers"]
    groups = labels_of(target_groups("load_balancers", polled, TargetQuery()))
    assert {t: (lab["load_balancer_id"], lab[META + "load_balancer_name"])
            for t, lab in groups.items()} == {
        f"{lb['ip']}:80": (lb["id"], lb["name"]) for lb in examples}
    with_port = target_groups("load_balancers", polled, TargetQuery(port=443))
    assert sorted(g["targets"][0] for g in with_port) == sorted(f"{lb['ip']}:443" for lb in examples)


def metrics_endpoint_example() -> dict[str, Any]:
    """A metrics endpoint from the schema's own property examples (the list example has none)."""
    cluster = full_spec()["paths"]["/v2/databases"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["databases"]["items"]
    properties = cluster["properties"]["metrics_endpoints"]["items"]["properties"]
    return {"host": properties["host"]["example"], "port": properties["port"]["example"]}


def test_databases_one_target_per_metrics_endpoint_and_no_credentials() -> None:
    body = spec_example("/v2/databases")
    # the official example has none: without them there is nothing to scrape
    polled = [(("production", "databases"), snapshot(fetched(databases.COLLECTOR)))]
    assert target_groups("databases", polled, TargetQuery()) == []

    endpoint = metrics_endpoint_example()
    standby = {"host": "replica-" + endpoint["host"], "port": endpoint["port"]}
    for cluster in body["databases"]:
        cluster["metrics_endpoints"] = [endpoint, standby, {"host": "", "port": 1}]
    polled = [(("production", "databases"), snapshot(
        fetched(databases.COLLECTOR, {"/v2/databases": body})))]
    groups = target_groups("databases", polled, TargetQuery())
    [cluster] = body["databases"]
    assert [g["targets"] for g in groups] == [[f"{endpoint['host']}:{endpoint['port']}"],
                                              [f"{standby['host']}:{standby['port']}"]]
    labels = groups[0]["labels"]
    assert labels["database_id"] == cluster["id"]
    assert labels[META + "engine"] == cluster["engine"]
    assert labels[META + "tags"] == "," + ",".join(cluster["tags"]) + ","
    overridden = target_groups("databases", polled, TargetQuery(port=9443))
    assert overridden[0]["targets"] == [f"{endpoint['host']}:9443"]
    # what DigitalOcean sends a token with database:view_credentials never leaves
    text = json.dumps(groups)
    secrets = [cluster[part][key] for part in ("connection", "private_connection")
               for key in ("password", "uri")]
    secrets += [user["password"] for user in cluster["users"]]
    assert all(secrets)
    assert len(secrets) >= 5
    assert [s for s in secrets if s in json.dumps(body)] == secrets  # the scan would see them
    assert [s for s in secrets if s in text] == []


def test_accounts_in_order_and_an_id_in_two_accounts_is_two_targets() -> None:
    records = fetched(droplets.COLLECTOR)
    polled = [(("staging", "droplets"), snapshot(records)),
              (("production", "droplets"), snapshot(records))]
    accounts = [g["labels"]["account"] for g in target_groups("droplets", polled, TargetQuery())]
    assert accounts == ["production"] * len(records) + ["staging"] * len(records)


def test_last_good_data_is_served_and_no_data_is_no_targets() -> None:
    records = fetched(droplets.COLLECTOR)
    failing = Snapshot(records, 1.0, "HTTP 500", 900.0, 0.1)  # stale too: still served
    never = Snapshot(None, None, "HTTP 403", 2.0, 0.1)
    polled = [(("production", "droplets"), failing), (("staging", "droplets"), never),
              (("other", "droplets"), snapshot(("not", "records")))]
    groups = target_groups("droplets", polled, TargetQuery())
    assert {g["labels"]["account"] for g in groups} == {"production"}
    assert len(groups) == len(records)


def test_tag_labels_are_label_names() -> None:
    assert tag_label("k8s:worker") == META + "tag_k8s_worker"
    assert tag_label("env-prod") == META + "tag_env_prod"
    assert tag_label("2fa") == META + "tag_2fa"


@pytest.mark.parametrize(("kind", "query", "message"), [
    ("droplets", "ports=9100", "unknown query parameter 'ports'; /sd/droplets takes port and network"),
    ("load_balancers", "network=private",
     "unknown query parameter 'network'; /sd/load_balancers takes port"),
    ("droplets", "port=1&port=2", "query parameter 'port' is given 2 times; give it once"),
    ("droplets", "port=0", "port must be a number from 1 to 65535, got '0'"),
    ("droplets", "port=65536", "port must be a number from 1 to 65535, got '65536'"),
    ("databases", "port=-1", "port must be a number from 1 to 65535, got '-1'"),
    ("droplets", "port=", "port must be a number from 1 to 65535, got ''"),
    ("kubernetes_nodes", "network=vpc", "network must be public or private, got 'vpc'"),
    ("droplets", "port", "cannot parse the query string 'port'"),
])
def test_query_errors(kind: str, query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(kind, query)
    assert str(caught.value) == message


def test_query_values() -> None:
    assert parse_query("droplets", "") == TargetQuery(None, "public")
    assert parse_query("droplets", "port=9256&network=private") == TargetQuery(9256, "private")
    assert parse_query("databases", "port=65535") == TargetQuery(65535, "public")


class Readiness:
    def __init__(self) -> None:
        self.ready = True

    def __call__(self) -> tuple[bool, Sequence[str]]:
        return self.ready, [] if self.ready else ["production/droplets"]


def test_answers_empty_fleet_not_ready_and_unknown_kind() -> None:
    readiness = Readiness()
    polled: Polled = []
    discovery = ServiceDiscovery(lambda: polled, readiness)
    for path in PATHS:
        answer = discovery.answer(path, "")
        assert answer is not None
        assert (answer.status, answer.body, answer.content_type) == (
            HTTPStatus.OK, b"[]\n", "application/json")
    assert discovery.answer("/sd/volumes", "") is None
    assert discovery.answer("/sd/", "") is None
    readiness.ready = False
    answer = discovery.answer("/sd/droplets", "")
    assert answer is not None
    assert (answer.status, answer.body) == (
        HTTPStatus.SERVICE_UNAVAILABLE,
        b"not ready: waiting for the first poll of production/droplets\n")
    bad = discovery.answer("/sd/droplets", "port=x")
    assert bad is not None
    assert bad.status == HTTPStatus.BAD_REQUEST


def test_a_bug_is_a_500_not_a_dropped_connection() -> None:
    def broken() -> Polled:
        raise RuntimeError("boom")

    answer = ServiceDiscovery(broken, Readiness()).answer("/sd/droplets", "")
    assert answer is not None
    assert (answer.status, answer.body) == (HTTPStatus.INTERNAL_SERVER_ERROR,
                                            b"discovery failed: RuntimeError\n")


def test_each_answer_reads_the_store_once_and_never_anything_else() -> None:
    reads: list[int] = []
    records = fetched(droplets.COLLECTOR)

    def store() -> Polled:
        reads.append(1)
        return [(("production", "droplets"), snapshot(records))]

    discovery = ServiceDiscovery(store, Readiness())
    for path in PATHS:
        discovery.answer(path, "")
    assert len(reads) == len(PATHS)


def test_answers_are_built_once_per_data_version_and_query() -> None:
    records = fetched(droplets.COLLECTOR)
    polled: Polled = [(("production", "droplets"), snapshot(records))]
    version = [1]
    discovery = ServiceDiscovery(lambda: polled, Readiness(), lambda: version[0])

    def body(path: str, query: str = "") -> bytes:
        answer = discovery.answer(path, query)
        assert answer is not None
        assert answer.status == HTTPStatus.OK
        return answer.body

    first = body("/sd/droplets")
    assert [body("/sd/droplets") for _ in range(5)] == [first] * 5
    assert discovery.builds == 1
    body("/sd/droplets", "port=9256")
    body("/sd/databases")
    assert discovery.builds == 3
    # new data: the store's version moves, the next answer is built from it
    polled = [(("production", "droplets"), snapshot(records[:1]))]
    version[0] = 2
    fewer = body("/sd/droplets")
    assert discovery.builds == 4
    assert len(json.loads(fewer)) == 1
    assert len(json.loads(first)) == len(records)
    # bounded: ever more distinct queries never keep more than CACHED_ANSWERS answers
    for port in range(1, 3 * CACHED_ANSWERS):
        body("/sd/droplets", f"port={port}")
    assert 0 < discovery.cached_answers <= CACHED_ANSWERS


PASSWORD = "s3cret-sd-password"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


@contextmanager
def serving(polled: Polled, web: WebConfig | None = None) -> Iterator[str]:
    readiness = Readiness()
    app = ServerApp(ExpositionCache(), "/metrics", readiness, "1.2.3",
                    discovery=ServiceDiscovery(lambda: polled, readiness))
    server = MetricsServer("127.0.0.1", 0, app, web=web)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_http_route_content_type_head_and_404() -> None:
    polled = [(("production", "droplets"), snapshot(fetched(droplets.COLLECTOR)))]
    with serving(polled) as url, httpx.Client() as client:
        response = client.get(f"{url}/sd/droplets?port=9100")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == target_groups("droplets", polled, TargetQuery())
        head = client.head(f"{url}/sd/droplets")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == response.headers["content-length"]
        assert client.get(f"{url}/sd/nope").status_code == 404
        assert client.get(f"{url}/sd/droplets?network=x").status_code == 400
        landing = client.get(f"{url}/").text
        assert all(f'href="{path}"' in landing for path in PATHS)


def test_basic_auth_guards_discovery_like_metrics() -> None:
    web = WebConfig(source="test", basic_auth_users={"prometheus": HASH},
                    probes_without_auth=True)
    with serving([], web) as url, httpx.Client() as client:
        for path in PATHS:
            assert client.get(f"{url}{path}").status_code == 401, path
            authed = client.get(f"{url}{path}", auth=("prometheus", PASSWORD))
            assert (authed.status_code, authed.content) == (200, b"[]\n"), path


def test_project_records_missing_give_no_project_labels() -> None:
    records = fetched(droplets.COLLECTOR)
    project = ProjectRecord("p1", "Web", "", "", "false", None, (("droplet", "1"),))
    polled = [(("production", "droplets"), snapshot(records)),
              (("production", "projects"), snapshot((project,)))]
    groups = target_groups("droplets", polled, TargetQuery())
    assert all(META + "project" not in g["labels"] for g in groups)
