"""Every simulator response, checked against the official OpenAPI spec (vendored in fixtures).

Status, headers and body of each answer are validated with openapi-core, and the status code is
asserted separately (every operation declares `default`, so any code finds a schema). The
spec's own examples are loaded into the simulator and must come back unchanged.

The billing endpoints (balance, invoices, invoice summaries, billing history, Billing
Insights) are checked like the others; the agreement of their numbers with the fleet is
`test_billing.py`'s.

Some endpoints the simulator serves are NOT in the vendored spec subset (`in_spec=False`:
domain records, VPC members, `/v2/registries`, `/v2/droplets/autoscale`,
`/v2/apps/tiers/instance_sizes`). Every served route but token/info is also validated against
the FULL description in `test_full_spec_conformance.py`; records and members have their real
shapes tested here too (`test_the_endpoints_outside_the_spec_have_the_real_shapes`).

Where the real API is known to answer outside the spec, the spec is widened for exactly that
and nothing else (`SPEC_GAPS`); `test_the_spec_gaps_are_real_and_the_only_ones` shows the
unwidened spec rejects those answers and only for that reason:
  * `GET /v2/databases` answers `{"databases": null}` when there are none (the spec's array is
    not nullable);
  * project resources include apps as `do:app:<id>` (the spec's URN pattern lacks `app`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from exporter.simulator import (
    ENDPOINTS,
    NOT_IN_SPEC,
    Fault,
    Fleet,
    FleetSpec,
    SimAccount,
    SimToken,
    Simulator,
    SimulatorConfig,
    demo_config,
)
from exporter.simulator.kinds import KINDS

from .conftest import (
    ALL_TOKENS,
    BILLING_ONLY,
    DROPLETS_ONLY,
    EXPIRED,
    FULL_ACCESS,
    READ_ONLY,
    REVOKED,
    SPEC_PATH,
    START,
    ManualClock,
    account_config,
)

SPEC_HOST = "https://api.digitalocean.com"
CORE_KINDS = frozenset({"account", "droplets", "volumes", "billing"})
"""Kinds a token with only the core read scopes (and billing) can list; the rest are
"resources" (a billing-only token gets a 403 for each)."""
BY_ID_ELSEWHERE = frozenset({"/v2/droplets/{droplet_id}"})
"""Templated spec routes with a test of their own (`test_a_droplet_by_id_conforms`)."""
QUERIED_ELSEWHERE = frozenset({"monitoring"})
"""Kinds whose routes need query parameters to answer 200 (the Monitoring API's `start`,
`end` and ids): `test_monitoring.py` validates all of them against the full description."""
SPEC_ROUTES = tuple((kind.name, r.template) for kind in KINDS for r in kind.routes
                    if r.in_spec and kind.name not in QUERIED_ELSEWHERE)
"""Every route the kinds serve that the spec subset describes, derived from `KINDS`."""
CORE_ENDPOINTS = tuple(t for k, t in SPEC_ROUTES if k in CORE_KINDS and "{" not in t)
RESOURCE_ENDPOINTS = tuple(t for k, t in SPEC_ROUTES if k not in CORE_KINDS and "{" not in t)
TEMPLATED_ENDPOINTS = tuple(
    t for k, t in SPEC_ROUTES if k != "billing" and "{" in t and t not in BY_ID_ELSEWHERE
)
BILLING_TEMPLATED = tuple(t for k, t in SPEC_ROUTES if k == "billing" and "{" in t)
"""Billing endpoints with path parameters: the newest invoice, the clock's day and the one
before it (see `concrete`)."""
SPEC_ENDPOINTS = CORE_ENDPOINTS + RESOURCE_ENDPOINTS
"""Every endpoint without path parameters that the spec subset describes."""

Connect = Callable[..., httpx.Client]
FULL_ACCESS_TOKEN = FULL_ACCESS


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def widened(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec, accepting the two answers in which the real API is known to leave it."""
    copy: dict[str, Any] = json.loads(json.dumps(spec))
    databases = copy["paths"]["/v2/databases"]["get"]["responses"]["200"]["content"]
    databases["application/json"]["schema"]["properties"]["databases"]["nullable"] = True
    urn = copy["components"]["schemas"]["urn"]
    urn["pattern"] = urn["pattern"].replace("(dbaas|", "(app|dbaas|")
    return copy


@pytest.fixture(scope="module")
def strict_openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(widened(spec))


