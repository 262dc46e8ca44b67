"""The request budget planner: measured cost per poll, stretched intervals, and a 50,000-Droplet
fleet kept under the budget, counted by the simulator."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import random
import time

import pytest

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, droplet_metrics
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.planner import PLANNING_SHARE, plan
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.snapshot import SnapshotStore
from exporter.tokens import InlineToken, TokenSource
from tests.conftest import READ_TOKEN


def test_a_plan_that_fits_keeps_the_intervals() -> None:
    result = plan({"droplets": 2, "billing": 2}, {"droplets": 60.0, "billing": 3600.0}, 4000)
    assert result.planned_per_hour == 2 * 60 + 2
    assert result.factor == 1.0
    assert result.intervals == {"droplets": 60.0, "billing": 3600.0}


def test_a_plan_over_budget_stretches_every_interval_alike() -> None:
    result = plan({"droplets": 250, "volumes": 125}, {"droplets": 60.0, "volumes": 60.0}, 4000)
    assert result.planned_per_hour == 375 * 60
    assert result.factor == pytest.approx(22500 / (4000 * PLANNING_SHARE))
    assert result.intervals["droplets"] == pytest.approx(60 * result.factor)
    stretched = sum(n * 3600 / result.intervals[c] for c, n in (("droplets", 250), ("volumes", 125)))
    assert stretched == pytest.approx(4000 * PLANNING_SHARE)


def test_collectors_not_yet_polled_count_as_one_request() -> None:
    assert plan({}, {"a": 3600.0, "b": 1800.0}, 4000).planned_per_hour == 3


async def test_fifty_thousand_droplets_stay_under_the_budget(log_stream: io.StringIO) -> None:
    """Poll every collector once against a 50,000-Droplet fleet (volumes, snapshots and the rest
    in proportion), let the planner stretch the default intervals, and check the simulator's own
    request count per poll against the budget."""
    started = time.monotonic()
    fleet = FleetSpec(seed=9, droplets=50_000, volumes=25_000)
    config = SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),), fleet=fleet),),
        requests_per_hour=1_000_000, requests_per_minute=1_000_000,
    )
    with Simulator(config) as sim:
        built = time.monotonic() - started

        class Quiet:
            def observe(self, *args: object) -> None:
                pass

        clock = SystemClock()
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=60, user_agent="t",
                                    observer=Quiet(), clock=clock, rng=random.Random(1))
        # the real hourly budget; no per-minute pacing, so the measurement is quick
        budget = RequestBudget(4000, clock, per_minute=1_000_000)
        source = TokenSource(InlineToken(READ_TOKEN), {})
        account = AccountRuntime(AccountSettings("big", InlineToken(READ_TOKEN), "x"), source,
                                 client.account("big", lambda: READ_TOKEN, budget), budget,
                                 classify({"scopes": ["read"]}, 0))
        settings = {c.name: CollectorSettings(c.enabled_by_default, c.interval, 3 * c.interval)
                    for c in COLLECTORS}
        poller = Poller(collectors=COLLECTORS, settings=settings, store=SnapshotStore(),
                        token_policy=TokenPolicy(), clock=clock, log=get_logger("t"),
                        remember_secret=lambda s: None)
        poller.accounts = [account]
        counted: dict[str, int] = {}
        # The collectors that read details per object (`requests_for`: a request per database,
        # cluster or load balancer) are planned from that count before they run, not measured
        # here: 50,000 Droplets come with a thousand clusters of each kind.
        for collector in [c for c in poller.collectors_of(account) if c.requests_for is None]:
            sim.requests.clear()
            snapshot = await poller.poll_once(account, collector)
            assert snapshot.ok, (collector.name, snapshot.error)
            counted[collector.name] = len(sim.requests.entries())
        await client.aclose()
    # what the poller measured is what the simulator served, collector by collector
    assert account.requests_per_poll == counted
    assert counted["droplets"] == 250 + 1  # 50,000 Droplets in pages of 200, and the GPU list
    assert account.requests_per_poll["volumes"] == 125

    intervals = {name: s.interval for name, s in settings.items() if s.enabled}
    result = plan(counted, intervals, 4000)
    assert result.planned_per_hour > 4000  # the defaults alone would blow the budget
    hourly = sum(n * 3600 / result.intervals[name] for name, n in counted.items())
    assert hourly <= 4000 * PLANNING_SHARE + 1e-6
    assert result.intervals["droplets"] > 60
    warnings = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    stretched = [w for w in warnings if "stretched" in w["event"]]
    assert stretched  # said once, and again only when the stretch grows by more than 10 %
    assert stretched[-1]["planned_requests_per_hour"] <= round(account.plan.planned_per_hour)
    assert account.plan.planned_per_hour == pytest.approx(result.planned_per_hour)
    print(f"\nfleet built in {built:.1f}s; one poll of everything: {sum(counted.values())} "
          f"requests; planned {result.planned_per_hour:.0f}/h at the default intervals, "
          f"stretched {result.factor:.2f}x to {hourly:.0f}/h; droplets every "
          f"{result.intervals['droplets']:.0f}s")



def test_monitoring_collectors_are_stretched_first_and_the_others_keep_their_intervals() -> None:
    # 300 Droplets x 14 requests every minute: 252,000 requests an hour wanted
    result = plan({"droplets": 2, "billing": 2, "droplet_metrics": 4200},
                  {"droplets": 60.0, "billing": 3600.0, "droplet_metrics": 60.0}, 5000,
                  monitoring={"droplet_metrics"}, per_object={"droplet_metrics": 14})
    assert result.factor == 1.0
    assert result.intervals["droplets"] == 60.0
    assert result.intervals["billing"] == 3600.0
    room = 5000 * PLANNING_SHARE - (2 * 60 + 2)
    assert result.intervals["droplet_metrics"] == pytest.approx(4200 * 3600 / room)
    assert result.monitoring_factor == pytest.approx(result.intervals["droplet_metrics"] / 60)
    assert result.effective_per_hour == pytest.approx(5000 * PLANNING_SHARE)
    assert not result.overflow


def test_a_selection_that_cannot_fit_at_the_longest_interval_is_an_overflow() -> None:
    result = plan({"droplets": 10, "droplet_metrics": 14_000},
                  {"droplets": 60.0, "droplet_metrics": 300.0}, 4000,
                  monitoring={"droplet_metrics"}, per_object={"droplet_metrics": 14})
    overflow = result.overflow["droplet_metrics"]
    room = 4000 * PLANNING_SHARE - 600
    assert overflow.available_per_hour == pytest.approx(room)
    assert overflow.needed_per_hour == pytest.approx(14_000 / 3)
    # the most Droplets whose 14 requests every 3 hours fit in what is left
    assert overflow.fits == int(room * 3 // 14)
    assert overflow.fits * 14 / 3 <= room < (overflow.fits + 1) * 14 / 3
    assert result.per_hour["droplet_metrics"] == 0.0  # refused, so it spends nothing
    assert result.factor == 1.0


def test_when_the_others_alone_exceed_the_budget_they_stretch_and_monitoring_waits() -> None:
    result = plan({"droplets": 250, "droplet_metrics": 14},
                  {"droplets": 60.0, "droplet_metrics": 300.0}, 4000,
                  monitoring={"droplet_metrics"}, per_object={"droplet_metrics": 14})
    assert result.overflow["droplet_metrics"].fits == 0
    assert result.factor == pytest.approx(250 * 60 / (4000 * PLANNING_SHARE))
    assert result.effective_per_hour == pytest.approx(4000 * PLANNING_SHARE)


async def test_300_droplets_every_metric_every_minute_fit_by_stretching_only_the_metrics(
    log_stream: io.StringIO,
) -> None:
    """Issue 14: 300 Droplets, all selected, every metric group, every minute (252,000 requests
    an hour wanted) against the default budget. The planner stretches droplet_metrics alone:
    each Droplet is read every stretched interval, the collector polling every minute a slice
    of them, and the simulator's own counters show an hour of that under the budget, while
    every inventory and billing collector keeps its interval."""
    fleet = FleetSpec(seed=11, droplets=300)
    config = SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),), fleet=fleet),),
        requests_per_hour=1_000_000, requests_per_minute=1_000_000,
    )
    with Simulator(config) as sim:

        class Quiet:
            def observe(self, *args: object) -> None:
                pass

        clock = SystemClock()
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=60, user_agent="t",
                                    observer=Quiet(), clock=clock, rng=random.Random(1))
        budget = RequestBudget(4000, clock, per_minute=1_000_000)
        account = AccountRuntime(AccountSettings("big", InlineToken(READ_TOKEN), "x"),
                                 TokenSource(InlineToken(READ_TOKEN), {}),
                                 client.account("big", lambda: READ_TOKEN, budget), budget,
                                 classify({"scopes": ["read"]}, 0))
        settings = {c.name: CollectorSettings(c.enabled_by_default, c.interval, 3 * c.interval,
                                              metrics=c.metric_groups)
                    for c in COLLECTORS}
        settings["droplet_metrics"] = CollectorSettings(True, 60, 180,
                                                        metrics=droplet_metrics.COLLECTOR.metric_groups)
        poller = Poller(collectors=COLLECTORS, settings=settings, store=SnapshotStore(),
                        token_policy=TokenPolicy(), clock=clock, log=get_logger("t"),
                        remember_secret=lambda s: None)
        poller.accounts = [account]
        counted: dict[str, int] = {}
        read: set[str] = set()
        for collector in poller.collectors_of(account):
            sim.requests.clear()
            assert (await poller.poll_once(account, collector)).ok, collector.name
            counted[collector.name] = len(sim.requests.entries())
            if collector is droplet_metrics.COLLECTOR:
                read = {e.path for e in sim.requests.entries()}
        active = sum(1 for d in sim.fleet("big").droplets if d.status == "active")
        wanted = account.requests_per_poll["droplet_metrics"]
        assert wanted == 14 * active  # every Droplet with the metrics agent running, 14 endpoints
        cap = poller.request_cap(account, droplet_metrics.COLLECTOR)
        assert cap is not None
        assert counted["droplet_metrics"] <= cap  # one poll: one slice, whole Droplets
        # the rest of the Droplets, slice after slice, each read once: the poller would poll a
        # slice a minute; here they are read back to back (through a reader of their own, so
        # the real hourly budget of the account above is not spent in a few seconds)
        sim.requests.clear()
        polls = 1
        fast = client.account("big", lambda: READ_TOKEN,
                              RequestBudget(1_000_000, clock, per_minute=1_000_000))
        snapshot = poller.store.get(("big", "droplet_metrics"))
        assert snapshot is not None
        previous = snapshot.data
        context = poller.context(account, droplet_metrics.COLLECTOR)
        while len({p.split("host_id=")[1].split("&")[0] for p in read if "host_id=" in p}) < active:
            previous = await droplet_metrics.COLLECTOR.collect(
                fast, dataclasses.replace(context, previous=previous))
            assert len(sim.requests.entries()) <= cap
            read |= {e.path for e in sim.requests.entries()}
            sim.requests.clear()
            polls += 1
        await client.aclose()
    interval = poller.interval_of(account, "droplet_metrics")
    # whole Droplets per slice (14 requests each, within the cap), every one read in turn
    assert polls == math.ceil(active / (cap // 14))
    # a slice a minute reads every Droplet about once per stretched interval
    assert polls * 60 == pytest.approx(interval, rel=0.1)
    for name in counted:  # the inventory and billing keep their configured intervals
        if name != "droplet_metrics":
            assert poller.interval_of(account, name) == settings[name].interval, name
    hourly = sum(n * 3600 / settings[name].interval for name, n in counted.items()
                 if name != "droplet_metrics") + cap * 60
    assert hourly <= 4000 * PLANNING_SHARE + cap  # within the plan (one slice of rounding)
    assert account.plan.effective_per_hour <= 4000 * PLANNING_SHARE + 1e-6
    print(f"\n{active} Droplets x 14 = {wanted} requests per full read; each read every "
          f"{interval:.0f}s, {cap} requests a minute; {hourly:.0f} requests an hour in all")
