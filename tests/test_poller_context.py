"""What a poll knows besides the API (PollContext): its filter and metric groups, the data of the
collectors it reads, its own previous data; a Monitoring API collector's cost known before it
runs, and a selection too large for the budget refused with the most objects that fit."""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.collectors.base import (
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    Selection,
)
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.planner import MONITORING_MAX_INTERVAL, PLANNING_SHARE
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify
from exporter.snapshot import SnapshotStore
from exporter.tokens import InlineToken, TokenSource
from tests.conftest import READ_TOKEN, FakeClock

PER_OBJECT = 14
SEEN: list[PollContext] = []


async def fetch_inventory(reader: ResourceReader) -> tuple[dict[str, Any], ...]:
    return tuple({"id": n, "tags": ["monitored"] if n % 2 else []} for n in range(1, 301))


def inventory_samples(data: tuple[dict[str, Any], ...]) -> Iterator[Sample]:
    for item in data:
        yield "inventory_info", (str(item["id"]),), 1


def selected(context: PollContext) -> list[int]:
    return [item["id"] for item in context.inputs.get("inventory", ())
            if context.selection.matches(object_id=item["id"], tags=item["tags"])]


async def fetch_watch(reader: ResourceReader, context: PollContext) -> tuple[int, ...]:
    SEEN.append(context)
    return tuple(selected(context))


async def fetch_watch_plain(reader: ResourceReader) -> tuple[int, ...]:
    return await fetch_watch(reader, PollContext())


def watch_samples(data: tuple[int, ...]) -> Iterator[Sample]:
    for n in data:
        yield "watch_value", (str(n),), float(n)


INVENTORY: Collector[Any] = Collector(
    name="inventory", summary="x", endpoints=("/v2/x",), scope="x:read", interval=60,
    families=(Family("inventory_info", "x", ("id",)),), fetch=fetch_inventory,
    samples=inventory_samples, id_label="id", filters=("tag", "id"),
)
WATCH: Collector[Any] = Collector(
    name="watch", summary="x", endpoints=("/v2/monitoring/x",), scope="monitoring:read",
    interval=60, families=(Family("watch_value", "x", ("id",)),), fetch=fetch_watch_plain,
    samples=watch_samples, id_label="id", filters=("tag", "id"), inputs=("inventory",),
    metric_groups=("cpu", "memory"), requests_for=lambda c: PER_OBJECT * len(selected(c)),
    requests_per_object=lambda c: PER_OBJECT, fetch_with=fetch_watch,
)


def runtime(name: str, budget: RequestBudget, client: DigitalOceanClient,
            own: dict[str, CollectorSettings] | None = None) -> AccountRuntime:
    settings = AccountSettings(name, InlineToken(READ_TOKEN), "x", own)
    return AccountRuntime(settings, TokenSource(InlineToken(READ_TOKEN), {}),
                          client.account(name, lambda: READ_TOKEN, budget), budget,
                          classify({"scopes": ["read"]}, 0))


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[DigitalOceanClient]:
    made = DigitalOceanClient(
        api_url="https://api.digitalocean.com", auth_url="https://cloud.digitalocean.com",
        timeout=5, user_agent="t", clock=clock, rng=random.Random(1),
        observer=type("O", (), {"observe": lambda *a: None})(),
    )
    yield made
    await made.aclose()


def poller_for(clock: FakeClock, watch: CollectorSettings) -> tuple[Poller, SnapshotStore]:
    store = SnapshotStore()
    settings = {"inventory": CollectorSettings(True, 60, 180), "watch": watch}
    poller = Poller(collectors=(INVENTORY, WATCH), settings=settings, store=store,
                    token_policy=TokenPolicy(), clock=clock, log=get_logger("test"),
                    remember_secret=lambda s: None)
    return poller, store


