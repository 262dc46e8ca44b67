"""Actions: the official example counted exactly, incremental reads that stop at known actions,
in-progress actions counted once they finish, bounded first and later polls, page shifts."""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import actions, droplets
from exporter.collectors.actions import ActionsState
from exporter.collectors.base import PollContext
from exporter.collectors.fields import ShapeError
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.snapshot import SnapshotStore
from exporter.tokens import InlineToken, TokenSource
from tests.collectors.fakes import FakeReader, InTurn
from tests.conftest import READ_TOKEN, actions_example

PAGE = "/v2/actions?page={}&per_page=200"
T0 = 1_790_000_000


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def action(action_id: int, status: str = "completed", kind: str = "create",
           resource_type: str = "droplet", ended: float | None = None) -> dict[str, Any]:
    """An action as the API describes it (no region: the collector reads none of it)."""
    started = T0 + action_id
    return {"id": action_id, "status": status, "type": kind, "started_at": iso(started),
            "completed_at": None if status == "in-progress" else iso(ended or started + 30),
            "resource_id": 3164444, "resource_type": resource_type, "region_slug": "nyc3"}


def pages(items: list[dict[str, Any]], per_page: int = 200) -> dict[str, Any]:
    """The routes answering `items` (newest first) in pages, with links and meta as the API."""
    count = max(1, math.ceil(len(items) / per_page))
    answers: dict[str, Any] = {}
    for number in range(1, count + 1):
        body: dict[str, Any] = {"actions": items[(number - 1) * per_page:number * per_page],
                                "links": {}, "meta": {"total": len(items)}}
        if number < count:
            body["links"] = {"pages": {"next": f"https://api.digitalocean.com/v2/actions?page={number + 1}"}}
        answers[PAGE.format(number)] = body
    return answers


def series(state: ActionsState) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in actions.samples(state)}


async def poll(reader: FakeReader, previous: ActionsState | None) -> ActionsState:
    return await actions.COLLECTOR.collect(reader, PollContext(previous=previous))


async def test_the_official_example_is_counted_exactly() -> None:
    reader = FakeReader({PAGE.format(1): actions_example()})
    state = await actions.fetch(reader)
    assert [(r.method, r.route) for r in reader.requests] == [("get", PAGE.format(1))]
    assert series(state) == {
        ("digitalocean_actions_total", ("create", "completed", "droplet")): 1,
        # the other final status of the same type is there at 0, so its first one is an increase
        ("digitalocean_actions_total", ("create", "errored", "droplet")): 0,
    }
    assert state.newest_id == 982864273
    assert (state.pages, state.skipped) == (1, False)


