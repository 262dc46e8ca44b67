"""Shared test support: a controllable clock, known tokens, and the official API examples."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from exporter.collectors.base import Collector
from exporter.daemon import Daemon
from exporter.logs import Redactor, configure_logging
from exporter.poller import AccountRuntime
from exporter.simulator import FleetSpec, SimAccount, SimToken, SimulatorConfig
from exporter.snapshot import Snapshot
from tests.collectors.fakes import FakeReader

FIXTURES = Path(__file__).parent / "fixtures"
SPEC_PATH = FIXTURES / "do-api" / "digitalocean-openapi-subset.json"
FULL_SPEC_PATH = FIXTURES / "do-api" / "digitalocean-openapi-full.json.gz"

# Known, fake tokens: tests scan every output for them.
READ_TOKEN = "dop_v1_" + "5eed" * 16
WRITE_TOKEN = "dop_v1_" + "bad0" * 16
OTHER_TOKEN = "dop_v1_" + "c0de" * 16


class FakeClock:
    """Time that moves only when told to (or when code sleeps on it)."""

    def __init__(self, wall: float = 1_790_000_000.0) -> None:
        self.wall = wall
        self.mono = 1_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return data


@cache
def full_spec() -> dict[str, Any]:
    """DigitalOcean's whole public API description (see tests/fixtures/do-api/SOURCE.md)."""
    with gzip.open(FULL_SPEC_PATH) as file:
        data: dict[str, Any] = json.load(file)
    return data


def spec_example(path: str, name: str | None = None, status: str = "200") -> Any:
    """The official example body of GET `path` (a named example, or the only one), from the
    vendored subset, or from the full description for the paths the subset lacks."""
    paths = spec()["paths"] if path in spec()["paths"] else full_spec()["paths"]
    content = paths[path]["get"]["responses"][status]["content"]["application/json"]
    if name is not None:
        return json.loads(json.dumps(content["examples"][name]["value"]))
    if "example" in content:
        return json.loads(json.dumps(content["example"]))
    if "examples" in content and len(content["examples"]) == 1:
        [only] = content["examples"].values()
        return json.loads(json.dumps(only["value"]))
    return json.loads(json.dumps(content["schema"]["example"]))


def actions_example() -> Any:
    """GET /v2/actions has no example in the spec; its items have the action schema that the
    official example of GET /v2/droplets/{droplet_id}/actions shows, so that one is served."""
    return spec_example("/v2/droplets/{droplet_id}/actions")


def official_example(endpoint: str) -> Any:
    """The spec's example answer to GET `endpoint` (a path template), or None if it has none:
    what `example_reader` answers for the endpoints its table does not name."""
    try:
        return spec_example(endpoint)
    except (KeyError, ValueError):
        return None


def schema_example(schema: str) -> Any:
    """An object built from the per-property `example` values of a component schema.

    For operations whose spec has no 200 example (`/v2/account`); not an official example.
    """
    components = spec()["components"]["schemas"]

    def build(node: dict[str, Any]) -> Any:
        if "$ref" in node:
            return build(components[node["$ref"].rsplit("/", 1)[1]])
        if "example" in node:
            return node["example"]
        if "allOf" in node or node.get("type") == "object" or "properties" in node:
            merged: dict[str, Any] = {k: build(v) for k, v in node.get("properties", {}).items()}
            for part in node.get("allOf", []):
                built = build(part)
                if built is None:
                    continue  # a part that only adds constraints, such as `required`
                if not isinstance(built, dict):
                    return built  # an allOf that narrows a list or a scalar
                merged.update(built)
            return merged
        return None

    return build(components[schema])


def response_example(path: str) -> Any:
    """GET `path`'s 200 answer built from the per-property `example` values of its schema in
    the full description, for the operations that have no example answer (GenAI, Functions,
    SaaS add-ons); not an official example. A list holds one item built the same way."""

    def build(node: dict[str, Any]) -> Any:
        if "example" in node and node.get("type") != "object":
            return node["example"]
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            return [build(node["items"])]
        if "allOf" in node or node.get("type") == "object" or "properties" in node:
            merged: dict[str, Any] = {k: build(v) for k, v in node.get("properties", {}).items()}
            for part in node.get("allOf", []):
                built = build(part)
                if isinstance(built, dict):
                    merged.update(built)
            return merged
        return node.get("example")

    content = full_spec()["paths"][path]["get"]["responses"]["200"]["content"]
    return json.loads(json.dumps(build(content["application/json"]["schema"])))


def require_tool(name: str) -> str:
    """The path of an external tool; under CI=true a missing tool fails instead of skipping.

    The virtualenv's own bin directory is searched first: tools installed as dev dependencies
    (hadolint, kubectl, ...) live there, and `make test` runs pytest without activating it.
    """
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required under CI=true but is not installed")
    pytest.skip(f"{name} is not installed")


