"""The Monitoring API collectors against the simulator, over the real client: each reads the
inventory's objects once per metric, exactly as many requests as `requests_for` said, every
answer parses, and the month-to-date public transfer integrated from the bandwidth points
agrees with the simulator's own integral, poll after poll."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, collector_table
from exporter.collectors.base import Collector, PollContext
from exporter.collectors.monitoring import MonitoringData, month_start
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.kinds.monitoring import public_outbound_month_to_date_bytes
from tests.simulator.conftest import START, ManualClock

TOKEN = "sim-secret-monitoring-collectors"
# the fleet of tests/simulator/test_monitoring.py: for an account named "mysql" it has a
# MySQL cluster (the generated fleet depends on the account's name too)
FLEET = FleetSpec(seed=1, droplets=30, databases=2, load_balancers=1, apps=1, autoscale_pools=1)
MONITORING = [c for c in COLLECTORS if c.monitoring]
MONTH_TO_DATE = "digitalocean_droplet_public_transmit_month_to_date_bytes"


class Quiet:
    def observe(self, *args: object) -> None:
        pass


class Following(SystemClock):
    """The client's wall time is the simulator's manual clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def time(self) -> float:
        return self.clock.now


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="module")
def simulator(clock: ManualClock) -> Iterator[Simulator]:
    config = SimulatorConfig(
        accounts=(SimAccount("mysql", tokens=(SimToken("ro", TOKEN, scopes=["read"]),),
                             fleet=FLEET),),
        requests_per_hour=100_000, requests_per_minute=100_000,
    )
    with Simulator(config, clock=clock) as sim:
        yield sim


@pytest.fixture
async def reader(simulator: Simulator, clock: ManualClock) -> AsyncIterator[AccountApi]:
    client = DigitalOceanClient(api_url=simulator.url, auth_url=simulator.url, timeout=30,
                                user_agent="t", observer=Quiet(), clock=Following(clock),
                                rng=random.Random(1))
    yield client.account("mysql", lambda: TOKEN, RequestBudget(100_000, SystemClock(), 100_000))
    await client.aclose()


async def inputs_of(collector: Collector[Any], reader: AccountApi) -> dict[str, Any]:
    return {name: await collector_table()[name].fetch(reader) for name in collector.inputs}


def monitoring_requests(simulator: Simulator) -> list[Any]:
    return [e for e in simulator.requests.entries() if e.path.startswith("/v2/monitoring/")]


@pytest.mark.parametrize("collector", MONITORING, ids=lambda c: c.name)
async def test_a_poll_makes_the_requests_it_announced_and_every_answer_parses(
        collector: Collector[Any], reader: AccountApi, simulator: Simulator) -> None:
    context = PollContext(inputs=await inputs_of(collector, reader),
                          metrics=collector.metric_groups)
    simulator.requests.clear()
    data = await collector.collect(reader, context)
    served = monitoring_requests(simulator)
    assert collector.requests_for is not None
    assert len(served) == collector.requests_for(context) > 0
    assert {e.status for e in served} == {200}
    families = {name for name, _, _ in collector.samples(data)}
    assert f"{collector.families[-1].name}" in families  # the newest points' timestamps
    assert len(families) > 2, families


async def test_month_to_date_transfer_follows_the_simulators_integral(
        reader: AccountApi, simulator: Simulator, clock: ManualClock) -> None:
    collector = collector_table()["droplet_metrics"]
    inputs = await inputs_of(collector, reader)
    context = PollContext(inputs=inputs, metrics=("network",))
    first = await collector.collect(reader, context)
    assert isinstance(first, MonitoringData)
    fleet = simulator.fleet("mysql")
    totals = {m.resource_id: m for m in first.month_to_date}
    assert totals, "the active Droplets send public traffic"
    for resource_id, total in totals.items():
        expected = public_outbound_month_to_date_bytes(fleet, int(resource_id), total.through)
        # the first point also stands for the minutes before the month began (one step of
        # about 18 minutes in 17 days), hence the tolerance
        assert total.amount == pytest.approx(expected, rel=2e-3), resource_id
    clock.now += 900  # the next poll reads on from the newest point it integrated
    simulator.requests.clear()
    second = await collector.collect(reader, PollContext(inputs=inputs, metrics=("network",),
                                                         previous=first))
    assert isinstance(second, MonitoringData)
    starts = {params["host_id"]: int(params["start"]) for e in monitoring_requests(simulator)
              if (params := dict(parse_qsl(urlsplit(e.path).query)))["interface"] == "public"
              and params["direction"] == "outbound"}
    now = int(clock.now)
    # a Droplet with a total reads on from its newest point; one without (an off Droplet sends
    # nothing) from the month's start again
    assert starts == {rid: min(int(totals[rid].through), now - 600) if rid in totals
                      else month_start(now) for rid in starts}
    assert set(totals) <= set(starts)
    assert {m.resource_id for m in second.month_to_date} == set(totals)
    for total in second.month_to_date:
        before = totals[total.resource_id]
        assert total.through > before.through
        assert total.amount > before.amount
        expected = public_outbound_month_to_date_bytes(fleet, int(total.resource_id), total.through)
        assert total.amount == pytest.approx(expected, rel=2e-3), total.resource_id
