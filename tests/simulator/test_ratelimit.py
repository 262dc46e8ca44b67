"""Per-token rate limits: rolling hour and minute windows, headers everywhere, on a manual clock."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import pytest

from exporter.simulator import Simulator, SimulatorConfig
from exporter.simulator.ratelimit import RateLimiter

from .conftest import (
    BILLING_ONLY,
    EXPIRED,
    FULL_ACCESS,
    READ_ONLY,
    START,
    ManualClock,
    account_config,
)

RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


def rate(response: httpx.Response) -> tuple[int, int, int]:
    limit, remaining, reset = (int(response.headers[name]) for name in RATE_HEADERS)
    return limit, remaining, reset


@pytest.mark.parametrize(
    ("token", "path", "status"),
    [
        (READ_ONLY, "/v2/droplets", 200),
        (READ_ONLY, "/v1/oauth/token/info", 200),
        (READ_ONLY, "/v2/nothing-here", 404),
        (READ_ONLY, "/v2/droplets?page=zero", 400),
        (BILLING_ONLY, "/v2/droplets", 403),
        (EXPIRED, "/v2/account", 401),
        (None, "/v2/account", 401),
        ("not-a-known-token", "/v1/oauth/token/info", 401),
    ],
)
def test_every_response_carries_the_rate_limit_headers(
    acme: Simulator, connect: Callable[..., httpx.Client], token: object, path: str, status: int
) -> None:
    response = connect(acme, token).get(path)
    assert response.status_code == status
    assert rate(response) == (5000, 4999, math.ceil(START + 3600))
    assert response.headers["x-request-id"]
    assert "retry-after" not in response.headers


def test_remaining_counts_down_and_reset_is_when_the_oldest_request_expires(
    acme: Simulator, connect: Callable[..., httpx.Client], clock: ManualClock
) -> None:
    client = connect(acme, READ_ONLY)
    assert rate(client.get("/v2/account")) == (5000, 4999, START + 3600)
    clock.advance(10.5)
    assert rate(client.get("/v2/droplets")) == (5000, 4998, START + 3600)
    clock.advance(3590)  # the first request expires at START + 3600
    assert rate(client.get("/v2/volumes")) == (5000, 4998, math.ceil(START + 10.5 + 3600))


def test_each_token_has_its_own_windows(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    for _ in range(3):
        connect(acme, READ_ONLY).get("/v2/account")
    assert rate(connect(acme, FULL_ACCESS).get("/v2/account"))[1] == 4999


def test_burst_limit_answers_429_with_retry_after(
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Callable[..., httpx.Client],
    clock: ManualClock,
) -> None:
    simulator = start_simulator(account_config(requests_per_hour=100, requests_per_minute=5))
    client = connect(simulator, READ_ONLY)
    for _ in range(5):
        assert client.get("/v2/account").status_code == 200
        clock.advance(2)
    refused = client.get("/v2/droplets")
    assert refused.status_code == 429
    assert refused.json() == {
        "id": "too_many_requests",
        "message": "API rate limit exceeded.",
        "request_id": refused.headers["x-request-id"],
    }
    assert refused.headers["retry-after"] == "50"  # the first request leaves the minute at +60
    assert rate(refused) == (100, 95, START + 3600)
    clock.advance(50)
    allowed = client.get("/v2/droplets")
    assert allowed.status_code == 200
    assert rate(allowed) == (100, 94, START + 3600), "the refused request was not counted"


def test_hourly_limit_answers_429_without_retry_after_and_rolls(
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Callable[..., httpx.Client],
    clock: ManualClock,
) -> None:
    simulator = start_simulator(account_config(requests_per_hour=4, requests_per_minute=100))
    client = connect(simulator, READ_ONLY)
    sent = []
    for _ in range(4):
        sent.append(clock.now)
        assert client.get("/v2/account").status_code == 200
        clock.advance(600)
    refused = client.get("/v2/account")
    assert refused.status_code == 429
    assert "retry-after" not in refused.headers
    assert rate(refused) == (4, 0, START + 3600)

    clock.now = sent[0] + 3600  # the oldest request expires: one slot opens
    assert rate(client.get("/v2/account")) == (4, 0, sent[1] + 3600)
    assert client.get("/v2/account").status_code == 429
    clock.now = sent[2] + 3600  # two more expire
    assert rate(client.get("/v2/account")) == (4, 1, sent[3] + 3600)


def test_rate_limiter_windows_directly() -> None:
    limiter = RateLimiter(per_hour=3, per_minute=2)
    assert limiter.admit("a", 100.0).allowed
    assert limiter.admit("a", 100.5).allowed
    burst = limiter.admit("a", 101.0)
    assert (burst.allowed, burst.retry_after, burst.remaining) == (False, 59, 1)
    assert limiter.admit("a", 160.0).allowed  # 100.0 left the minute window at 160.0
    hourly = limiter.admit("a", 230.0)
    assert (hourly.allowed, hourly.retry_after, hourly.remaining, hourly.reset) == (
        False,
        None,
        0,
        3700,
    )
    assert limiter.current("a", 3700.0).remaining == 1
    assert limiter.admit("b", 230.0).remaining == 2
