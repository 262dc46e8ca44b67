"""App Platform metrics from the Monitoring API: the spec's example into exact series per
component instance, selection, request counts, bad points and vanished apps."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import app_metrics, apps
from exporter.collectors.apps import AppRecord
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
from tests.conftest import example_reader, spec_matrix

BASE = "/v2/monitoring/metrics/apps"
NOW = 1_634_052_800.0  # after the example's newest point
COLLECTOR = app_metrics.COLLECTOR
APP = "4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf"
EXAMPLE_APP: AppRecord = asyncio.run(apps.fetch(example_reader()))[0]
OTHER = AppRecord(app_id="c2a93513-8d9b-4223-9d61-5e7272c81cf5", name="docs", region="ams",
                  tier="basic", active_phase="ACTIVE", in_progress_phase=None,
                  last_deployment_at=None, last_deployment_created_at=None, created_at=None,
                  updated_at=None)


def context(selection: Selection = EVERYTHING, metrics: tuple[str, ...] = ()) -> PollContext:
    return PollContext(selection=selection, metrics=metrics,
                       inputs={"apps": (EXAMPLE_APP, OTHER)})


def examples(endpoint: str, params: Mapping[str, str]) -> Answer:
    return spec_matrix(endpoint)


async def test_the_spec_example_becomes_exact_series() -> None:
    assert EXAMPLE_APP.app_id == APP
    found = await poll(COLLECTOR, reader_for(examples, NOW), context(Selection(ids=(APP,))))
    # every apps endpoint has the same example: instance sample-application-0, newest value
    # "32.016214285714285712" percent at 1634052720
    instance = (APP, "sample-application", "sample-application-0")
    expected: dict[tuple[str, tuple[str, ...]], float] = {
        ("digitalocean_app_cpu_utilization_ratio", instance): 32.016214285714285712 / 100,
        ("digitalocean_app_memory_utilization_ratio", instance): 32.016214285714285712 / 100,
        ("digitalocean_app_restarts", instance): 32.016214285714285712,
        **{("digitalocean_app_metric_timestamp_seconds", (APP, group)): 1634052720
           for group in ("cpu", "memory", "restarts")},
    }
    assert found == expected


async def test_one_request_per_app_and_metric_answers_for_every_component() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(
            ({"app_component": "web", "app_component_instance": "web-0"}, [[NOW - 60, "10"]]),
            ({"app_component": "web", "app_component_instance": "web-1"}, [[NOW - 60, "30"]]),
            ({"app_component": "worker", "app_component_instance": "worker-0"},
             [[NOW - 120, "5"]]))
    reader = reader_for(answer, NOW)
    found = await poll(COLLECTOR, reader, context(Selection(ids=(APP,)), ("cpu",)))
    [request] = made(reader)
    assert (request.endpoint, dict(request.params)) == (f"{BASE}/cpu_percentage", {
        "app_id": APP, "start": str(int(NOW) - 600), "end": str(int(NOW))})
    assert found == {
        ("digitalocean_app_cpu_utilization_ratio", (APP, "web", "web-0")): 0.1,
        ("digitalocean_app_cpu_utilization_ratio", (APP, "web", "web-1")): 0.3,
        ("digitalocean_app_cpu_utilization_ratio", (APP, "worker", "worker-0")): 0.05,
        ("digitalocean_app_metric_timestamp_seconds", (APP, "cpu")): NOW - 60,
    }


@pytest.mark.parametrize(("selection", "ids"), [
    (EVERYTHING, {APP, OTHER.app_id}),
    (Selection(regions=("ams",)), {OTHER.app_id}),
    (Selection(name=re.compile("sample-.*")), {APP}),
    (Selection(ids=(OTHER.app_id,)), {OTHER.app_id}),
])
async def test_the_selection_chooses_the_apps_read(selection: Selection, ids: set[str]) -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(selection))
    assert {r.params["app_id"] for r in made(reader)} == ids


@pytest.mark.parametrize("metrics", [(), ("memory",), ("cpu", "restarts")])
async def test_requests_for_counts_exactly_the_requests_a_poll_makes(
        metrics: tuple[str, ...]) -> None:
    ctx = context(metrics=metrics)
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, ctx)
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests) == 2 * len(metrics or (1, 2, 3))


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Inf", "12%", None])
async def test_a_point_that_is_not_a_finite_number_is_skipped(bad: Any) -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(({"app_component": "web", "app_component_instance": "web-0"},
                       [[NOW - 120, "2"], [NOW - 60, bad]]),
                      ({"app_component": "web", "app_component_instance": "web-1"},
                       [[NOW - 60, bad]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW),
                       context(Selection(ids=(APP,)), ("restarts",)))
    assert found == {("digitalocean_app_restarts", (APP, "web", "web-0")): 2,
                     ("digitalocean_app_metric_timestamp_seconds", (APP, "restarts")): NOW - 120}


async def test_an_app_deleted_since_the_inventory_is_left_out() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return 404 if params["app_id"] == APP and endpoint.endswith("memory_percentage") else (
            spec_matrix(endpoint))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context())
    assert {labels[0] for _, labels in found} == {OTHER.app_id}


async def test_a_403_stops_the_poll_and_the_scope_is_the_specs() -> None:
    await assert_a_403_stops_the_poll(COLLECTOR, context(), NOW)


def test_help_and_settings() -> None:
    assert_monitoring_help_and_settings(COLLECTOR, "apps")
    assert COLLECTOR.metric_groups == ("cpu", "memory", "restarts")
    assert COLLECTOR.filters == ("region", "name", "id")
