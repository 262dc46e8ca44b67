"""Issue 13's fixes end to end: the collectors, through the real client, against the simulator
(which follows the spec): a two-registry account without a team, autoscaled apps priced from
the API's instance sizes, and billing history read without undeclared parameters."""

from __future__ import annotations

from typing import Any

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import app_instance_sizes, apps, billing_history, billing_insights, registry
from exporter.costs import cost_samples
from exporter.pricing import load_price_table
from exporter.simulator import Fleet, SimAccount, SimToken, Simulator, SimulatorConfig, demo_config

NOW = 1_795_000_000.0  # 2026-11-18
TIER = {"slug": "basic", "name": "Basic", "monthly_price_in_cents": 500}
NO_TEAM = Fleet.from_objects(
    account={"uuid": "u1", "email": "ops@example.com", "status": "active", "status_message": "",
             "email_verified": True, "droplet_limit": 25, "floating_ip_limit": 3},
    registries=[
        {"name": "images", "region": "fra1", "created_at": "2026-01-01T00:00:00Z",
         "subscription": {"tier": TIER}},
        {"name": "builds", "region": "sfo3", "created_at": "2026-02-01T00:00:00Z",
         "subscription": {"tier": TIER}},
    ],
    apps=[{"id": "scaled", "created_at": "2026-01-01T00:00:00Z", "spec": {"name": "web", "services": [
        {"name": "web", "instance_size_slug": "apps-d-2vcpu-8gb",
         "autoscaling": {"min_instance_count": 2, "max_instance_count": 5}}]}}],
)
TOKEN = SimToken(name="t", token="sim-secret-fixes", scopes=["read"])


class Frozen(SystemClock):
    def time(self) -> float:
        return NOW


class Quiet:
    def observe(self, *args: object) -> None:
        pass


async def read(sim: Simulator, account: str, token: str) -> dict[str, Any]:
    client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                observer=Quiet(), clock=Frozen())
    try:
        reader = client.account(account, lambda: token, RequestBudget(5000, Frozen(), 5000))
        return {
            "registry": await registry.fetch(reader),
            "billing_insights": await billing_insights.fetch(reader),
            "apps": await apps.fetch(reader),
            "app_instance_sizes": await app_instance_sizes.fetch(reader),
            "billing_history": await billing_history.fetch(reader),
        }
    finally:
        await client.aclose()


async def test_two_registries_no_team_and_an_autoscaled_app() -> None:
    config = SimulatorConfig(accounts=(SimAccount(name="fixes", tokens=(TOKEN,), fleet=NO_TEAM),))
    with Simulator(config, clock=lambda: NOW) as sim:
        got = await read(sim, "fixes", TOKEN.token)
    assert [r.registry for r in got["registry"]] == ["images", "builds"]
    assert list(billing_insights.samples(got["billing_insights"])) == [
        ("digitalocean_billing_insight_available", (), 0)]
    assert len(got["app_instance_sizes"]) == 14
    costs = {(n, v): x for n, v, x in cost_samples(got, load_price_table(), NOW)}
    assert costs[("digitalocean_app_price_monthly_usd", ("scaled",))] == 196.0
    assert costs[("digitalocean_registry_price_monthly_usd", ("images",))] == 5.0
    assert costs[("digitalocean_registry_price_monthly_usd", ("builds",))] == 5.0


async def test_the_demo_billing_history_pages_by_its_links() -> None:
    demo = demo_config()
    account = demo.accounts[0]
    with Simulator(demo, clock=lambda: NOW) as sim:
        got = await read(sim, account.name, account.tokens[0].token)
        asked = [r.path for r in sim.requests.entries() if r.endpoint == "/v2/customers/my/billing_history"]
    assert {entry.type for entry in got["billing_history"]} >= {"Invoice", "Payment"}
    assert asked[0] == "/v2/customers/my/billing_history"  # no undeclared parameter
    assert all("per_page" not in path or "page=" in path for path in asked[1:])
    assert got["billing_insights"].day is not None
