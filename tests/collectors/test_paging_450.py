"""Every paged collector against a simulated fleet with 450 objects of each kind: its list costs
exactly ceil(total/200) requests (3 for 450) and every object arrives once. The client pages;
this proves each collector goes through it. The cases are the collectors whose `paged` is set,
and an object is counted as one distinct value of the collector's `id_label` in its samples.
(The Droplet and VPC lists hold more than 450: the Kubernetes nodes are Droplets, and every
region has a default VPC.)"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS
from exporter.collectors.base import Collector
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.kind import Kind
from exporter.simulator.kinds import KINDS
from tests.conftest import READ_TOKEN, object_ids

N = 450

CASES = [c for c in COLLECTORS if c.paged is not None]


def paged(collector: Collector[Any]) -> str:
    assert collector.paged is not None
    return collector.paged


def fleet_count(endpoint: str) -> str | None:
    """The FleetSpec count that makes N objects of a paged list: the count of the simulator kind
    that serves it; None where the list has a fixed or derived length (the size catalogue, the
    tags in use), which is then paged as it is."""
    kind = serving(endpoint)
    return kind.name if kind.count is not None and kind.list_endpoint == endpoint else None


def serving(endpoint: str) -> Kind:
    return next(k for k in KINDS if any(route.template == endpoint for route in k.routes))


def test_every_paged_list_is_served_by_a_simulator_kind() -> None:
    for collector in CASES:
        [route] = [r for r in serving(paged(collector)).routes if r.template == paged(collector)]
        assert route.paged, collector.name
    assert len({paged(c) for c in CASES}) == len(CASES), "two collectors page the same list"


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    counts: dict[str, Any] = {
        count: N for c in CASES if (count := fleet_count(paged(c))) is not None
    }
    with Simulator(SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),),
                             fleet=FleetSpec(seed=4, **counts)),),
        requests_per_hour=100_000, requests_per_minute=100_000,
    )) as sim:
        yield sim


@pytest.fixture
async def reader(simulator: Simulator) -> AsyncIterator[AccountApi]:
    class Quiet:
        def observe(self, *args: object) -> None:
            pass

    client = DigitalOceanClient(api_url=simulator.url, auth_url=simulator.url, timeout=30,
                                user_agent="t", observer=Quiet(), clock=SystemClock(),
                                rng=random.Random(1))
    yield client.account("big", lambda: READ_TOKEN, RequestBudget(5000, SystemClock(), 5000))
    await client.aclose()


def listed_total(simulator: Simulator, endpoint: str) -> int:
    answer = httpx.get(f"{simulator.url}{endpoint}?per_page=1",
                       headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()
    # vector databases answer a top-level `total` and no meta (the full description)
    return int(answer["meta"]["total"] if "meta" in answer else answer["total"])


@pytest.mark.parametrize("collector", CASES, ids=lambda c: c.name)
async def test_every_object_for_ceil_n_over_200_requests(
    simulator: Simulator, reader: AccountApi, collector: Collector[Any]
) -> None:
    endpoint = paged(collector)
    total = listed_total(simulator, endpoint)
    if fleet_count(endpoint) is not None:
        assert total >= N
    simulator.requests.clear()
    data = await collector.fetch(reader)
    assert len(object_ids(collector, data)) == total
    list_requests = [r for r in simulator.requests.entries()
                     if r.endpoint == endpoint and "type=gpus" not in r.path]
    assert len(list_requests) == math.ceil(total / 200), [r.path for r in list_requests]
    if total == N:
        assert len(list_requests) == 3
    assert all(r.status == 200 for r in simulator.requests.entries())
