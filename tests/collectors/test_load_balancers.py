"""Load balancers against the official example: status state set, nodes, backend counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import load_balancers
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import schema_example, spec, spec_example

NEW_LB = "4de7ac8b-495b-4884-9a69-1050c6793cd6"
ACTIVE_LB = "56775c3f-04ab-4fb3-a7ed-40ef9bc8eece"


def sample_map(
    records: tuple[load_balancers.LoadBalancerRecord, ...],
) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in load_balancers.samples(records)}


async def test_values_from_the_all_load_balancers_example() -> None:
    reader = FakeReader({
        "/v2/load_balancers": spec_example("/v2/load_balancers", "All Load Balancers"),
    })
    records = await load_balancers.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", "/v2/load_balancers", "load_balancers")
    ]
    assert sample_map(records) == {
        ("digitalocean_load_balancer_info", (NEW_LB, "example-lb-01", "nyc3", "", "", "lb-small",
                                             "104.131.186.241",
                                             "c33931f2-a26a-4e61-b85c-4e95a2ec431b")): 1,
        ("digitalocean_load_balancer_status", (NEW_LB, "new")): 1,
        ("digitalocean_load_balancer_status", (NEW_LB, "active")): 0,
        ("digitalocean_load_balancer_status", (NEW_LB, "errored")): 0,
        ("digitalocean_load_balancer_nodes", (NEW_LB,)): 1,  # lb-small, no size_unit
        ("digitalocean_load_balancer_droplets", (NEW_LB,)): 2,
        ("digitalocean_load_balancer_forwarding_rules", (NEW_LB,)): 2,
        ("digitalocean_load_balancer_created_timestamp_seconds", (NEW_LB,)): 1485987778,
        ("digitalocean_load_balancer_info", (ACTIVE_LB, "prod-web-lb-01", "nyc3", "", "", "lb-small",
                                             "45.55.125.24",
                                             "587d698c-de84-11e8-80bc-3cfdfea9fcd1")): 1,
        ("digitalocean_load_balancer_status", (ACTIVE_LB, "new")): 0,
        ("digitalocean_load_balancer_status", (ACTIVE_LB, "active")): 1,
        ("digitalocean_load_balancer_status", (ACTIVE_LB, "errored")): 0,
        ("digitalocean_load_balancer_nodes", (ACTIVE_LB,)): 1,
        ("digitalocean_load_balancer_droplets", (ACTIVE_LB,)): 3,
        ("digitalocean_load_balancer_forwarding_rules", (ACTIVE_LB,)): 1,
        ("digitalocean_load_balancer_created_timestamp_seconds", (ACTIVE_LB,)): 1599591484,
    }


def test_states_are_the_spec_enum() -> None:
    enum = spec()["components"]["schemas"]["load_balancer_base"]["properties"]["status"]["enum"]
    assert tuple(enum) == load_balancers.STATUSES


def test_a_global_load_balancer_from_the_schema_examples() -> None:
    lb = schema_example("load_balancer")
    lb.update(id="g1", type="GLOBAL", region=None)
    del lb["droplet_ids"]  # a global load balancer forwards to other load balancers
    [record] = load_balancers.parse_load_balancers([lb])
    samples = sample_map((record,))
    assert samples[("digitalocean_load_balancer_info",
                    ("g1", "example-lb-01", "", "GLOBAL", "EXTERNAL", "lb-small", "104.131.186.241",
                     "c33931f2-a26a-4e61-b85c-4e95a2ec431b"))] == 1
    assert samples[("digitalocean_load_balancer_target_load_balancers", ("g1",))] == 2
    assert samples[("digitalocean_load_balancer_nodes", ("g1",))] == 3  # size_unit wins over size
    assert ("digitalocean_load_balancer_droplets", ("g1",)) not in samples


@pytest.mark.parametrize(
    ("fields", "nodes"),
    [
        ({"size_unit": 5, "size": "lb-large"}, 5),
        ({"size": "lb-medium"}, 3),
        ({"size": "lb-large"}, 6),
        ({"size": "lb-huge"}, None),
        ({"size_unit": "3"}, None),
        ({}, None),
    ],
)
def test_nodes_from_size_unit_or_legacy_size(fields: dict[str, Any], nodes: int | None) -> None:
    [record] = load_balancers.parse_load_balancers([{"id": "a", **fields}])
    assert record.nodes == nodes


def test_missing_lists_are_unknown_and_empty_lists_are_zero() -> None:
    records = load_balancers.parse_load_balancers([
        {"id": "a", "droplet_ids": [], "forwarding_rules": [], "target_load_balancer_ids": []},
        {"id": "b", "droplet_ids": None},
    ])
    counts = [(name, labels) for name, labels, _ in load_balancers.samples(records)
              if name not in ("digitalocean_load_balancer_info", "digitalocean_load_balancer_status")]
    assert counts == [
        ("digitalocean_load_balancer_droplets", ("a",)),
        ("digitalocean_load_balancer_forwarding_rules", ("a",)),
        ("digitalocean_load_balancer_target_load_balancers", ("a",)),
    ]
    assert {v for n, lab, v in load_balancers.samples(records[:1])
            if n.endswith(("_droplets", "_rules", "_balancers"))} == {0}


def test_unknown_and_missing_status_are_visible_in_the_state_set() -> None:
    records = load_balancers.parse_load_balancers([{"id": "a", "status": "resizing"}, {"id": "b"}])
    status = {lab: v for n, lab, v in load_balancers.samples(records)
              if n == "digitalocean_load_balancer_status" and v == 1}
    assert status == {("a", "resizing"): 1, ("b", "unknown"): 1}


async def test_an_id_a_shifting_list_repeats_counts_once_and_output_is_sorted_by_id() -> None:
    reader = FakeReader({"/v2/load_balancers": {"load_balancers": [
        {"id": "b", "name": "first"}, {"id": "a"}, {"id": "b", "name": "second"},
    ]}}, page_size=2)
    records = await load_balancers.fetch(reader)
    assert [(r.load_balancer_id, r.name) for r in records] == [("a", ""), ("b", "first")]
    assert reader.dropped == {"/v2/load_balancers": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no id"}],
         "/v2/load_balancers load_balancers[0].id: expected a non-empty string, got null"),
        ([{"id": 42}],
         "/v2/load_balancers load_balancers[0].id: expected a non-empty string, got the number 42"),
        ([{"id": "a"}, None], "/v2/load_balancers load_balancers[1]: expected an object, got null"),
        ("none", "/v2/load_balancers load_balancers: expected a list, got the string 'none'"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        load_balancers.parse_load_balancers(items)
    assert str(caught.value) == message
