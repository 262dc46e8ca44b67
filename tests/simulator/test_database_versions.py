"""The database options kind: the official example served as given and read back into the
exact series; the generated answer valid against the full API description, with a date for
every engine version the simulator's clusters run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_core import OpenAPI

from exporter.collectors import database_versions, databases
from exporter.simulator import Fault, Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.collectors.simulated import simulated_poller, simulated_reader
from tests.collectors.test_database_versions import ENDPOINT, expected_series
from tests.conftest import spec_example
from tests.simulator.test_full_spec_conformance import errors, served_spec

TOKENS = {account: SimToken(f"{account}-dbv", f"dop_v1_{n}" + "5b" * 31, scopes=["database:read"])
          for account, n in (("official", "08"), ("acme", "09"))}


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    official = Fleet.from_objects(database_options=spec_example(ENDPOINT))
    with Simulator(SimulatorConfig(accounts=(
        SimAccount("official", tokens=(TOKENS["official"],), fleet=official),
        SimAccount("acme", tokens=(TOKENS["acme"],), fleet=FleetSpec(seed=8, droplets=400)),
    ))) as sim:
        yield sim


async def test_the_official_example_round_trips_into_the_exact_series(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", TOKENS["official"].token) as reader:
        versions = await database_versions.COLLECTOR.fetch(reader)
    assert list(database_versions.samples(versions)) == expected_series()


async def test_every_version_the_generated_clusters_run_is_listed(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "acme", TOKENS["acme"].token) as reader:
        versions = await database_versions.COLLECTOR.fetch(reader)
        clusters = await databases.COLLECTOR.fetch(reader)
    listed = {(v.engine, v.version) for v in versions}
    running = {(c.engine, c.version) for c in clusters}
    assert running
    assert running <= listed
    assert any(v.end_of_life is not None for v in versions)


def test_the_answers_validate_against_the_full_spec(simulator: Simulator) -> None:
    openapi = OpenAPI.from_dict(served_spec())
    problems: list[str] = []
    for account, token in TOKENS.items():
        with httpx.Client(base_url=simulator.url,
                          headers={"Authorization": f"Bearer {token.token}"}) as client:
            response = client.get(ENDPOINT)
            assert response.status_code == 200, (account, response.text)
            problems += errors(openapi, response, ENDPOINT)
    assert problems == []


async def test_a_403_disables_only_database_versions_and_names_its_scope(
    simulator: Simulator, tmp_path: Path
) -> None:
    token = TOKENS["acme"].token
    simulator.set_faults([Fault(kind="error", endpoint=ENDPOINT, status=403)])
    try:
        async with simulated_poller(simulator, "acme", token,
                                    (databases.COLLECTOR, database_versions.COLLECTOR),
                                    tmp_path) as (poller, account):
            assert not (await poller.poll_once(account, database_versions.COLLECTOR)).ok
            assert (await poller.poll_once(account, databases.COLLECTOR)).ok
            assert not account.state("database_versions").enabled
            assert account.state("database_versions").missing_scope == "database:read"
            assert account.state("databases").enabled
    finally:
        simulator.clear_faults()
