"""The actions kind: a history from the fleet, served newest first in pages, and every change
of the fleet (control API or `Fleet.mutate`) recorded as actions that change the Droplets too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from exporter.simulator import Fleet, FleetSpec, Simulator, SimulatorConfig
from tests.conftest import actions_example

from .conftest import DROPLETS_ONLY, READ_ONLY, START, ManualClock, account_config

Connect = Callable[..., httpx.Client]


def every_action(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get("/v2/actions", params={"page": page, "per_page": 20}).json()
        found += body["actions"]
        if "next" not in (body["links"].get("pages") or {}):
            assert body["meta"]["total"] == len(found)
            return found
        page += 1


def test_the_history_is_newest_first_with_a_create_per_droplet_and_the_problems(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    sim = start_simulator(account_config(FleetSpec(seed=3, droplets=45, off_droplets=2,
                                                   problems=True)))
    found = every_action(connect(sim, READ_ONLY))
    ids = [a["id"] for a in found]
    assert ids == sorted(ids, reverse=True)
    assert [a["started_at"] for a in found] == sorted((a["started_at"] for a in found), reverse=True)
    droplets = {int(d.id) for d in (*sim.fleet("acme").droplets, *sim.fleet("acme").gpu_droplets)}
    creates = [a["resource_id"] for a in found if a["type"] == "create"]
    assert sorted(creates) == sorted(droplets)
    assert [a["type"] for a in found if a["type"] == "power_off"] == ["power_off"] * 2
    assert [(a["type"], a["status"]) for a in found[:2]] == [("snapshot", "in-progress"),
                                                            ("resize", "errored")]
    assert found[0]["completed_at"] is None
    assert all(a["region_slug"] == a["region"]["slug"] for a in found)


def test_fleet_changes_are_actions_and_change_the_droplets(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect, clock: ManualClock
) -> None:
    sim = start_simulator(account_config(FleetSpec(seed=3, droplets=45, off_droplets=3)))
    reader = connect(sim, READ_ONLY)
    before = every_action(reader)
    sizes = {int(d.id): d.size_slug for d in sim.fleet("acme").droplets}
    clock.advance(600)
    response = connect(sim).post("/_simulator/fleet/acme", json={
        "create_droplets": 1, "destroy_droplets": 1, "resize_droplets": 2,
        "power_off_droplets": 1, "power_on_droplets": 1, "failed_resizes": 1})
    assert response.status_code == 200
    after = every_action(reader)
    new = after[:len(after) - len(before)]
    assert after[len(new):] == before
    assert min(a["id"] for a in new) > before[0]["id"]
    assert sorted((a["type"], a["status"]) for a in new) == [
        ("create", "completed"), ("destroy", "completed"), ("power_off", "completed"),
        ("power_on", "completed"), ("resize", "completed"), ("resize", "completed"),
        ("resize", "errored")]
    assert {a["started_at"] for a in new} == {"2026-11-18T11:16:40Z"}
    assert [a["resource_id"] for a in new if a["type"] == "create"] == response.json()["created"]
    assert [a["resource_id"] for a in new if a["type"] == "destroy"] == response.json()["destroyed"]
    now = {int(d.id): d for d in sim.fleet("acme").droplets}
    for a in new:
        droplet = now.get(a["resource_id"])
        if a["type"] == "resize":
            resized = a["status"] == "completed"
            assert (droplet is not None and droplet.size_slug != sizes[a["resource_id"]]) == resized
        if a["type"] in {"power_off", "power_on"}:
            assert droplet is not None
            assert droplet.status == ("off" if a["type"] == "power_off" else "active")
    problem = connect(sim).post("/_simulator/fleet/acme", json={"resize": 1})
    assert (problem.status_code, problem.json()["message"]) == (400, "unknown fleet changes: resize")


def test_actions_need_actions_read(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    sim = start_simulator(account_config())
    assert connect(sim, DROPLETS_ONLY).get("/v2/actions").status_code == 403


def test_given_actions_are_served_as_they_are_and_changes_go_above_them() -> None:
    [given] = actions_example()["actions"]
    fleet = Fleet.from_objects(actions=[given])
    assert [item.as_json() for item in fleet.resources.objects("actions")] == [given]
    created, destroyed = fleet.mutate(create=1, now=START)
    assert destroyed == []
    listed = [item.as_json() for item in fleet.resources.objects("actions")]
    assert [(a["type"], a["resource_id"], a["id"] > given["id"]) for a in listed[:1]] == [
        ("create", created[0], True)]
    assert listed[1:] == [given]
