"""Autoscale pool members and history: the official examples, pools read from the pool
collector's data (never listed again), the pool list read once when there is none, deleted
pools, the selection, and the spec's states counted including zeros."""

from __future__ import annotations

import pytest

from exporter.collectors import autoscale_members, autoscale_pools
from exporter.collectors.autoscale_members import COLLECTOR, HISTORY, MEMBERS
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import Answer, FakeReader
from tests.conftest import example_reader, spec_example

POOL = "0d3db13e-a604-4944-9827-7ec2642d32ac"  # the pool of the official pool list example
PREFIX = "digitalocean_droplet_autoscale_pool"


def pool(pool_id: str, region: str = "nyc3", name: str = "") -> autoscale_pools.AutoscalePoolRecord:
    [record] = autoscale_pools.parse_page([{
        "id": pool_id, "name": name or pool_id, "droplet_template": {"region": region},
    }], 0)
    return record


def answers(*pool_ids: str) -> dict[str, Answer]:
    members = spec_example(MEMBERS, "All members")
    history = spec_example(HISTORY, "All History Events")
    out: dict[str, Answer] = {}
    for pool_id in pool_ids:
        out[f"/v2/droplets/autoscale/{pool_id}/members"] = members
        out[f"/v2/droplets/autoscale/{pool_id}/history"] = history
    return out


async def test_values_from_the_official_examples_with_pools_from_the_pool_collector() -> None:
    pools = await autoscale_pools.fetch(example_reader())
    reader = example_reader()
    records = await COLLECTOR.collect(reader, PollContext(inputs={"autoscale_pools": pools}))
    samples = {(n, lab): v for n, lab, v in autoscale_members.samples(records)}
    assert samples == {
        (f"{PREFIX}_member_info", (POOL, "123456")): 1,
        (f"{PREFIX}_member_droplets", (POOL, "provisioning")): 0,
        (f"{PREFIX}_member_droplets", (POOL, "active")): 1,
        (f"{PREFIX}_member_droplets", (POOL, "deleting")): 0,
        (f"{PREFIX}_member_droplets", (POOL, "off")): 0,
        (f"{PREFIX}_member_health_droplets", (POOL, "healthy")): 1,
        (f"{PREFIX}_member_health_droplets", (POOL, "unhealthy")): 0,
        (f"{PREFIX}_scaling_events", (POOL, "configuration_change")): 1,
        (f"{PREFIX}_scaling_events", (POOL, "scale_up")): 0,
        (f"{PREFIX}_scaling_events", (POOL, "scale_down")): 0,
        (f"{PREFIX}_last_scaling_event_timestamp_seconds", (POOL,)): 1605817638.0,
        (f"{PREFIX}_last_scaling_event_status", (POOL, "in_progress")): 0,
        (f"{PREFIX}_last_scaling_event_status", (POOL, "success")): 1,
        (f"{PREFIX}_last_scaling_event_status", (POOL, "error")): 0,
    }
    # the pools came from the pool collector's data: only the two follow-ups were asked for
    assert [r.route for r in reader.requests] == [
        f"/v2/droplets/autoscale/{POOL}/members", f"/v2/droplets/autoscale/{POOL}/history"]


async def test_without_the_pool_collectors_data_the_pools_are_listed_once() -> None:
    reader = example_reader()
    records = await autoscale_members.fetch(reader)
    assert [r.pool_id for r in records] == [POOL]
    assert [r.route for r in reader.requests] == [
        "/v2/droplets/autoscale", f"/v2/droplets/autoscale/{POOL}/members",
        f"/v2/droplets/autoscale/{POOL}/history"]


