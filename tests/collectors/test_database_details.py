"""Database details against the official examples: replicas, backups and events as exact
series, three requests per cluster from the `databases` collector's data
(never the list again), no credential kept, a deleted cluster left out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import database_details, databases
from exporter.collectors.base import PollContext
from exporter.collectors.fields import GIB, ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader, InTurn
from tests.collectors.test_databases import secret_strings
from tests.conftest import full_spec, spec_example

DB = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
REPLICAS = "/v2/databases/{database_cluster_uuid}/replicas"
BACKUPS = "/v2/databases/{database_cluster_uuid}/backups"
EVENTS = "/v2/databases/{database_cluster_uuid}/events"


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def examples() -> dict[str, Any]:
    """The official example answers of the three endpoints, as routes of a FakeReader."""
    return {route: spec_example(route) for route in (REPLICAS, BACKUPS, EVENTS)}


def example_clusters() -> tuple[databases.DatabaseRecord, ...]:
    """What the `databases` collector makes of its official example: this collector's input."""
    return databases.parse_databases(spec_example("/v2/databases"))


def context(clusters: tuple[databases.DatabaseRecord, ...]) -> PollContext:
    return PollContext(inputs={"databases": clusters})


def expected_cluster_series() -> list[tuple[str, tuple[str, ...], float]]:
    """The cluster series the official examples mean, written out from the examples' values."""
    key = (DB,)
    replica = (DB, "read-nyc3-01")
    return [
        # the replica example: name, region, status online, created 2019-01-11T18:37:36Z; no size
        ("digitalocean_database_replica_info", (*replica, "nyc3", ""), 1),
        ("digitalocean_database_replica_status", (*replica, "creating"), 0),
        ("digitalocean_database_replica_status", (*replica, "online"), 1),
        ("digitalocean_database_replica_status", (*replica, "resizing"), 0),
        ("digitalocean_database_replica_status", (*replica, "migrating"), 0),
        ("digitalocean_database_replica_status", (*replica, "forking"), 0),
        ("digitalocean_database_replica_created_timestamp_seconds", replica, 1547231856.0),
        ("digitalocean_database_replicas", key, 1),
        # two backups; the newer one 2019-01-12T18:42:29Z of 0.03364864 GiB; daily; 36 % done
        ("digitalocean_database_backups", key, 2),
        ("digitalocean_database_last_backup_timestamp_seconds", key, 1547318549.0),
        ("digitalocean_database_last_backup_size_bytes", key, 0.03364864 * 2**30),
        ("digitalocean_database_backup_interval_seconds", key, 86400),
        ("digitalocean_database_backup_progress_ratio", key, 0.36),
        # one cluster_create (2020-10-29T15:57:38Z), one cluster_update (2023-10-30T15:57:38Z)
        ("digitalocean_database_events", (*key, "cluster_create"), 1),
        ("digitalocean_database_last_event_timestamp_seconds", (*key, "cluster_create"), 1603987058.0),
        ("digitalocean_database_events", (*key, "cluster_update"), 1),
        ("digitalocean_database_last_event_timestamp_seconds", (*key, "cluster_update"), 1698681458.0),
    ]


async def test_the_official_examples_into_exact_series() -> None:
    reader = FakeReader(examples())
    data = await database_details.COLLECTOR.collect(reader, context(example_clusters()))
    assert list(database_details.samples(data)) == expected_cluster_series()


async def test_three_requests_per_cluster_and_never_the_list() -> None:
    reader = FakeReader(examples())
    await database_details.COLLECTOR.collect(reader, context(example_clusters()))
    assert sorted((r.method, r.route) for r in reader.requests) == sorted([
        ("get_or_none", f"/v2/databases/{DB}/replicas"),
        ("get_or_none", f"/v2/databases/{DB}/backups"),
        ("get_or_none", f"/v2/databases/{DB}/events"),
    ])


async def test_caching_and_valkey_clusters_are_not_asked_for_replicas_or_backups() -> None:
    clusters = databases.parse_databases({"databases": [
        {"id": "r", "engine": "redis"}, {"id": "v", "engine": "valkey"}, {"id": "p", "engine": "pg"},
    ]})
    reader = FakeReader(examples())
    data = await database_details.COLLECTOR.collect(reader, context(clusters))
    asked = sorted(r.route for r in reader.requests)
    assert database_details.COLLECTOR.requests_for is not None
    assert database_details.COLLECTOR.requests_for(context(clusters)) == len(asked) == 5
    assert asked == ["/v2/databases/p/backups", "/v2/databases/p/events", "/v2/databases/p/replicas",
                     "/v2/databases/r/events", "/v2/databases/v/events"]
    names = {(name, labels[0]) for name, labels, _ in database_details.samples(data)}
    assert ("digitalocean_database_replicas", "r") not in names  # unknown, not zero
    assert ("digitalocean_database_backups", "v") not in names
    assert ("digitalocean_database_events", "r") in names


async def test_without_inputs_nothing_is_asked() -> None:
    """Before the `databases` collector has data there are no clusters to ask about."""
    reader = FakeReader(examples())
    assert await database_details.COLLECTOR.fetch(reader) == ()
    assert reader.requests == []


async def test_no_credential_reaches_a_record_a_label_or_the_exposition() -> None:
    answers = examples()
    replicas = answers[REPLICAS]["replicas"]
    replicas[0]["connection"]["uri"] = "postgres://doadmin:pubS3cretPw@read.db.example:25060/db"
    secrets = set().union(*(secret_strings(r.get(k)) for r in replicas
                            for k in ("connection", "private_connection")))
    # the test proves nothing unless the answer holds passwords and URIs to leak
    assert "wv78n3zpz42xezdk" in secrets
    assert any(s.startswith("postgres://") and "pubS3cretPw" in s for s in secrets)
    data = await database_details.COLLECTOR.collect(FakeReader(answers), context(example_clusters()))
    rendered = b"".join(encode_collector("production", database_details.COLLECTOR, data).values())
    for secret in secrets | {"pubS3cretPw"}:
        assert secret not in repr(data)
        assert secret.encode() not in rendered
    assert not set(database_details.ReplicaRecord.__slots__) & {
        "connection", "private_connection", "password", "uri", "user", "host"}


