"""A running simulator and a GET for the tests of the network and account products' kinds."""

from __future__ import annotations

from typing import Any

import httpx

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig

TOKEN = SimToken("ro", "dop_v1_" + "ab" * 32, scopes=["read"])


def simulator(**counts: Any) -> Simulator:
    spec = FleetSpec(**{"seed": 7, "droplets": 30, **counts})
    return Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),)))


def get(sim: Simulator, path: str, token: SimToken = TOKEN) -> httpx.Response:
    return httpx.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {token.token}"})
