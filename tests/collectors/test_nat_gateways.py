"""VPC NAT gateways against the official list example: exact series, the VPCs served as relation
series, the state set, lenient fields, shape errors, and a 403 that disables only this
collector."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from exporter.collectors import nat_gateways
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.collectors.simulated_poll import assert_403_disables_only
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/vpc_nat_gateways"
GATEWAY = "70e1b58d-cdec-4e95-b3ee-2d4d95feff51"


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    records = await nat_gateways.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", ENDPOINT, "vpc_nat_gateways")
    ]
    key = (GATEWAY,)
    assert list(nat_gateways.samples(records)) == [
        ("digitalocean_nat_gateway_info", (*key, "test-vpc-nat-gateways", "tor1", "PUBLIC"), 1),
        ("digitalocean_nat_gateway_vpc_info",
         (*key, "0eb1752f-807b-4562-a077-8018e13ab1fb", "10.118.0.35"), 1),
        ("digitalocean_nat_gateway_status", (*key, "new"), 0),
        ("digitalocean_nat_gateway_status", (*key, "provisioning"), 0),
        ("digitalocean_nat_gateway_status", (*key, "active"), 1),
        ("digitalocean_nat_gateway_status", (*key, "deleting"), 0),
        ("digitalocean_nat_gateway_status", (*key, "error"), 0),
        ("digitalocean_nat_gateway_status", (*key, "invalid"), 0),
        ("digitalocean_nat_gateway_size_units", key, 1),
        ("digitalocean_nat_gateway_egress_ips", key, 1),
        ("digitalocean_nat_gateway_tcp_timeout_seconds", key, 30),
        ("digitalocean_nat_gateway_udp_timeout_seconds", key, 30),
        ("digitalocean_nat_gateway_icmp_timeout_seconds", key, 30),
        ("digitalocean_nat_gateway_created_timestamp_seconds", key, 1755024194.0),
    ]


def test_unknown_values_are_left_out_and_an_empty_egress_list_is_zero() -> None:
    records = nat_gateways.by_id(nat_gateways.parse_page([
        {"id": "b", "state": "ACTIVE", "size": "big", "vpcs": [{"vpc_uuid": None}, "x"],
         "egresses": {"public_gateways": []}, "tcp_timeout_seconds": None},
        {"id": "a", "egresses": None},
    ], 0))
    assert [r.nat_gateway_id for r in records] == ["a", "b"]
    values = {name: v for name, labels, v in nat_gateways.samples(records[1:])
              if not name.endswith(("_status", "_info"))}
    assert values == {"digitalocean_nat_gateway_egress_ips": 0}
    names = {name for name, _, _ in nat_gateways.samples(records[:1])}
    assert "digitalocean_nat_gateway_egress_ips" not in names  # unknown, not zero
    assert "digitalocean_nat_gateway_vpc_info" not in names


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "x"}],
         "/v2/vpc_nat_gateways vpc_nat_gateways[0].id: expected a non-empty string, got null"),
        ([{"id": 7}],
         "/v2/vpc_nat_gateways vpc_nat_gateways[0].id: expected a non-empty string, got the number 7"),
        ([{"id": "a"}, []], "/v2/vpc_nat_gateways vpc_nat_gateways[1]: expected an object, got a list"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        nat_gateways.parse_page(items, 0)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = nat_gateways.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "nat_gateways", "nat_gateway:read", 900.0, (ENDPOINT,), ENDPOINT, "nat_gateway_id")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}
    item = (operation["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][0]
            ["properties"]["vpc_nat_gateways"]["items"]["properties"])
    assert tuple(item["state"]["enum"]) == nat_gateways.STATES
    for family in c.families:
        assert family.name.startswith("digitalocean_nat_gateway_")
        assert family.help.endswith(", polled from /v2/vpc_nat_gateways."), family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(nat_gateways.samples(tuple(nat_gateways.parse_page(
        spec_example(ENDPOINT)["vpc_nat_gateways"], 0))))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_403_disables_only_this_collector(log_stream: io.StringIO) -> None:
    await assert_403_disables_only(nat_gateways.COLLECTOR, log_stream)


async def test_the_filter_keeps_what_it_names() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    c = nat_gateways.COLLECTOR
    assert c.filters == ("region", "name", "id")
    assert [r.nat_gateway_id for r in await c.collect(
        reader, PollContext(selection=Selection(regions=("tor1",))))] == [GATEWAY]
    assert await c.collect(reader, PollContext(selection=Selection(regions=("nyc3",)))) == ()
    assert await c.collect(reader, PollContext(selection=Selection(
        regions=("tor1",), name=re.compile("prod-.*")))) == ()