@pytest.fixture(scope="module")
def rich() -> Iterator[Simulator]:
    """One simulator for the read-only cases: a varied fleet, an empty one, and the demo."""
    demo = demo_config(seed=3)
    config = SimulatorConfig(
        accounts=(
            SimAccount(
                name="acme",
                tokens=ALL_TOKENS,
                fleet=FleetSpec(
                    seed=21,
                    droplets=520,
                    gpu_droplets=6,
                    volumes=90,
                    regions=(
                        "nyc1",
                        "nyc3",
                        "sfo3",
                        "ams3",
                        "fra1",
                        "lon1",
                        "sgp1",
                        "tor1",
                        "blr1",
                        "syd1",
                        "sfo2",
                        "nyc2",
                    ),
                ),
            ),
            SimAccount(
                name="empty",
                tokens=(SimToken(name="empty-read-only", token="sim-secret-empty"),),
                fleet=FleetSpec(seed=22, droplets=0, invoice_months=0),
            ),
            *demo.accounts,
        ),
        requests_per_minute=100_000,
        requests_per_hour=100_000,
    )
    simulator = Simulator(config, clock=ManualClock())
    simulator.start()
    yield simulator
    simulator.stop()


def response_errors(
    openapi: OpenAPI, response: httpx.Response, path: str | None = None
) -> list[str]:
    url = response.request.url
    request = MockRequest(SPEC_HOST, "GET", path or url.path, args=dict(url.params))
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers["content-type"],
        headers=dict(response.headers),
    )
    return [
        str(error) + repr(getattr(error, "__cause__", None))[:2000]
        for error in openapi.iter_response_errors(request, mock)
    ]


def assert_conforms(
    openapi: OpenAPI, response: httpx.Response, status: int, path: str | None = None
) -> None:
    """`response` is what the spec allows for its GET, and has the expected status."""
    assert response.status_code == status, response.text
    assert response_errors(openapi, response, path) == []
    for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        assert response.headers[name].isdigit(), name
    uuid.UUID(response.headers["x-request-id"])
    if status >= 400:
        body = response.json()
        assert set(body) == {"id", "message", "request_id"}
        assert body["request_id"] == response.headers["x-request-id"]


def pages(client: httpx.Client, path: str, **params: Any) -> Iterator[httpx.Response]:
    response = client.get(path, params={"per_page": 200, **params})
    while True:
        yield response
        next_url = response.json()["links"].get("pages", {}).get("next")
        if not next_url:
            return
        response = client.get(next_url)


def test_the_spec_is_vendored_with_its_licence(spec: dict[str, Any]) -> None:
    folder = SPEC_PATH.parent
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    source = (folder / "SOURCE.md").read_text(encoding="utf-8")
    assert spec["x-bundle-notice"]["commit"] in source
    assert "Modification notice" in source


def test_endpoint_scopes_are_the_specs(spec: dict[str, Any]) -> None:
    served = {endpoint.template for endpoint in ENDPOINTS}
    assert {*SPEC_ENDPOINTS, *TEMPLATED_ENDPOINTS, *BILLING_TEMPLATED} <= served
    assert served - set(spec["paths"]) == NOT_IN_SPEC
    for endpoint in ENDPOINTS:
        if endpoint.template in NOT_IN_SPEC:
            continue  # token/info: any valid token; records and members: tested below
        (requirement,) = spec["paths"][endpoint.template]["get"]["security"]
        assert set((endpoint.scope or "").split()) <= set(requirement["bearer_auth"]), endpoint.template
    scopes = {endpoint.template: endpoint.scope for endpoint in ENDPOINTS}
    assert scopes["/v2/domains/{domain_name}/records"] == "domain:read"
    assert scopes["/v2/vpcs/{vpc_id}/members"] == "vpc:read"


