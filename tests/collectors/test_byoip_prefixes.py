"""BYOIP prefixes against the official list example: exact series, advertised and locked as 0/1,
states outside the example's shown as they come, shape errors, and a 403 that disables only
this collector."""

from __future__ import annotations

import io
from typing import Any

import pytest

from exporter.collectors import byoip_prefixes
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.collectors.simulated_poll import assert_403_disables_only
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/byoip_prefixes"
ACTIVE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
PENDING = "123e4567-e89b-12d3-a456-426614174001"


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    records = await byoip_prefixes.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", ENDPOINT, "byoip_prefixes")
    ]
    assert list(byoip_prefixes.samples(records)) == [
        ("digitalocean_byoip_prefix_info", (PENDING, "", "sfo2", "203.1.113.0/24"), 1),
        ("digitalocean_byoip_prefix_status", (PENDING, "active"), 0),
        ("digitalocean_byoip_prefix_status", (PENDING, "in_progress"), 1),
        ("digitalocean_byoip_prefix_advertised", (PENDING,), 0),
        ("digitalocean_byoip_prefix_locked", (PENDING,), 0),
        ("digitalocean_byoip_prefix_info", (ACTIVE, "", "nyc3", "203.0.113.0/24"), 1),
        ("digitalocean_byoip_prefix_status", (ACTIVE, "active"), 1),
        ("digitalocean_byoip_prefix_status", (ACTIVE, "in_progress"), 0),
        ("digitalocean_byoip_prefix_advertised", (ACTIVE,), 1),
        ("digitalocean_byoip_prefix_locked", (ACTIVE,), 0),
    ]


def test_unknown_flags_are_left_out_and_a_new_state_is_shown() -> None:
    [record] = byoip_prefixes.parse_page([
        {"uuid": "p", "status": "FAILED", "advertised": "yes", "locked": None, "prefix": 24,
         "failure_reason": "signature hash did not match"},
    ], 0)
    assert list(byoip_prefixes.samples((record,))) == [
        ("digitalocean_byoip_prefix_info", ("p", "", "", ""), 1),
        ("digitalocean_byoip_prefix_status", ("p", "active"), 0),
        ("digitalocean_byoip_prefix_status", ("p", "in_progress"), 0),
        ("digitalocean_byoip_prefix_status", ("p", "failed"), 1),
    ]
    assert "signature" not in repr(record)  # free text is never kept


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"id": "not-the-key"}],
         "/v2/byoip_prefixes byoip_prefixes[0].uuid: expected a non-empty string, got null"),
        ([{"uuid": ""}],
         "/v2/byoip_prefixes byoip_prefixes[0].uuid: expected a non-empty string, got the string ''"),
        ({"uuid": "a"}, "/v2/byoip_prefixes byoip_prefixes: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        byoip_prefixes.parse_page(items, 0)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = byoip_prefixes.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "byoip_prefixes", "byoip_prefix:read", 900.0, (ENDPOINT,), ENDPOINT, "byoip_prefix_id")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}
    # the spec gives no enum: the states listed are exactly those of its example
    assert {p["status"] for p in spec_example(ENDPOINT)["byoip_prefixes"]} == set(byoip_prefixes.STATUSES)
    for family in c.families:
        assert family.name.startswith("digitalocean_byoip_prefix_")
        assert family.help.endswith(", polled from /v2/byoip_prefixes."), family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(byoip_prefixes.samples(tuple(byoip_prefixes.parse_page(
        spec_example(ENDPOINT)["byoip_prefixes"], 0))))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_403_disables_only_this_collector(log_stream: io.StringIO) -> None:
    await assert_403_disables_only(byoip_prefixes.COLLECTOR, log_stream)


async def test_the_filter_keeps_what_it_names() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    c = byoip_prefixes.COLLECTOR
    assert c.filters == ("region", "name", "id")
    kept = await c.collect(reader, PollContext(selection=Selection(regions=("sfo2",))))
    assert [r.byoip_prefix_id for r in kept] == [PENDING]
    kept = await c.collect(reader, PollContext(selection=Selection(ids=(ACTIVE, "other"))))
    assert [r.byoip_prefix_id for r in kept] == [ACTIVE]
