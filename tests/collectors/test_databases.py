"""Databases against the official example: exact values, storage in bytes, and no credential
ever kept, whatever the token may see."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import databases
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, spec, spec_example

ENDPOINT = "/v2/databases"
DB = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
PASSWORD = "wv78n3zpz42xezdk"
SECRET_KEYS = ("connection", "private_connection", "standby_connection", "standby_private_connection",
               "ui_connection", "schema_registry_connection", "users")


def example_body() -> Any:
    return spec_example(ENDPOINT)


def with_every_credential(body: Any) -> Any:
    """The official example plus the standby and other connection blocks a
    database:view_credentials token would also receive."""
    [cluster] = body["databases"]
    standby = {
        "uri": "postgres://doadmin:st4ndbyS3cret@replica-backend.db.ondigitalocean.com:25060/defaultdb",
        "database": "defaultdb", "host": "replica-backend.db.ondigitalocean.com", "port": 25060,
        "user": "doadmin", "password": "st4ndbyS3cret", "ssl": True,
    }
    cluster["standby_connection"] = standby
    cluster["standby_private_connection"] = {**standby, "host": "private-replica-backend.db.example"}
    cluster["ui_connection"] = {"uri": "https://admin:uiS3cretPw@ui.backend.db.example", "host": "ui.db",
                                "port": 443, "user": "admin", "password": "uiS3cretPw", "ssl": True}
    cluster["users"].append({"name": "app", "role": "normal", "password": "appUs3rPw",
                             "mysql_settings": {"auth_plugin": "caching_sha2_password"}})
    return body


def secret_strings(value: object) -> set[str]:
    """Every string inside a credential-bearing block, except ones too short or too generic to
    identify a secret (empty, booleans rendered as text)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= secret_strings(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_strings(item)
    elif isinstance(value, str) and len(value) >= 6:
        found.add(value)
    return found


def fetch_example(body: Any) -> Any:
    return databases.fetch(FakeReader({ENDPOINT: body}))


async def test_fetch_makes_one_unpaged_request() -> None:
    reader = FakeReader({ENDPOINT: example_body()})
    records = await databases.fetch(reader)
    # the list is not paged: a call to list_all (which pages) would be a mistake here
    assert [(r.method, r.endpoint, r.params) for r in reader.requests] == [("get", ENDPOINT, {})]
    assert [r.database_id for r in records] == [DB]


async def test_values_from_the_official_example() -> None:
    records = await fetch_example(example_body())
    key = (DB,)
    assert list(databases.samples(records)) == [
        ("digitalocean_database_info",
         (*key, "backend", "pg", "10", "nyc3", "db-s-2vcpu-4gb", "",
          "d455e75d-4858-4eec-8c95-da2f0a5f93a7"), 1),
        ("digitalocean_database_status", (*key, "creating"), 0),
        ("digitalocean_database_status", (*key, "online"), 1),
        ("digitalocean_database_status", (*key, "resizing"), 0),
        ("digitalocean_database_status", (*key, "migrating"), 0),
        ("digitalocean_database_status", (*key, "forking"), 0),
        ("digitalocean_database_nodes", key, 1),
        ("digitalocean_database_storage_bytes", key, 61440 * 1048576),
        ("digitalocean_database_created_timestamp_seconds", key, 1547231856.0),
        ("digitalocean_database_version_end_of_life_timestamp_seconds", key, 1699488000.0),
        ("digitalocean_database_maintenance_window_info", (*key, "saturday", "08:45:12"), 1),
        ("digitalocean_database_maintenance_pending", key, 1),
    ]
    assert 61440 * 1048576 == 64424509440


async def test_no_credential_reaches_a_record_or_a_label() -> None:
    body = with_every_credential(example_body())
    [cluster] = body["databases"]
    secrets = set().union(*(secret_strings(cluster.get(k)) for k in SECRET_KEYS))
    # The test would prove nothing if the body held no credentials to leak.
    assert {PASSWORD, "st4ndbyS3cret", "uiS3cretPw", "appUs3rPw"} <= secrets
    assert any(s.startswith("postgres://") for s in secrets)

    records = await fetch_example(body)
    text = repr(records)
    labels = [label for _, values, _ in databases.samples(records) for label in values]
    for secret in secrets:
        assert secret not in text
        assert not any(secret in label for label in labels)
    fragment = encode_collector("production", databases.COLLECTOR, records)
    rendered = b"".join(fragment.values()).decode()
    assert PASSWORD not in rendered
    assert "postgres://" not in rendered


def test_the_record_type_has_no_place_for_credentials() -> None:
    names = set(databases.DatabaseRecord.__slots__)
    assert not names & {"connection", "private_connection", "users", "password", "uri", "host", "user"}


async def test_null_list_means_no_databases() -> None:
    assert await fetch_example({"databases": None}) == ()
    assert await fetch_example({"databases": []}) == ()


def test_a_body_without_the_list_is_a_shape_error_not_an_empty_account() -> None:
    with pytest.raises(ShapeError) as caught:
        databases.parse_databases({"id": "not_found", "message": "proxy page"})
    assert str(caught.value) == "/v2/databases databases: missing from the response"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"databases": [{"name": "no id"}]},
         "/v2/databases databases[0].id: expected a non-empty string, got null"),
        ({"databases": [{"id": "a"}, {"id": 9}]},
         "/v2/databases databases[1].id: expected a non-empty string, got the number 9"),
        ({"databases": {"id": "a"}}, "/v2/databases databases: expected a list, got an object"),
        ({"databases": ["a"]}, "/v2/databases databases[0]: expected an object, got the string 'a'"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        databases.parse_databases(body)
    assert str(caught.value) == message


def test_missing_and_null_fields_are_tolerated() -> None:
    [record] = databases.parse_databases({"databases": [
        {"id": "d", "num_nodes": None, "storage_size_mib": None, "version_end_of_life": None,
         "project_id": None, "created_at": "", "status": None},
    ]})
    assert list(databases.samples((record,))) == [
        ("digitalocean_database_info", ("d", "", "", "", "", "", "", ""), 1),
        *(("digitalocean_database_status", ("d", s), 0) for s in databases.STATUSES),
        ("digitalocean_database_status", ("d", "unknown"), 1),
    ]


def test_metrics_endpoints_and_tags_are_kept_leniently() -> None:
    """For /sd/databases: (host, port) pairs of the spec's metrics_endpoints, bad ones skipped."""
    endpoints = [{"host": "backend-do-user-19081923-0.db.ondigitalocean.com", "port": 9273},
                 {"host": "standby.db.ondigitalocean.com", "port": 9273},
                 {"host": "", "port": 9273}, {"host": "h", "port": 0}, {"host": "h", "port": "1"},
                 {"port": 9273}, None, "x"]
    [record] = databases.parse_databases({"databases": [
        {"id": "d", "metrics_endpoints": endpoints, "tags": ["production", 3]}]})
    assert record.metrics_endpoints == (
        ("backend-do-user-19081923-0.db.ondigitalocean.com", 9273),
        ("standby.db.ondigitalocean.com", 9273))
    assert record.tags == ("production",)
    [bare] = databases.parse_databases({"databases": [{"id": "d", "metrics_endpoints": None}]})
    assert (bare.metrics_endpoints, bare.tags) == ((), ())


def test_the_spec_describes_the_maintenance_window_that_is_read() -> None:
    """The full description's schema of the list's items: day and hour strings, pending a
    boolean, the window nullable."""
    content = full_spec()["paths"][ENDPOINT]["get"]["responses"]["200"]["content"]
    item = content["application/json"]["schema"]["properties"]["databases"]["items"]
    [window, _] = item["properties"]["maintenance_window"]["allOf"]
    assert window["nullable"] is True
    assert {k: window["properties"][k]["type"] for k in ("day", "hour", "pending")} == {
        "day": "string", "hour": "string", "pending": "boolean"}


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (None, []),
        ("tuesday", []),
        ({}, []),
        ({"day": "tuesday", "hour": "14:00", "pending": False},
         [("digitalocean_database_maintenance_window_info", ("d", "tuesday", "14:00"), 1),
          ("digitalocean_database_maintenance_pending", ("d",), 0)]),
        ({"day": "monday", "hour": 14, "pending": "yes"},
         [("digitalocean_database_maintenance_window_info", ("d", "monday", ""), 1)]),
        ({"day": None, "hour": None, "pending": True},
         [("digitalocean_database_maintenance_pending", ("d",), 1)]),
    ],
)
def test_the_maintenance_window_is_read_leniently(window: object,
                                                   expected: list[Any]) -> None:
    [record] = databases.parse_databases({"databases": [{"id": "d", "maintenance_window": window}]})
    got = [s for s in databases.samples((record,)) if "maintenance" in s[0]]
    assert got == expected