BANDWIDTH_EXAMPLES = {
    ("private", "inbound"): "Inbound Private Bandwidth",
    ("public", "inbound"): "Inbound Public Bandwidth",
    ("private", "outbound"): "Outbound Private Bandwidth",
    ("public", "outbound"): "Outbound Public Bandwidth",
}


def spec_matrix(endpoint: str, name: str | None = None) -> dict[str, Any]:
    """The spec's example answer of a Monitoring API endpoint; where it has none, one series
    made of the schema's own `metric` and `values` examples."""
    if name is not None or official_example(endpoint) is not None:
        body: dict[str, Any] = spec_example(endpoint, name)
        return body
    content = full_spec()["paths"][endpoint]["get"]["responses"]["200"]["content"]
    item = content["application/json"]["schema"]["properties"]["data"]["properties"]["result"]["items"]
    return {"status": "success", "data": {"resultType": "matrix", "result": [{
        "metric": item["properties"]["metric"]["example"],
        "values": item["properties"]["values"]["example"],
    }]}}


def monitoring_example(endpoint: str, params: Mapping[str, str]) -> dict[str, Any] | None:
    """The example answer of a Monitoring API request (the bandwidth example named by its
    interface and direction), None for any other endpoint."""
    if not endpoint.startswith("/v2/monitoring/metrics/"):
        return None
    if endpoint.endswith("/droplet/bandwidth"):
        return spec_matrix(endpoint, BANDWIDTH_EXAMPLES[params["interface"], params["direction"]])
    return spec_matrix(endpoint)


def example_reader() -> FakeReader:
    """Every endpoint of every collector answered with the official examples.

    Where the spec has no example (registry, uptime, the two endpoints outside the subset,
    most Monitoring API endpoints) the body is built from the schema's property examples or
    from the documented shape.
    """
    # "now" is the day after the Billing Insights example's day, so yesterday has its costs
    return FakeReader(now=1735779600.0, fallback=official_example, respond=monitoring_example,
                      answers={
        "/v2/snapshots": spec_example("/v2/snapshots", "All Snapshots"),
        "/v2/reserved_ips": spec_example("/v2/reserved_ips"),
        "/v2/reserved_ipv6": spec_example("/v2/reserved_ipv6"),
        "/v2/load_balancers": spec_example("/v2/load_balancers", "All Load Balancers"),
        "/v2/kubernetes/clusters": spec_example("/v2/kubernetes/clusters", "All Kubernetes Clusters"),
        "/v2/databases": spec_example("/v2/databases"),
        "/v2/apps": spec_example("/v2/apps", "apps"),
        "/v2/domains": spec_example("/v2/domains"),
        "/v2/domains/{domain_name}/records": {"domain_records": [
            {"id": 28448429, "type": "A", "name": "@", "data": "1.2.3.4", "ttl": 1800}
        ], "links": {}, "meta": {"total": 1}},
        "/v2/firewalls": spec_example("/v2/firewalls"),
        "/v2/vpcs": spec_example("/v2/vpcs"),
        "/v2/vpcs/{vpc_id}/members": {"members": [
            {"urn": "do:droplet:13457723", "name": "example", "created_at": "2020-03-13T19:30:48Z"}
        ], "links": {}, "meta": {"total": 1}},
        "/v2/cdn/endpoints": spec_example("/v2/cdn/endpoints"),
        "/v2/certificates": spec_example("/v2/certificates", "AllCertificates"),
        "/v2/registries": {"registries": [
            {**schema_example("registry_base"), "subscription": schema_example("subscription")}
        ]},
        "/v2/uptime/checks": {"checks": [
            {**schema_example("check_base"), **schema_example("check_updatable")}
        ]},
        "/v2/uptime/checks/{check_id}/state": {"state": schema_example("state")},
        "/v2/projects": spec_example("/v2/projects"),
        "/v2/projects/{project_id}/resources": spec_example("/v2/projects/{project_id}/resources"),
        "/v2/tags": spec_example("/v2/tags"),
        "/v2/actions?page=1&per_page=200": actions_example(),
        "/v2/sizes": spec_example("/v2/sizes"),
        "/v2/customers/my/invoices?per_page=1": spec_example("/v2/customers/my/invoices"),
        "/v2/customers/my/invoices/{invoice_uuid}/summary": spec_example(
            "/v2/customers/my/invoices/{invoice_uuid}/summary"
        ),
        # the example is the first page of three: served here as the only one
        "/v2/customers/my/billing_history": {
            **spec_example("/v2/customers/my/billing_history"), "links": {}
        },
        "/v2/billing/{account_urn}/insights/{start_date}/{end_date}": spec_example(
            "/v2/billing/{account_urn}/insights/{start_date}/{end_date}"
        ),
        "/v2/account": {"account": schema_example("account")},
        "/v2/add-ons/saas": response_example("/v2/add-ons/saas"),
        "/v2/droplets": spec_example("/v2/droplets", "All Droplets"),
        "/v2/droplets?type=gpus": spec_example("/v2/droplets", "GPU Droplets"),
        "/v2/volumes": spec_example("/v2/volumes", "All Volumes"),
        "/v2/images?private=true": spec_example("/v2/images", "All"),
        "/v2/nfs": response_example("/v2/nfs"),
        "/v2/nfs/snapshots": response_example("/v2/nfs/snapshots"),
        "/v2/customers/my/balance": spec_example("/v2/customers/my/balance"),
        "/v2/customers/my/invoices?per_page=12": spec_example("/v2/customers/my/invoices"),
        # no example answers in the spec: built from the schemas' property examples
        "/v2/gen-ai/agents": response_example("/v2/gen-ai/agents"),
        "/v2/gen-ai/knowledge_bases": response_example("/v2/gen-ai/knowledge_bases"),
        "/v2/functions/namespaces": response_example("/v2/functions/namespaces"),
        "/v2/vector-databases": response_example("/v2/vector-databases"),
        "/v2/functions/namespaces/{namespace_id}/triggers": response_example(
            "/v2/functions/namespaces/{namespace_id}/triggers"),
        **{endpoint: response_example(endpoint) for endpoint in (
            "/v2/kubernetes/clusters/{cluster_id}/upgrades",
            "/v2/kubernetes/clusters/{cluster_id}/clusterlint",
            "/v2/kubernetes/clusters/{cluster_id}/status_messages",
        )},
    })


