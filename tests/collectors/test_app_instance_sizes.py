"""App instance sizes against the official example: prices as exact Decimals, the catalogue the
App Platform costs are priced from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exporter.collectors import app_instance_sizes
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/apps/tiers/instance_sizes"


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    records = await app_instance_sizes.fetch(reader)
    assert [(r.method, r.route) for r in reader.requests] == [("get", ENDPOINT)]  # no paging
    by_slug = {r.slug: r for r in records}
    assert len(by_slug) == 14
    assert by_slug["apps-d-2vcpu-8gb"] == app_instance_sizes.InstanceSizeRecord(
        slug="apps-d-2vcpu-8gb", name="Dedicated 2VCPU 8GB", tier="professional",
        cpu_type="DEDICATED", vcpus=2, memory_bytes=8589934592, price_monthly_usd=Decimal("98.00"),
    )
    samples = {(n, v): x for n, v, x in app_instance_sizes.samples(records)}
    assert samples[("digitalocean_app_instance_size_price_monthly_usd", ("apps-s-1vcpu-1gb-fixed",))] == 10.0
    assert samples[("digitalocean_app_instance_size_memory_bytes", ("apps-d-1vcpu-0.5gb",))] == 536870912
    assert samples[("digitalocean_app_instance_size_info",
                    ("apps-s-1vcpu-0.5gb", "Shared 1VCPU 0.5GB", "basic", "SHARED"))] == 1


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ({"slug": "x", "usd_per_month": "12.5", "cpus": 2, "memory_bytes": "1.5"},
         app_instance_sizes.InstanceSizeRecord("x", "", "", "", 2, None, Decimal("12.5"))),
        ({"slug": "x", "usd_per_month": "free", "cpus": True, "memory_bytes": None},
         app_instance_sizes.InstanceSizeRecord("x", "", "", "", None, None, None)),
        ({"slug": "x", "usd_per_month": "-1", "cpus": "NaN"},
         app_instance_sizes.InstanceSizeRecord("x", "", "", "", None, None, None)),
    ],
)
def test_unusable_numbers_are_unknown_not_zero(size: dict[str, Any],
                                               expected: app_instance_sizes.InstanceSizeRecord) -> None:
    [record] = app_instance_sizes.parse_instance_sizes({"instance_sizes": [size]})
    assert record == expected
    names = {n for n, _, _ in app_instance_sizes.samples((record,))}
    assert ("digitalocean_app_instance_size_price_monthly_usd" in names) == (
        expected.price_monthly_usd is not None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, f"{ENDPOINT} instance_sizes: expected a list, got null"),
        ({"instance_sizes": [{"name": "n"}]},
         f"{ENDPOINT} instance_sizes[0].slug: expected a non-empty string, got null"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        app_instance_sizes.parse_instance_sizes(body)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = app_instance_sizes.COLLECTOR
    assert (c.name, c.scope, c.endpoints, c.id_label) == (
        "app_instance_sizes", "app:read", (ENDPOINT,), "instance_size")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": ["app:read"]}]
    assert "parameters" not in operation
    record = app_instance_sizes.InstanceSizeRecord("s", "n", "t", "c", 1, 2, Decimal(3))
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(app_instance_sizes.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
    for family in c.families:
        assert family.help.endswith(f", polled from {ENDPOINT}.")
