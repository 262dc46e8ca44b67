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
from tests.conftest import READ_TOKEN, object_ids

N = 450

# The FleetSpec count that makes N objects of each paged list; None where the simulator's list
# has a fixed or derived length (the size catalogue; the tags in use), which is then paged as
# it is. Until the simulator kinds registry lands: it will come from
# exporter.simulator.kinds.KINDS (each kind's `.name` and `.list_endpoint`).
FLEET_COUNT: dict[str, str | None] = {
    "/v2/droplets": "droplets",
    "/v2/volumes": "volumes",
    "/v2/snapshots": "snapshots",
    "/v2/reserved_ips": "reserved_ips",
    "/v2/load_balancers": "load_balancers",
    "/v2/kubernetes/clusters": "kubernetes_clusters",
    "/v2/apps": "apps",
    "/v2/domains": "domains",
    "/v2/firewalls": "firewalls",
    "/v2/vpcs": "custom_vpcs",
    "/v2/cdn/endpoints": "cdn_endpoints",
    "/v2/certificates": "certificates",
    "/v2/uptime/checks": "uptime_checks",
    "/v2/projects": "projects",
    "/v2/tags": None,
    "/v2/sizes": None,
}

CASES = [c for c in COLLECTORS if c.paged is not None]


def paged(collector: Collector[Any]) -> str:
    assert collector.paged is not None
    return collector.paged


def test_every_paged_list_is_known_to_the_fleet_mapping() -> None:
    assert {paged(c) for c in CASES} == set(FLEET_COUNT)
    assert len(CASES) == len(FLEET_COUNT), "two collectors page the same list"


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    counts: dict[str, Any] = {field: N for field in FLEET_COUNT.values() if field is not None}
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
    return int(answer["meta"]["total"])


@pytest.mark.parametrize("collector", CASES, ids=lambda c: c.name)
async def test_every_object_for_ceil_n_over_200_requests(
    simulator: Simulator, reader: AccountApi, collector: Collector[Any]
) -> None:
    endpoint = paged(collector)
    total = listed_total(simulator, endpoint)
    if FLEET_COUNT.get(endpoint) is not None:
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
