"""Shared support for the simulator tests: a manual clock, standard tokens, running simulators.

Every simulator here listens on 127.0.0.1 with a real HTTP server; time only moves when a test
moves the clock, so rate-limit tests never sleep.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.fleet import Fleet

START = 1_795_000_000.0
"""2026-11-18T11:06:40Z: after every generated creation time, mid-month."""

SPEC_PATH = (
    Path(__file__).parent.parent / "fixtures" / "do-api" / "digitalocean-openapi-subset.json"
)

READ_ONLY = SimToken(name="read-only", token="sim-secret-read-only", scopes=["read"])
FULL_ACCESS = SimToken(name="full-access", token="sim-secret-full-access", scopes=["read", "write"])
API_READ = SimToken(name="api-read", token="sim-secret-api-read", scopes=["api:read"])
BILLING_ONLY = SimToken(
    name="billing-only", token="sim-secret-billing-only", scopes=["billing:read"]
)
DROPLETS_ONLY = SimToken(
    name="droplets-only",
    token="sim-secret-droplets-only",
    scopes=["droplet:read", "droplet:create"],
)
EXPIRED = SimToken(
    name="expired", token="sim-secret-expired", scopes=["read"], expires_in_seconds=-1
)
REVOKED = SimToken(name="revoked", token="sim-secret-revoked", scopes=["read"], revoked=True)
EXPIRING = SimToken(
    name="expiring",
    token="sim-secret-expiring",
    scopes=["read"],
    expires_in_seconds=3600,
    created_at=1_790_000_000,
)
OTHER_ACCOUNT = SimToken(name="other-read-only", token="sim-secret-other", scopes=["read"])

ALL_TOKENS = (
    READ_ONLY,
    FULL_ACCESS,
    API_READ,
    BILLING_ONLY,
    DROPLETS_ONLY,
    EXPIRED,
    REVOKED,
    EXPIRING,
)


class ManualClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def account_config(
    fleet: FleetSpec | Fleet | None = None,
    *,
    tokens: tuple[SimToken, ...] = ALL_TOKENS,
    other_fleet: FleetSpec | None = None,
    requests_per_hour: int = 5000,
    requests_per_minute: int = 250,
) -> SimulatorConfig:
    """Account `acme` with every standard token, and account `other` with its own token."""
    return SimulatorConfig(
        accounts=(
            SimAccount(name="acme", tokens=tokens, fleet=fleet or FleetSpec(seed=3, droplets=45)),
            SimAccount(
                name="other",
                tokens=(OTHER_ACCOUNT,),
                fleet=other_fleet or FleetSpec(seed=4, droplets=5),
            ),
        ),
        requests_per_hour=requests_per_hour,
        requests_per_minute=requests_per_minute,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def start_simulator(clock: ManualClock) -> Iterator[Callable[[SimulatorConfig], Simulator]]:
    """Start simulators on the test's clock; all are stopped after the test."""
    started: list[Simulator] = []

    def start(config: SimulatorConfig) -> Simulator:
        simulator = Simulator(config, clock=clock)
        simulator.start(host="127.0.0.1", port=0)
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    """One context for every client: httpx builds a new one per client otherwise (~20 ms), and
    the simulator speaks plain HTTP on loopback, so it is never used."""
    return ssl.create_default_context()


@pytest.fixture
def connect(tls_context: ssl.SSLContext) -> Iterator[Callable[..., httpx.Client]]:
    """HTTP clients for a simulator, optionally with a bearer token; closed after the test."""
    clients: list[httpx.Client] = []

    def make(
        simulator: Simulator, token: SimToken | str | None = None, **options: Any
    ) -> httpx.Client:
        headers = dict(options.pop("headers", {}))
        if token is not None:
            secret = token.token if isinstance(token, SimToken) else token
            headers["Authorization"] = f"Bearer {secret}"
        options.setdefault("timeout", 10)
        options.setdefault("verify", tls_context)
        client = httpx.Client(base_url=simulator.url, headers=headers, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def acme(start_simulator: Callable[[SimulatorConfig], Simulator]) -> Simulator:
    """A running simulator with the standard accounts: 45 Droplets in `acme`."""
    return start_simulator(account_config())


DAY = 86_400


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def alert_worthy(simulator: Simulator, account: str, now: float) -> dict[str, list[str]]:
    """What an exporter's alerts would fire on in `account`, read from the served objects."""
    fleet = simulator.fleet(account)
    resources = fleet.resources

    def objects(items: Any) -> list[dict[str, Any]]:
        return [item.as_json(now, fleet.droplet_lookup) for item in items]

    clusters = objects(resources.objects("kubernetes_clusters"))
    states = {
        str(check.id): state.as_json(now)
        for check in resources.objects("uptime_checks")
        for state in resources.related("uptime_checks", str(check.id)) or ()
    }
    found: dict[str, list[str]] = {
        "unassigned_reserved_ips": [
            ip["ip"] for ip in objects(resources.objects("reserved_ips")) if ip["droplet"] is None
        ],
        "old_snapshots": [
            s["id"]
            for s in objects(resources.objects("snapshots"))
            if now - parse_time(s["created_at"]) > 90 * DAY
        ],
        "errored_load_balancers": [
            lb["id"] for lb in objects(resources.objects("load_balancers")) if lb["status"] == "errored"
        ],
        "degraded_clusters": [c["id"] for c in clusters if c["status"]["state"] == "degraded"],
        "pools_below_minimum": [
            pool["id"]
            for cluster in clusters
            for pool in cluster["node_pools"]
            if pool["auto_scale"] and len(pool["nodes"]) < pool["min_nodes"]
        ],
        "databases_not_online": [
            db["id"] for db in objects(resources.objects("databases")) if db["status"] != "online"
        ],
        "failed_apps": [
            app["id"]
            for app in objects(resources.objects("apps"))
            if app.get("pending_deployment", {}).get("phase") == "ERROR"
        ],
        "expiring_certificates": [
            c["id"]
            for c in objects(resources.objects("certificates"))
            if parse_time(c["not_after"]) - now < 14 * DAY
        ],
        "uptime_down": [
            check
            for check, state in states.items()
            if any(r["status"] == "DOWN" for r in state["state"]["regions"].values())
        ],
        "registry_almost_full": [],
    }
    for registry in resources.objects("registry"):
        registry_object = registry.as_json(now)
        included = registry_object["subscription"]["tier"]["included_storage_bytes"]
        if registry_object["storage_usage_bytes"] > 0.9 * included:
            found["registry_almost_full"].append(registry_object["name"])
    return found