def concrete(simulator: Simulator, account: str, template: str) -> str:
    """A path of `template` naming an object of `account`'s fleet."""
    resources = simulator.fleet(account).resources
    if template == "/v2/uptime/checks/{check_id}/state":
        return template.replace("{check_id}", str(resources.objects("uptime_checks")[0].id))
    if template == "/v2/projects/{project_id}/resources":
        return template.replace("{project_id}", str(resources.objects("projects")[-1].id))
    if template == "/v2/domains/{domain_name}/records":
        return template.replace("{domain_name}", str(resources.objects("domains")[0].id))
    if template == "/v2/vpcs/{vpc_id}/members":
        return template.replace("{vpc_id}", str(resources.objects("custom_vpcs")[0].id))
    if template == BILLING_TEMPLATED[0]:
        invoices, preview = simulator.fleet(account).billing.invoices(START)
        newest = invoices[0] if invoices else preview
        assert newest is not None
        return template.replace("{invoice_uuid}", newest["invoice_uuid"])
    if template == BILLING_TEMPLATED[1]:
        team = simulator.fleet(account).account_object()["team"]["uuid"]
        return (
            template.replace("{account_urn}", f"do:team:{team}")
            .replace("{start_date}", "2026-11-17")
            .replace("{end_date}", "2026-11-18")
        )
    return template


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v2/account", {}),
        ("/v2/droplets", {}),
        ("/v2/droplets", {"page": "2"}),
        ("/v2/droplets", {"page": "2", "per_page": "50"}),
        ("/v2/droplets", {"page": "99"}),
        ("/v2/droplets", {"type": "gpus"}),
        ("/v2/droplets", {"type": "droplets", "per_page": "3"}),
        ("/v2/droplets", {"tag_name": "web"}),
        ("/v2/volumes", {}),
        ("/v2/volumes", {"region": "fra1", "per_page": "5"}),
        ("/v2/customers/my/balance", {}),
        ("/v2/customers/my/invoices", {}),
        ("/v2/customers/my/invoices", {"per_page": "5", "page": "3"}),
        ("/v2/snapshots", {}),
        ("/v2/snapshots", {"page": "3", "per_page": "30"}),
        ("/v2/snapshots", {"resource_type": "volume"}),
        ("/v2/snapshots", {"resource_type": "droplet", "per_page": "7", "page": "4"}),
        ("/v2/reserved_ips", {"per_page": "10", "page": "2"}),
        ("/v2/reserved_ipv6", {}),
        ("/v2/floating_ips", {"per_page": "10", "page": "3"}),
        ("/v2/load_balancers", {"per_page": "4", "page": "2"}),
        ("/v2/kubernetes/clusters", {"per_page": "2", "page": "2"}),
        ("/v2/databases", {}),
        ("/v2/databases", {"tag_name": "db"}),
        ("/v2/apps", {"per_page": "3", "page": "2"}),
        ("/v2/apps", {"with_projects": "true"}),
        ("/v2/domains", {"per_page": "2", "page": "2"}),
        ("/v2/firewalls", {}),
        ("/v2/vpcs", {"per_page": "5", "page": "2"}),
        ("/v2/cdn/endpoints", {}),
        ("/v2/certificates", {}),
        ("/v2/registry", {}),
        ("/v2/registry/subscription", {}),
        ("/v2/uptime/checks", {"per_page": "2", "page": "3"}),
        ("/v2/projects", {}),
        ("/v2/projects/default/resources", {"per_page": "50", "page": "2"}),
        ("/v2/tags", {"per_page": "5", "page": "2"}),
        ("/v2/sizes", {"per_page": "5", "page": "4"}),
        ("/v2/regions", {"per_page": "5"}),
    ],
)
def test_200_responses_conform(
    openapi: OpenAPI, rich: Simulator, connect: Connect, path: str, params: dict[str, str]
) -> None:
    assert_conforms(openapi, connect(rich, READ_ONLY).get(path, params=params), 200)


def test_every_droplet_and_volume_page_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect
) -> None:
    client = connect(rich, READ_ONLY)
    seen = 0
    for path, params in (
        ("/v2/droplets", {}),
        ("/v2/droplets", {"type": "gpus"}),
        ("/v2/volumes", {}),
    ):
        for response in pages(client, path, **params):
            assert_conforms(openapi, response, 200)
            seen += 1
    assert seen == 3 + 1 + 1


def test_every_page_of_the_other_listings_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect
) -> None:
    """Several pages each: the links of one page lead to the next, and every page conforms."""
    client = connect(rich, READ_ONLY)
    counts: dict[str, int] = {}
    for template, per_page in (
        ("/v2/snapshots", 25),
        ("/v2/reserved_ips", 25),
        ("/v2/load_balancers", 4),
        ("/v2/apps", 4),
        ("/v2/projects/{project_id}/resources", 25),
        ("/v2/tags", 5),
    ):
        path = concrete(rich, "acme", template)
        for response in pages(client, path, per_page=per_page):
            assert_conforms(openapi, response, 200, path)
            counts[template] = counts.get(template, 0) + 1
    assert all(count >= 2 for count in counts.values()), counts


def test_every_billing_answer_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect) -> None:
    """Every invoice's summary (and the preview's), every page of the billing history and of
    two days of Billing Insights (several pages of 200 data points)."""
    client = connect(rich, READ_ONLY)
    page = client.get("/v2/customers/my/invoices", params={"per_page": 200}).json()
    uuids = [i["invoice_uuid"] for i in page["invoices"]] + [page["invoice_preview"]["invoice_uuid"]]
    for uuid_ in uuids:
        assert_conforms(openapi, client.get(f"/v2/customers/my/invoices/{uuid_}/summary"), 200)
    history = list(pages(client, "/v2/customers/my/billing_history", per_page=10))
    assert len(history) >= 3
    for response in history:
        assert_conforms(openapi, response, 200)
    insights = concrete(rich, "acme", BILLING_TEMPLATED[1])
    first = client.get(insights, params={"per_page": 200})
    assert_conforms(openapi, first, 200)
    total_pages = first.json()["total_pages"]
    assert total_pages >= 3
    for number in range(2, total_pages + 2):  # and one past the end
        assert_conforms(openapi, client.get(insights, params={"per_page": 200, "page": number}), 200)


