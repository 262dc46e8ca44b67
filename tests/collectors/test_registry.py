"""Container registry against the schema examples (the spec has no 200 example): storage,
subscription tier and price; 404 means no registry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import registry
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import schema_example, spec


def registry_body() -> dict[str, Any]:
    # the `registry` schema is registry_base plus a read-only `subscription`
    return {"registry": {**schema_example("registry_base"), "subscription": schema_example("subscription")}}


def subscription_body() -> dict[str, Any]:
    return {"subscription": schema_example("subscription")}


async def test_values_from_the_schema_examples() -> None:
    reader = FakeReader({
        "/v2/registry": registry_body(),
        "/v2/registry/subscription": subscription_body(),
    })
    records = await registry.fetch(reader)
    assert records == (registry.RegistryRecord(
        registry="example",
        region="fra1",
        storage_usage_bytes=29393920,
        storage_usage_updated_at=1604525989.530562,  # nanoseconds in the API, microseconds here
        created_at=1584806557.0,
        subscription=registry.SubscriptionRecord("basic", 5368709120, 5, Decimal("5")),
    ),)
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
    assert [(r.method, r.endpoint) for r in reader.requests] == [
        ("get_or_none", "/v2/registry"), ("get_or_none", "/v2/registry/subscription"),
    ]


async def test_no_registry_is_an_empty_result_and_the_subscription_is_not_asked() -> None:
    reader = FakeReader({"/v2/registry": 404})
    assert await registry.fetch(reader) == ()
    assert [(r.method, r.endpoint) for r in reader.requests] == [("get_or_none", "/v2/registry")]


async def test_registry_without_subscription() -> None:
    reader = FakeReader({
        "/v2/registry": registry_body(),
        "/v2/registry/subscription": 404,
    })
    [record] = await registry.fetch(reader)
    assert record.subscription is None
    names = [n for n, _, _ in registry.samples((record,))]
    assert not [n for n in names if "subscription" in n]


@pytest.mark.parametrize("status", [412, 500])
async def test_other_errors_fail_the_poll(status: int) -> None:
    # 412: more than one registry in the account, which this endpoint cannot describe
    error = ApiError(f"/v2/registry: HTTP {status}", endpoint="/v2/registry", status=status)
    reader = FakeReader({"/v2/registry": error})
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
    record = registry.parse_registry({"registry": {"name": "r", "region": None,
                                                   "storage_usage_bytes": "12", "created_at": None}})
    assert record == registry.RegistryRecord("r", "", None, None, None, None)
    assert list(registry.samples((record,))) == [("digitalocean_registry_info", ("r", ""), 1)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "/v2/registry registry: expected an object, got null"),
        ({"registry": []}, "/v2/registry registry: expected an object, got a list"),
        ({"registry": {"region": "fra1"}},
         "/v2/registry registry.name: expected a non-empty string, got null"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        registry.parse_registry(body)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = registry.COLLECTOR
    assert (c.name, c.scope, c.interval) == ("registry", "registry:read", 3600.0)
    for endpoint in c.endpoints:
        assert spec()["paths"][endpoint]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_registry_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    record = registry.RegistryRecord("r", "nyc3", 1, 2.0, 3.0,
                                     registry.SubscriptionRecord("basic", 4, 5, Decimal("6")))
    emitted = list(registry.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
