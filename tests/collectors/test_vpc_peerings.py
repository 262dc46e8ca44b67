"""VPC peerings against the official list example: the two VPCs as relation series, the state
set, lenient descriptive fields, shape errors, and a 403 that disables only this collector."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from exporter.collectors import vpc_peerings
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.collectors.simulated_poll import assert_403_disables_only
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/vpc_peerings"
FIRST = "6b5c619c-359c-44ca-87e2-47e98170c01d"
SECOND = "c212b274-911c-44cc-a117-23b7da4a2922"


def peering_samples(peering_id: str, name: str, vpcs: tuple[str, str], created: float) -> list[Any]:
    key = (peering_id,)
    return [
        ("digitalocean_vpc_peering_info", (*key, name), 1),
        ("digitalocean_vpc_peering_vpc_info", (*key, vpcs[0]), 1),
        ("digitalocean_vpc_peering_vpc_info", (*key, vpcs[1]), 1),
        ("digitalocean_vpc_peering_status", (*key, "provisioning"), 0),
        ("digitalocean_vpc_peering_status", (*key, "active"), 1),
        ("digitalocean_vpc_peering_status", (*key, "deleting"), 0),
        ("digitalocean_vpc_peering_created_timestamp_seconds", key, created),
    ]


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    records = await vpc_peerings.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", ENDPOINT, "vpc_peerings")
    ]
    assert list(vpc_peerings.samples(records)) == [
        *peering_samples(FIRST, "example-vpc-peering",
                         ("997615ce-132d-4bae-9270-9ee21b395e5d",
                          "e51aed59-3bb1-4a6a-8de0-9d1329e9c997"), 1704833072.0),
        *peering_samples(SECOND, "another-vpc-peering",
                         ("5a100736-b085-4f69-81fd-feee325784bb",
                          "c140286f-e6ce-4131-8b7b-df4590ce8d6a"), 1704893398.0),
    ]


def test_lenient_fields_and_an_unknown_state() -> None:
    records = vpc_peerings.by_id(vpc_peerings.parse_page([
        {"id": "b", "name": None, "vpc_ids": ["v2", None, "v1", "v1"], "status": "REJECTED",
         "created_at": "yesterday"},
        {"id": "a"},
    ], 0))
    assert [r.vpc_peering_id for r in records] == ["a", "b"]
    assert list(vpc_peerings.samples(records[1:])) == [
        ("digitalocean_vpc_peering_info", ("b", ""), 1),
        ("digitalocean_vpc_peering_vpc_info", ("b", "v1"), 1),
        ("digitalocean_vpc_peering_vpc_info", ("b", "v2"), 1),
        ("digitalocean_vpc_peering_status", ("b", "provisioning"), 0),
        ("digitalocean_vpc_peering_status", ("b", "active"), 0),
        ("digitalocean_vpc_peering_status", ("b", "deleting"), 0),
        ("digitalocean_vpc_peering_status", ("b", "rejected"), 1),  # shown, not hidden
    ]
    statuses = [labels[1] for name, labels, v in vpc_peerings.samples(records[:1]) if v == 1
                and name == "digitalocean_vpc_peering_status"]
    assert statuses == ["unknown"]


@pytest.mark.parametrize(
    ("items", "start", "message"),
    [
        ([{"name": "x"}], 0, "/v2/vpc_peerings vpc_peerings[0].id: expected a non-empty string, got null"),
        ([{"id": "a"}, None], 200, "/v2/vpc_peerings vpc_peerings[201]: expected an object, got null"),
    ],
)
def test_shape_errors_name_the_place(items: Any, start: int, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        vpc_peerings.parse_page(items, start)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = vpc_peerings.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "vpc_peerings", "vpc_peering:read", 900.0, (ENDPOINT,), ENDPOINT, "vpc_peering_id")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}  # it pages
    enum = (operation["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][0]
            ["properties"]["vpc_peerings"]["items"]["allOf"][0]["properties"]["status"]["enum"])
    assert tuple(enum) == vpc_peerings.STATUSES
    for family in c.families:
        assert family.name.startswith("digitalocean_vpc_peering_")
        assert family.help.endswith(", polled from /v2/vpc_peerings."), family.help
    labels = {f.name: len(f.labels) for f in c.families}
    records = vpc_peerings.parse_page(spec_example(ENDPOINT)["vpc_peerings"], 0)
    emitted = list(vpc_peerings.samples(tuple(records)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_403_disables_only_this_collector(log_stream: io.StringIO) -> None:
    await assert_403_disables_only(vpc_peerings.COLLECTOR, log_stream)


async def test_the_filter_keeps_what_it_names() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    c = vpc_peerings.COLLECTOR
    assert c.filters == ("name", "id")
    kept = await c.collect(reader, PollContext(selection=Selection(name=re.compile("another-.*"))))
    assert [r.vpc_peering_id for r in kept] == [SECOND]
    kept = await c.collect(reader, PollContext(selection=Selection(ids=(FIRST,))))
    assert [r.vpc_peering_id for r in kept] == [FIRST]
    assert len(await c.collect(reader, PollContext())) == 2
