"""Starting and stopping, keep-alive, and the HTTP details a client depends on."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from exporter.simulator import Simulator

from .conftest import READ_ONLY, ManualClock, account_config


def test_url_before_start_and_double_start(clock: ManualClock) -> None:
    simulator = Simulator(account_config(), clock=clock)
    with pytest.raises(RuntimeError, match="not started"):
        _ = simulator.url
    simulator.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            simulator.start()
    finally:
        simulator.stop()
    simulator.stop()  # a second stop is harmless


def test_context_manager_starts_on_loopback_and_stops(clock: ManualClock) -> None:
    with Simulator(account_config(), clock=clock) as simulator:
        url = simulator.url
        assert url.startswith("http://127.0.0.1:")
    port = int(url.rsplit(":", 1)[1])
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def test_keep_alive_with_content_length(acme: Simulator) -> None:
    host, port = acme.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        headers = {"Authorization": f"Bearer {READ_ONLY.token}"}
        sockets = []
        for path in ("/v2/account", "/v2/droplets", "/v2/nothing", "/v2/volumes"):
            connection.request("GET", path, headers=headers)
            sockets.append(connection.sock)
            response = connection.getresponse()
            body = response.read()
            assert response.version == 11
            assert int(response.headers["Content-Length"]) == len(body)
            assert response.headers["Connection"] is None
            json.loads(body)
        assert all(sock is sockets[0] for sock in sockets), "one connection carried every request"
    finally:
        connection.close()


def test_ipv6_loopback(clock: ManualClock) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    simulator = Simulator(account_config(), clock=clock)
    try:
        simulator.start(host="::1")
    except OSError:
        pytest.skip("::1 is not available here")
    try:
        assert simulator.url.startswith("http://[::1]:")
        port = int(simulator.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("::1", port, timeout=5)
        connection.request(
            "GET", "/v2/account", headers={"Authorization": f"Bearer {READ_ONLY.token}"}
        )
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        simulator.stop()
