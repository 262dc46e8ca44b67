"""Container registries against the schema examples (the spec has no 200 example): every
registry of `/v2/registries` with its storage, subscription tier and price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import registry
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, schema_example


def registry_object(name: str = "example") -> dict[str, Any]:
    # each registry is registry_base plus a read-only `subscription`
    return {**schema_example("registry_base"), "name": name, "subscription": schema_example("subscription")}


EXAMPLE = registry.RegistryRecord(
    registry="example",
    region="fra1",
    storage_usage_bytes=29393920,
    storage_usage_updated_at=1604525989.530562,  # nanoseconds in the API, microseconds here
    created_at=1584806557.0,
    subscription=registry.SubscriptionRecord("basic", 5368709120, 5, Decimal("5")),
)


async def test_values_from_the_schema_examples() -> None:
    reader = FakeReader({"/v2/registries": {"registries": [registry_object()]}})
    records = await registry.fetch(reader)
    assert records == (EXAMPLE,)
    assert list(registry.samples(records)) == [
        ("digitalocean_registry_info", ("example", "fra1"), 1),
        ("digitalocean_registry_storage_usage_bytes", ("example",), 29393920),
        ("digitalocean_registry_storage_usage_updated_timestamp_seconds", ("example",), 1604525989.530562),
        ("digitalocean_registry_created_timestamp_seconds", ("example",), 1584806557.0),
        ("digitalocean_registry_subscription_info", ("example", "basic"), 1),
        ("digitalocean_registry_subscription_included_storage_bytes", ("example",), 5368709120),
        ("digitalocean_registry_subscription_included_repositories", ("example",), 5),
        ("digitalocean_registry_subscription_price_monthly_usd", ("example",), 5.0),
    ]
    # one request, without paging parameters: the spec declares none for this list
    assert [(r.method, r.route) for r in reader.requests] == [("get", "/v2/registries")]


async def test_a_two_registry_account_has_both_registries() -> None:
    reader = FakeReader({"/v2/registries": {"registries": [
        registry_object("images"), {**registry_object("builds"), "region": "sfo3"},
    ]}})
    records = await registry.fetch(reader)
    assert [(r.registry, r.region) for r in records] == [("images", "fra1"), ("builds", "sfo3")]
    info = [values for name, values, _ in registry.samples(records) if name == "digitalocean_registry_info"]
    assert info == [("images", "fra1"), ("builds", "sfo3")]


async def test_no_registry_is_an_empty_result() -> None:
    reader = FakeReader({"/v2/registries": {"registries": []}})
    assert await registry.fetch(reader) == ()


async def test_registry_without_subscription() -> None:
    body = {"registries": [{**registry_object(), "subscription": None}]}
    [record] = await registry.fetch(FakeReader({"/v2/registries": body}))
    assert record.subscription is None
    names = [n for n, _, _ in registry.samples((record,))]
    assert not [n for n in names if "subscription" in n]


@pytest.mark.parametrize("status", [404, 500])
async def test_errors_fail_the_poll(status: int) -> None:
    error = ApiError(f"/v2/registries: HTTP {status}", endpoint="/v2/registries", status=status)
    reader = FakeReader({"/v2/registries": error})
    with pytest.raises(ApiError) as caught:
        await registry.fetch(reader)
    assert caught.value is error


def test_cents_become_exact_dollars() -> None:
    subscription = registry.parse_subscription({"subscription": {"tier": {
        "slug": "professional", "monthly_price_in_cents": 2001}}})
    assert subscription == registry.SubscriptionRecord("professional", None, None, Decimal("20.01"))
    record = registry.RegistryRecord("r", "", None, None, None, subscription)
    assert list(registry.samples((record,)))[-1] == (
        "digitalocean_registry_subscription_price_monthly_usd", ("r",), 20.01
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, None),
        ({"subscription": None}, None),
        ({"subscription": "basic"}, None),
        ({"subscription": {"tier": None}}, registry.SubscriptionRecord("", None, None, None)),
        ({"subscription": {"tier": {"slug": "basic", "monthly_price_in_cents": "500"}}},
         registry.SubscriptionRecord("basic", None, None, None)),
    ],
)
def test_lenient_subscription(body: dict[str, Any], expected: registry.SubscriptionRecord | None) -> None:
    assert registry.parse_subscription(body) == expected


def test_missing_descriptive_fields_are_tolerated() -> None:
    [record] = registry.parse_registries({"registries": [
        {"name": "r", "region": None, "storage_usage_bytes": "12", "created_at": None}
    ]})
    assert record == registry.RegistryRecord("r", "", None, None, None, None)
    assert list(registry.samples((record,))) == [("digitalocean_registry_info", ("r", ""), 1)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "/v2/registries registries: expected a list, got null"),
        ({"registries": {}}, "/v2/registries registries: expected a list, got an object"),
        ({"registries": [None]}, "/v2/registries registries[0]: expected an object, got null"),
        ({"registries": [{"name": "a"}, {"region": "fra1"}]},
         "/v2/registries registries[1].name: expected a non-empty string, got null"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        registry.parse_registries(body)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = registry.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints) == (
        "registry", "registry:read", 3600.0, ("/v2/registries",))
    operation = full_spec()["paths"]["/v2/registries"]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert "parameters" not in operation  # so the collector sends none
    for family in c.families:
        assert family.name.startswith("digitalocean_registry_")
        assert family.help.endswith(", polled from /v2/registries."), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    record = registry.RegistryRecord("r", "nyc3", 1, 2.0, 3.0,
                                     registry.SubscriptionRecord("basic", 4, 5, Decimal("6")))
    emitted = list(registry.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