def test_a_droplet_by_id_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect) -> None:
    for listed in (rich.fleet("acme").droplets[0], rich.fleet("acme").gpu_droplets[0]):
        assert_conforms(openapi, connect(rich, READ_ONLY).get(f"/v2/droplets/{listed.id}"), 200)


@pytest.mark.parametrize("template", TEMPLATED_ENDPOINTS)
def test_the_endpoints_with_ids_conform(
    openapi: OpenAPI, rich: Simulator, connect: Connect, template: str
) -> None:
    client = connect(rich, READ_ONLY)
    resources = rich.fleet("acme").resources
    objects = (
        resources.objects("uptime_checks" if "uptime" in template else "projects")
    )
    for listed in objects:
        name = "{check_id}" if "uptime" in template else "{project_id}"
        assert_conforms(openapi, client.get(template.replace(name, str(listed.id))), 200)


def token_of(simulator: Simulator, account: str) -> SimToken:
    return next(t for a in simulator.config.accounts if a.name == account for t in a.tokens)


@pytest.mark.parametrize("account", ["production", "staging"])
@pytest.mark.parametrize(
    "path", [*SPEC_ENDPOINTS, *TEMPLATED_ENDPOINTS, *BILLING_TEMPLATED, "/v2/droplets?type=gpus"]
)
def test_the_demo_fleet_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, account: str, path: str
) -> None:
    client = connect(rich, token_of(rich, account))
    path = concrete(rich, account, path)
    no_registry = account == "staging" and path.startswith("/v2/registry")
    for response in (
        [client.get(path)]
        if "droplets" not in path
        else pages(client, path.split("?", maxsplit=1)[0], **dict(httpx.URL(path).params))
    ):
        assert_conforms(openapi, response, 404 if no_registry else 200)


EMPTY_TOTALS = {"/v2/projects": 1, "/v2/sizes": 16, "/v2/regions": 12}
"""An account with nothing still has its default project, and the catalogue is the same."""


@pytest.mark.parametrize(
    "path", [*SPEC_ENDPOINTS, "/v2/projects/default/resources", "/v2/droplets?type=gpus"]
)
def test_an_empty_fleet_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, path: str
) -> None:
    response = connect(rich, "sim-secret-empty").get(path)
    assert_conforms(openapi, response, 404 if path.startswith("/v2/registry") else 200)
    body = response.json()
    if "meta" in body:
        assert body["meta"] == {"total": EMPTY_TOTALS.get(path, 0)}
        if path not in EMPTY_TOTALS:
            assert body["links"] == {}
    if path == "/v2/databases":
        assert body == {"databases": None}


@pytest.mark.parametrize("token", [None, "sim-secret-unknown", EXPIRED, REVOKED])
@pytest.mark.parametrize(
    "path",
    [
        *SPEC_ENDPOINTS,
        "/v2/droplets/1",
        "/v2/uptime/checks/4de7ac8b-495b-4884-9a69-1050c6793cd6/state",
        "/v2/projects/default/resources",
        "/v2/customers/my/invoices/4de7ac8b-495b-4884-9a69-1050c6793cd6/summary",
        "/v2/billing/do:team:5df3e3004a17e242b7c20ca6c9fc25b701a47ece/insights/2026-11-17/2026-11-18",
    ],
)
def test_401_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, token: object, path: str
) -> None:
    response = connect(rich, token).get(path)
    assert_conforms(openapi, response, 401)
    assert response.json()["id"] == "unauthorized"


@pytest.mark.parametrize(
    ("token", "path"),
    [
        (BILLING_ONLY, "/v2/account"),
        (BILLING_ONLY, "/v2/droplets"),
        (BILLING_ONLY, "/v2/droplets/1"),
        (BILLING_ONLY, "/v2/volumes"),
        (DROPLETS_ONLY, "/v2/customers/my/balance"),
        (DROPLETS_ONLY, "/v2/customers/my/invoices"),
        (DROPLETS_ONLY, "/v2/customers/my/billing_history"),
        (DROPLETS_ONLY, "/v2/customers/my/invoices/4de7ac8b-495b-4884-9a69-1050c6793cd6/summary"),
        (DROPLETS_ONLY, "/v2/billing/do:team:x/insights/2026-11-17/2026-11-18"),
        (DROPLETS_ONLY, "/v2/droplets?tag_name=web"),
        *((BILLING_ONLY, path) for path in RESOURCE_ENDPOINTS),
        (BILLING_ONLY, "/v2/uptime/checks/4de7ac8b-495b-4884-9a69-1050c6793cd6/state"),
        (BILLING_ONLY, "/v2/projects/default/resources"),
        (DROPLETS_ONLY, "/v2/snapshots"),
        (DROPLETS_ONLY, "/v2/reserved_ips"),
    ],
)
def test_403_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, token: SimToken, path: str
) -> None:
    response = connect(rich, token).get(path)
    assert_conforms(openapi, response, 403)
    assert response.json()["id"] == "forbidden"


