"""Managed MySQL metrics from the Monitoring API: the spec's shapes into exact series, MySQL
clusters only, selection, request counts with their parameters, bad points and vanished
clusters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import database_metrics, databases
from exporter.collectors.base import EVERYTHING, PollContext, Selection
from exporter.collectors.databases import DatabaseRecord
from tests.collectors.fakes import Answer
from tests.collectors.matrix import (
    assert_a_403_stops_the_poll,
    assert_monitoring_help_and_settings,
    made,
    matrix,
    poll,
    reader_for,
)
from tests.conftest import full_spec, spec_example, spec_matrix

BASE = "/v2/monitoring/metrics/database/mysql"
NOW = 1_790_000_000.0
COLLECTOR = database_metrics.COLLECTOR
MYSQL = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
MYSQL2 = "e3b1d4c2-5b1f-4a51-9a8e-1f1a7a4f0b22"
PG = "d5b7a4c1-7a0e-4c5b-8f5e-2f8f8f7f0c33"


def clusters() -> tuple[DatabaseRecord, ...]:
    [example] = spec_example("/v2/databases")["databases"]
    return tuple(databases.parse_database(cluster, "test") for cluster in (
        {**example, "engine": "mysql"},
        {**example, "id": MYSQL2, "name": "orders", "engine": "mysql", "region": "ams3"},
        {**example, "id": PG, "name": "pg"},  # the example is PostgreSQL: no metrics here
    ))


def context(selection: Selection = EVERYTHING, metrics: tuple[str, ...] = ()) -> PollContext:
    return PollContext(selection=selection, metrics=metrics, inputs={"databases": clusters()})


def examples(endpoint: str, params: Mapping[str, str]) -> Answer:
    return spec_matrix(endpoint)


async def test_the_spec_shapes_become_exact_series() -> None:
    # No MySQL endpoint has an example: each answers the schema's own (value "1").
    found = await poll(COLLECTOR, reader_for(examples, NOW), context(Selection(ids=(MYSQL,))))
    p = "digitalocean_database_mysql_"
    expected: dict[tuple[str, tuple[str, ...]], float] = {
        **{(p + f"{name}_utilization_ratio", (MYSQL,)): 0.01 for name in ("cpu", "memory", "disk")},
        **{(p + name, (MYSQL,)): 1.0 for name in ("load1", "load5", "load15", "threads_connected",
                                                  "threads_active", "threads_created_per_second")},
        (p + "index_reads_ratio", (MYSQL,)): 0.01,
        **{(p + "operations_per_second", (MYSQL, op)): 1.0
           for op in ("select", "insert", "update", "delete")},
        **{(p + "metric_timestamp_seconds", (MYSQL, group)): 1435781445
           for group in ("cpu", "memory", "disk", "load", "threads", "reads", "operations")},
    }
    assert found == expected


async def test_each_request_has_the_parameters_the_spec_requires() -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(Selection(ids=(MYSQL,)), COLLECTOR.metric_groups))
    window = {"db_id": MYSQL, "start": str(int(NOW) - 600), "end": str(int(NOW))}
    got = sorted((r.endpoint.rsplit("/", 1)[1], sorted(set(r.params.items()) - set(window.items())))
                 for r in made(reader))
    assert all(r.params.items() >= window.items() for r in made(reader))
    avg = ("aggregate", "avg")
    assert got == sorted([
        ("cpu_usage", [avg]), ("memory_usage", [avg]), ("disk_usage", [avg]),
        *(("load", [avg, ("metric", w)]) for w in ("load1", "load5", "load15")),
        ("threads_connected", []), ("threads_active", []), ("threads_created_rate", []),
        ("index_vs_sequential_reads", []),
        *(("op_rates", [("metric", op)]) for op in ("select", "insert", "update", "delete")),
        *((f"schema_{kind}", [("metric", op), ("schema", "defaultdb")])
          for kind in ("throughput", "latency") for op in ("insert", "fetch", "update", "delete")),
    ])
    # every required query parameter of each operation is sent
    paths = full_spec()["paths"]
    for r in made(reader):
        required = {p["name"] for p in paths[r.endpoint]["get"]["parameters"] if p.get("required")}
        assert required <= set(r.params), r.endpoint


async def test_schema_series_carry_the_schema_and_operation() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        value = "0.002" if endpoint.endswith("latency") else "120"
        return matrix(({"db_id": MYSQL}, [[NOW - 60, value]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context(Selection(ids=(MYSQL,)),
                                                                    ("schema",)))
    p = "digitalocean_database_mysql_"
    assert found[(p + "schema_rows_per_second", (MYSQL, "defaultdb", "fetch"))] == 120
    assert found[(p + "schema_latency_seconds", (MYSQL, "defaultdb", "delete"))] == 0.002


@pytest.mark.parametrize(("selection", "ids"), [
    (EVERYTHING, {MYSQL, MYSQL2}),
    (Selection(regions=("ams3",)), {MYSQL2}),
    (Selection(name=re.compile("back.*")), {MYSQL}),
    (Selection(ids=(PG, MYSQL2)), {MYSQL2}),
])
async def test_the_selection_chooses_mysql_clusters_only(selection: Selection,
                                                         ids: set[str]) -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(selection))
    assert {r.params["db_id"] for r in made(reader)} == ids


@pytest.mark.parametrize("metrics", [(), ("cpu",), ("load", "operations", "schema")])
async def test_requests_for_counts_exactly_the_requests_a_poll_makes(
        metrics: tuple[str, ...]) -> None:
    ctx = context(metrics=metrics)
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, ctx)
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests)
    per_cluster = {(): 3 + 3 + 3 + 1 + 4, ("cpu",): 1, ("load", "operations", "schema"): 3 + 4 + 8}
    assert len(reader.requests) == 2 * per_cluster[metrics]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Inf", "n/a", None])
async def test_a_point_that_is_not_a_finite_number_is_skipped(bad: Any) -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return matrix(({"db_id": MYSQL}, [[NOW - 120, "50"], [NOW - 60, bad]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context(Selection(ids=(MYSQL,)),
                                                                    ("disk",)))
    assert found == {
        ("digitalocean_database_mysql_disk_utilization_ratio", (MYSQL,)): 0.5,
        ("digitalocean_database_mysql_metric_timestamp_seconds", (MYSQL, "disk")): NOW - 120}


async def test_a_cluster_deleted_since_the_inventory_is_left_out() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        return 404 if params["db_id"] == MYSQL else spec_matrix(endpoint)
    found = await poll(COLLECTOR, reader_for(answer, NOW), context())
    assert {labels[0] for _, labels in found} == {MYSQL2}


async def test_a_403_stops_the_poll_and_the_scope_is_the_specs() -> None:
    await assert_a_403_stops_the_poll(COLLECTOR, context(), NOW)


def test_help_and_settings() -> None:
    assert_monitoring_help_and_settings(COLLECTOR, "databases")
    assert "schema" in COLLECTOR.metric_groups
    assert "schema" not in COLLECTOR.chosen_metrics
