"""Benchmark scale: 50,000 Droplets served in 250 pages of 200, each Droplet exactly once."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from exporter.simulator import FleetSpec, SimAccount, Simulator, SimulatorConfig

from .conftest import READ_ONLY, ManualClock

DROPLETS = 50_000


@pytest.fixture(scope="module")
def large_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def large(large_clock: ManualClock) -> Iterator[Simulator]:
    config = SimulatorConfig(
        accounts=(
            SimAccount(
                name="large",
                tokens=(READ_ONLY,),
                fleet=FleetSpec(seed=7, droplets=DROPLETS, gpu_droplets=20, volumes=500),
            ),
        )
    )
    simulator = Simulator(config, clock=large_clock)
    simulator.start()
    yield simulator
    simulator.stop()


def test_50000_droplets_in_250_pages_each_exactly_once(large: Simulator) -> None:
    headers = {"Authorization": f"Bearer {READ_ONLY.token}"}
    ids: list[int] = []
    with httpx.Client(headers=headers, timeout=30) as client:
        url: str | None = f"{large.url}/v2/droplets?per_page=200"
        while url:
            page = json.loads(client.get(url).content)
            assert page["meta"]["total"] == DROPLETS
            ids += [droplet["id"] for droplet in page["droplets"]]
            url = page["links"].get("pages", {}).get("next")
    assert len(ids) == DROPLETS
    assert len(set(ids)) == DROPLETS
    assert set(ids) == {int(d.id) for d in large.fleet("large").droplets}
    assert large.requests.count(endpoint="/v2/droplets", status=200) == 250
    assert large.requests.entries()[-1].path == "/v2/droplets?page=250&per_page=200"


def test_a_200_droplet_page_costs_well_under_10_ms(
    large: Simulator, large_clock: ManualClock
) -> None:
    large_clock.advance(60)  # a full minute window: the burst limit is 250 requests a minute
    headers = {"Authorization": f"Bearer {READ_ONLY.token}", "Host": "127.0.0.1"}
    durations = []
    for page in range(100, 120):
        started = time.perf_counter()
        answer = large.answer("GET", f"/v2/droplets?page={page}&per_page=200", headers)
        durations.append(time.perf_counter() - started)
        assert answer.status == 200
    assert statistics.median(durations) < 0.010, durations


def test_every_other_listing_of_a_large_fleet_is_as_cheap(
    large: Simulator, large_clock: ManualClock
) -> None:
    """Resources scale with the fleet (10,000 snapshots, 500 clusters, ...) and pages stay
    slices of cached bytes; the derived listings are built once, on first use."""
    large_clock.advance(60)
    headers = {"Authorization": f"Bearer {READ_ONLY.token}", "Host": "127.0.0.1"}
    fleet = large.fleet("large")
    expected = {
        "/v2/snapshots": 10_000,
        "/v2/reserved_ips": 2_500,
        "/v2/load_balancers": 1_000,
        "/v2/kubernetes/clusters": 500,
        "/v2/apps": 1_000,
        f"/v2/projects/{fleet.default_project}/resources": None,
        f"/v2/vpcs/{fleet.resources.objects('custom_vpcs')[0].id}/members": None,
        "/v2/tags": None,
    }
    for path, total in expected.items():
        large.answer("GET", f"{path}?per_page=200", headers)  # builds derived listings
        durations = []
        for page in (2, 3, 4):
            started = time.perf_counter()
            answer = large.answer("GET", f"{path}?per_page=200&page={page}", headers)
            durations.append(time.perf_counter() - started)
            assert answer.status == 200
            body = json.loads(answer.body)
            if total is not None:
                assert body["meta"]["total"] == total
        assert statistics.median(durations) < 0.010, (path, durations)
    databases = json.loads(large.answer("GET", "/v2/databases", headers).body)["databases"]
    assert len(databases) == 1_000
