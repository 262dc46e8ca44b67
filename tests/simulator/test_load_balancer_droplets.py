"""One load balancer by id: the official example served as given and read back into the exact
series, every balancer of a generated fleet valid against the full API description and equal to
its entry in the list, a 403 that disables only `load_balancer_droplets`, a deleted balancer left
out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_core import OpenAPI

from exporter.collectors import load_balancer_droplets, load_balancers
from exporter.collectors.base import PollContext
from exporter.simulator import Fault, Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.collectors.simulated import collect_with_inputs, given_inputs, simulated_poller, simulated_reader
from tests.conftest import spec_example
from tests.simulator.test_full_spec_conformance import errors, served_spec

ENDPOINT = "/v2/load_balancers/{lb_id}"
TOKENS = {account: SimToken(f"{account}-lb", f"dop_v1_{n}" + "4a" * 31, scopes=["load_balancer:read"])
          for account, n in (("official", "06"), ("acme", "07"))}
COLLECTORS = (load_balancers.COLLECTOR, load_balancer_droplets.COLLECTOR)


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    official = Fleet.from_objects(load_balancers=[spec_example(ENDPOINT)["load_balancer"]])
    with Simulator(SimulatorConfig(accounts=(
        SimAccount("official", tokens=(TOKENS["official"],), fleet=official),
        SimAccount("acme", tokens=(TOKENS["acme"],), fleet=FleetSpec(seed=8, droplets=400)),
    ), requests_per_hour=100_000, requests_per_minute=100_000)) as sim:
        yield sim


async def test_the_official_example_round_trips_into_the_exact_series(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", TOKENS["official"].token) as reader:
        polls = await collect_with_inputs(reader, COLLECTORS)
    lb = "4de7ac8b-495b-4884-9a69-1050c6793cd6"
    # the example names Droplets 3164444 and 3164445 and no tag ("")
    assert list(load_balancer_droplets.samples(polls["load_balancer_droplets"])) == [
        ("digitalocean_load_balancer_droplet_info", (lb, "3164444"), 1),
        ("digitalocean_load_balancer_droplet_info", (lb, "3164445"), 1),
    ]


async def test_a_generated_fleet_one_request_per_balancer_matching_the_list(simulator: Simulator) -> None:
    items = simulator.fleet("acme").resources.objects("load_balancers")
    simulator.requests.clear()
    async with simulated_reader(simulator, "acme", TOKENS["acme"].token) as reader:
        polls = await collect_with_inputs(reader, COLLECTORS)
    entries = simulator.requests.entries()
    assert len([r for r in entries if r.endpoint == ENDPOINT]) == len(items) >= 5
    assert [r.endpoint for r in entries].count("/v2/load_balancers") == 1
    by_id = {d.load_balancer_id: d for d in polls["load_balancer_droplets"]}
    for item in items:
        body = item.as_json()
        assert by_id[str(item.id)].droplet_ids == tuple(sorted(body["droplet_ids"]))
        assert by_id[str(item.id)].tag == body["tag"]
    assert any(d.tag for d in by_id.values())
    assert any(not d.tag for d in by_id.values())


def test_every_answer_validates_against_the_full_spec(simulator: Simulator) -> None:
    openapi = OpenAPI.from_dict(served_spec())
    problems: list[str] = []
    for account in ("official", "acme"):
        with httpx.Client(base_url=simulator.url,
                          headers={"Authorization": f"Bearer {TOKENS[account].token}"}) as client:
            for item in simulator.fleet(account).resources.objects("load_balancers"):
                response = client.get(f"/v2/load_balancers/{item.id}")
                assert response.status_code == 200, response.text
                problems += errors(openapi, response, ENDPOINT)
            missing = client.get("/v2/load_balancers/00000000-0000-4000-8000-000000000000")
            assert missing.status_code == 404
            problems += errors(openapi, missing, ENDPOINT)
    assert problems == []


async def test_a_balancer_gone_since_the_inventory_is_left_out(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", TOKENS["official"].token) as reader:
        listed = await load_balancers.COLLECTOR.fetch(reader)
        stale = load_balancers.parse_load_balancers([{"id": "2f1e0d9c-gone"}])
        data = await load_balancer_droplets.COLLECTOR.collect(
            reader, PollContext(inputs={"load_balancers": (*listed, *stale)}))
    assert [d.load_balancer_id for d in data] == ["4de7ac8b-495b-4884-9a69-1050c6793cd6"]


async def test_a_403_disables_only_load_balancer_droplets_and_names_its_scope(
    simulator: Simulator, tmp_path: Path
) -> None:
    token = TOKENS["official"].token
    simulator.set_faults([Fault(kind="error", endpoint=ENDPOINT, status=403)])
    try:
        async with simulated_reader(simulator, "official", token) as reader:
            listed = await load_balancers.COLLECTOR.fetch(reader)
        details = given_inputs(load_balancer_droplets.COLLECTOR, {"load_balancers": listed})
        async with simulated_poller(simulator, "official", token,
                                    (load_balancers.COLLECTOR, details), tmp_path) as (poller, account):
            assert not (await poller.poll_once(account, details)).ok
            assert (await poller.poll_once(account, load_balancers.COLLECTOR)).ok
            assert not account.state("load_balancer_droplets").enabled
            assert account.state("load_balancer_droplets").missing_scope == "load_balancer:read"
            assert account.state("load_balancers").enabled
    finally:
        simulator.clear_faults()
