"""Every route the simulator's kinds serve, answered for a varied fleet and validated against
DigitalOcean's FULL API description (tests/fixtures/do-api/digitalocean-openapi-full.json.gz),
not only the vendored subset `test_conformance.py` uses.

Loading the whole description into openapi-core takes ~25 s, so the test builds a small one in
memory: the full description's path items of the served routes (they are self-contained: its
`$ref`s are resolved), their GET operations only, plus the security scheme openapi-core needs.
Every page of every paged list is checked, for the generated fleets and for the fleets the
fixes of issue 13 are about (several registries, an account without a team, autoscaled apps).
Routes the full description lacks (`/v1/oauth/token/info`) stay tested directly.

The gaps where the real API is known to leave the description are the same two as in
`test_conformance.py`: `{"databases": null}` and `do:app:` project resources.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from exporter.collectors import COLLECTORS
from exporter.simulator import (
    Fleet,
    FleetSpec,
    SimAccount,
    SimToken,
    Simulator,
    SimulatorConfig,
    demo_config,
)
from exporter.simulator.handling import API_READ_GRANTS
from exporter.simulator.kinds import KINDS
from tests.conftest import full_spec

from .conftest import READ_ONLY, START, ManualClock

SPEC_HOST = "https://api.digitalocean.com"
SERVED = tuple(dict.fromkeys(r.template for kind in KINDS for r in kind.routes))
"""Every route a kind serves, in KINDS order."""
OUTSIDE_THE_FULL_SPEC = frozenset({"/v1/oauth/token/info"})
"""Served but undocumented (doctl uses it): its shape is tested in test_conformance.py."""
MONITORING = "/v2/monitoring/metrics/"
"""The Monitoring API's 58 routes need `start`, `end` and an id: `test_monitoring.py` asks each
with them and validates the answers against the full description the same way."""
Connect = Callable[..., httpx.Client]
UNNAMED: dict[str, list[str]] = {"registries": [
    "/v2/droplets/{droplet_id}",
    "/v2/billing/{account_urn}/insights/{start_date}/{end_date}",  # no team: no URN to ask with
    "/v2/load_balancers/{lb_id}",
    "/v2/kubernetes/clusters/{cluster_id}/upgrades",
    "/v2/kubernetes/clusters/{cluster_id}/clusterlint",
    "/v2/kubernetes/clusters/{cluster_id}/status_messages",
    "/v2/databases/{database_cluster_uuid}/replicas",
    "/v2/databases/{database_cluster_uuid}/backups",
    "/v2/databases/{database_cluster_uuid}/events",
    "/v2/domains/{domain_name}/records",
    "/v2/uptime/checks/{check_id}/state",
    "/v2/vpcs/{vpc_id}/members",
    "/v2/droplets/autoscale/{autoscale_pool_id}/members",
    "/v2/droplets/autoscale/{autoscale_pool_id}/history",
    "/v2/functions/namespaces/{namespace_id}/triggers",
]}
"""Per account, the templated routes its fleet has no object to name with (not checked)."""


def served_spec() -> dict[str, Any]:
    """An OpenAPI document of the full description's GET operations of the served routes."""
    full = full_spec()
    paths: dict[str, Any] = {}
    for template in SERVED:
        item = full["paths"].get(template)
        if item is None:
            continue
        paths[template] = {k: v for k, v in item.items() if k in ("get", "parameters")}
    spec: dict[str, Any] = {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": [{"url": SPEC_HOST}],
        "paths": json.loads(json.dumps(paths)),
        "components": {"securitySchemes": full["components"]["securitySchemes"]},
        "security": full["security"],
    }
    # The two answers in which the real API is known to leave the description (see the module
    # docstring of test_conformance.py); widened for exactly those.
    databases = spec["paths"]["/v2/databases"]["get"]["responses"]["200"]["content"]
    databases["application/json"]["schema"]["properties"]["databases"]["nullable"] = True
    resources = spec["paths"]["/v2/projects/{project_id}/resources"]["get"]["responses"]["200"]
    text = json.dumps(resources)
    assert "(dbaas|" in text
    spec["paths"]["/v2/projects/{project_id}/resources"]["get"]["responses"]["200"] = json.loads(
        text.replace("(dbaas|", "(app|dbaas|"))
    return spec


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(served_spec())


