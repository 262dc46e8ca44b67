"""Database engine versions against the official /v2/databases/options example: every version
of `version_availability` with its dates, null dates left out, once for all accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from exporter.collectors import database_versions
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/databases/options"


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def expected_series() -> list[tuple[str, tuple[str, ...], float]]:
    """The series the official example means, read from it here: per engine (sorted) and
    version (sorted), its info, then each date it gives."""
    out: list[tuple[str, tuple[str, ...], float]] = []
    availability = spec_example(ENDPOINT)["version_availability"]
    for engine in sorted(availability):
        for item in sorted(availability[engine], key=lambda v: v["version"]):
            key = (engine, item["version"])
            out.append(("digitalocean_database_engine_version_info", key, 1))
            if item["end_of_life"]:
                out.append(("digitalocean_database_engine_version_end_of_life_timestamp_seconds",
                            key, at(item["end_of_life"])))
            if item["end_of_availability"]:
                out.append(("digitalocean_database_engine_version_end_of_availability_timestamp_seconds",
                            key, at(item["end_of_availability"])))
    return out


async def test_the_official_example_into_exact_series() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    versions = await database_versions.COLLECTOR.fetch(reader)
    got = list(database_versions.samples(versions))
    assert got == expected_series()
    assert [(r.method, r.route) for r in reader.requests] == [("get", ENDPOINT)]
    # the example's own words: PostgreSQL 13 is supported until 2025-11-13 and offered until
    # 2025-05-13; Kafka 3.8 has no end of life, only an end of availability
    assert ("digitalocean_database_engine_version_end_of_life_timestamp_seconds", ("pg", "13"),
            at("2025-11-13T00:00:00Z")) in got
    assert ("digitalocean_database_engine_version_end_of_availability_timestamp_seconds",
            ("pg", "13"), at("2025-05-13T00:00:00Z")) in got
    kafka = [name for name, key, _ in got if key == ("kafka", "3.8")]
    assert kafka == ["digitalocean_database_engine_version_info",
                     "digitalocean_database_engine_version_end_of_availability_timestamp_seconds"]


def test_the_catalogue_is_written_once_without_account() -> None:
    assert all(not f.per_account for f in database_versions.COLLECTOR.families)
    versions = database_versions.parse_versions({"version_availability": {"pg": [
        {"version": "16", "end_of_life": "2028-11-09T00:00:00Z", "end_of_availability": None}]}})
    rendered = b"".join(encode_collector("production", database_versions.COLLECTOR, versions).values())
    assert b'digitalocean_database_engine_version_info{engine="pg",version="16"} 1\n' in rendered
    assert b"account" not in rendered


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"options": {}}, "/v2/databases/options version_availability: missing from the response"),
        ({"version_availability": []},
         "/v2/databases/options version_availability: expected an object, got a list"),
        ({"version_availability": {"pg": [{"end_of_life": None}]}},
         "/v2/databases/options version_availability.pg[0].version: expected a non-empty string, got null"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        database_versions.parse_versions(body)
    assert str(caught.value) == message


def test_lenient_dates_and_an_engine_without_versions() -> None:
    versions = database_versions.parse_versions({"version_availability": {
        "pg": [{"version": "9", "end_of_life": "soon", "end_of_availability": 5}], "kafka": None}})
    assert versions == (database_versions.EngineVersion("pg", "9", None, None),)


async def test_docstring_lines_are_real_exposition() -> None:
    versions = await database_versions.COLLECTOR.fetch(FakeReader({ENDPOINT: spec_example(ENDPOINT)}))
    fragment = encode_collector("production", database_versions.COLLECTOR, versions)
    rendered = b"".join(fragment.values()).decode()
    documented = [line.strip() for line in (database_versions.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_collector_contract() -> None:
    c = database_versions.COLLECTOR
    assert (c.name, c.scope, c.interval, c.paged) == ("database_versions", "database:read", 21600.0,
                                                      None)
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert not operation.get("parameters")  # not paged
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    pg = schema["properties"]["version_availability"]["properties"]["pg"]["items"]["properties"]
    assert set(pg) >= {"version", "end_of_life", "end_of_availability"}
    for family in c.families:
        assert family.name.startswith("digitalocean_database_engine_version_")
        assert family.help.endswith(f", polled from {ENDPOINT}.")
