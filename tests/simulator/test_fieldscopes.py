"""Fields the API fills only for a token with a second scope ("Requires `tag:read` scope"):
the simulator withholds them from a custom-scoped token that lacks it, as declared on its
routes, and the declarations agree with the exporter's own (`Collector.field_scopes`)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, droplets
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.fieldscopes import withhold_fields
from exporter.simulator.kinds import KINDS

NARROW = SimToken("narrow", "dop_v1_" + "ab" * 32, scopes=["droplet:read", "account:read"])
WIDE = SimToken("wide", "dop_v1_" + "cd" * 32,
                scopes=["droplet:read", "account:read", "tag:read", "vpc:read"])


def simulator() -> Simulator:
    return Simulator(SimulatorConfig(accounts=(
        SimAccount("acme", tokens=(NARROW, WIDE), fleet=FleetSpec(seed=5, droplets=12)),
    )))


def test_a_list_field_comes_back_empty_and_any_other_is_left_out() -> None:
    body = json.dumps({"droplets": [{"id": 1, "tags": ["web"], "vpc_uuid": "v", "name": "a"},
                                    {"id": 2, "tags": [], "name": "b"}],
                       "meta": {"total": 2}}).encode()
    withheld = json.loads(withhold_fields(body, ["droplets[].tags", "droplets[].vpc_uuid"]))
    assert withheld == {"droplets": [{"id": 1, "tags": [], "name": "a"},
                                     {"id": 2, "tags": [], "name": "b"}], "meta": {"total": 2}}
    nested = json.loads(withhold_fields(b'{"account": {"a": 1, "b": 2}}', ["account.a"]))
    assert nested == {"account": {"b": 2}}


def secret_of(token: SimToken) -> Callable[[], str]:
    return lambda: token.token


def listed(sim: Simulator, token: SimToken) -> list[dict[str, Any]]:
    answer = httpx.get(f"{sim.url}/v2/droplets?per_page=200",
                       headers={"Authorization": f"Bearer {token.token}"})
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()["droplets"]
    return found


def test_droplet_tags_and_vpc_need_their_own_scopes() -> None:
    with simulator() as sim:
        narrow, wide = listed(sim, NARROW), listed(sim, WIDE)
    assert [d["id"] for d in narrow] == [d["id"] for d in wide]
    assert any(d["tags"] for d in wide)
    assert all(d["tags"] == [] for d in narrow)
    assert all("vpc_uuid" in d for d in wide)
    assert not any("vpc_uuid" in d for d in narrow)


async def test_the_exporter_sees_no_droplet_tags_without_tag_read() -> None:
    class Quiet:
        def observe(self, *args: object) -> None:
            pass

    with simulator() as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                    observer=Quiet(), clock=SystemClock(), rng=random.Random(1))
        try:
            samples = {}
            for token in (NARROW, WIDE):
                reader = client.account("acme", secret_of(token),
                                        RequestBudget(5000, SystemClock(), 5000))
                records = await droplets.COLLECTOR.fetch(reader)
                samples[token.name] = [s for s in droplets.COLLECTOR.samples(records)
                                       if s[0] == "digitalocean_droplet_tag_info"]
        finally:
            await client.aclose()
    assert samples["wide"]
    assert samples["narrow"] == []


def test_every_withheld_field_is_one_the_exporter_declares_with_that_scope() -> None:
    declared = {(scope, field.field) for c in COLLECTORS for field in c.field_scopes
                for scope in field.scopes}
    withheld = [(scope, path.rsplit(".", 1)[-1]) for kind in KINDS for route in kind.routes
                for path, scope in route.field_scopes]
    assert withheld, "the simulator withholds some fields"
    assert [pair for pair in withheld if pair not in declared] == []