TWO_REGISTRIES = Fleet.from_objects(
    account={"uuid": "u1", "email": "ops@example.com", "status": "active", "status_message": "",
             "email_verified": True, "droplet_limit": 25, "floating_ip_limit": 3},  # no team
    registries=[
        {"name": "images", "region": "fra1", "created_at": "2026-01-01T00:00:00Z",
         "storage_usage_bytes": 1024, "storage_usage_bytes_updated_at": "2026-11-01T00:00:00Z",
         "subscription": {"tier": {"slug": "basic", "name": "Basic", "monthly_price_in_cents": 500,
                                   "included_storage_bytes": 5368709120, "included_repositories": 5},
                          "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}},
        {"name": "builds", "region": "sfo3", "created_at": "2026-02-01T00:00:00Z",
         "storage_usage_bytes": 0, "storage_usage_bytes_updated_at": "2026-11-01T00:00:00Z",
         "subscription": {"tier": {"slug": "basic", "name": "Basic", "monthly_price_in_cents": 500,
                                   "included_storage_bytes": 5368709120, "included_repositories": 5},
                          "created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"}},
    ],
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(
        accounts=(
            SimAccount(name="acme", tokens=(READ_ONLY,), fleet=FleetSpec(
                seed=21, droplets=520, gpu_droplets=6, volumes=90, vector_databases=3,
                regions=("nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1"))),
            SimAccount(name="registries", fleet=TWO_REGISTRIES, tokens=(
                SimToken(name="registries", token="sim-secret-registries", scopes=["read"]),)),
            *demo_config(seed=3).accounts,
        ),
        requests_per_minute=100_000,
        requests_per_hour=100_000,
    )
    running = Simulator(config, clock=ManualClock())
    running.start()
    yield running
    running.stop()


def concrete(simulator: Simulator, account: str, template: str) -> str | None:
    """A path of `template` naming an object of `account`'s fleet; None: it has none."""
    fleet = simulator.fleet(account)
    resources = fleet.resources

    def first(kind: str) -> str | None:
        found = resources.objects(kind)
        return str(found[0].id) if found else None

    fillers: dict[str, Callable[[], str | None]] = {
        "{check_id}": lambda: first("uptime_checks"),
        "{project_id}": lambda: first("projects"),
        "{domain_name}": lambda: first("domains"),
        "{vpc_id}": lambda: first("custom_vpcs"),
        "{droplet_id}": lambda: str(fleet.droplets[0].id) if fleet.droplets else None,
        "{autoscale_pool_id}": lambda: first("autoscale_pools"),
        "{namespace_id}": lambda: first("functions_namespaces"),
        "{database_cluster_uuid}": lambda: first("databases"),
        "{cluster_id}": lambda: first("kubernetes_clusters"),
        "{lb_id}": lambda: first("load_balancers"),
    }
    if "{invoice_uuid}" in template:
        invoices, preview = fleet.billing.invoices(START)
        newest = invoices[0] if invoices else preview
        return None if newest is None else template.replace("{invoice_uuid}", newest["invoice_uuid"])
    if "{account_urn}" in template:
        team = fleet.account_object().get("team")
        if not isinstance(team, dict):
            return None
        day = datetime.fromtimestamp(START, UTC).date()
        return (template.replace("{account_urn}", f"do:team:{team['uuid']}")
                .replace("{start_date}", (day - timedelta(days=1)).isoformat())
                .replace("{end_date}", day.isoformat()))
    for name, fill in fillers.items():
        if name in template:
            value = fill()
            if value is None:
                return None
            template = template.replace(name, value)
    return template


def errors(openapi: OpenAPI, response: httpx.Response, template: str) -> list[str]:
    url = response.request.url
    request = MockRequest(SPEC_HOST, "GET", url.path, args=dict(url.params))
    mock = MockResponse(response.content, status_code=response.status_code,
                        content_type=response.headers["content-type"], headers=dict(response.headers))
    return [f"{template} {url}: {error} {getattr(error, '__cause__', None)!r}"[:3000]
            for error in openapi.iter_response_errors(request, mock)]


def every_page(client: httpx.Client, path: str) -> Iterator[httpx.Response]:
    response = client.get(path)
    while True:
        yield response
        body = response.json() if response.status_code == 200 else {}
        links = body.get("links") if isinstance(body, dict) else None
        following = ((links or {}).get("pages") or {}).get("next") if isinstance(links, dict) else None
        if not following:
            return
        response = client.get(following)


def token_for(simulator: Simulator, account: str) -> str:
    config = next(a for a in simulator.config.accounts if a.name == account)
    return config.tokens[0].token


def test_every_route_the_exporter_reads_is_served_and_all_but_token_info_are_in_the_full_spec() -> None:
    read = {e.split("?")[0] for c in COLLECTORS for e in c.endpoints}
    assert read <= set(SERVED)
    assert {t for t in SERVED if t not in full_spec()["paths"]} == OUTSIDE_THE_FULL_SPEC
    spec = served_spec()
    assert "/v2/droplets/autoscale" in spec["paths"]
    assert "/v2/registries" in spec["paths"]
    assert "/v2/apps/tiers/instance_sizes" in spec["paths"]


@pytest.mark.parametrize("account", ["acme", "registries", "production", "staging"])
def test_every_served_route_validates_against_the_full_spec(
    openapi: OpenAPI, simulator: Simulator, connect: Connect, account: str
) -> None:
    client = connect(simulator, token_for(simulator, account))
    unnamed: list[str] = []
    problems: list[str] = []
    for template in SERVED:
        if template in OUTSIDE_THE_FULL_SPEC or template.startswith(MONITORING):
            continue
        path = concrete(simulator, account, template)
        if path is None:
            unnamed.append(template)  # nothing of this kind in this fleet to name
            continue
        for response in every_page(client, path):
            assert response.status_code in (200, 404, 412), (template, response.text)
            problems += errors(openapi, response, template)
    assert problems == []
    assert unnamed == UNNAMED.get(account, [])


def test_every_served_route_asks_for_the_full_specs_scope() -> None:
    paths = full_spec()["paths"]
    for kind in KINDS:
        for route in kind.routes:
            if route.template in OUTSIDE_THE_FULL_SPEC:
                continue
            (requirement,) = paths[route.template]["get"]["security"]
            assert route.scope is not None or route.template == "/v1/oauth/token/info"
            assert set((route.scope or "").split()) <= set(requirement["bearer_auth"]), route.template
    sizes = next(r for kind in KINDS for r in kind.routes if r.template == "/v2/sizes")
    assert sizes.scope == "sizes:read regions:read"


def test_api_read_stands_in_exactly_where_the_full_spec_lists_it() -> None:
    listed = {template for template, item in full_spec()["paths"].items()
              if "api:read" in json.dumps(item.get("get", {}).get("security", []))}
    assert listed == {"/v2/volumes"}
    scopes = {r.template: r.scope for kind in KINDS for r in kind.routes}
    assert {scopes[t] for t in listed} == API_READ_GRANTS


def test_the_two_registry_account_has_both_registries_and_no_team(
    simulator: Simulator, connect: Connect
) -> None:
    client = connect(simulator, token_for(simulator, "registries"))
    names = [r["name"] for r in client.get("/v2/registries").json()["registries"]]
    assert names == ["images", "builds"]
    assert "team" not in client.get("/v2/account").json()["account"]


def test_a_wrong_answer_would_be_caught(openapi: OpenAPI, simulator: Simulator, connect: Connect) -> None:
    client = connect(simulator, token_for(simulator, "acme"))
    response = client.get("/v2/apps/tiers/instance_sizes")
    assert errors(openapi, response, "sizes") == []
    body = response.json()
    body["instance_sizes"][0]["usd_per_month"] = 5.0  # a number where the spec has a string
    wrong = httpx.Response(200, json=body, headers=response.headers, request=response.request)
    assert errors(openapi, wrong, "sizes") != []