async def test_a_quiet_account_costs_one_request_a_poll_after_the_first() -> None:
    history = [action(i) for i in range(900, 0, -1)]  # newest first, 5 pages
    reader = FakeReader(pages(history))
    first = await poll(reader, None)
    assert len(reader.requests) == 5
    assert series(first)[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 900
    reader.requests.clear()
    state = first
    for _ in range(4):
        state = await poll(reader, state)
    assert [r.route for r in reader.requests] == [PAGE.format(1)] * 4
    assert series(state) == series(first)


async def test_new_actions_are_counted_once_in_progress_ones_when_they_finish() -> None:
    before = [action(3), action(2, "errored", "resize", ended=T0 + 500), action(1)]
    later = [action(6, "in-progress", "snapshot"), action(5, "errored", "resize", ended=T0 + 900),
             action(4, "completed", "power_off"), *before]
    last = [action(7, "completed", "destroy"), action(6, "completed", "snapshot"), *later[1:]]
    reader = FakeReader({PAGE.format(1): InTurn(*(pages(h)[PAGE.format(1)] for h in (before, later, last)))})
    first = await poll(reader, None)
    assert series(first) == {
        ("digitalocean_actions_total", ("create", "completed", "droplet")): 2,
        ("digitalocean_actions_total", ("create", "errored", "droplet")): 0,
        ("digitalocean_actions_total", ("resize", "completed", "droplet")): 0,
        ("digitalocean_actions_total", ("resize", "errored", "droplet")): 1,
        ("digitalocean_action_last_errored_timestamp_seconds", ("droplet",)): T0 + 500,
    }
    second = await poll(reader, first)
    got = series(second)
    assert got[("digitalocean_actions_total", ("resize", "errored", "droplet"))] == 2
    assert got[("digitalocean_actions_total", ("power_off", "completed", "droplet"))] == 1
    assert got[("digitalocean_actions_in_progress", ("droplet",))] == 1
    assert ("digitalocean_actions_total", ("snapshot", "completed", "droplet")) not in got
    assert got[("digitalocean_action_last_errored_timestamp_seconds", ("droplet",))] == T0 + 900
    third = await poll(reader, second)
    got = series(third)
    assert got[("digitalocean_actions_total", ("snapshot", "completed", "droplet"))] == 1
    assert got[("digitalocean_actions_total", ("destroy", "completed", "droplet"))] == 1
    assert ("digitalocean_actions_in_progress", ("droplet",)) not in got
    # seen again on every page 1 since, but each counted once
    assert got[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 2
    assert (third.newest_id, third.pending) == (7, {})


async def test_a_poll_reads_down_to_the_oldest_action_still_in_progress() -> None:
    old = [action(i) for i in range(450, 0, -1)]
    old[400] = action(50, "in-progress", "snapshot")  # on page 3
    reader = FakeReader(pages(old))
    first = await poll(reader, None)
    assert first.pending == {50: "droplet"}
    reader.requests.clear()
    finished = list(old)
    finished[400] = action(50, "completed", "snapshot")
    reader.answers = pages(finished)
    second = await poll(reader, first)
    assert [r.route for r in reader.requests] == [PAGE.format(n) for n in (1, 2, 3)]
    assert series(second)[("digitalocean_actions_total", ("snapshot", "completed", "droplet"))] == 1
    reader.requests.clear()
    await poll(reader, second)
    assert len(reader.requests) == 1  # nothing in progress any more: page 1 only


async def test_the_first_poll_reads_at_most_five_pages_and_later_ones_ten() -> None:
    history = [action(i) for i in range(3000, 0, -1)]  # 15 pages
    reader = FakeReader(pages(history))
    first = await poll(reader, None)
    assert len(reader.requests) == actions.FIRST_POLL_PAGES == 5
    assert (first.newest_id, first.skipped) == (3000, True)
    assert series(first)[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 1000
    # 2,500 new actions in one interval: 10 pages read, the 500 oldest of them skipped
    burst = [action(i, kind="destroy") for i in range(5500, 3000, -1)] + history
    reader.answers = pages(burst)
    reader.requests.clear()
    second = await poll(reader, first)
    assert len(reader.requests) == actions.MAX_PAGES == 10
    assert second.skipped
    assert series(second)[("digitalocean_actions_total", ("destroy", "completed", "droplet"))] == 2000
    assert second.newest_id == 5500


async def test_an_in_progress_action_below_the_page_limit_is_given_up() -> None:
    reader = FakeReader(pages([action(2), action(1, "in-progress")]))
    first = await poll(reader, None)
    assert first.pending == {1: "droplet"}
    reader.answers = pages([action(i) for i in range(2202, 2, -1)] + [action(2), action(1)])
    second = await poll(reader, first)
    assert (second.skipped, second.pending) == (True, {})
    # it finished unseen: never counted, and the counters only grew
    assert series(second)[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 2001


async def test_a_list_that_shifts_between_pages_counts_the_repeated_action_once() -> None:
    page1 = {"actions": [action(i) for i in range(400, 200, -1)],
             "links": {"pages": {"next": "https://api.digitalocean.com/v2/actions?page=2"}},
             "meta": {"total": 400}}
    # an action arrived after page 1 was read: page 2 starts with page 1's last again
    page2 = {"actions": [action(i) for i in range(201, 0, -1)], "links": {}, "meta": {"total": 401}}
    reader = FakeReader({PAGE.format(1): page1, PAGE.format(2): page2})
    state = await poll(reader, None)
    assert series(state)[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 400


async def test_an_account_without_actions_then_its_first_ones() -> None:
    reader = FakeReader({PAGE.format(1): InTurn(
        {"actions": [], "links": {}, "meta": {"total": 0}},
        pages([action(2, "errored", "rebuild"), action(1)])[PAGE.format(1)],
    )})
    first = await poll(reader, None)
    assert (series(first), first.newest_id) == ({}, None)
    second = await poll(reader, first)
    # counted as new, not as a backlog: they happened while the exporter ran
    assert series(second)[("digitalocean_actions_total", ("rebuild", "errored", "droplet"))] == 1
    assert series(second)[("digitalocean_actions_total", ("create", "completed", "droplet"))] == 1


async def test_lenient_fields_and_a_status_the_api_adds_later() -> None:
    reader = FakeReader(pages([
        {"id": 3, "status": "Cancelled", "type": "transfer", "resource_type": "image",
         "started_at": "yesterday"},
        {"id": 2},  # no status: in progress, the documented default
        {"id": 1, "status": "errored", "type": None, "resource_type": 5,
         "started_at": iso(T0), "completed_at": None},
    ]))
    state = await poll(reader, None)
    assert series(state) == {
        ("digitalocean_actions_total", ("transfer", "completed", "image")): 0,
        ("digitalocean_actions_total", ("transfer", "errored", "image")): 0,
        ("digitalocean_actions_total", ("transfer", "cancelled", "image")): 1,
        ("digitalocean_actions_total", ("", "completed", "")): 0,
        ("digitalocean_actions_total", ("", "errored", "")): 1,
        ("digitalocean_actions_in_progress", ("",)): 1,
        # no end time: when it started
        ("digitalocean_action_last_errored_timestamp_seconds", ("",)): T0,
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"status": "completed"}], "/v2/actions actions[0].id: expected an integer, got null"),
        ([{"id": "12"}], "/v2/actions actions[0].id: expected an integer, got the string '12'"),
        ([None], "/v2/actions actions[0]: expected an object, got null"),
    ],
)
async def test_identity_is_strict(items: list[Any], message: str) -> None:
    reader = FakeReader({PAGE.format(1): {"actions": items, "links": {}, "meta": {"total": 1}}})
    with pytest.raises(ShapeError) as caught:
        await actions.fetch(reader)
    assert str(caught.value) == message


async def test_a_page_without_its_list_fails_the_poll() -> None:
    reader = FakeReader({PAGE.format(1): {"links": {}}})
    with pytest.raises(ShapeError, match=r"^/v2/actions actions: expected a list, got null$"):
        await actions.fetch(reader)


# -- against the simulator: real pages, real request counts -----------------------------------

SCOPED = SimToken("scoped", "dop_v1_" + "ab" * 32, scopes=["droplet:read"])


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now


class Quiet:
    def observe(self, *args: object) -> None:
        pass


@contextlib.asynccontextmanager
async def simulated(spec: FleetSpec, clock: Clock) -> AsyncIterator[tuple[Simulator, AccountApi]]:
    config = SimulatorConfig(accounts=(SimAccount("acme", tokens=(SimToken("ro", READ_TOKEN), SCOPED),
                                                  fleet=spec),),
                             requests_per_hour=100_000, requests_per_minute=100_000)
    with Simulator(config, clock=clock) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=30, user_agent="t",
                                    observer=Quiet(), clock=SystemClock(), rng=random.Random(1))
        try:
            yield sim, client.account("acme", lambda: READ_TOKEN,
                                      RequestBudget(5000, SystemClock(), 5000))
        finally:
            await client.aclose()


