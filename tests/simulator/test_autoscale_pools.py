"""The autoscale pools kind: counted from the fleet, filtered by name, problems to alert on;
its members and history, and what the autoscale_members collector pays for them."""

from __future__ import annotations

import math
import random
from typing import Any

import httpx

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import autoscale_members
from exporter.simulator import Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig

TOKEN = SimToken("ro", "dop_v1_" + "ef" * 32, scopes=["droplet:read"])


def pools(sim: Simulator, query: str = "") -> list[dict[str, Any]]:
    answer = httpx.get(f"{sim.url}/v2/droplets/autoscale{query}",
                       headers={"Authorization": f"Bearer {TOKEN.token}"})
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()["autoscale_pools"]
    return found


def test_pools_by_count_and_by_name_with_one_at_its_maximum_and_one_in_error() -> None:
    spec = FleetSpec(seed=9, droplets=40, autoscale_pools=3, problems=True)
    with Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),))) as sim:
        every = pools(sim)
        assert len(every) == 3
        [one] = pools(sim, f"?name={every[0]['name']}")
        assert one == every[0]
        assert pools(sim, "?name=no-such-pool") == []
    statuses = [p["status"] for p in every]
    assert statuses.count("error") == 1
    at_max = [p for p in every if p["config"].get("max_instances") == p["active_resources_count"]]
    assert at_max, "one dynamic pool runs at its maximum"
    assert all("user_data" not in p["droplet_template"] for p in every)


def test_the_route_is_reached_beside_the_droplet_by_id_route() -> None:
    """`/v2/droplets/autoscale` and `/v2/droplets/{droplet_id}`: the literal route wins."""
    spec = FleetSpec(seed=9, droplets=10, autoscale_pools=1)
    with Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),))) as sim:
        assert len(pools(sim)) == 1


def listing(sim: Simulator, path: str, status: int = 200) -> Any:
    answer = httpx.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {TOKEN.token}"})
    assert answer.status_code == status, answer.text
    return answer.json()


def test_members_and_history_of_each_pool_with_problems() -> None:
    spec = FleetSpec(seed=9, droplets=40, autoscale_pools=3, problems=True)
    with Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),))) as sim:
        every = pools(sim)
        members = {p["id"]: listing(sim, f"/v2/droplets/autoscale/{p['id']}/members")["droplets"]
                   for p in every}
        history = {p["id"]: listing(sim, f"/v2/droplets/autoscale/{p['id']}/history")["history"]
                   for p in every}
        listing(sim, "/v2/droplets/autoscale/no-such-pool/members", 404)
        listing(sim, "/v2/droplets/autoscale/no-such-pool/history", 404)
    for pool in every:  # a pool runs as many members as it says
        assert len(members[pool["id"]]) == pool["active_resources_count"]
    unhealthy = [m for ms in members.values() for m in ms if m["health_status"] == "unhealthy"]
    assert len(unhealthy) == 1
    assert unhealthy[0]["unhealthy_reason"] == "Droplet failed health check"
    [errored] = [p for p in every if p["status"] == "error"]
    assert history[errored["id"]][-1]["status"] == "error"
    assert all(h[0]["reason"] == "CONFIGURATION_CHANGE" for h in history.values())


async def test_450_members_cost_three_requests_for_the_collector() -> None:
    fleet = Fleet.from_objects(
        autoscale_pools=[{"id": "p1", "name": "big", "droplet_template": {"region": "nyc3"}}],
        autoscale_pool_members={"p1": [
            {"droplet_id": 1000 + i, "status": "active", "health_status": "healthy"}
            for i in range(450)]},
    )
    config = SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=fleet),))

    class Quiet:
        def observe(self, *args: object) -> None:
            pass

    with Simulator(config) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=30, user_agent="t",
                                    observer=Quiet(), clock=SystemClock(), rng=random.Random(1))
        reader = client.account("acme", lambda: TOKEN.token, RequestBudget(5000, SystemClock(), 5000))
        try:
            [record] = await autoscale_members.fetch(reader)
        finally:
            await client.aclose()
        entries = sim.requests.entries()
    assert len(record.members) == 450
    member_requests = [r for r in entries if r.endpoint.endswith("/members")]
    assert len(member_requests) == math.ceil(450 / 200) == 3
    assert [r.endpoint for r in entries if not r.endpoint.endswith("/members")] == [
        "/v2/droplets/autoscale", "/v2/droplets/autoscale/{autoscale_pool_id}/history"]
