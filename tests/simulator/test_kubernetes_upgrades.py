"""The Kubernetes upgrades kind: the spec's examples served as given and read back into the
exact series, derived answers for every cluster valid against the full API description (a
provisioning cluster never linted: 404), a 403 that disables only `kubernetes_upgrades`, a
deleted cluster left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_core import OpenAPI

from exporter.collectors import kubernetes, kubernetes_upgrades
from exporter.collectors.base import PollContext
from exporter.simulator import Fault, Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.collectors.simulated import collect_with_inputs, given_inputs, simulated_poller, simulated_reader
from tests.collectors.test_kubernetes_upgrades import CLUSTER, LINT, MESSAGES, UPGRADES, examples
from tests.conftest import spec_example
from tests.simulator.test_full_spec_conformance import errors, served_spec

TOKENS = {account: SimToken(f"{account}-k8s", f"dop_v1_{n}" + "3f" * 31, scopes=["kubernetes:read"])
          for account, n in (("official", "03"), ("acme", "04"), ("quiet", "05"))}
COLLECTORS = (kubernetes.COLLECTOR, kubernetes_upgrades.COLLECTOR)


def official_fleet() -> Fleet:
    listed = spec_example("/v2/kubernetes/clusters", "All Kubernetes Clusters")["kubernetes_clusters"]
    answers = examples()
    return Fleet.from_objects(
        kubernetes_clusters=listed,
        kubernetes_upgrades={CLUSTER: answers[UPGRADES]},
        kubernetes_clusterlint={CLUSTER: answers[LINT]},
        kubernetes_status_messages={CLUSTER: answers[MESSAGES]},
    )


def quiet_fleet() -> Fleet:
    """The example cluster up to date, never linted, without messages."""
    listed = spec_example("/v2/kubernetes/clusters", "All Kubernetes Clusters")["kubernetes_clusters"]
    return Fleet.from_objects(
        kubernetes_clusters=listed,
        kubernetes_upgrades={CLUSTER: {"available_upgrade_versions": None}},
        kubernetes_clusterlint={CLUSTER: None},
        kubernetes_status_messages={CLUSTER: {"messages": []}},
    )


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(accounts=(
        SimAccount("official", tokens=(TOKENS["official"],), fleet=official_fleet()),
        SimAccount("acme", tokens=(TOKENS["acme"],),
                   fleet=FleetSpec(seed=8, droplets=700, problems=True)),
        SimAccount("quiet", tokens=(TOKENS["quiet"],), fleet=quiet_fleet()),
    ), requests_per_hour=100_000, requests_per_minute=100_000)) as sim:
        yield sim


async def test_the_spec_examples_round_trip_into_the_exact_series(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", TOKENS["official"].token) as reader:
        polls = await collect_with_inputs(reader, COLLECTORS)
    key = (CLUSTER,)
    assert list(kubernetes_upgrades.samples(polls["kubernetes_upgrades"])) == [
        ("digitalocean_kubernetes_cluster_upgrade_info", (*key, "1.16.13-do.0", "1.16.13"), 1),
        ("digitalocean_kubernetes_cluster_available_upgrades", key, 1),
        ("digitalocean_kubernetes_cluster_lint_diagnostics", (*key, "warning"), 1),
        ("digitalocean_kubernetes_cluster_lint_completed_timestamp_seconds", key, 1572413651.0),
        ("digitalocean_kubernetes_cluster_status_messages", key, 1),
        ("digitalocean_kubernetes_cluster_last_status_message_timestamp_seconds", key, 1542297611.0),
    ]


async def test_up_to_date_and_never_linted_through_the_client(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "quiet", TOKENS["quiet"].token) as reader:
        polls = await collect_with_inputs(reader, COLLECTORS)
    assert list(kubernetes_upgrades.samples(polls["kubernetes_upgrades"])) == [
        ("digitalocean_kubernetes_cluster_available_upgrades", (CLUSTER,), 0),
        ("digitalocean_kubernetes_cluster_status_messages", (CLUSTER,), 0),
    ]


async def test_a_generated_fleet_three_requests_per_cluster_and_its_problems(simulator: Simulator) -> None:
    clusters = simulator.fleet("acme").resources.objects("kubernetes_clusters")
    states = [item.as_json()["status"]["state"] for item in clusters]
    simulator.requests.clear()
    async with simulated_reader(simulator, "acme", TOKENS["acme"].token) as reader:
        polls = await collect_with_inputs(reader, COLLECTORS)
    entries = simulator.requests.entries()
    follow_ups = [r for r in entries if "{cluster_id}" in r.endpoint]
    assert len(follow_ups) == 3 * len(clusters)
    planned = kubernetes_upgrades.COLLECTOR.requests_for
    assert planned is not None
    assert planned(PollContext(inputs={"kubernetes": polls["kubernetes"]})) == len(follow_ups)
    # only the provisioning clusters' clusterlint answers 404 (never linted), and that is no error
    not_found = [r for r in entries if r.status == 404]
    assert len(not_found) == states.count("provisioning")
    assert all(r.endpoint == LINT for r in not_found)
    data = polls["kubernetes_upgrades"]
    assert len(data) == len(clusters)
    degraded = {str(item.id) for item, s in zip(clusters, states, strict=True) if s == "degraded"}
    assert degraded
    assert {c.cluster_id for c in data if c.status_messages} == degraded
    errors_by_cluster = {c.cluster_id for c in data if c.lint and dict(c.lint.by_severity).get("error")}
    assert errors_by_cluster <= degraded


def test_every_cluster_answer_validates_against_the_full_spec(simulator: Simulator) -> None:
    openapi = OpenAPI.from_dict(served_spec())
    problems: list[str] = []
    for account in ("official", "acme", "quiet"):
        with httpx.Client(base_url=simulator.url,
                          headers={"Authorization": f"Bearer {TOKENS[account].token}"}) as client:
            for item in simulator.fleet(account).resources.objects("kubernetes_clusters"):
                for template in (UPGRADES, LINT, MESSAGES):
                    response = client.get(template.replace("{cluster_id}", str(item.id)))
                    assert response.status_code in (200, 404), (template, response.text)
                    problems += errors(openapi, response, template)
    assert problems == []


async def test_a_cluster_gone_since_the_inventory_is_left_out(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", TOKENS["official"].token) as reader:
        listed = await kubernetes.COLLECTOR.fetch(reader)
        stale = kubernetes.parse_clusters([{"id": "6f1f06b5-gone"}])
        data = await kubernetes_upgrades.COLLECTOR.collect(
            reader, PollContext(inputs={"kubernetes": (*listed, *stale)}))
    assert [c.cluster_id for c in data] == [CLUSTER]


async def test_a_403_disables_only_kubernetes_upgrades_and_names_its_scope(
    simulator: Simulator, tmp_path: Path
) -> None:
    token = TOKENS["official"].token
    simulator.set_faults([Fault(kind="error", endpoint=UPGRADES, status=403)])
    try:
        async with simulated_reader(simulator, "official", token) as reader:
            listed = await kubernetes.COLLECTOR.fetch(reader)
        upgrades = given_inputs(kubernetes_upgrades.COLLECTOR, {"kubernetes": listed})
        async with simulated_poller(simulator, "official", token,
                                    (kubernetes.COLLECTOR, upgrades), tmp_path) as (poller, account):
            assert not (await poller.poll_once(account, upgrades)).ok
            assert (await poller.poll_once(account, kubernetes.COLLECTOR)).ok
            assert not account.state("kubernetes_upgrades").enabled
            assert account.state("kubernetes_upgrades").missing_scope == "kubernetes:read"
            assert account.state("kubernetes").enabled
    finally:
        simulator.clear_faults()