def object_ids(collector: Collector[Any], data: Any) -> set[str]:
    """The distinct values of the collector's `id_label` in its samples of `data`: how many of
    its objects it reports, whatever its records look like."""
    position = {f.name: f.labels.index(collector.id_label)
                for f in collector.families if collector.id_label in f.labels}
    return {labels[position[name]] for name, labels, _ in collector.samples(data) if name in position}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path, text: str) -> Path:
    path = directory / "config.yml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def write_token(directory: Path, name: str, token: str) -> Path:
    path = directory / name
    path.write_text(token + "\n")
    path.chmod(0o600)
    return path


def token_file_config(directory: Path, api_url: str, tokens: dict[str, str], api_extra: str = "") -> str:
    """Config text: one account per (name, token), each token in its own file in `directory`,
    and the API (and token/info) at `api_url`; `api_extra` adds keys to `api:` (", timeout: 1s")."""
    lines = ["accounts:"]
    for name, token in tokens.items():
        lines.append(f"  - name: {name}\n    token_file: {write_token(directory, name, token)}")
    lines.append(f"api: {{url: '{api_url}', auth_url: '{api_url}'{api_extra}}}")
    return "\n".join(lines) + "\n"


def two_accounts(production: FleetSpec, staging: FleetSpec) -> SimulatorConfig:
    """The simulator's two usual accounts: production (READ_TOKEN) and staging (OTHER_TOKEN)."""
    return SimulatorConfig(accounts=(
        SimAccount("production", tokens=(SimToken("production-ro", READ_TOKEN),), fleet=production),
        SimAccount("staging", tokens=(SimToken("staging-ro", OTHER_TOKEN),), fleet=staging),
    ))


@contextmanager
def captured_logs(level: str = "info") -> Iterator[tuple[io.StringIO, Redactor]]:
    """The exporter's logs as JSON lines in a string, and the redactor they pass through."""
    stream, redactor = io.StringIO(), Redactor()
    configure_logging(level, "json", redactor, stream)
    try:
        yield stream, redactor
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    with captured_logs() as (stream, _):
        yield stream


class DaemonHandle:
    """A Daemon started in this process, with shortcuts to its URL, accounts and polls."""

    def __init__(self, daemon: Daemon, task: asyncio.Task[int]) -> None:
        self.daemon, self.task = daemon, task

    @property
    def url(self) -> str:
        assert self.daemon.server is not None
        return f"http://127.0.0.1:{self.daemon.server.port}"

    def account(self, name: str) -> AccountRuntime:
        assert self.daemon.poller is not None
        return next(a for a in self.daemon.poller.accounts if a.name == name)

    async def poll(self, account: str, collector: str) -> Snapshot:
        poller = self.daemon.poller
        assert poller is not None
        spec = next(c for c in poller.collectors if c.name == collector)
        return await poller.poll_once(self.account(account), spec)


class ExporterProcess:
    """The real daemon as a subprocess (`python -m exporter`), its output kept for scanning."""

    def __init__(self, args: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = workdir / f"exporter-{self.port}.out"
        self.stderr_path = workdir / f"exporter-{self.port}.err"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
        full_env.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exporter", "--web.listen-address", f"127.0.0.1:{self.port}",
             "--log.format", "json", *args],
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
            env=full_env,
        )

    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.stderr_path.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                events.append({"event": line, "unparsed": True})
        return events

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exporter exited {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"exporter not ready after {timeout}s:\n{self.output()}")

    def metrics(self, timeout: float = 5.0) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=timeout).text

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)
