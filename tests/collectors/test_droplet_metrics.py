"""Droplet metrics from the Monitoring API: the spec's examples into exact series, selection,
requests counted before the poll, bad points skipped, vanished Droplets skipped, the CPU
counter, and the month-to-date public transfer integrated by hand."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter.collectors import droplet_metrics, droplets
from exporter.collectors.base import EVERYTHING, PollContext, Selection
from exporter.collectors.droplets import DropletRecord
from exporter.collectors.fields import ShapeError
from exporter.collectors.monitoring import MonitoringData, MonthToDate, Reading, month_start
from exporter.exposition import DataRenderer, encode_collector
from exporter.snapshot import Snapshot
from tests.collectors.fakes import Answer
from tests.collectors.matrix import (
    assert_a_403_stops_the_poll,
    assert_monitoring_help_and_settings,
    made,
    matrix,
    poll,
    reader_for,
)
from tests.conftest import BANDWIDTH_EXAMPLES, example_reader, full_spec, require_tool, spec_matrix

BASE = "/v2/monitoring/metrics/droplet"
NOW = 1_635_387_200.0  # after the newest point of the CPU and filesystem examples
COLLECTOR = droplet_metrics.COLLECTOR
# the Droplets of the official examples, as the droplets collector reads them
DROPLETS: tuple[DropletRecord, ...] = asyncio.run(droplets.fetch(example_reader()))


def examples(endpoint: str, params: Mapping[str, str]) -> Answer:
    if endpoint == f"{BASE}/bandwidth":
        return spec_matrix(endpoint, BANDWIDTH_EXAMPLES[params["interface"], params["direction"]])
    return spec_matrix(endpoint)


def context(selection: Selection = EVERYTHING, metrics: tuple[str, ...] = (),
            previous: Any = None) -> PollContext:
    return PollContext(selection=selection, metrics=metrics, previous=previous,
                       inputs={"droplets": DROPLETS})


async def test_the_spec_examples_become_exact_series() -> None:
    reader = reader_for(examples, NOW)
    found = await poll(COLLECTOR, reader, context(Selection(ids=("3164444",))))
    d = "3164444"
    cpu = {"idle": 123140.8, "iowait": 15.01, "irq": 0.0, "nice": 66.35, "softirq": 2.13,
           "steal": 7.91, "system": 140.23, "user": 278.69}
    rate = 0.016214285714285712 * 1e6 / 8  # the newest bandwidth point, Mbps in bytes per second
    # From 00:00 UTC 2021-10-01 (1633046400) to NOW DigitalOcean's step is 1680 s
    # (2340800 s / 1440 = 1625.6 s, rounded up to whole minutes); the example's first point
    # stands for one step, the others for the 120 s since the point before.
    month = 1e6 / 8 * (0.016600450090265357 * 1680 + 0.015085955677299055 * 120
                       + 0.014941163855322308 * 120 + 0.016214285714285712 * 120)
    fs = (d, "/dev/vda1", "ext4", "/")
    p = "digitalocean_droplet_"
    expected: dict[tuple[str, tuple[str, ...]], Any] = {
        **{(f"{p}cpu_seconds_total", (d, mode)): value for mode, value in cpu.items()},
        # the memory and load endpoints have no example: the schema's own, value "1"
        (f"{p}memory_total_bytes", (d,)): 1.0,
        (f"{p}memory_available_bytes", (d,)): 1.0,
        (f"{p}memory_free_bytes", (d,)): 1.0,
        (f"{p}memory_cached_bytes", (d,)): 1.0,
        (f"{p}load1", (d,)): 1.0, (f"{p}load5", (d,)): 1.0, (f"{p}load15", (d,)): 1.0,
        (f"{p}filesystem_size_bytes", fs): 25832407040.0,
        (f"{p}filesystem_free_bytes", fs): 25832407040.0,
        (f"{p}network_receive_bytes_per_second", (d, "public")): rate,
        (f"{p}network_receive_bytes_per_second", (d, "private")): rate,
        (f"{p}network_transmit_bytes_per_second", (d, "public")): rate,
        (f"{p}network_transmit_bytes_per_second", (d, "private")): rate,
        (f"{p}public_transmit_month_to_date_bytes", (d,)): pytest.approx(month),
        (f"{p}metric_timestamp_seconds", (d, "cpu")): 1635387120,
        (f"{p}metric_timestamp_seconds", (d, "memory")): 1435781445,
        (f"{p}metric_timestamp_seconds", (d, "load")): 1435781445,
        (f"{p}metric_timestamp_seconds", (d, "filesystem")): 1635387120,
        (f"{p}metric_timestamp_seconds", (d, "network")): 1634052720,
    }
    assert found == expected


async def test_each_request_names_the_droplet_and_a_short_window() -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(Selection(ids=("3164444",)), ("cpu", "network")))
    end = str(int(NOW))
    window = str(int(NOW) - 600)
    got = sorted((r.endpoint, tuple(sorted(r.params.items()))) for r in made(reader))
    assert got == sorted([
        (f"{BASE}/cpu", (("end", end), ("host_id", "3164444"), ("start", window))),
        *((f"{BASE}/bandwidth", (("direction", direction), ("end", end), ("host_id", "3164444"),
                                 ("interface", interface),
                                 ("start", "1633046400" if (interface, direction) == (
                                     "public", "outbound") else window)))
          for interface, direction in BANDWIDTH_EXAMPLES),
    ])


@pytest.mark.parametrize(("selection", "ids"), [
    (Selection(), {"3164412", "3164444", "3164459", "448543583"}),
    (Selection(tags=("env:prod",)), {"3164444", "3164459"}),
    (Selection(tags=("web",)), {"3164444"}),
    (Selection(regions=("tor1",)), {"448543583"}),
    (Selection(name=re.compile(r".*\.example\.com")), {"3164412", "3164459"}),
    (Selection(ids=("3164412", "999")), {"3164412"}),
    (Selection(tags=("env:prod",), ids=("3164412",)), set()),
])
async def test_the_selection_chooses_the_droplets_read(selection: Selection, ids: set[str]) -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context(selection))
    assert {r.params["host_id"] for r in made(reader)} == ids


@pytest.mark.parametrize("metrics", [(), ("cpu",), ("memory", "load"), ("filesystem", "network")])
@pytest.mark.parametrize("selection", [Selection(), Selection(tags=("env:prod",))])
async def test_requests_for_counts_exactly_the_requests_a_poll_makes(
        metrics: tuple[str, ...], selection: Selection) -> None:
    ctx = context(selection, metrics)
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, ctx)
    assert COLLECTOR.requests_for is not None
    assert COLLECTOR.requests_for(ctx) == len(reader.requests) == len(made(reader))
    per_droplet = {"cpu": 1, "memory": 4, "load": 3, "filesystem": 2, "network": 4}
    chosen = metrics or COLLECTOR.chosen_metrics
    assert len(reader.requests) == sum(per_droplet[m] for m in chosen) * len(
        {r.params["host_id"] for r in reader.requests})


async def test_requests_run_side_by_side_but_at_most_eight_at_once() -> None:
    reader = reader_for(examples, NOW)
    await COLLECTOR.collect(reader, context())
    assert len(reader.requests) == 56
    assert 1 < reader.most_in_flight <= 8


async def test_without_inventory_nothing_is_requested() -> None:
    reader = reader_for(examples, NOW)
    data = await droplet_metrics.COLLECTOR.fetch(reader)
    assert reader.requests == []
    assert not data
    assert list(COLLECTOR.samples(data)) == []


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "+Inf", "-inf", "garbage", "", None, True,
                                 "1e999"])
async def test_a_point_that_is_not_a_finite_number_is_skipped(bad: object) -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        if endpoint == f"{BASE}/load_1":
            return matrix(({"host_id": "3164444"}, [[NOW - 120, "0.5"], [NOW - 60, bad]]))
        if endpoint == f"{BASE}/load_5":
            return matrix(({"host_id": "3164444"}, [[NOW - 60, bad], [NOW - 30]]))
        return matrix(({"host_id": "3164444"}, [[NOW - 60, "2"], "not a point", [None, "3"]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW),
                       context(Selection(ids=("3164444",)), ("load",)))
    assert found == {
        ("digitalocean_droplet_load1", ("3164444",)): 0.5,
        ("digitalocean_droplet_load15", ("3164444",)): 2.0,
        ("digitalocean_droplet_metric_timestamp_seconds", ("3164444", "load")): NOW - 60,
    }


@pytest.mark.parametrize(("body", "message"), [
    ({"status": "error", "data": {}},
     'status: expected "success", got the string \'error\''),
    ({"status": "success", "data": {"resultType": "vector", "result": []}},
     'data.resultType: expected "matrix", got the string \'vector\''),
    ({"status": "success", "data": {"resultType": "matrix", "result": None}},
     "data.result: expected a list, got null"),
    ({"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}}]}},
     "data.result[0].values: expected a list, got null"),
    ({"status": "success"}, "data: expected an object, got null"),
])
async def test_a_wrong_envelope_fails_the_poll_naming_the_place(body: Any, message: str) -> None:
    reader = reader_for(lambda endpoint, params: body, NOW)
    with pytest.raises(ShapeError) as caught:
        await COLLECTOR.collect(reader, context(Selection(ids=("3164444",)), ("cpu",)))
    assert str(caught.value) == f"{BASE}/cpu?host_id=3164444 {message}"


async def test_a_droplet_deleted_since_the_inventory_is_left_out() -> None:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        if params["host_id"] == "3164412" and endpoint == f"{BASE}/load_5":
            return 404  # deleted between the Droplet list and this read
        return matrix(({"host_id": params["host_id"]}, [[NOW - 60, "1.5"]]))
    found = await poll(COLLECTOR, reader_for(answer, NOW), context(metrics=("load",)))
    assert {labels[0] for _, labels in found} == {"3164444", "3164459", "448543583"}
    assert found[("digitalocean_droplet_load5", ("3164444",))] == 1.5


async def test_a_403_stops_the_poll_for_the_scope_to_be_named() -> None:
    await assert_a_403_stops_the_poll(COLLECTOR, context(), NOW)
    assert COLLECTOR.scope == "monitoring:read"


def test_cpu_seconds_are_a_counter_and_render_as_one() -> None:
    [cpu] = [f for f in COLLECTOR.families if f.name == "digitalocean_droplet_cpu_seconds_total"]
    assert cpu.kind == "counter"
    assert cpu.labels == ("droplet_id", "mode")
    assert [f.name for f in COLLECTOR.families if f.kind == "counter"] == [cpu.name]
    data = MonitoringData(readings=(Reading(cpu.name, ("7", "user"), 12.5),))
    snapshot = Snapshot(data, 1.0, None, 1.0, 0.1, encode_collector("production", COLLECTOR, data))
    text = DataRenderer((COLLECTOR,)).render([("production", COLLECTOR.name, snapshot)]).decode()
    [family] = parse_text(text)
    assert (family.name, family.type) == ("digitalocean_droplet_cpu_seconds", "counter")
    assert [(s.name, s.labels, s.value) for s in family.samples] == [
        (cpu.name, {"account": "production", "droplet_id": "7", "mode": "user"}, 12.5)]
    promtool = require_tool("promtool")
    checked = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                             capture_output=True, check=False)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


M = 1_633_046_400  # 2021-10-01T00:00:00Z


def outbound(points: list[list[Any]]) -> Any:
    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        if (params.get("interface"), params.get("direction")) == ("public", "outbound"):
            start, end = int(params["start"]), int(params["end"])
            return matrix(({"host_id": params["host_id"]},
                           [p for p in points if start <= p[0] <= end]))
        return matrix()
    return answer


def month_total(found: Mapping[tuple[str, tuple[str, ...]], float]) -> float | None:
    return found.get(("digitalocean_droplet_public_transmit_month_to_date_bytes", ("3164444",)))


async def test_month_to_date_transfer_is_integrated_and_carried_from_poll_to_poll() -> None:
    # 8 Mbps is 1,000,000 bytes a second; one point a minute, each the average of its minute
    points = [[M - 60, "80"], [M + 60, "8"], [M + 120, "8"], [M + 180, "16"],
              [M + 240, "8"], [M + 300, "8"]]
    ctx = context(Selection(ids=("3164444",)), ("network",))
    reader = reader_for(outbound(points), M + 200)
    first = await COLLECTOR.collect(reader, ctx)
    assert month_total({(n, lab): v for n, lab, v in COLLECTOR.samples(first)}) == (
        60e6 + 60e6 + 120e6)  # last month's point is not this month's
    second_reader = reader_for(outbound(points), M + 330)
    found = await poll(COLLECTOR, second_reader,
                       PollContext(selection=ctx.selection, metrics=ctx.metrics, previous=first,
                                   inputs=ctx.inputs))
    assert month_total(found) == 240e6 + 60e6 + 60e6
    [request] = [r for r in made(second_reader) if r.params["interface"] == "public"
                 and r.params["direction"] == "outbound"]
    assert request.params["start"] == str(M + 330 - 600)  # back to its last point, or the window


async def test_month_to_date_starts_again_in_a_new_month() -> None:
    november = month_start(M + 40 * 86400)
    previous = MonitoringData(month_to_date=(MonthToDate(
        "digitalocean_droplet_public_transmit_month_to_date_bytes", "3164444", M, M + 86400, 5e9),))
    reader = reader_for(outbound([[november + 60, "8"]]), november + 100)
    found = await poll(COLLECTOR, reader, PollContext(
        selection=Selection(ids=("3164444",)), metrics=("network",), previous=previous,
        inputs={"droplets": DROPLETS}))
    assert month_total(found) == 60e6
    [request] = [r for r in made(reader) if r.params["direction"] == "outbound"
                 and r.params["interface"] == "public"]
    assert request.params["start"] == str(november)


async def test_no_month_to_date_before_the_first_point_of_the_month() -> None:
    found = await poll(COLLECTOR, reader_for(outbound([[M - 60, "8"]]), M + 100),
                       context(Selection(ids=("3164444",)), ("network",)))
    assert month_total(found) is None


def test_the_collector_declares_its_settings() -> None:
    assert_monitoring_help_and_settings(COLLECTOR, "droplets")
    assert COLLECTOR.filters == ("tag", "region", "name", "id")
    assert COLLECTOR.metric_groups == ("cpu", "memory", "load", "filesystem", "network")
    assert COLLECTOR.paged is None
    assert set(COLLECTOR.endpoints) == {
        p for p in full_spec()["paths"] if p.startswith(f"{BASE}/")}


@pytest.mark.parametrize(("metrics", "per_droplet"), [
    ((), 14), (("cpu",), 1), (("memory", "network"), 8), (("load", "filesystem"), 5)])
def test_requests_per_object_is_what_one_droplet_costs(metrics: tuple[str, ...],
                                                       per_droplet: int) -> None:
    assert COLLECTOR.requests_per_object is not None
    assert COLLECTOR.requests_per_object(context(metrics=metrics)) == per_droplet
    assert COLLECTOR.requests_per_object(PollContext(metrics=metrics)) == per_droplet


async def test_a_request_cap_reads_a_slice_each_poll_and_keeps_the_others() -> None:
    """Stretched by the plan, the collector polls at its own interval and reads a slice of its
    Droplets each time (whole Droplets, from where the last slice ended): every poll stays
    under the cap, every Droplet is read in turn, and the series of those not read this time
    are the last ones read."""
    value = {"n": 0}

    def answer(endpoint: str, params: Mapping[str, str]) -> Answer:
        value["n"] += 1
        return matrix(({"host_id": params["host_id"]}, [[NOW - 60, str(value["n"])]]))

    ids = [str(d.droplet_id) for d in DROPLETS]
    per = COLLECTOR.requests_per_object  # memory: four endpoints per Droplet
    assert per is not None
    assert per(context(metrics=("memory",))) == 4
    previous: Any = None
    read_in_turn: list[set[str]] = []
    for _ in range(len(ids) + 1):
        reader = reader_for(answer, NOW)
        ctx = PollContext(metrics=("memory",), previous=previous, inputs={"droplets": DROPLETS},
                          request_cap=5)  # room for one Droplet (4), not two (8)
        data = await COLLECTOR.collect(reader, ctx)
        assert len(made(reader)) == 4
        read_in_turn.append({r.params["host_id"] for r in made(reader)})
        # every Droplet read so far has its series, the newest value it was read with
        total = {r.labels[0] for r in data.readings
                 if r.family == "digitalocean_droplet_memory_total_bytes"}
        assert total == set().union(*read_in_turn)
        previous = data
    assert [next(iter(s)) for s in read_in_turn] == [*ids, ids[0]]
    # without a cap every Droplet is read in one poll
    reader = reader_for(answer, NOW)
    await COLLECTOR.collect(reader, context(metrics=("memory",)))
    assert len(made(reader)) == 4 * len(ids)
