"""The autoscale pools kind: counted from the fleet, filtered by name, problems to alert on."""

from __future__ import annotations

from typing import Any

import httpx

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig

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
