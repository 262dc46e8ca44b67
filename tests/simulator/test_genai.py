"""The GenAI kinds (agents, knowledge bases) and dedicated inference endpoints: counted from
the fleet, problems to alert on, credentials in the answers that the exporter must not copy,
and what the exporter makes of a whole demo account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from exporter.collectors import dedicated_inferences, genai_agents
from exporter.exposition import encode_collector
from exporter.simulator import (
    FleetSpec,
    SimAccount,
    SimToken,
    Simulator,
    SimulatorConfig,
    demo_config,
)
from exporter.simulator.kinds.dedicated_inferences import GPU_PRICES
from tests.collectors.fakes import FakeReader

TOKEN = SimToken("ro", "dop_v1_" + "ab" * 32,
                 scopes=["genai:read", "dedicated_inference:read", "droplet:read"])


def get(sim: Simulator, path: str) -> Any:
    answer = httpx.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {TOKEN.token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def simulator(**counts: Any) -> Simulator:
    spec = FleetSpec(seed=5, droplets=40, **counts)
    return Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),)))


def test_agents_one_failed_with_problems_and_one_carrying_an_mcp_credential() -> None:
    with simulator(genai_agents=3, problems=True) as sim:
        agents = get(sim, "/v2/gen-ai/agents")["agents"]
    statuses = [a["deployment"]["status"] for a in agents]
    assert statuses.count("STATUS_FAILED") == 1
    assert statuses.count("STATUS_RUNNING") == 2
    secret = agents[0]["mcp_servers"][0]["authorization"]
    assert secret.startswith("Bearer sim-mcp-secret-")
    # and the exporter keeps none of it
    records = genai_agents.parse_page(agents, 0)
    text = repr(records) + b"".join(
        encode_collector("acme", genai_agents.COLLECTOR, tuple(records)).values()).decode()
    assert "sim-mcp" not in text
    assert "digitalocean_genai_agent_status{" in text


def test_the_default_counts_follow_the_droplets_and_problems_raise_them() -> None:
    with simulator() as sim:
        assert len(get(sim, "/v2/gen-ai/agents")["agents"]) == 3  # 40 Droplets // 12
        assert len(get(sim, "/v2/gen-ai/knowledge_bases")["knowledge_bases"]) == 2
        assert get(sim, "/v2/dedicated-inferences")["dedicated_inferences"] == []  # GPUs: asked for
    spec = FleetSpec(seed=5, droplets=5, problems=True)
    with Simulator(SimulatorConfig(accounts=(SimAccount("a", tokens=(TOKEN,), fleet=spec),))) as sim:
        assert len(get(sim, "/v2/gen-ai/agents")["agents"]) == 2
        assert len(get(sim, "/v2/gen-ai/knowledge_bases")["knowledge_bases"]) == 2


def test_knowledge_bases_one_whose_indexing_failed() -> None:
    with simulator(genai_knowledge_bases=3, problems=True) as sim:
        bases = get(sim, "/v2/gen-ai/knowledge_bases")["knowledge_bases"]
    statuses = [b["last_indexing_job"]["status"] for b in bases]
    assert statuses.count("INDEX_JOB_STATUS_FAILED") == 1
    assert statuses.count("INDEX_JOB_STATUS_COMPLETED") == 2


async def test_dedicated_inferences_priced_by_the_sizes_list() -> None:
    with simulator(dedicated_inferences=2, problems=True) as sim:
        listed = get(sim, "/v2/dedicated-inferences")
        sizes = get(sim, "/v2/dedicated-inferences/sizes")
    assert [d["status"] for d in listed["dedicated_inferences"]] == ["active", "error"]
    reader = FakeReader({"/v2/dedicated-inferences": listed,
                         "/v2/dedicated-inferences/sizes": sizes})
    records = await dedicated_inferences.fetch(reader)
    by_name = {r.name: r.price_hourly for r in records}
    # the first runs one MI300X, the second two H100
    assert by_name == {"inference-atl1-01": GPU_PRICES["gpu-mi300x1-192gb"],
                       "inference-nyc2-02": 2 * GPU_PRICES["gpu-h100x1-80gb"]}


def test_each_route_needs_its_scope() -> None:
    other = SimToken("other", "dop_v1_" + "cd" * 32, scopes=["droplet:read"])
    spec = FleetSpec(seed=5, droplets=10)
    config = SimulatorConfig(accounts=(SimAccount("a", tokens=(other,), fleet=spec),))
    with Simulator(config) as sim:
        for path in ("/v2/gen-ai/agents", "/v2/gen-ai/knowledge_bases",
                     "/v2/dedicated-inferences", "/v2/dedicated-inferences/sizes"):
            answer = httpx.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {other.token}"})
            assert answer.status_code == 403, path


def test_the_demo_exposition_holds_none_of_the_demo_fleets_credentials() -> None:
    """The golden demo exposition (what /metrics shows for the demo) against the credentials
    the demo's answers carry: MCP server headers of agents and Functions namespace keys."""
    config = demo_config(0)
    secrets: list[str] = []
    with Simulator(config) as sim:
        for account in config.accounts:
            headers = {"Authorization": f"Bearer {account.tokens[0].token}"}
            agents = httpx.get(f"{sim.url}/v2/gen-ai/agents", headers=headers).json()["agents"]
            for agent in agents:
                for server in agent.get("mcp_servers", []):
                    secrets += [server["authorization"], *server["headers"].values()]
            namespaces = httpx.get(f"{sim.url}/v2/functions/namespaces", headers=headers).json()
            secrets += [n["key"] for n in namespaces["namespaces"]]
    assert len(secrets) >= 5
    exposition = (Path(__file__).parent.parent / "golden" / "demo.prom").read_text()
    assert "digitalocean_genai_agent_info{" in exposition
    assert "digitalocean_functions_namespace_info{" in exposition
    assert [s for s in secrets if s in exposition] == []
