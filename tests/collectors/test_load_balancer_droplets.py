"""The Droplets behind each load balancer, from GET /v2/load_balancers/{lb_id} per balancer
the `load_balancers` collector listed (never the list again); a deleted one left out."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import load_balancer_droplets, load_balancers
from exporter.collectors.base import PollContext
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from tests.collectors.fakes import FakeReader
from tests.conftest import full_spec, spec_example

ENDPOINT = "/v2/load_balancers/{lb_id}"
LB = "4de7ac8b-495b-4884-9a69-1050c6793cd6"


def property_names(node: Any) -> set[str]:
    """Every property name anywhere in a schema."""
    found: set[str] = set()
    if isinstance(node, dict):
        found |= set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        for value in node.values():
            found |= property_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= property_names(value)
    return found


def listed(*ids: str) -> tuple[load_balancers.LoadBalancerRecord, ...]:
    return load_balancers.parse_load_balancers([{"id": i} for i in ids])


def context(records: tuple[load_balancers.LoadBalancerRecord, ...]) -> PollContext:
    return PollContext(inputs={"load_balancers": records})


async def test_the_official_example_into_exact_series() -> None:
    example = spec_example(ENDPOINT)
    assert example["load_balancer"]["id"] == LB
    assert example["load_balancer"]["droplet_ids"] == [3164444, 3164445]
    reader = FakeReader({f"/v2/load_balancers/{LB}": example})
    data = await load_balancer_droplets.COLLECTOR.collect(reader, context(listed(LB)))
    assert list(load_balancer_droplets.samples(data)) == [
        ("digitalocean_load_balancer_droplet_info", (LB, "3164444"), 1),
        ("digitalocean_load_balancer_droplet_info", (LB, "3164445"), 1),
    ]
    assert [(r.method, r.route) for r in reader.requests] == [("get_or_none", f"/v2/load_balancers/{LB}")]


async def test_a_tag_is_its_own_series() -> None:
    body = {"load_balancer": {"id": "x", "droplet_ids": [7, 3, 7, "9", None], "tag": "prod:web"}}
    reader = FakeReader({ENDPOINT: body})
    data = await load_balancer_droplets.COLLECTOR.collect(reader, context(listed("x")))
    assert list(load_balancer_droplets.samples(data)) == [
        ("digitalocean_load_balancer_droplet_info", ("x", "3"), 1),
        ("digitalocean_load_balancer_droplet_info", ("x", "7"), 1),
        ("digitalocean_load_balancer_tag_info", ("x", "prod:web"), 1),
    ]


async def test_one_request_per_listed_load_balancer_and_none_without_inputs() -> None:
    reader = FakeReader({ENDPOINT: {"load_balancer": {"droplet_ids": []}}})
    data = await load_balancer_droplets.COLLECTOR.collect(reader, context(listed("b", "a", "c")))
    assert [d.load_balancer_id for d in data] == ["a", "b", "c"]
    assert sorted(r.route for r in reader.requests) == [f"/v2/load_balancers/{i}" for i in "abc"]
    assert load_balancer_droplets.COLLECTOR.requests_for is not None
    assert load_balancer_droplets.COLLECTOR.requests_for(context(listed("b", "a", "c"))) == 3
    empty = FakeReader({})
    assert await load_balancer_droplets.COLLECTOR.fetch(empty) == ()
    assert empty.requests == []


async def test_a_deleted_load_balancer_is_left_out_once_the_list_agrees() -> None:
    reader = FakeReader({
        ENDPOINT: {"load_balancer": {"droplet_ids": [1]}},
        "/v2/load_balancers/gone": 404,
        "/v2/load_balancers": {"load_balancers": [{"id": "kept"}]},
    })
    data = await load_balancer_droplets.COLLECTOR.collect(reader, context(listed("gone", "kept")))
    assert [d.load_balancer_id for d in data] == ["kept"]
    assert [r.route for r in reader.requests].count("/v2/load_balancers") == 1


async def test_a_404_for_a_load_balancer_still_listed_fails_the_poll() -> None:
    reader = FakeReader({"/v2/load_balancers/a": 404,
                         "/v2/load_balancers": {"load_balancers": [{"id": "a"}]}})
    with pytest.raises(ShapeError) as caught:
        await load_balancer_droplets.COLLECTOR.collect(reader, context(listed("a")))
    assert str(caught.value) == (
        "/v2/load_balancers/{lb_id}: HTTP 404 for a, which /v2/load_balancers still lists; "
        "nothing is dropped on a 404 that is not a deletion"
    )


async def test_other_errors_and_shapes_fail_the_poll() -> None:
    with pytest.raises(ApiError):
        await load_balancer_droplets.COLLECTOR.collect(FakeReader({ENDPOINT: 500}), context(listed("a")))
    with pytest.raises(ShapeError) as caught:
        await load_balancer_droplets.COLLECTOR.collect(
            FakeReader({ENDPOINT: {"load_balancers": []}}), context(listed("a")))
    assert str(caught.value) == "/v2/load_balancers/a load_balancer: expected an object, got null"


async def test_docstring_lines_are_real_exposition() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    data = await load_balancer_droplets.COLLECTOR.collect(reader, context(listed(LB)))
    fragment = encode_collector("production", load_balancer_droplets.COLLECTOR, data)
    rendered = b"".join(fragment.values()).decode()
    documented = [line.strip() for line in (load_balancer_droplets.__doc__ or "").splitlines()
                  if line.startswith("    digitalocean_")]
    assert len(documented) == 2
    for line in documented:
        assert line + "\n" in rendered


def test_collector_contract_and_where_backend_health_lives() -> None:
    c = load_balancer_droplets.COLLECTOR
    assert (c.name, c.scope, c.interval, c.inputs) == ("load_balancer_droplets", "load_balancer:read",
                                                      900.0, ("load_balancers",))
    paths = full_spec()["paths"]
    assert paths[ENDPOINT]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_load_balancer_")
        assert family.help.endswith(f", polled from {ENDPOINT}.")
    # The docstring's claim: the v2 load balancer object has no per-Droplet health, which only
    # the Monitoring API serves, under another scope.
    names = property_names(paths[ENDPOINT]["get"]["responses"]["200"])
    assert {n for n in names if "health" in n or "status" in n} == {
        "health_check", "healthy_threshold", "unhealthy_threshold", "status"}  # the balancer's own
    health = paths["/v2/monitoring/metrics/load_balancer/droplets_health_checks"]["get"]
    assert health["security"] == [{"bearer_auth": ["monitoring:read"]}]