async def test_the_newest_event_sets_the_time_and_status_and_every_reason_is_counted() -> None:
    history = {"history": [
        {"history_event_id": "a", "reason": "SCALE_UP", "status": "success",
         "created_at": "2026-11-01T10:00:00Z"},
        {"history_event_id": "b", "reason": "SCALE_DOWN", "status": "error",
         "created_at": "2026-11-02T10:00:00Z"},
        {"history_event_id": "c", "reason": "SCALE_UP", "status": "success",
         "created_at": "2026-11-01T12:00:00Z"},
        {"history_event_id": "d", "reason": "SCALE_SIDEWAYS", "status": "success",
         "created_at": None},
    ], "links": {}, "meta": {"total": 4}}
    members = {"droplets": [
        {"droplet_id": 9, "status": "active", "health_status": "unhealthy"},
        {"droplet_id": 3, "status": "provisioning", "health_status": "healthy"},
        {"droplet_id": 5, "status": "rebooting"},
    ], "links": {}, "meta": {"total": 3}}
    reader = FakeReader({"/v2/droplets/autoscale/p/members": members,
                         "/v2/droplets/autoscale/p/history": history})
    records = await COLLECTOR.collect(reader, PollContext(inputs={"autoscale_pools": (pool("p"),)}))
    samples = {(n, lab): v for n, lab, v in autoscale_members.samples(records)}
    newest = 1793613600.0  # 2026-11-02T10:00Z
    assert samples[(f"{PREFIX}_last_scaling_event_timestamp_seconds", ("p",))] == newest
    assert samples[(f"{PREFIX}_last_scaling_event_status", ("p", "error"))] == 1
    assert samples[(f"{PREFIX}_scaling_events", ("p", "scale_up"))] == 2
    assert samples[(f"{PREFIX}_scaling_events", ("p", "scale_down"))] == 1
    assert samples[(f"{PREFIX}_scaling_events", ("p", "scale_sideways"))] == 1  # unknown, shown
    assert samples[(f"{PREFIX}_member_droplets", ("p", "rebooting"))] == 1
    assert samples[(f"{PREFIX}_member_health_droplets", ("p", "unhealthy"))] == 1
    assert samples[(f"{PREFIX}_member_health_droplets", ("p", "healthy"))] == 1  # 5 has none
    assert [lab for n, lab, _ in autoscale_members.samples(records) if n.endswith("member_info")] == [
        ("p", "3"), ("p", "5"), ("p", "9")]


async def test_a_pool_without_history_has_no_last_event() -> None:
    reader = FakeReader({"/v2/droplets/autoscale/p/members": {"droplets": []},
                         "/v2/droplets/autoscale/p/history": {"history": []}})
    records = await COLLECTOR.collect(reader, PollContext(inputs={"autoscale_pools": (pool("p"),)}))
    names = {n for n, _, _ in autoscale_members.samples(records)}
    assert f"{PREFIX}_last_scaling_event_timestamp_seconds" not in names
    assert f"{PREFIX}_last_scaling_event_status" not in names
    assert f"{PREFIX}_member_droplets" in names  # four zeros: a pool with no members says so


async def test_only_the_selected_pools_are_asked_about() -> None:
    pools = (pool("a", "nyc3"), pool("b", "fra1"), pool("c", "fra1", name="batch"))
    reader = FakeReader(answers("a", "b", "c"))
    context = PollContext(selection=Selection(regions=("fra1",)), inputs={"autoscale_pools": pools})
    records = await COLLECTOR.collect(reader, context)
    assert [r.pool_id for r in records] == ["b", "c"]
    assert len(reader.requests) == 4


async def test_a_pool_deleted_since_the_pool_poll_is_left_out() -> None:
    reader = FakeReader({
        **answers("a"),
        "/v2/droplets/autoscale/gone/members": 404,
        "/v2/droplets/autoscale/gone/history": 404,
        "/v2/droplets/autoscale": {"autoscale_pools": [{"id": "a"}]},  # read again: gone
    })
    context = PollContext(inputs={"autoscale_pools": (pool("a"), pool("gone"))})
    records = await COLLECTOR.collect(reader, context)
    assert [r.pool_id for r in records] == ["a"]


async def test_a_404_for_a_pool_still_listed_fails_the_poll() -> None:
    reader = FakeReader({
        **answers("a"),
        "/v2/droplets/autoscale/b/members": 404,
        "/v2/droplets/autoscale/b/history": spec_example(HISTORY, "All History Events"),
        "/v2/droplets/autoscale": {"autoscale_pools": [{"id": "a"}, {"id": "b"}]},
    })
    context = PollContext(inputs={"autoscale_pools": (pool("a"), pool("b"))})
    with pytest.raises(ShapeError, match=r"HTTP 404 for b, which /v2/droplets/autoscale still lists"):
        await COLLECTOR.collect(reader, context)


def test_a_member_without_its_droplet_id_names_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        autoscale_members.parse_members([{"droplet_id": 1}, {"droplet_id": "2"}], 200,
                                        "/v2/droplets/autoscale/p/members droplets")
    assert str(caught.value) == (
        "/v2/droplets/autoscale/p/members droplets[201].droplet_id: expected an integer, "
        "got the string '2'")


def test_the_collector_reads_the_pool_collectors_data_and_honours_filters() -> None:
    assert COLLECTOR.inputs == ("autoscale_pools",)
    assert COLLECTOR.filters == ("region", "name", "id")
    assert COLLECTOR.scope == "droplet:read"
    assert COLLECTOR.fetch_with is not None
