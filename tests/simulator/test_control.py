"""The request log and the `/_simulator/` control API."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from exporter.simulator import Simulator, SimulatorConfig

from .conftest import BILLING_ONLY, OTHER_ACCOUNT, READ_ONLY, START, ManualClock, account_config

Connect = Callable[..., httpx.Client]


def test_request_log_counts_per_endpoint_account_token_and_status(
    acme: Simulator, connect: Connect, clock: ManualClock
) -> None:
    reader = connect(acme, READ_ONLY)
    for page in (1, 2, 3):
        reader.get("/v2/droplets", params={"page": page})
    reader.get("/v2/droplets/999")
    clock.advance(5)
    connect(acme, BILLING_ONLY).get("/v2/droplets")
    connect(acme, OTHER_ACCOUNT).get("/v2/account")
    connect(acme, "sim-secret-unknown").get("/v2/account")

    log = acme.requests
    assert log.count() == 7
    assert log.count(endpoint="/v2/droplets") == 4
    assert log.count(endpoint="/v2/droplets", token_name="read-only") == 3
    assert log.count(endpoint="/v2/droplets/{droplet_id}", status=404) == 1
    assert log.count(endpoint="/v2/droplets", status=403) == 1
    assert log.count(account="acme") == 5
    assert log.count(account="other") == 1
    assert log.count(status=401) == 1
    first, last = log.entries()[0], log.entries()[-1]
    assert (first.method, first.endpoint, first.path, first.account, first.token_name) == (
        "GET",
        "/v2/droplets",
        "/v2/droplets?page=1",
        "acme",
        "read-only",
    )
    assert (first.status, first.time) == (200, START)
    assert (last.account, last.token_name, last.status, last.time) == (None, None, 401, START + 5)
    log.clear()
    assert log.count() == 0


def test_the_request_log_is_bounded(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    config = account_config()
    config = SimulatorConfig(accounts=config.accounts, request_log_limit=3)
    simulator = start_simulator(config)
    client = connect(simulator, READ_ONLY)
    for page in range(1, 6):
        client.get("/v2/droplets", params={"page": page})
    assert [entry.path for entry in simulator.requests.entries()] == [
        "/v2/droplets?page=3",
        "/v2/droplets?page=4",
        "/v2/droplets?page=5",
    ]


def test_control_faults_round_trip(acme: Simulator, connect: Connect) -> None:
    control = connect(acme)
    api = connect(acme, READ_ONLY)
    response = control.post(
        "/_simulator/faults",
        json={"faults": [{"kind": "error", "endpoint": "/v2/droplets", "page": 3, "count": 1}]},
    )
    assert response.json() == {"faults": 1}
    faults = control.get("/_simulator/faults").json()["faults"]
    assert (faults[0]["kind"], faults[0]["endpoint"], faults[0]["page"]) == (
        "error",
        "/v2/droplets",
        3,
    )
    assert api.get("/v2/droplets", params={"page": 3}).status_code == 500
    assert control.delete("/_simulator/faults").status_code == 200
    assert acme.faults == ()
    control.post("/_simulator/faults", json=[{"kind": "error", "status": 503}])
    assert api.get("/v2/account").status_code == 503


def test_control_refuses_invalid_faults_with_the_key_path(
    acme: Simulator, connect: Connect
) -> None:
    control = connect(acme)
    response = control.post("/_simulator/faults", json={"faults": [{"kind": "error", "pages": 3}]})
    assert response.status_code == 400
    assert "faults[0].pages: unknown key" in response.json()["message"]
    assert control.post("/_simulator/faults", content=b"{nope").status_code == 400


def test_control_request_log(acme: Simulator, connect: Connect) -> None:
    api = connect(acme, READ_ONLY)
    api.get("/v2/account")
    api.get("/v2/droplets")
    api.get("/v2/droplets", params={"page": "x"})
    control = connect(acme)
    everything = control.get("/_simulator/requests").json()
    assert everything["count"] == 3
    assert "sim-secret" not in control.get("/_simulator/requests").text
    filtered = control.get(
        "/_simulator/requests", params={"endpoint": "/v2/droplets", "status": "400"}
    ).json()
    assert filtered["count"] == 1
    assert filtered["requests"][0]["path"] == "/v2/droplets?page=x"
    assert filtered["requests"][0]["token_name"] == "read-only"
    control.delete("/_simulator/requests")
    assert control.get("/_simulator/requests").json()["count"] == 0
    assert acme.requests.count() == 0, "control calls are not logged"


def test_control_revokes_tokens(acme: Simulator, connect: Connect) -> None:
    control = connect(acme)
    assert control.post("/_simulator/tokens/read-only/revoke").json() == {"revoked": "read-only"}
    assert connect(acme, READ_ONLY).get("/v2/account").status_code == 401
    assert control.post("/_simulator/tokens/nobody/revoke").status_code == 404


def test_control_mutates_fleets(acme: Simulator, connect: Connect) -> None:
    control = connect(acme)
    before = {int(d.id) for d in acme.fleet("acme").droplets}
    response = control.post(
        "/_simulator/fleet/acme", json={"create_droplets": 4, "destroy_droplets": 2}
    )
    changes = response.json()
    assert len(changes["created"]) == 4
    assert len(changes["destroyed"]) == 2
    after = {int(d.id) for d in acme.fleet("acme").droplets}
    assert after == (before - set(changes["destroyed"])) | set(changes["created"])
    assert connect(acme, READ_ONLY).get("/v2/droplets").json()["meta"]["total"] == 47
    assert control.post("/_simulator/fleet/nobody", json={"create_droplets": 1}).status_code == 404
    assert control.post("/_simulator/fleet/acme", json={"create_droplets": -1}).status_code == 400


def test_control_state_names_tokens_but_never_secrets(acme: Simulator, connect: Connect) -> None:
    response = connect(acme).get("/_simulator/state")
    state = response.json()
    assert state["accounts"][0]["name"] == "acme"
    assert "read-only" in state["accounts"][0]["tokens"]
    assert state["accounts"][0]["droplets"] == 45
    load_balancers = acme.fleet("acme").resources.objects("load_balancers")
    assert state["accounts"][0]["load_balancers"] == len(load_balancers)
    assert state["accounts"][0]["registry"] is True
    assert "sim-secret" not in response.text


def test_unknown_control_actions_are_404(acme: Simulator, connect: Connect) -> None:
    assert connect(acme).get("/_simulator/nothing").status_code == 404
    assert connect(acme).put("/_simulator/faults").status_code == 404


def non_loopback_address() -> str | None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a source address
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_control_answers_loopback_clients_only(clock: ManualClock, connect: Connect) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    simulator = Simulator(account_config(), clock=clock)
    simulator.start(host=address, port=0)
    try:
        client = connect(simulator)
        response = client.get("/_simulator/state")
        assert response.status_code == 403
        assert response.json()["id"] == "forbidden"
        assert client.post("/_simulator/tokens/read-only/revoke").status_code == 403
        assert connect(simulator, READ_ONLY).get("/v2/account").status_code == 200
    finally:
        simulator.stop()
