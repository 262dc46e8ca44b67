"""Every paged collector against a simulated fleet with 450 objects of each kind: its list costs
exactly ceil(total/200) requests (3 for 450) and every object arrives once. The client pages;
this proves each collector goes through it. (The Droplet and VPC lists hold more than 450: the
Kubernetes nodes are Droplets, and every region has a default VPC.)"""

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
from exporter.collectors import (
    apps,
    cdn,
    certificates,
    domains,
    droplets,
    firewalls,
    kubernetes,
    load_balancers,
    projects,
    reserved_ips,
    snapshots,
    uptime,
    volumes,
    vpcs,
)
from exporter.collectors.base import Collector
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import READ_TOKEN

N = 450
# collector, the list endpoint that must take 3 requests, its FleetSpec field, how to count
CASES: list[tuple[Collector[Any], str, str, Any]] = [
    (droplets.COLLECTOR, "/v2/droplets", "droplets", len),
    (volumes.COLLECTOR, "/v2/volumes", "volumes", len),
    (snapshots.COLLECTOR, "/v2/snapshots", "snapshots", len),
    (reserved_ips.COLLECTOR, "/v2/reserved_ips", "reserved_ips", lambda d: len(d.ipv4)),
    (load_balancers.COLLECTOR, "/v2/load_balancers", "load_balancers", len),
    (kubernetes.COLLECTOR, "/v2/kubernetes/clusters", "kubernetes_clusters", len),
    (apps.COLLECTOR, "/v2/apps", "apps", len),
    (domains.COLLECTOR, "/v2/domains", "domains", len),
    (firewalls.COLLECTOR, "/v2/firewalls", "firewalls", len),
    (vpcs.COLLECTOR, "/v2/vpcs", "custom_vpcs", len),
    (cdn.COLLECTOR, "/v2/cdn/endpoints", "cdn_endpoints", len),
    (certificates.COLLECTOR, "/v2/certificates", "certificates", len),
    (uptime.COLLECTOR, "/v2/uptime/checks", "uptime_checks", len),
    (projects.COLLECTOR, "/v2/projects", "projects", len),
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    spec = FleetSpec(seed=4, droplets=N, volumes=N, **{field: N for _, _, field, _ in CASES
                                                       if field not in ("droplets", "volumes")})
    with Simulator(SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),), fleet=spec),),
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


@pytest.mark.parametrize(("collector", "endpoint", "field", "count"), CASES,
                         ids=[c[0].name for c in CASES])
async def test_every_object_for_ceil_n_over_200_requests(
    simulator: Simulator, reader: AccountApi, collector: Collector[Any], endpoint: str,
    field: str, count: Any,
) -> None:
    total = listed_total(simulator, endpoint)
    assert total >= N
    simulator.requests.clear()
    data = await collector.fetch(reader)
    assert count(data) == total
    list_requests = [r for r in simulator.requests.entries()
                     if r.endpoint == endpoint and "type=gpus" not in r.path]
    assert len(list_requests) == math.ceil(total / 200), [r.path for r in list_requests]
    if total == N:
        assert len(list_requests) == 3
    assert all(r.status == 200 for r in simulator.requests.entries())
