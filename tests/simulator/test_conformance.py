"""Every simulator response, checked against the official OpenAPI spec (vendored in fixtures).

Status, headers and body of each answer are validated with openapi-core, and the status code is
asserted separately (every operation declares `default`, so any code finds a schema). The
spec's own examples are loaded into the simulator and must come back unchanged.
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
    Fault,
    Fleet,
    FleetSpec,
    SimAccount,
    SimToken,
    Simulator,
    SimulatorConfig,
    demo_config,
)

from .conftest import (
    ALL_TOKENS,
    BILLING_ONLY,
    DROPLETS_ONLY,
    EXPIRED,
    READ_ONLY,
    REVOKED,
    SPEC_PATH,
    ManualClock,
    account_config,
)

SPEC_HOST = "https://api.digitalocean.com"
SPEC_ENDPOINTS = (
    "/v2/account",
    "/v2/droplets",
    "/v2/volumes",
    "/v2/customers/my/balance",
    "/v2/customers/my/invoices",
)

Connect = Callable[..., httpx.Client]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec)


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


def assert_conforms(
    openapi: OpenAPI, response: httpx.Response, status: int, path: str | None = None
) -> None:
    """`response` is what the spec allows for its GET, and has the expected status."""
    assert response.status_code == status, response.text
    url = response.request.url
    request = MockRequest(SPEC_HOST, "GET", path or url.path, args=dict(url.params))
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers["content-type"],
        headers=dict(response.headers),
    )
    errors = [
        str(error) + repr(getattr(error, "__cause__", None))[:2000]
        for error in openapi.iter_response_errors(request, mock)
    ]
    assert errors == []
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
    for endpoint in ENDPOINTS:
        if endpoint.template.startswith("/v1/oauth"):
            continue  # undocumented, not in the spec: any valid token may ask
        (requirement,) = spec["paths"][endpoint.template]["get"]["security"]
        assert endpoint.scope in requirement["bearer_auth"], endpoint.template


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


def test_a_droplet_by_id_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect) -> None:
    for listed in (rich.fleet("acme").droplets[0], rich.fleet("acme").gpu_droplets[0]):
        assert_conforms(openapi, connect(rich, READ_ONLY).get(f"/v2/droplets/{listed.id}"), 200)


@pytest.mark.parametrize("account", ["production", "staging"])
@pytest.mark.parametrize("path", [*SPEC_ENDPOINTS, "/v2/droplets?type=gpus"])
def test_the_demo_fleet_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, account: str, path: str
) -> None:
    token = next(t for a in rich.config.accounts if a.name == account for t in a.tokens)
    for response in (
        [connect(rich, token).get(path)]
        if "droplets" not in path
        else pages(
            connect(rich, token), path.split("?", maxsplit=1)[0], **dict(httpx.URL(path).params)
        )
    ):
        assert_conforms(openapi, response, 200)


@pytest.mark.parametrize("path", [*SPEC_ENDPOINTS, "/v2/droplets?type=gpus"])
def test_an_empty_fleet_conforms(
    openapi: OpenAPI, rich: Simulator, connect: Connect, path: str
) -> None:
    response = connect(rich, "sim-secret-empty").get(path)
    assert_conforms(openapi, response, 200)
    body = response.json()
    if "meta" in body:
        assert body["meta"] == {"total": 0}
        assert body["links"] == {}


@pytest.mark.parametrize("token", [None, "sim-secret-unknown", EXPIRED, REVOKED])
@pytest.mark.parametrize("path", [*SPEC_ENDPOINTS, "/v2/droplets/1"])
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
        (DROPLETS_ONLY, "/v2/droplets?tag_name=web"),
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


@pytest.mark.parametrize(
    "path",
    [
        "/v2/droplets?page=0",
        "/v2/volumes?per_page=x",
        "/v2/droplets?tag_name=web&type=gpus",
        "/v2/customers/my/invoices?page=-2",
    ],
)
def test_400_conforms(openapi: OpenAPI, rich: Simulator, connect: Connect, path: str) -> None:
    assert_conforms(openapi, connect(rich, READ_ONLY).get(path), 400)


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


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_errors_conform(
    openapi: OpenAPI,
    start_simulator: Callable[[SimulatorConfig], Simulator],
    connect: Connect,
    status: int,
) -> None:
    simulator = start_simulator(account_config())
    simulator.set_faults([Fault(kind="error", status=status)])
    for path in SPEC_ENDPOINTS:
        assert_conforms(openapi, connect(simulator, READ_ONLY).get(path), status)


# -- the spec's own examples, served back ------------------------------------------------


def example(spec: dict[str, Any], path: str, name: str | None = None) -> Any:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    if name is not None:
        return content["examples"][name]["value"]
    return content.get("example") or content["schema"]["example"]


def schema_example(spec: dict[str, Any], name: str) -> Any:
    """An object from a schema's per-property examples (the spec has no account example)."""
    schemas = spec["components"]["schemas"]

    def build(node: dict[str, Any]) -> Any:
        if "$ref" in node:
            return build(schemas[node["$ref"].rsplit("/", 1)[1]])
        if "example" in node:
            return node["example"]
        return {key: build(value) for key, value in node.get("properties", {}).items()}

    return build(schemas[name])


@pytest.fixture
def examples_simulator(
    spec: dict[str, Any], start_simulator: Callable[[SimulatorConfig], Simulator]
) -> Simulator:
    invoices = example(spec, "/v2/customers/my/invoices")
    fleet = Fleet.from_objects(
        droplets=example(spec, "/v2/droplets", "All Droplets")["droplets"],
        gpu_droplets=example(spec, "/v2/droplets", "GPU Droplets")["droplets"],
        volumes=example(spec, "/v2/volumes", "All Volumes")["volumes"],
        account=schema_example(spec, "account"),
        balance=example(spec, "/v2/customers/my/balance"),
        invoices=invoices["invoices"],
        invoice_preview=invoices["invoice_preview"],
    )
    return start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="examples", tokens=(READ_ONLY,), fleet=fleet),))
    )


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
    ],
)
def test_the_specs_examples_come_back_unchanged(
    openapi: OpenAPI,
    spec: dict[str, Any],
    examples_simulator: Simulator,
    connect: Connect,
    case: tuple[str, dict[str, str], str | None],
) -> None:
    path, params, example_name = case
    response = connect(examples_simulator, READ_ONLY).get(path, params=params)
    assert_conforms(openapi, response, 200)
    assert without_paging(response.json()) == without_paging(example(spec, path, example_name))


def test_the_account_example_comes_back_unchanged(
    openapi: OpenAPI, spec: dict[str, Any], examples_simulator: Simulator, connect: Connect
) -> None:
    response = connect(examples_simulator, READ_ONLY).get("/v2/account")
    assert_conforms(openapi, response, 200)
    assert response.json() == {"account": schema_example(spec, "account")}


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