def test_project_id_is_on_the_info_series_when_sent() -> None:
    [record] = databases.parse_databases({"databases": [{"id": "d", "project_id": "p-1"}]})
    [info] = [labels for name, labels, _ in databases.samples((record,))
              if name == "digitalocean_database_info"]
    assert info[databases.INFO.labels.index("project_id")] == "p-1"


def test_unknown_status_is_visible_in_the_state_set() -> None:
    [record] = databases.parse_databases({"databases": [{"id": "d", "status": "restoring"}]})
    status = {labels[1]: v for name, labels, v in databases.samples((record,))
              if name == "digitalocean_database_status"}
    assert status == {"creating": 0, "online": 0, "resizing": 0, "migrating": 0, "forking": 0,
                      "restoring": 1}


def test_clusters_are_sorted_by_id() -> None:
    records = databases.parse_databases({"databases": [{"id": "b"}, {"id": "a"}, {"id": "c"}]})
    assert [r.database_id for r in records] == ["a", "b", "c"]


async def test_docstring_lines_are_real_exposition() -> None:
    records = await fetch_example(example_body())
    fragment = encode_collector("production", databases.COLLECTOR, records)
    rendered = b"".join(fragment.values()).decode()
    documented = [line.strip() for line in (databases.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_families_follow_the_naming_rules() -> None:
    for family in databases.COLLECTOR.families:
        assert family.name.startswith("digitalocean_database_")
        assert family.help.endswith(f", polled from {ENDPOINT}.")
        assert '"' not in family.help
        assert "\\" not in family.help
        assert not family.name.endswith("_total")
    assert (databases.COLLECTOR.scope, databases.COLLECTOR.interval) == ("database:read", 60.0)


def test_known_statuses_are_the_spec_enum_in_order() -> None:
    status = spec()["components"]["schemas"]["database_cluster_read"]["properties"]["status"]
    assert tuple(status["enum"]) == databases.STATUSES