def test_404_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect) -> None:
    client = connect(rich, READ_ONLY)
    assert_conforms(openapi, client.get("/v2/droplets/1"), 404)
    # An unknown path has no operation in the spec; its answer has the same shape as a
    # documented 404, so it is checked against droplets_get's.
    assert_conforms(openapi, client.get("/v2/no-such-resource"), 404, path="/v2/droplets/1")
    unknown = "4de7ac8b-495b-4884-9a69-1050c6793cd6"
    assert_conforms(openapi, client.get(f"/v2/uptime/checks/{unknown}/state"), 404)
    assert_conforms(openapi, client.get(f"/v2/projects/{unknown}/resources"), 404)
    # No registry: 404 (the spec lists no 404 for it: it is checked as its `default`).
    assert_conforms(openapi, connect(rich, "sim-secret-empty").get("/v2/registry"), 404)
    for path in (f"/v2/vpcs/{unknown}/members", "/v2/domains/nowhere.example/records"):
        assert_conforms(openapi, client.get(path), 404, path="/v2/droplets/1")
    assert_conforms(openapi, client.get(f"/v2/customers/my/invoices/{unknown}/summary"), 404)
    insights = concrete(rich, "acme", BILLING_TEMPLATED[1])
    for urn in (f"do:team:{unknown}", f"do:teamgroup:{unknown}"):
        other = insights.replace(insights.split("/")[3], urn)
        assert_conforms(openapi, client.get(other), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/droplets?page=0",
        "/v2/volumes?per_page=x",
        "/v2/droplets?tag_name=web&type=gpus",
        "/v2/customers/my/invoices?page=-2",
        "/v2/snapshots?resource_type=image",
        "/v2/load_balancers?page=0",
        "/v2/projects/default/resources?per_page=-1",
        "/v2/customers/my/billing_history?page=0",
        "/v2/billing/{urn}/insights/2026-11-01/2026-12-03",
        "/v2/billing/{urn}/insights/2026-11-18/2026-11-17",
        "/v2/billing/{urn}/insights/2026-13-01/2026-11-17",
        "/v2/billing/{urn}/insights/2026-11-17/2026-11-18?per_page=x",
    ],
)
def test_400_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect, path: str) -> None:
    team = rich.fleet("acme").account_object()["team"]["uuid"]
    assert_conforms(openapi, connect(rich, READ_ONLY).get(path.replace("{urn}", f"do:team:{team}")), 400)


def test_429_conforms_for_both_limits_and_for_storms(
    openapi: OpenAPI,
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Connect,
    clock: ManualClock,
) -> None:
    simulator = start_simulator(account_config(requests_per_hour=3, requests_per_minute=2))
    client = connect(simulator, READ_ONLY)
    for path in ("/v2/account", "/v2/volumes"):
        assert_conforms(openapi, client.get(path), 200)
    burst = client.get("/v2/droplets")
    assert_conforms(openapi, burst, 429)
    assert burst.headers["retry-after"] == "60"
    clock.advance(61)
    assert_conforms(openapi, client.get("/v2/customers/my/balance"), 200)
    hourly = client.get("/v2/customers/my/invoices")
    assert_conforms(openapi, hourly, 429)
    assert "retry-after" not in hourly.headers
    other = connect(simulator, "sim-secret-full-access")
    simulator.set_faults([Fault(kind="rate_limit", retry_after=None)])
    assert_conforms(openapi, other.get("/v2/droplets"), 429)


def test_429_conforms_on_every_other_endpoint(
    openapi: OpenAPI,
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Connect,
    clock: ManualClock,
) -> None:
    simulator = start_simulator(account_config(requests_per_minute=1))
    client = connect(simulator, READ_ONLY)
    templated = (*TEMPLATED_ENDPOINTS, *BILLING_TEMPLATED)
    paths = [*RESOURCE_ENDPOINTS, *(concrete(simulator, "acme", t) for t in templated)]
    for path in paths:
        clock.advance(61)
        assert_conforms(openapi, client.get(path), 200)
        burst = client.get(path)
        assert_conforms(openapi, burst, 429)
        assert burst.headers["retry-after"] == "60"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_errors_conform(
    openapi: OpenAPI,
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Connect,
    status: int,
) -> None:
    simulator = start_simulator(account_config())
    simulator.set_faults([Fault(kind="error", status=status)])
    templated = (*TEMPLATED_ENDPOINTS, *BILLING_TEMPLATED)
    for path in (*SPEC_ENDPOINTS, *(concrete(simulator, "acme", t) for t in templated)):
        assert_conforms(openapi, connect(simulator, READ_ONLY).get(path), status)


