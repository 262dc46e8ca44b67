"""`filter:` on the collectors that have one (issue 17, item 3): what each keeps, against the
simulator, and that a filter the API can apply (one tag on Droplets and databases, one region on
volumes) reads only the matching pages: the simulator's request log shows it."""

from __future__ import annotations

import math
import random
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, droplets, volumes
from exporter.collectors.base import FILTER_KEYS, PollContext, Selection
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import READ_TOKEN

N = 900  # five pages of Droplets; "web" is one of six roles, so about a page of them


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),),
                             fleet=FleetSpec(seed=5, droplets=N, volumes=450)),),
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


def pages(simulator: Simulator, endpoint: str) -> list[str]:
    return [e.path for e in simulator.requests.entries() if e.endpoint == endpoint]


async def test_one_tag_on_droplets_reads_only_that_tag_s_pages(
    simulator: Simulator, reader: AccountApi
) -> None:
    everything = await droplets.COLLECTOR.collect(reader, PollContext())
    web = [d for d in everything if "web" in d.tags]
    assert 0 < len(web) < len(everything)
    simulator.requests.clear()
    kept = await droplets.COLLECTOR.collect(reader, PollContext(Selection(tags=("web",))))
    assert kept == tuple(web)
    tagged = [p for p in pages(simulator, "/v2/droplets") if "tag_name=web" in p]
    gpus = [p for p in pages(simulator, "/v2/droplets") if "type=gpus" in p]
    assert len(tagged) == math.ceil(len([d for d in web if d.size and "gpu" not in d.size]) / 200)
    assert len(tagged) < math.ceil(N / 200)
    assert len(tagged) + len(gpus) == len(pages(simulator, "/v2/droplets"))


async def test_several_keys_together_keep_what_matches_every_one(reader: AccountApi) -> None:
    everything = await droplets.COLLECTOR.collect(reader, PollContext())
    region = everything[0].region
    selection = Selection(tags=("web", "api"), regions=(region,), name=re.compile(r"(web|api)-.*"))
    kept = await droplets.COLLECTOR.collect(reader, PollContext(selection))
    expected = tuple(d for d in everything if d.region == region
                     and {"web", "api"} & set(d.tags) and re.fullmatch(r"(web|api)-.*", d.name))
    assert kept == expected
    assert kept
    by_id = await droplets.COLLECTOR.collect(
        reader, PollContext(Selection(ids=(str(everything[1].droplet_id),))))
    assert by_id == (everything[1],)


async def test_one_region_on_volumes_is_asked_of_the_api(
    simulator: Simulator, reader: AccountApi
) -> None:
    everything = await volumes.COLLECTOR.collect(reader, PollContext())
    region = everything[0].region
    simulator.requests.clear()
    kept = await volumes.COLLECTOR.collect(reader, PollContext(Selection(regions=(region,))))
    assert kept == tuple(v for v in everything if v.region == region)
    assert all(f"region={region}" in p for p in pages(simulator, "/v2/volumes"))
    assert len(pages(simulator, "/v2/volumes")) == max(1, math.ceil(len(kept) / 200))


@pytest.mark.parametrize("collector", [c for c in COLLECTORS if c.filters],
                         ids=lambda c: c.name)
async def test_a_filter_that_matches_nothing_keeps_nothing_and_everything_keeps_all(
    reader: AccountApi, collector: Any
) -> None:
    assert set(collector.filters) <= set(FILTER_KEYS)
    assert collector.fetch_with is not None
    everything = await collector.collect(reader, PollContext())
    assert everything == await collector.fetch(reader)
    name = re.compile("no-object-is-called-this")
    kept = await collector.collect(reader, PollContext(Selection(name=name)))
    assert list(collector.samples(kept)) == []