def action_requests(sim: Simulator) -> int:
    return len([r for r in sim.requests.entries() if r.endpoint == actions.ENDPOINT])


async def test_an_hour_at_the_default_interval_costs_two_requests_and_counts_each_change() -> None:
    clock = Clock()
    async with simulated(FleetSpec(seed=3, droplets=30, problems=True), clock) as (sim, reader):
        first = await actions.COLLECTOR.collect(reader, PollContext())
        assert action_requests(sim) == 1
        before = series(first)
        sim.requests.clear()
        state = first
        for _ in range(round(3600 / actions.COLLECTOR.interval)):
            clock.now += actions.COLLECTOR.interval
            state = await actions.COLLECTOR.collect(
                reader, PollContext(previous=state, interval=actions.COLLECTOR.interval))
        assert action_requests(sim) == 2
        assert series(state) == before
        created, destroyed = sim.mutate_fleet("acme", 2, 1, resize=1, power_off=1, power_on=0,
                                              failed_resizes=1)
        sim.requests.clear()
        after = await actions.COLLECTOR.collect(reader, PollContext(previous=state))
        assert action_requests(sim) == 1
    assert (len(created), len(destroyed)) == (2, 1)
    grown = {key: value - before.get(key, 0) for key, value in series(after).items()
             if key[0] == "digitalocean_actions_total" and value != before.get(key, 0)}
    assert grown == {
        ("digitalocean_actions_total", ("create", "completed", "droplet")): 2,
        ("digitalocean_actions_total", ("destroy", "completed", "droplet")): 1,
        ("digitalocean_actions_total", ("resize", "completed", "droplet")): 1,
        ("digitalocean_actions_total", ("resize", "errored", "droplet")): 1,
        ("digitalocean_actions_total", ("power_off", "completed", "droplet")): 1,
    }
    # the failed resize ended 120 s after the change (the simulator's resize time)
    errored = series(after)[("digitalocean_action_last_errored_timestamp_seconds", ("droplet",))]
    assert errored == clock.now + 120
    # the simulator's stuck snapshot is still in progress
    assert series(after)[("digitalocean_actions_in_progress", ("droplet",))] == 1


