"""Load balancer metrics from the Monitoring API: the spec's shapes into exact series, several
series summed or maximised, network load balancers' own endpoints, selection, request counts,
bad points and vanished load balancers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import load_balancer_metrics, load_balancers
from exporter.collectors.base import EVERYTHING, PollContext, Selection
from exporter.collectors.load_balancers import LoadBalancerRecord
from tests.collectors.fakes import Answer
from tests.collectors.matrix import (
    assert_a_403_stops_the_poll,
    assert_monitoring_help_and_settings,
    made,
    matrix,
    poll,
    reader_for,
)
from tests.conftest import spec_example, spec_matrix

BASE = "/v2/monitoring/metrics/load_balancer"
NOW = 1_790_000_000.0
COLLECTOR = load_balancer_metrics.COLLECTOR
LB1 = "4de7ac8b-495b-4884-9a69-1050c6793cd6"
LB2 = "56775c3f-04ab-4fb3-a7ed-40ef9bc8eece"
NLB = "0b4f2c5e-8a4d-4e1f-9c39-3b1d2d0e6f01"


def example_lbs(*, network: bool = False) -> tuple[LoadBalancerRecord, ...]:
    items = spec_example("/v2/load_balancers", "All Load Balancers")["load_balancers"]
    if network:
        items.append({**items[0], "id": NLB, "name": "nlb-01", "region": {"slug": "fra1"},
                      "type": "REGIONAL_NETWORK"})
    return load_balancers.parse_load_balancers(items)


def context(selection: Selection = EVERYTHING, metrics: tuple[str, ...] = (),
            network: bool = False) -> PollContext:
    return PollContext(selection=selection, metrics=metrics,
                       inputs={"load_balancers": example_lbs(network=network)})


def examples(endpoint: str, params: Mapping[str, str]) -> Answer:
    return spec_matrix(endpoint)


async def test_the_spec_shapes_become_exact_series() -> None:
    # No load balancer endpoint has an example: each answers the schema's own (value "1").
    found = await poll(COLLECTOR, reader_for(examples, NOW), context(Selection(ids=(LB1,))))
    p = "digitalocean_load_balancer_"
    ones = ["frontend_connections", "frontend_connections_limit", "droplet_connections",
            "http_requests_per_second", "http_responses_per_second",
            "droplet_http_responses_per_second", "droplet_queued_requests"]
    expected: dict[tuple[str, tuple[str, ...]], float] = {
        **{(p + name, (LB1,)): 1.0 for name in ones},
        # one series per backend Droplet: the schema's example names none
        **{(p + name, (LB1, "")): 1.0 for name in ("droplet_health_checks", "droplet_downtime")},
        **{(p + "network_throughput_bytes_per_second", (LB1, proto)): 1.0
           for proto in ("http", "tcp", "udp")},
        **{(p + "droplet_http_response_time_seconds", (LB1, stat)): 1.0
           for stat in ("avg", "p50", "p95", "p99")},
        (p + "cpu_utilization_ratio", (LB1,)): 0.01,  # 1 percent
        **{(p + "metric_timestamp_seconds", (LB1, group)): 1435781445
           for group in ("connections", "requests", "responses", "throughput", "response_time",
                         "health", "queue", "cpu")},
    }
    assert found == expected


async def test_health_is_one_series_per_backend_droplet() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(({"lb_id": LB1, "droplet_id": "1"}, [[NOW - 60, "1"]]),
                      ({"lb_id": LB1, "droplet_id": "2"}, [[NOW - 120, "1"], [NOW - 60, "0"]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW),
                       context(Selection(ids=(LB1,)), ("health",)))
    p = "digitalocean_load_balancer_droplet_health_checks"
    assert {k: v for k, v in found.items() if k[0] == p} == {
        (p, (LB1, "1")): 1.0, (p, (LB1, "2")): 0.0}


async def test_several_series_are_summed_where_they_add_up_and_maximised_where_not() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(({"lb_id": LB1, "droplet_id": "1"}, [[NOW - 120, "3"], [NOW - 60, "4"]]),
                      ({"lb_id": LB1, "droplet_id": "2"}, [[NOW - 60, "0.25"]]),
                      ({"lb_id": LB1, "droplet_id": "3"}, [[NOW - 60, "NaN"]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW),
                       context(Selection(ids=(LB1,)), ("connections", "response_time")))
    p = "digitalocean_load_balancer_"
    assert found[(p + "droplet_connections", (LB1,))] == 4.25
    assert found[(p + "frontend_connections_limit", (LB1,))] == 4
    assert found[(p + "droplet_http_response_time_seconds", (LB1, "p99"))] == 4
    assert found[(p + "metric_timestamp_seconds", (LB1, "connections"))] == NOW - 60


async def test_network_load_balancers_read_their_own_endpoints() -> None:
    reader = reader_for(examples, NOW)
    ctx = context(metrics=("throughput", "firewall"), network=True)
    found = await poll(COLLECTOR, reader, ctx)
    by_lb: dict[str, set[str]] = {}
    for r in made(reader):
        by_lb.setdefault(r.params["lb_id"], set()).add(r.endpoint.rsplit("/", 1)[1])
    regular = {"frontend_network_throughput_http", "frontend_network_throughput_tcp",
               "frontend_network_throughput_udp"}
    assert by_lb == {LB1: regular, LB2: regular, NLB: {
        "frontend_nlb_tcp_network_throughput", "frontend_nlb_udp_network_throughput",
        "frontend_firewall_dropped_bytes", "frontend_firewall_dropped_packets"}}
    p = "digitalocean_load_balancer_"
    assert found[(p + "nlb_network_throughput_bytes_per_second", (NLB, "udp"))] == 1
    assert found[(p + "firewall_dropped_packets_per_second", (NLB,))] == 1
    assert (p + "firewall_dropped_bytes", (LB1,)) not in found
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests) == 3 + 3 + 4


@pytest.mark.parametrize(("selection", "ids"), [
    (EVERYTHING, {LB1, LB2, NLB}),
    (Selection(regions=("fra1",)), {NLB}),
    (Selection(name=re.compile("prod-.*")), {LB2}),
    (Selection(ids=(LB1, NLB)), {LB1, NLB}),
])
async def test_the_selection_chooses_the_load_balancers_read(selection: Selection,
                                                            ids: set[str]) -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(selection, ("cpu",), network=True))
    assert {r.params["lb_id"] for r in made(reader)} == ids


@pytest.mark.parametrize("metrics", [(), ("cpu",), ("tls", "session"),
                                     load_balancer_metrics.GROUPS])
async def test_requests_for_counts_exactly_the_requests_a_poll_makes(
        metrics: tuple[str, ...]) -> None:
    ctx = context(metrics=metrics, network=True)
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, ctx)
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests)
    # by default, per regular load balancer: 3 + 1 + 2 + 3 + 4 + 2 + 1 + 1 (cpu)
    if metrics == ():
        assert len(reader.requests) == 2 * 17 + (17 - 3 + 2 + 2)


async def test_requests_name_the_load_balancer_and_a_short_window() -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(Selection(ids=(LB2,)), ("cpu",)))
    [request] = made(reader)
    assert (request.endpoint, dict(request.params)) == (f"{BASE}/frontend_cpu_utilization", {
        "lb_id": LB2, "start": str(int(NOW) - 600), "end": str(int(NOW))})


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Inf", "x", None])
async def test_a_point_that_is_not_a_finite_number_is_skipped(bad: Any) -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(({"lb_id": LB1}, [[NOW - 120, "50"], [NOW - 60, bad]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context(Selection(ids=(LB1,)), ("cpu",)))
    assert found == {("digitalocean_load_balancer_cpu_utilization_ratio", (LB1,)): 0.5,
                     ("digitalocean_load_balancer_metric_timestamp_seconds", (LB1, "cpu")): NOW - 120}


async def test_a_load_balancer_deleted_since_the_inventory_is_left_out() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return 404 if params["lb_id"] == LB1 else spec_matrix(endpoint)
    found = await poll(COLLECTOR, reader_for(answer, NOW), context())
    assert {labels[0] for _, labels in found} == {LB2}


async def test_a_403_stops_the_poll_and_the_scope_is_the_specs() -> None:
    await assert_a_403_stops_the_poll(COLLECTOR, context(), NOW)


def test_help_and_settings() -> None:
    assert_monitoring_help_and_settings(COLLECTOR, "load_balancers")
    assert all(family.kind == "gauge" for family in COLLECTOR.families)
    assert COLLECTOR.metric_groups == load_balancer_metrics.GROUPS
    assert set(COLLECTOR.chosen_metrics) == set(load_balancer_metrics.GROUPS) - {"tls", "session"}


@pytest.mark.parametrize(("network", "metrics", "per_object"), [
    (False, (), 17),  # the default groups, for an HTTP load balancer
    (True, (), 18),  # 17 + 17 + 18 requests over three: 17.33, rounded up
    (True, ("throughput",), 3),  # 3 + 3 + 2 over three: 2.67, rounded up
    (False, ("firewall",), 0),  # only network load balancers have firewall metrics
])
def test_requests_per_object_is_the_average_cost_rounded_up(
        network: bool, metrics: tuple[str, ...], per_object: int) -> None:
    assert COLLECTOR.requests_per_object is not None
    assert COLLECTOR.requests_per_object(context(metrics=metrics, network=network)) == per_object


def test_with_nothing_selected_an_object_costs_what_an_http_load_balancer_would() -> None:
    assert COLLECTOR.requests_per_object is not None
    empty = PollContext(metrics=("throughput", "firewall"))
    assert COLLECTOR.requests_per_object(empty) == 3
