"""The per-token request budget: rolling hour, rolling minute, and pauses the API asks for."""

from __future__ import annotations

import pytest

from exporter.budget import BACKGROUND_SHARE, RequestBudget, background, replica_share
from exporter.planner import plan
from tests.conftest import FakeClock


async def test_requests_within_budget_do_not_wait(clock: FakeClock) -> None:
    budget = RequestBudget(per_hour=10, clock=clock, per_minute=10)
    for _ in range(10):
        await budget.acquire()
    assert clock.sleeps == []
    assert budget.used_last_hour() == 10


async def test_per_minute_cap_waits_for_the_oldest_request_to_leave_the_window(
    clock: FakeClock,
) -> None:
    budget = RequestBudget(per_hour=1000, clock=clock, per_minute=3)
    for _ in range(3):
        await budget.acquire()
        clock.advance(10)
    await budget.acquire()  # the first request was 30 s ago: wait 30 s more
    assert clock.sleeps == [pytest.approx(30)]


async def test_hourly_budget_is_a_rolling_window(clock: FakeClock) -> None:
    budget = RequestBudget(per_hour=2, clock=clock, per_minute=10)
    await budget.acquire()
    clock.advance(1000)
    await budget.acquire()
    await budget.acquire()  # waits until the first is an hour old
    assert clock.sleeps == [pytest.approx(2600)]
    clock.advance(500)  # the second request is now 3100 s old, the third 500 s
    assert budget.used_last_hour() == 2
    clock.advance(600)
    assert budget.used_last_hour() == 1


async def test_pause_holds_every_request(clock: FakeClock) -> None:
    budget = RequestBudget(per_hour=100, clock=clock)
    budget.pause(12)
    await budget.acquire()
    assert clock.sleeps == [pytest.approx(12)]
    budget.pause(5)
    budget.pause(2)  # a shorter pause never shortens a longer one
    await budget.acquire()
    assert clock.sleeps[-1] == pytest.approx(5)


def test_per_minute_never_exceeds_per_hour(clock: FakeClock) -> None:
    assert RequestBudget(per_hour=50, clock=clock).per_minute == 50
    assert RequestBudget(per_hour=4000, clock=clock).per_minute == 200


async def test_background_requests_keep_to_their_share_and_leave_the_rest(
    clock: FakeClock,
) -> None:
    """A Monitoring API poll (background) takes at most BACKGROUND_SHARE of a window; the rest
    stays free for inventory and billing, which do not wait behind it."""
    budget = RequestBudget(per_hour=1000, clock=clock, per_minute=20)
    share = int(20 * BACKGROUND_SHARE)
    token = background.set(True)
    try:
        for _ in range(share):
            await budget.acquire()
        assert clock.sleeps == []
    finally:
        background.reset(token)
    for _ in range(20 - share):  # the foreground still has its part of this minute
        await budget.acquire()
    assert clock.sleeps == []
    token = background.set(True)
    try:
        await budget.acquire()  # the background waits for the minute to roll on
    finally:
        background.reset(token)
    assert sum(clock.sleeps) == pytest.approx(60)
    assert budget.used_last_hour() == 21


def test_replicas_share_both_windows(clock: FakeClock) -> None:
    assert replica_share(4000, replicas=1) == (4000, 200)
    assert replica_share(4000, replicas=2) == (2000, 100)
    assert replica_share(5000, 250, 3) == (1666, 83)
    assert replica_share(20, replicas=2) == (10, 10)  # the minute never above the hour
    assert replica_share(1, replicas=10) == (1, 1)
    budget = RequestBudget(4000, clock, replicas=2)
    assert (budget.per_hour, budget.per_minute, budget.replicas) == (2000, 100, 2)


async def test_set_limits_keeps_what_was_spent(clock: FakeClock) -> None:
    budget = RequestBudget(per_hour=4, clock=clock)
    for _ in range(3):
        await budget.acquire()
    budget.set_limits(4, replicas=2)  # a reload: now 2 an hour, 3 already spent
    assert (budget.per_hour, budget.per_minute) == (2, 2)
    assert budget.used_last_hour() == 3
    assert budget._wait(clock.monotonic()) > 0  # must wait for the hour to roll


def test_two_replicas_plan_with_half_the_budget(clock: FakeClock) -> None:
    """The planner plans each account with its budget's per_hour: with api.replicas: 2 the
    intervals stretch twice as far, and the two processes together plan what one would."""
    costs, intervals = {"droplets": 20, "volumes": 2}, {"droplets": 60.0, "volumes": 60.0}
    one = plan(costs, intervals, RequestBudget(1000, clock).per_hour)
    two = plan(costs, intervals, RequestBudget(1000, clock, replicas=2).per_hour)
    assert one.effective_per_hour == pytest.approx(900)  # PLANNING_SHARE of 1000
    assert two.effective_per_hour == pytest.approx(450)
    assert two.factor == pytest.approx(2 * one.factor)
