"""The Functions kind: namespaces with their (fake) keys, triggers per namespace, a disabled
trigger with problems, 404 for an unknown namespace, and namespaces given verbatim."""

from __future__ import annotations

from typing import Any

import httpx

from exporter.simulator import Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig

TOKEN = SimToken("ro", "dop_v1_" + "fe" * 32, scopes=["function:read"])


def get(sim: Simulator, path: str, status: int = 200) -> Any:
    answer = httpx.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {TOKEN.token}"})
    assert answer.status_code == status, answer.text
    return answer.json()


def test_namespaces_with_keys_and_triggers_one_disabled_with_problems() -> None:
    spec = FleetSpec(seed=2, droplets=30, functions_namespaces=2, problems=True)
    with Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),))) as sim:
        namespaces = get(sim, "/v2/functions/namespaces")["namespaces"]
        triggers = {n["namespace"]: get(sim, f"/v2/functions/namespaces/{n['namespace']}/triggers")
                    for n in namespaces}
        get(sim, "/v2/functions/namespaces/fn-unknown/triggers", 404)
    assert len(namespaces) == 2
    assert all(n["key"].startswith("sim-fn-key-") for n in namespaces)
    assert all(n["namespace"] == f"fn-{n['uuid']}" for n in namespaces)
    enabled = [t["is_enabled"] for body in triggers.values() for t in body["triggers"]]
    assert enabled.count(False) == 1
    assert all(t["namespace"] == ns for ns, body in triggers.items() for t in body["triggers"])


def test_namespaces_and_triggers_given_verbatim() -> None:
    fleet = Fleet.from_objects(
        functions_namespaces=[{"namespace": "fn-1", "label": "jobs", "region": "ams3"},
                              {"namespace": "fn-2", "label": "empty", "region": "ams3"}],
        functions_triggers={"fn-1": [{"name": "t", "type": "SCHEDULED", "is_enabled": True}]},
    )
    with Simulator(SimulatorConfig(accounts=(SimAccount("a", tokens=(TOKEN,), fleet=fleet),))) as sim:
        assert [n["label"] for n in get(sim, "/v2/functions/namespaces")["namespaces"]] == [
            "jobs", "empty"]
        assert get(sim, "/v2/functions/namespaces/fn-1/triggers")["triggers"] == [
            {"name": "t", "type": "SCHEDULED", "is_enabled": True}]
        assert get(sim, "/v2/functions/namespaces/fn-2/triggers") == {"triggers": []}
