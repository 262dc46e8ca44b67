"""Droplet autoscale pool metrics from the Monitoring API: the spec's shapes into exact series,
selection, request counts, bad points and vanished pools."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import autoscale_metrics, autoscale_pools
from exporter.collectors.autoscale_pools import AutoscalePoolRecord
from exporter.collectors.base import EVERYTHING, PollContext, Selection
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

BASE = "/v2/monitoring/metrics/droplet_autoscale"
NOW = 1_790_000_000.0
COLLECTOR = autoscale_metrics.COLLECTOR
POOL = "0d3db13e-a604-4944-9827-7ec2642d32ac"
OTHER = "a1b2c3d4-0000-4000-8000-000000000001"


def pools() -> list[AutoscalePoolRecord]:
    [example] = spec_example("/v2/droplets/autoscale")["autoscale_pools"]
    template = {**example["droplet_template"], "region": "ams3"}
    return autoscale_pools.parse_page(
        [example, {**example, "id": OTHER, "name": "workers", "droplet_template": template}], 0)


def context(selection: Selection = EVERYTHING, metrics: tuple[str, ...] = ()) -> PollContext:
    return PollContext(selection=selection, metrics=metrics,
                       inputs={"autoscale_pools": tuple(pools())})


def examples(endpoint: str, params: Mapping[str, str]) -> Answer:
    return spec_matrix(endpoint)


async def test_the_spec_shapes_become_exact_series() -> None:
    # No autoscale endpoint has an example: each answers the schema's own (value "1").
    found = await poll(COLLECTOR, reader_for(examples, NOW), context(Selection(ids=(POOL,))))
    p = "digitalocean_autoscale_pool_"
    names = ("current_instances", "target_instances", "cpu_utilization_ratio",
             "target_cpu_utilization_ratio", "memory_utilization_ratio",
             "target_memory_utilization_ratio")
    expected: dict[tuple[str, tuple[str, ...]], float] = {
        **{(p + name, (POOL,)): 1.0 for name in names},
        **{(p + "metric_timestamp_seconds", (POOL, group)): 1435781445
           for group in ("instances", "cpu", "memory")},
    }
    assert found == expected


async def test_requests_name_the_pool_and_a_short_window() -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(Selection(ids=(POOL,)), ("instances",)))
    assert sorted((r.endpoint, tuple(sorted(r.params.items()))) for r in made(reader)) == [
        (f"{BASE}/{name}", (("autoscale_pool_id", POOL), ("end", str(int(NOW))),
                            ("start", str(int(NOW) - 600))))
        for name in ("current_instances", "target_instances")]


@pytest.mark.parametrize(("selection", "ids"), [
    (EVERYTHING, {POOL, OTHER}),
    (Selection(regions=("ams3",)), {OTHER}),
    (Selection(name=re.compile("test-.*")), {POOL}),
    (Selection(ids=(OTHER,)), {OTHER}),
])
async def test_the_selection_chooses_the_pools_read(selection: Selection, ids: set[str]) -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(selection))
    assert {r.params["autoscale_pool_id"] for r in made(reader)} == ids


@pytest.mark.parametrize("metrics", [(), ("cpu",), ("instances", "memory")])
async def test_requests_for_counts_exactly_the_requests_a_poll_makes(
        metrics: tuple[str, ...]) -> None:
    ctx = context(metrics=metrics)
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, ctx)
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests) == 2 * 2 * len(metrics or (1, 2, 3))


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Inf", "three", None])
async def test_a_point_that_is_not_a_finite_number_is_skipped(bad: Any) -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        if endpoint.endswith("target_instances"):
            return matrix(({}, [[NOW - 60, bad]]))
        return matrix(({}, [[NOW - 120, "3"], [NOW - 60, bad]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context(Selection(ids=(POOL,)),
                                                                    ("instances",)))
    assert found == {
        ("digitalocean_autoscale_pool_current_instances", (POOL,)): 3,
        ("digitalocean_autoscale_pool_metric_timestamp_seconds", (POOL, "instances")): NOW - 120}


async def test_a_pool_deleted_since_the_inventory_is_left_out() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return 404 if params["autoscale_pool_id"] == POOL else spec_matrix(endpoint)
    found = await poll(COLLECTOR, reader_for(answer, NOW), context())
    assert {labels[0] for _, labels in found} == {OTHER}


async def test_a_403_stops_the_poll_and_the_scope_is_the_specs() -> None:
    await assert_a_403_stops_the_poll(COLLECTOR, context(), NOW)


def test_help_and_settings() -> None:
    assert_monitoring_help_and_settings(COLLECTOR, "autoscale_pools")
    assert COLLECTOR.metric_groups == ("instances", "cpu", "memory")