async def test_a_poll_gets_its_filter_metrics_inputs_and_previous_data(
    clock: FakeClock, client: DigitalOceanClient
) -> None:
    SEEN.clear()
    watch = CollectorSettings(True, 600, 1800, Selection(tags=("monitored",)), ("memory",))
    poller, store = poller_for(clock, watch)
    account = runtime("production", RequestBudget(5000, clock), client)
    poller.accounts = [account]
    await poller.poll_once(account, INVENTORY)
    first = await poller.poll_once(account, WATCH)
    assert first.ok
    assert len(first.data) == 150
    second = await poller.poll_once(account, WATCH)
    assert second.ok
    context = SEEN[-1]
    assert context.metrics == ("memory",)
    assert context.selection.tags == ("monitored",)
    assert context.inputs["inventory"] == store.get(("production", "inventory")).data  # type: ignore[union-attr]
    assert context.previous == first.data
    assert SEEN[0].previous is None
    # 150 objects x 14 requests every 10 minutes is more than 5,000 an hour: each object is
    # read every stretched interval, the collector polling every 10 minutes a slice of them
    stretched = poller.interval_of(account, "watch")
    assert stretched > 600
    assert context.interval == stretched
    assert context.request_cap == math.ceil(150 * PER_OBJECT * 600 / stretched)
    # its cost was known before it ran, and the plan keeps counting it (not what one poll,
    # a slice, measured: this fake made no request at all)
    assert account.requests_per_poll["watch"] == 150 * PER_OBJECT
    assert account.per_object["watch"] == PER_OBJECT


async def test_a_selection_over_budget_is_refused_without_a_request(
    clock: FakeClock, client: DigitalOceanClient, log_stream: io.StringIO
) -> None:
    watch = CollectorSettings(True, 60, 180, metrics=("cpu", "memory"))
    poller, _store = poller_for(clock, watch)
    budget = RequestBudget(1000, clock)  # 300 objects x 14 every 3 h: 1,400 an hour
    account = runtime("production", budget, client)
    poller.accounts = [account]
    await poller.poll_once(account, INVENTORY)
    failed = await poller.poll_once(account, WATCH)
    await poller.poll_once(account, WATCH)
    assert not failed.ok
    assert budget.used_last_hour() == 0
    room = 1000 * PLANNING_SHARE - 60  # the inventory: 1 request a minute
    fits = int(room * MONITORING_MAX_INTERVAL / 3600 // PER_OBJECT)
    assert failed.error is not None
    assert f"at most {fits} of the selected objects fit" in failed.error
    assert "narrow collectors.watch.filter or .metrics" in failed.error
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    said = [e for e in lines if e["level"] == "error" and e.get("collector") == "watch"]
    assert len(said) == 1  # once, not once per poll


async def test_a_selection_that_fits_stretches_only_the_monitoring_interval(
    clock: FakeClock, client: DigitalOceanClient
) -> None:
    watch = CollectorSettings(True, 60, 180, Selection(tags=("monitored",)), ("cpu",))
    poller, _store = poller_for(clock, watch)
    account = runtime("production", RequestBudget(5000, clock), client)
    poller.accounts = [account]
    await poller.poll_once(account, INVENTORY)
    context = poller.context(account, WATCH)
    poller._estimate(account, WATCH, context)
    assert account.requests_per_poll["watch"] == 150 * PER_OBJECT
    assert account.plan.intervals["inventory"] == 60
    room = 5000 * PLANNING_SHARE - 60
    assert poller.interval_of(account, "watch") == pytest.approx(150 * PER_OBJECT * 3600 / room)
    assert not account.plan.overflow


async def test_each_account_runs_its_own_collectors(
    clock: FakeClock, client: DigitalOceanClient
) -> None:
    poller, _store = poller_for(clock, CollectorSettings(False, 60, 180))
    budget = RequestBudget(5000, clock)
    own = {"inventory": CollectorSettings(True, 60, 180), "watch": CollectorSettings(True, 60, 180)}
    watched = runtime("production", budget, client, own)
    plain = runtime("staging", budget, client)
    poller.accounts = [watched, plain]
    # readiness does not wait for a Monitoring API collector (its requests yield to the rest)
    assert poller.ready() == (False, ["production/inventory", "staging/inventory"])
    assert [c.name for c in poller.collectors_of(watched)] == ["inventory", "watch"]
    assert [c.name for c in poller.collectors_of(plain)] == ["inventory"]