async def test_a_cluster_deleted_since_the_list_is_left_out_once_the_list_agrees() -> None:
    clusters = databases.parse_databases({"databases": [{"id": "gone"}, {"id": "kept"}]})
    reader = FakeReader({
        **examples(),
        "/v2/databases/gone/replicas": 404,
        "/v2/databases": {"databases": [{"id": "kept"}]},
    })
    data = await database_details.COLLECTOR.collect(reader, context(clusters))
    assert [d.database_id for d in data] == ["kept"]
    # the gone cluster cost one request, and the list was read once to confirm the deletion
    assert [r.route for r in reader.requests].count("/v2/databases") == 1
    assert not [r for r in reader.requests if r.route.startswith("/v2/databases/gone/")
                and not r.route.endswith("/replicas")]


async def test_a_404_for_a_cluster_still_listed_fails_the_poll() -> None:
    clusters = databases.parse_databases({"databases": [{"id": "a"}]})
    reader = FakeReader({**examples(), "/v2/databases/a/events": 404,
                         "/v2/databases": {"databases": [{"id": "a"}]}})
    with pytest.raises(ShapeError) as caught:
        await database_details.COLLECTOR.collect(reader, context(clusters))
    assert str(caught.value) == (
        "/v2/databases/{database_cluster_uuid}/replicas (or /backups, /events): HTTP 404 for a, "
        "which /v2/databases still lists; nothing is dropped on a 404 that is not a deletion"
    )


async def test_other_errors_fail_the_poll() -> None:
    clusters = databases.parse_databases({"databases": [{"id": "a"}]})
    reader = FakeReader({**examples(), "/v2/databases/a/backups": InTurn(500)})
    with pytest.raises(ApiError) as caught:
        await database_details.COLLECTOR.collect(reader, context(clusters))
    assert caught.value.status == 500


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (REPLICAS, {"replicas": [{"region": "nyc3"}]},
         "/v2/databases/a/replicas replicas[0].name: expected a non-empty string, got null"),
        (BACKUPS, {"scheduled_backup_time": {}},
         "/v2/databases/a/backups backups: missing from the response"),
        (EVENTS, {"events": {"id": "x"}},
         "/v2/databases/a/events events: expected a list, got an object"),
    ],
)
async def test_shape_errors_name_the_cluster_and_place(route: str, body: Any, message: str) -> None:
    clusters = databases.parse_databases({"databases": [{"id": "a"}]})
    reader = FakeReader({**examples(), route: body})
    with pytest.raises(ShapeError) as caught:
        await database_details.COLLECTOR.collect(reader, context(clusters))
    assert str(caught.value) == message


def test_lenient_fields() -> None:
    where = "/v2/databases/a/backups"
    summary = database_details.parse_backups(
        {"backups": [{"created_at": None, "size_gigabytes": "big"}, {"created_at": "2020-01-01T00:00:00Z"}],
         "scheduled_backup_time": None, "backup_progress": "soon"}, where)
    assert summary == database_details.BackupSummary(2, at("2020-01-01T00:00:00Z"), None, None, None)
    assert database_details.parse_backups({"backups": None}, where).count == 0
    events = database_details.parse_events({"events": [{"event_type": None}, {}]}, "x")
    assert events == (database_details.EventTypeCount("unknown", 2, None),)
    [replica] = database_details.parse_replicas({"replicas": [{"name": "r", "status": "restoring"}]}, "x")
    details = database_details.DatabaseDetails("a", (replica,), None, ())
    states = {labels[2]: v for name, labels, v in database_details.samples(
        (details,)
    ) if name == "digitalocean_database_replica_status"}
    assert states["restoring"] == 1
    assert sum(states.values()) == 1


async def test_docstring_lines_are_real_exposition() -> None:
    data = await database_details.COLLECTOR.collect(FakeReader(examples()), context(example_clusters()))
    rendered = b"".join(encode_collector("production", database_details.COLLECTOR, data).values()).decode()
    documented = [line.strip() for line in (database_details.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_collector_contract() -> None:
    c = database_details.COLLECTOR
    assert (c.name, c.scope, c.interval, c.inputs) == ("database_details", "database:read", 1800.0,
                                                      ("databases",))
    paths = full_spec()["paths"]
    for endpoint in c.endpoints:
        assert paths[endpoint]["get"]["security"] == [{"bearer_auth": [c.scope]}], endpoint
        # none of them pages: the spec gives them no page or per_page parameter
        assert not {p["name"] for p in paths[endpoint]["get"].get("parameters", [])} & {"page", "per_page"}
    for family in c.families:
        assert family.name.startswith("digitalocean_database_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
        assert not family.name.endswith("_total")
    assert GIB == 2**30


def test_event_types_and_replica_states_are_the_spec_enums() -> None:
    paths = full_spec()["paths"]
    content = paths[EVENTS]["get"]["responses"]["200"]["content"]["application/json"]
    types = content["schema"]["properties"]["events"]["items"]["properties"]["event_type"]["enum"]
    assert "cluster_maintenance_perform" in types
    assert "cluster_master_promotion" in types
    content = paths[REPLICAS]["get"]["responses"]["200"]["content"]["application/json"]
    status = content["schema"]["properties"]["replicas"]["items"]["properties"]["status"]["enum"]
    assert tuple(status) == databases.STATUSES