def schema_messages(openapi: OpenAPI, response: httpx.Response) -> list[str]:
    """The JSON-schema messages of every problem openapi-core finds in the body."""
    url = response.request.url
    request = MockRequest(SPEC_HOST, "GET", url.path, args=dict(url.params))
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers["content-type"],
        headers=dict(response.headers),
    )
    return [
        str(getattr(problem, "message", problem))
        for error in openapi.iter_response_errors(request, mock)
        for problem in getattr(error.__cause__, "schema_errors", [error])
    ]


def test_the_spec_gaps_are_real_and_the_only_ones(
    strict_openapi: OpenAPI, openapi: OpenAPI, rich: Simulator, connect: Connect
) -> None:
    """Against the unwidened spec, exactly the two documented answers fail, for that reason."""
    empty = connect(rich, "sim-secret-empty").get("/v2/databases")
    assert schema_messages(strict_openapi, empty) == [
        "None for not nullable",
        "None is not of type 'array'",
    ]
    assert response_errors(openapi, empty) == []
    client = connect(rich, READ_ONLY)
    fleet = rich.fleet("acme")
    project = next(
        str(p.id)
        for p in fleet.resources.objects("projects")
        if any(b"do:app:" in e.body for e in fleet.project_resources(str(p.id)) or ())
    )
    with_apps = client.get(f"/v2/projects/{project}/resources", params={"per_page": 200})
    apps = [r["urn"] for r in with_apps.json()["resources"] if r["urn"].startswith("do:app:")]
    pattern = "^do:(dbaas|domain|droplet|floatingip|loadbalancer|space|volume|kubernetes|vpc):.*"
    assert schema_messages(strict_openapi, with_apps) == [
        f"{urn!r} does not match {pattern!r}" for urn in apps
    ]
    assert response_errors(openapi, with_apps) == []