@pytest.mark.parametrize(("droplets", "pages_read"), [(10, 1), (420, 3), (1400, 5)])
async def test_the_first_poll_pages_the_backlog_up_to_five_pages(droplets: int, pages_read: int) -> None:
    async with simulated(FleetSpec(seed=5, droplets=droplets, off_droplets=0), Clock()) as (sim, reader):
        total = int(httpx.get(f"{sim.url}/v2/actions?per_page=1",
                              headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()["meta"]["total"])
        sim.requests.clear()
        state = await actions.fetch(reader)
        assert action_requests(sim) == min(math.ceil(total / 200), 5) == pages_read
    counted = sum(v for (name, _), v in series(state).items() if name == "digitalocean_actions_total")
    assert counted == min(total, 1000) - len(state.pending)


async def test_a_token_without_actions_read_disables_only_this_collector(
    tmp_path: Path, log_stream: io.StringIO,
) -> None:
    clock = Clock()
    async with simulated(FleetSpec(seed=3, droplets=5), clock) as (sim, _):
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=30, user_agent="t",
                                    observer=Quiet(), clock=SystemClock(), rng=random.Random(1))
        budget = RequestBudget(5000, SystemClock(), 5000)
        token = InlineToken(SCOPED.token)
        source = TokenSource(token, {})
        account = AccountRuntime(AccountSettings("acme", token, "accounts[0].token"), source,
                                 client.account("acme", lambda: SCOPED.token, budget), budget,
                                 classify({"scopes": ["droplet:read"]}, 0))
        collectors = (droplets.COLLECTOR, actions.COLLECTOR)
        poller = Poller(collectors=collectors,
                        settings={c.name: CollectorSettings(True, 60, 180) for c in collectors},
                        store=SnapshotStore(), token_policy=TokenPolicy(), clock=SystemClock(),
                        log=get_logger("test"), remember_secret=lambda s: None)
        poller.accounts = [account]
        try:
            assert not (await poller.poll_once(account, actions.COLLECTOR)).ok
            assert (await poller.poll_once(account, droplets.COLLECTOR)).ok
        finally:
            await poller.stop()
            await client.aclose()
    assert account.state("actions").missing_scope == "actions:read"
    assert not account.state("actions").enabled
    assert account.state("droplets").enabled
    [error] = [json.loads(line) for line in log_stream.getvalue().splitlines()
               if json.loads(line)["level"] == "error"]
    assert (error["collector"], error["scope"]) == ("actions", "actions:read")
