"""The database details kind: the official examples served as given and read back into the
exact series, derived answers for every cluster of a generated fleet valid against the full
API description, replica credentials only for tokens allowed them (and never in the exporter's
output), a 403 that disables only `database_details`, a deleted cluster left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI

from exporter.collectors import database_details, databases
from exporter.collectors.base import PollContext
from exporter.exposition import encode_collector
from exporter.simulator import Fault, Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.collectors.simulated import collect_with_inputs, given_inputs, simulated_poller, simulated_reader
from tests.collectors.test_database_details import (
    BACKUPS,
    DB,
    EVENTS,
    REPLICAS,
    expected_cluster_series,
)
from tests.collectors.test_databases import secret_strings
from tests.conftest import spec_example
from tests.simulator.test_full_spec_conformance import errors, served_spec

TOKENS = {
    account: (SimToken(f"{account}-ro", f"dop_v1_{n}" + "1d" * 31, scopes=["database:read"]),
              SimToken(f"{account}-creds", f"dop_v1_{n}" + "2e" * 31,
                       scopes=["database:read", "database:view_credentials"]))
    for account, n in (("official", "01"), ("acme", "02"))
}
READ, CREDENTIALS = 0, 1
DETAILS = (databases.COLLECTOR, database_details.COLLECTOR)


def official_fleet() -> Fleet:
    """The official examples: the cluster of /v2/databases with its replicas, backups, events."""
    [cluster] = spec_example("/v2/databases")["databases"]
    return Fleet.from_objects(
        databases=[cluster],
        database_replicas={DB: spec_example(REPLICAS)},
        database_backups={DB: spec_example(BACKUPS)},
        database_events={DB: spec_example(EVENTS)},
    )


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(accounts=(
        SimAccount("official", tokens=TOKENS["official"], fleet=official_fleet()),
        SimAccount("acme", tokens=TOKENS["acme"], fleet=FleetSpec(seed=8, droplets=400)),
    ), requests_per_hour=100_000, requests_per_minute=100_000)) as sim:
        yield sim


async def test_the_official_examples_round_trip_into_the_exact_series(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", token("official")) as reader:
        polls = await collect_with_inputs(reader, DETAILS)
    got = [s for s in database_details.samples(polls["database_details"]) if s[1][0] == DB]
    assert got == expected_cluster_series()


async def test_three_requests_per_cluster_and_the_list_only_by_its_own_collector(
    simulator: Simulator
) -> None:
    clusters = simulator.fleet("acme").resources.objects("databases")
    engines = [item.as_json()["engine"] for item in clusters]
    simulator.requests.clear()
    async with simulated_reader(simulator, "acme", token("acme")) as reader:
        polls = await collect_with_inputs(reader, DETAILS)
    entries = simulator.requests.entries()
    assert [r.endpoint for r in entries].count("/v2/databases") == 1  # the databases collector
    follow_ups = [r for r in entries if "{database_cluster_uuid}" in r.endpoint]
    without = sum(1 for e in engines if e in ("redis", "valkey"))
    assert len(follow_ups) == 3 * len(clusters) - 2 * without
    # what the planner is told before the poll is what the poll costs
    planned = database_details.COLLECTOR.requests_for
    assert planned is not None
    assert planned(PollContext(inputs={"databases": polls["databases"]})) == len(follow_ups)
    assert len(clusters) >= 8
    assert without >= 1
    assert all(r.status == 200 for r in entries)


def test_every_cluster_answer_validates_against_the_full_spec(simulator: Simulator) -> None:
    openapi = OpenAPI.from_dict(served_spec())
    problems: list[str] = []
    for which in (READ, CREDENTIALS):
        for account in ("official", "acme"):
            with httpx.Client(base_url=simulator.url,
                              headers={"Authorization": f"Bearer {token(account, which)}"}) as client:
                for item in simulator.fleet(account).resources.objects("databases"):
                    for template in (REPLICAS, BACKUPS, EVENTS):
                        response = client.get(template.replace("{database_cluster_uuid}", str(item.id)))
                        assert response.status_code == 200, (template, response.text)
                        problems += errors(openapi, response, template)
    assert problems == []


def token(account: str, which: int = READ) -> str:
    return TOKENS[account][which].token


def replicas(simulator: Simulator, account: str, which: int) -> list[dict[str, Any]]:
    found = []
    with httpx.Client(base_url=simulator.url,
                      headers={"Authorization": f"Bearer {token(account, which)}"}) as client:
        for item in simulator.fleet(account).resources.objects("databases"):
            found += client.get(f"/v2/databases/{item.id}/replicas").json()["replicas"]
    return found


@pytest.mark.parametrize("account", ["official", "acme"])
async def test_replica_credentials_only_for_tokens_allowed_and_never_exported(
    simulator: Simulator, account: str
) -> None:
    shown = replicas(simulator, account, CREDENTIALS)
    secrets = set().union(*(secret_strings(r.get(k)) for r in shown
                            for k in ("connection", "private_connection")))
    assert any("://" in s for s in secrets), "the credentials token sees URIs with passwords"
    assert all("connection" not in r for r in replicas(simulator, account, READ))
    async with simulated_reader(simulator, account, token(account, CREDENTIALS)) as reader:
        polls = await collect_with_inputs(reader, DETAILS)
    data = polls["database_details"]
    rendered = b"".join(encode_collector(account, database_details.COLLECTOR, data).values())
    assert any(name == "digitalocean_database_replica_info" for name, _, _ in database_details.samples(data))
    for secret in secrets:
        assert secret not in repr(data)
        assert secret.encode() not in rendered


async def test_a_cluster_gone_since_the_inventory_is_left_out(simulator: Simulator) -> None:
    async with simulated_reader(simulator, "official", token("official")) as reader:
        listed = await databases.COLLECTOR.fetch(reader)
        stale = databases.parse_databases({"databases": [{"id": "0b7e5a1c-gone"}]})
        data = await database_details.COLLECTOR.collect(
            reader, PollContext(inputs={"databases": (*listed, *stale)}))
    assert [d.database_id for d in data] == [DB]


async def test_a_403_disables_only_database_details_and_names_its_scope(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.set_faults([Fault(kind="error", endpoint=EVENTS, status=403)])
    try:
        async with simulated_reader(simulator, "official", token("official")) as reader:
            listed = await databases.COLLECTOR.fetch(reader)
        details = given_inputs(database_details.COLLECTOR, {"databases": listed})
        async with simulated_poller(simulator, "official", token("official"),
                                    (databases.COLLECTOR, details), tmp_path) as (poller, account):
            assert not (await poller.poll_once(account, details)).ok
            assert (await poller.poll_once(account, databases.COLLECTOR)).ok
            assert not account.state("database_details").enabled
            assert account.state("database_details").missing_scope == "database:read"
            assert account.state("databases").enabled
    finally:
        simulator.clear_faults()
