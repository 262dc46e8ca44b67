"""Vector databases: the spec's schema example (the operation has no example of its own) parsed
into exact series, directly and through the simulator and the real client; the list pages by
its top-level `total`; no endpoint or token is ever kept; identity is strict, the rest
lenient; a 403 disables only this collector and names its scope."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from exporter.collectors import vector_databases
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.collectors.fakes import FakeReader
from tests.collectors.forbidden import assert_disabled_naming, poll_without
from tests.collectors.simulated import simulated_reader
from tests.conftest import READ_TOKEN, example_reader, full_spec, response_example

ENDPOINT = "/v2/vector-databases"
EXAMPLE_ID = "example string"
PROJECT = "123e4567-e89b-12d3-a456-426614174000"
TOKEN = "dop_v1_weaviate_admin_S3cret"


def example_body() -> Any:
    return response_example(ENDPOINT)


EXPECTED = [
    ("digitalocean_vector_database_info",
     (EXAMPLE_ID, "example name", "tor1", "example string", "example string", PROJECT), 1),
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "pending"), 0),
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "creating"), 0),
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "active"), 0),
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "errored"), 0),
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "deleting"), 0),
    # the example's status is "example string": an unknown state, shown
    ("digitalocean_vector_database_status", (EXAMPLE_ID, "example string"), 1),
    ("digitalocean_vector_database_created_timestamp_seconds", (EXAMPLE_ID,), 1672531200.0),
]


async def test_the_schema_example_becomes_exact_series() -> None:
    reader = example_reader()
    records = await vector_databases.fetch(reader)
    assert list(vector_databases.samples(records)) == EXPECTED
    assert [(r.method, r.route) for r in reader.requests] == [("list_all", ENDPOINT)]


async def test_the_example_round_trips_through_the_simulator_and_the_client() -> None:
    fleet = Fleet.from_objects(vector_databases=example_body()["vector_dbs"])
    config = SimulatorConfig(accounts=(SimAccount(
        "production", tokens=(SimToken("ro", READ_TOKEN, scopes=["database:read"]),),
        fleet=fleet),))
    with Simulator(config) as sim:
        async with simulated_reader(sim, "production", READ_TOKEN) as reader:
            records = await vector_databases.fetch(reader)
        [request] = [r for r in sim.requests.entries() if r.endpoint == ENDPOINT]
    assert list(vector_databases.samples(records)) == EXPECTED
    assert request.status == 200


async def test_a_generated_fleet_of_450_is_read_in_three_requests() -> None:
    config = SimulatorConfig(accounts=(SimAccount(
        "production", tokens=(SimToken("ro", READ_TOKEN, scopes=["database:read"]),),
        fleet=FleetSpec(seed=2, droplets=4, vector_databases=450)),),
        requests_per_minute=100_000, requests_per_hour=100_000)
    with Simulator(config) as sim:
        async with simulated_reader(sim, "production", READ_TOKEN) as reader:
            records = await vector_databases.fetch(reader)
        paths = [r.path for r in sim.requests.entries() if r.endpoint == ENDPOINT]
    assert len({r.vector_database_id for r in records}) == 450
    assert len(paths) == 3


def test_the_spec_pages_by_a_top_level_total_and_asks_for_database_read() -> None:
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [vector_databases.COLLECTOR.scope]}]
    assert {p["name"] for p in operation["parameters"]} == {"page", "per_page"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"vector_dbs", "total"}  # no links, no meta
    status = schema["properties"]["vector_dbs"]["items"]["properties"]["status"]
    assert "enum" not in status
    words = re.findall(r"[a-z]+", status["description"].split(":", 1)[1])
    assert tuple(w for w in words if w != "or") == vector_databases.STATUSES


def with_secrets(body: Any) -> Any:
    """The example with what a credential would look like if the list ever carried one."""
    for item in body["vector_dbs"]:
        item["api_token"] = TOKEN
        item["user_id"] = "admin"
        item["endpoints"]["http"] = f"https://admin:{TOKEN}@my-db.weaviate.ondigitalocean.com"
    return body


async def test_no_endpoint_or_token_reaches_a_record_or_a_series() -> None:
    body = with_secrets(example_body())
    records = await vector_databases.fetch(FakeReader({ENDPOINT: body}))
    rendered = b"".join(encode_collector("production", vector_databases.COLLECTOR,
                                         records).values()).decode()
    for text in (repr(records), rendered):
        assert TOKEN not in text
        assert "weaviate.ondigitalocean.com" not in text
    names = set(vector_databases.VectorDatabaseRecord.__slots__)
    assert not names & {"endpoints", "http", "grpc", "api_token", "token", "user_id", "uri"}


def test_an_item_without_id_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        vector_databases.parse_page([{"id": "a"}, {"name": "no id"}], 200)
    assert str(caught.value) == (
        "/v2/vector-databases vector_dbs[201].id: expected a non-empty string, got null")


def test_descriptive_fields_are_lenient_and_a_state_in_capitals_is_known() -> None:
    records = vector_databases.parse_page([
        {"id": "x", "status": "ACTIVE", "config": None, "created_at": "yesterday", "size": 3},
        {"id": "y", "status": None, "config": {"weaviate_version": 1.3}},
    ], 0)
    got = list(vector_databases.samples(tuple(records)))
    assert ("digitalocean_vector_database_info", ("x", "", "", "", "", ""), 1) in got
    assert ("digitalocean_vector_database_status", ("x", "active"), 1) in got
    assert ("digitalocean_vector_database_status", ("y", "unknown"), 1) in got
    assert "digitalocean_vector_database_created_timestamp_seconds" not in {n for n, _, _ in got}


async def test_a_filter_keeps_the_selected_instances_sorted_by_id() -> None:
    [item] = example_body()["vector_dbs"]
    items = [{**item, "id": "b", "name": "rag", "tags": ["prod"]},
             {**item, "id": "a", "name": "rag-2", "tags": ["prod"], "region": "nyc3"},
             {**item, "id": "c", "name": "scratch", "tags": []}]
    reader = FakeReader({ENDPOINT: {"vector_dbs": items, "total": 3}})
    everything = await vector_databases.fetch(reader)
    assert [r.vector_database_id for r in everything] == ["a", "b", "c"]
    selected = await vector_databases.COLLECTOR.collect(reader, PollContext(
        selection=Selection(tags=("prod",), name=re.compile("rag.*"), regions=("tor1",))))
    assert [r.vector_database_id for r in selected] == ["b"]


async def test_a_403_disables_only_this_collector_and_names_its_scope(tmp_path: Path) -> None:
    refused = await poll_without(vector_databases.COLLECTOR, "database:read",
                                 FleetSpec(seed=3, droplets=24, vector_databases=1), tmp_path)
    assert_disabled_naming(refused, vector_databases.COLLECTOR)


async def test_docstring_lines_name_real_families_and_labels() -> None:
    records = await vector_databases.fetch(FakeReader({ENDPOINT: {"vector_dbs": [{
        "id": "...", "name": "docs-search", "region": "tor1", "size": "small",
        "status": "active", "project_id": "...", "config": {"weaviate_version": "1.30.0"},
    }], "total": 1}}))
    rendered = b"".join(encode_collector("production", vector_databases.COLLECTOR,
                                         records).values()).decode()
    documented = [line.strip() for line in (vector_databases.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_families_follow_the_naming_rules() -> None:
    c = vector_databases.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "vector_databases", "database:read", 300.0, (ENDPOINT,), ENDPOINT, "vector_database_id")
    for family in c.families:
        assert family.name.startswith("digitalocean_vector_database_")
        assert family.help.endswith(f", polled from {ENDPOINT}.")
        assert '"' not in family.help
        assert "\\" not in family.help