def test_the_endpoints_outside_the_spec_have_the_real_shapes(
    rich: Simulator, connect: Connect
) -> None:
    """Domain records and VPC members are not in the spec subset: their documented shapes."""
    client = connect(rich, READ_ONLY)
    records_path = concrete(rich, "acme", "/v2/domains/{domain_name}/records")
    first = client.get(records_path)
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"domain_records", "links", "meta"}
    assert body["meta"]["total"] > 20
    assert len(body["domain_records"]) == 20
    assert set(body["links"]["pages"]) == {"next", "last"}
    record_keys = {"id", "type", "name", "data", "priority", "port", "ttl", "weight", "flags", "tag"}
    for record in body["domain_records"]:
        assert set(record) == record_keys
        assert isinstance(record["id"], int)
        assert isinstance(record["ttl"], int)
        assert record["type"] in {"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "CAA", "SRV"}
    members_path = concrete(rich, "acme", "/v2/vpcs/{vpc_id}/members")
    members = client.get(members_path, params={"per_page": 5, "page": 2}).json()
    assert set(members) == {"members", "links", "meta"}
    assert set(members["links"]["pages"]) >= {"first", "prev"}
    for member in members["members"]:
        assert set(member) == {"urn", "name", "created_at"}
        assert member["urn"].split(":")[:2] in (
            ["do", "droplet"], ["do", "loadbalancer"], ["do", "kubernetes"], ["do", "dbaas"]
        )
        assert member["created_at"].endswith("Z")
    for path in (records_path, members_path):
        for token, status in ((BILLING_ONLY, 403), ("sim-secret-unknown", 401)):
            denied = connect(rich, token).get(path)
            assert denied.status_code == status
            assert set(denied.json()) == {"id", "message", "request_id"}


# -- the spec's own examples, served back ------------------------------------------------


def example(spec: dict[str, Any], path: str, name: str | None = None) -> Any:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    if name is not None:
        return content["examples"][name]["value"]
    return content.get("example") or content["schema"]["example"]


def schema_example(spec: dict[str, Any], name: str) -> Any:
    """An object from a schema's per-property examples, for the operations with no example
    (account, registry, uptime checks and their state)."""
    schemas = spec["components"]["schemas"]

    def build(node: dict[str, Any]) -> Any:
        if "$ref" in node:
            return build(schemas[node["$ref"].rsplit("/", 1)[1]])
        if "example" in node:
            return node["example"]
        merged: dict[str, Any] = {}
        for part in node.get("allOf", []):
            built = build(part)
            if isinstance(built, dict):
                merged.update(built)
        merged.update({key: build(value) for key, value in node.get("properties", {}).items()})
        return merged

    return build(schemas[name])


CHECK_ID = "5a4981aa-9653-4bd1-bef5-d6bff52042e4"
"""The id of the spec's uptime check example."""


@pytest.fixture(scope="module")
def examples_simulator(spec: dict[str, Any]) -> Iterator[Simulator]:
    invoices = example(spec, "/v2/customers/my/invoices")
    resources = example(spec, "/v2/projects/{project_id}/resources")
    projects = example(spec, "/v2/projects")
    fleet = Fleet.from_objects(
        droplets=example(spec, "/v2/droplets", "All Droplets")["droplets"],
        gpu_droplets=example(spec, "/v2/droplets", "GPU Droplets")["droplets"],
        volumes=example(spec, "/v2/volumes", "All Volumes")["volumes"],
        account=schema_example(spec, "account"),
        balance=example(spec, "/v2/customers/my/balance"),
        invoices=invoices["invoices"],
        invoice_preview=invoices["invoice_preview"],
        billing_history=example(spec, "/v2/customers/my/billing_history")["billing_history"],
        invoice_summaries={
            summary["invoice_uuid"]: summary
            for summary in (example(spec, "/v2/customers/my/invoices/{invoice_uuid}/summary"),)
        },
        snapshots=example(spec, "/v2/snapshots", "All Snapshots")["snapshots"],
        reserved_ips=example(spec, "/v2/reserved_ips")["reserved_ips"],
        reserved_ipv6s=example(spec, "/v2/reserved_ipv6")["reserved_ipv6s"],
        load_balancers=example(spec, "/v2/load_balancers", "All Load Balancers")["load_balancers"],
        kubernetes_clusters=example(spec, "/v2/kubernetes/clusters", "All Kubernetes Clusters")[
            "kubernetes_clusters"
        ],
        databases=example(spec, "/v2/databases")["databases"],
        apps=example(spec, "/v2/apps", "apps")["apps"],
        domains=example(spec, "/v2/domains")["domains"],
        firewalls=example(spec, "/v2/firewalls")["firewalls"],
        vpcs=example(spec, "/v2/vpcs")["vpcs"],
        cdn_endpoints=example(spec, "/v2/cdn/endpoints")["endpoints"],
        certificates=example(spec, "/v2/certificates", "AllCertificates")["certificates"],
        registry=schema_example(spec, "registry"),
        registry_subscription=schema_example(spec, "subscription"),
        uptime_checks=[schema_example(spec, "check")],
        uptime_states={CHECK_ID: schema_example(spec, "state")},
        projects=projects["projects"],
        project_resources={projects["projects"][0]["id"]: resources["resources"]},
        tags=example(spec, "/v2/tags")["tags"],
        sizes=example(spec, "/v2/sizes")["sizes"],
        regions=example(spec, "/v2/regions")["regions"],
    )
    config = SimulatorConfig(
        accounts=(
            SimAccount(name="examples", tokens=(READ_ONLY, FULL_ACCESS_TOKEN), fleet=fleet),
        ),
        requests_per_minute=100_000,
    )
    simulator = Simulator(config, clock=ManualClock())
    simulator.start()
    yield simulator
    simulator.stop()


def without_paging(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in ("links", "meta")}


@pytest.mark.parametrize(
    "case",
    [
        ("/v2/droplets", {}, "All Droplets"),
        ("/v2/droplets", {"type": "gpus"}, "GPU Droplets"),
        ("/v2/droplets", {"tag_name": "env:prod"}, "Droplets Filtered By Tag"),
        ("/v2/volumes", {}, "All Volumes"),
        ("/v2/customers/my/balance", {}, None),
        ("/v2/customers/my/invoices", {}, None),
        ("/v2/customers/my/billing_history", {}, None),
        ("/v2/snapshots", {}, "All Snapshots"),
        ("/v2/snapshots", {"resource_type": "droplet"}, "Droplets Snapshots"),
        ("/v2/snapshots", {"resource_type": "volume"}, "Volume Snapshots"),
        ("/v2/reserved_ips", {}, None),
        ("/v2/reserved_ipv6", {}, None),
        ("/v2/floating_ips", {}, None),
        ("/v2/load_balancers", {}, "All Load Balancers"),
        ("/v2/kubernetes/clusters", {}, "All Kubernetes Clusters"),
        ("/v2/apps", {}, "apps"),
        ("/v2/domains", {}, None),
        ("/v2/firewalls", {}, None),
        ("/v2/vpcs", {}, None),
        ("/v2/cdn/endpoints", {}, None),
        ("/v2/certificates", {}, "AllCertificates"),
        ("/v2/projects", {}, None),
        ("/v2/projects/{project_id}/resources", {}, None),
        ("/v2/tags", {}, None),
        ("/v2/sizes", {}, None),
        ("/v2/regions", {}, None),
    ],
)
def test_the_specs_examples_come_back_unchanged(
    openapi: OpenAPI,
    spec: dict[str, Any],
    examples_simulator: Simulator,
    connect: Connect,
    case: tuple[str, dict[str, str], str | None],
) -> None:
    template, params, example_name = case
    path = template.replace("{project_id}", example(spec, "/v2/projects")["projects"][0]["id"])
    response = connect(examples_simulator, READ_ONLY).get(path, params=params)
    assert_conforms(openapi, response, 200)
    assert without_paging(response.json()) == without_paging(example(spec, template, example_name))


def test_the_invoice_summary_example_comes_back_unchanged(
    openapi: OpenAPI, spec: dict[str, Any], examples_simulator: Simulator, connect: Connect
) -> None:
    summary = example(spec, "/v2/customers/my/invoices/{invoice_uuid}/summary")
    client = connect(examples_simulator, READ_ONLY)
    response = client.get(f"/v2/customers/my/invoices/{summary['invoice_uuid']}/summary")
    assert_conforms(openapi, response, 200)
    assert response.json() == summary
    # The example's other invoices get summaries of their own amounts, by product.
    for invoice in example(spec, "/v2/customers/my/invoices")["invoices"][1:]:
        other = client.get(f"/v2/customers/my/invoices/{invoice['invoice_uuid']}/summary")
        assert_conforms(openapi, other, 200)
        assert other.json()["amount"] == invoice["amount"]


def test_the_databases_example_comes_back_with_credentials_only_for_those_allowed(
    openapi: OpenAPI, spec: dict[str, Any], examples_simulator: Simulator, connect: Connect
) -> None:
    databases = example(spec, "/v2/databases")
    full = connect(examples_simulator, FULL_ACCESS_TOKEN).get("/v2/databases")
    assert_conforms(openapi, full, 200)
    assert full.json() == databases
    read_only = connect(examples_simulator, READ_ONLY).get("/v2/databases")
    assert_conforms(openapi, read_only, 200)
    secret = {"connection", "private_connection", "users"}
    assert read_only.json() == {
        "databases": [
            {key: value for key, value in database.items() if key not in secret}
            for database in databases["databases"]
        ]
    }
    assert "password" not in read_only.text


@pytest.mark.parametrize(
    "case",
    [
        ("/v2/account", "account"),
        ("/v2/registry", "registry"),
        ("/v2/registry/subscription", "subscription"),
        ("/v2/uptime/checks", "check"),
        (f"/v2/uptime/checks/{CHECK_ID}/state", "state"),
    ],
)
def test_the_schema_examples_come_back_unchanged(
    openapi: OpenAPI,
    spec: dict[str, Any],
    examples_simulator: Simulator,
    connect: Connect,
    case: tuple[str, str],
) -> None:
    path, schema = case
    response = connect(examples_simulator, READ_ONLY).get(path)
    assert_conforms(openapi, response, 200)
    value = schema_example(spec, schema)
    key = {"check": "checks", "registry": "registry"}.get(schema, schema)
    expected = {key: [value] if schema == "check" else value}
    assert without_paging(response.json()) == expected


def test_a_wrong_body_would_be_caught(openapi: OpenAPI, rich: Simulator, connect: Connect) -> None:
    """Negative control: the oracle rejects a Droplet status outside the enum."""
    response = connect(rich, READ_ONLY).get("/v2/droplets", params={"per_page": 1})
    body = response.json()
    body["droplets"][0]["status"] = "running"
    broken = httpx.Response(
        200, headers=response.headers, content=json.dumps(body).encode(), request=response.request
    )
    with pytest.raises(AssertionError):
        assert_conforms(openapi, broken, 200)


def test_a_wrong_billing_body_would_be_caught(
    openapi: OpenAPI, rich: Simulator, connect: Connect
) -> None:
    """Negative controls on the new billing endpoints: a history type outside the enum, and
    insights without the `total_items` the spec requires."""
    client = connect(rich, READ_ONLY)
    response = client.get("/v2/customers/my/billing_history", params={"per_page": 1})
    body = response.json()
    body["billing_history"][0]["type"] = "Gift"
    insights = client.get(concrete(rich, "acme", BILLING_TEMPLATED[1]), params={"per_page": 1})
    broken_insights = insights.json()
    del broken_insights["total_items"]
    for original, changed in ((response, body), (insights, broken_insights)):
        broken = httpx.Response(
            200, headers=original.headers, content=json.dumps(changed).encode(),
            request=original.request,
        )
        with pytest.raises(AssertionError):
            assert_conforms(openapi, broken, 200)


def test_a_wrong_resource_body_would_be_caught(
    openapi: OpenAPI, rich: Simulator, connect: Connect
) -> None:
    """Negative control on the new endpoints: a cluster state outside the enum is rejected."""
    response = connect(rich, READ_ONLY).get("/v2/kubernetes/clusters", params={"per_page": 1})
    body = response.json()
    body["kubernetes_clusters"][0]["status"]["state"] = "exploded"
    broken = httpx.Response(
        200, headers=response.headers, content=json.dumps(body).encode(), request=response.request
    )
    with pytest.raises(AssertionError):
        assert_conforms(openapi, broken, 200)
