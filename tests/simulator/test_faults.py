"""Every fault kind, its filters and its counters, over real HTTP."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from exporter.simulator import Fault, FleetSpec, Simulator, SimulatorConfig

from .conftest import FULL_ACCESS, OTHER_ACCOUNT, READ_ONLY, START, ManualClock, account_config

Start = Callable[[SimulatorConfig], Simulator]
Connect = Callable[..., httpx.Client]


def test_latency_delays_the_answer(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="latency", endpoint="/v2/account", seconds=0.3)])
    client = connect(acme, READ_ONLY)
    started = time.monotonic()
    response = client.get("/v2/account")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert acme.requests.entries()[-1].fault == "latency"
    started = time.monotonic()
    assert client.get("/v2/droplets").status_code == 200
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize(
    ("status", "error_id"),
    [(500, "server_error"), (502, "bad_gateway"), (503, "service_unavailable")],
)
def test_error_answers_the_real_error_body(
    acme: Simulator, connect: Connect, status: int, error_id: str
) -> None:
    acme.set_faults([Fault(kind="error", endpoint="/v2/droplets", status=status)])
    response = connect(acme, READ_ONLY).get("/v2/droplets")
    assert response.status_code == status
    body = response.json()
    assert body["id"] == error_id
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["ratelimit-remaining"] == "4999"


def test_page_3_of_5_fails_once(start_simulator: Start, connect: Connect) -> None:
    simulator = start_simulator(account_config(FleetSpec(seed=1, droplets=100)))
    simulator.set_faults(
        [Fault(kind="error", endpoint="/v2/droplets", page=3, status=500, count=1)]
    )
    client = connect(simulator, READ_ONLY)
    statuses = [
        client.get("/v2/droplets", params={"page": page}).status_code for page in range(1, 6)
    ]
    assert statuses == [200, 200, 500, 200, 200]
    retry = client.get("/v2/droplets", params={"page": 3})
    assert retry.status_code == 200
    assert len(retry.json()["droplets"]) == 20
    assert simulator.requests.count(endpoint="/v2/droplets", status=500) == 1


def test_rate_limit_storm_with_retry_after(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="rate_limit", endpoint="/v2/volumes", retry_after=7, count=2)])
    client = connect(acme, READ_ONLY)
    for _ in range(2):
        response = client.get("/v2/volumes")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"
        assert response.json()["id"] == "too_many_requests"
    assert client.get("/v2/volumes").status_code == 200


def test_rate_limit_storm_with_only_the_reset_header(
    acme: Simulator, connect: Connect, clock: ManualClock
) -> None:
    acme.set_faults([Fault(kind="rate_limit", retry_after=None, reset_in=120)])
    clock.advance(0.5)
    response = connect(acme, READ_ONLY).get("/v2/account")
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == str(math.ceil(START + 0.5 + 120))


def test_hang_holds_then_closes_without_an_answer(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="hang", endpoint="/v2/account", seconds=0.3, count=1)])
    client = connect(acme, READ_ONLY)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/v2/account")
    assert time.monotonic() - started >= 0.3
    assert client.get("/v2/account").status_code == 200
    hung = acme.requests.entries()[0]
    assert (hung.status, hung.fault) == (None, "hang")


def test_a_hang_makes_a_client_time_out_and_stop_releases_it(
    start_simulator: Start, connect: Connect
) -> None:
    simulator = start_simulator(account_config())
    simulator.set_faults([Fault(kind="hang", seconds=600)])
    client = connect(simulator, READ_ONLY, timeout=0.2)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v2/account")
    outcome: list[BaseException] = []

    def hold() -> None:
        try:
            connect(simulator, READ_ONLY, timeout=5).get("/v2/account")
        except httpx.HTTPError as error:
            outcome.append(error)

    holder = threading.Thread(target=hold)
    holder.start()
    deadline = time.monotonic() + 5
    while simulator.faults_fired != (2,) and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    simulator.stop()
    holder.join(timeout=5)
    assert time.monotonic() - started < 2
    assert not holder.is_alive()
    assert [type(error) for error in outcome] == [httpx.RemoteProtocolError]


def test_malformed_truncated_json(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="malformed", endpoint="/v2/droplets", style="truncated", count=1)])
    client = connect(acme, READ_ONLY)
    response = client.get("/v2/droplets")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    whole = client.get("/v2/droplets")
    assert whole.content.startswith(response.content)
    assert len(response.content) == len(whole.content) // 2


@pytest.mark.parametrize("status", [None, 504])
def test_malformed_html_proxy_page(acme: Simulator, connect: Connect, status: int | None) -> None:
    acme.set_faults([Fault(kind="malformed", style="html", status=status)])
    response = connect(acme, READ_ONLY).get("/v2/customers/my/balance")
    assert response.status_code == (status or 502)
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<html>")
    assert f"{status or 502} Bad Gateway" in response.text
    assert "ratelimit-limit" not in response.headers


def test_malformed_disconnect_cuts_the_body(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="malformed", style="disconnect", count=1)])
    client = connect(acme, READ_ONLY)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/v2/droplets")
    assert client.get("/v2/droplets").status_code == 200


def test_token_revoked_after_n_requests(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="revoke_token", token="read-only", after=3)])
    client = connect(acme, READ_ONLY)
    assert [client.get("/v2/account").status_code for _ in range(3)] == [200, 200, 200]
    revoked = client.get("/v2/droplets")
    assert revoked.status_code == 401
    assert revoked.json()["id"] == "unauthorized"
    assert client.get("/v1/oauth/token/info").status_code == 401
    assert connect(acme, FULL_ACCESS).get("/v2/account").status_code == 200
    assert acme.requests.count(token_name="read-only", status=401) == 2


def test_churn_changes_the_fleet_between_polls(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="churn", endpoint="/v2/droplets", every=2, create=3, destroy=1)])
    client = connect(acme, READ_ONLY)
    totals = [client.get("/v2/droplets").json()["meta"]["total"] for _ in range(4)]
    assert totals == [45, 47, 47, 49]
    assert acme.requests.entries()[1].fault == "churn"


def test_churn_is_deterministic(start_simulator: Start, connect: Connect) -> None:
    listings = []
    for _ in range(2):
        simulator = start_simulator(account_config())
        simulator.set_faults([Fault(kind="churn", endpoint="/v2/droplets", create=2, destroy=2)])
        client = connect(simulator, READ_ONLY)
        for _ in range(3):
            client.get("/v2/droplets")
        listings.append(client.get("/v2/droplets", params={"per_page": 200}).json()["droplets"])
    assert listings[0] == listings[1]


def test_probability_is_seeded(start_simulator: Start, connect: Connect) -> None:
    patterns = []
    for _ in range(2):
        simulator = start_simulator(account_config())
        simulator.set_faults([Fault(kind="error", endpoint="/v2/account", probability=0.5)])
        client = connect(simulator, READ_ONLY)
        patterns.append([client.get("/v2/account").status_code for _ in range(30)])
    assert patterns[0] == patterns[1]
    assert 5 < patterns[0].count(500) < 25


def test_account_and_token_filters(acme: Simulator, connect: Connect) -> None:
    acme.set_faults(
        [
            Fault(kind="error", account="other", status=503),
            Fault(kind="error", token="full-access", status=502),
        ]
    )
    assert connect(acme, READ_ONLY).get("/v2/account").status_code == 200
    assert connect(acme, OTHER_ACCOUNT).get("/v2/account").status_code == 503
    assert connect(acme, FULL_ACCESS).get("/v2/account").status_code == 502


def test_after_and_count(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="error", endpoint="/v2/volumes", after=2, count=2)])
    client = connect(acme, READ_ONLY)
    statuses = [client.get("/v2/volumes").status_code for _ in range(5)]
    assert statuses == [200, 200, 500, 500, 200]


def test_the_first_answering_fault_ends_the_list(acme: Simulator, connect: Connect) -> None:
    acme.set_faults(
        [Fault(kind="error", status=500, count=1), Fault(kind="error", status=502, count=1)]
    )
    client = connect(acme, READ_ONLY)
    assert [client.get("/v2/account").status_code for _ in range(3)] == [500, 502, 200]


def test_faults_on_token_info(acme: Simulator, connect: Connect) -> None:
    acme.set_faults([Fault(kind="error", endpoint="/v1/oauth/token/info", status=503)])
    client = connect(acme, READ_ONLY)
    assert client.get("/v1/oauth/token/info").status_code == 503
    assert client.get("/v2/account").status_code == 200


def test_set_faults_restarts_counters_and_clear_removes_them(
    acme: Simulator, connect: Connect
) -> None:
    fault = Fault(kind="error", count=1)
    client = connect(acme, READ_ONLY)
    acme.set_faults([fault])
    assert [client.get("/v2/account").status_code for _ in range(2)] == [500, 200]
    acme.set_faults([fault])
    assert [client.get("/v2/account").status_code for _ in range(2)] == [500, 200]
    acme.set_faults([Fault(kind="error")])
    acme.clear_faults()
    assert acme.faults == ()
    assert client.get("/v2/account").status_code == 200


def test_faults_from_the_config_are_active_at_start(
    start_simulator: Start, connect: Connect
) -> None:
    config = account_config()
    config = SimulatorConfig(
        accounts=config.accounts, faults=(Fault(kind="error", endpoint="/v2/account", count=1),)
    )
    simulator = start_simulator(config)
    client = connect(simulator, READ_ONLY)
    assert [client.get("/v2/account").status_code for _ in range(2)] == [500, 200]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "error", "probability": 1.5}, "probability"),
        ({"kind": "churn", "every": 0}, "every"),
        ({"kind": "malformed", "style": "gzip"}, "style"),
    ],
)
def test_invalid_faults_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**fields)  # type: ignore[arg-type]
