"""The vector databases kind: none unless counted, paged by `page`/`per_page` with a top-level
`total` and no links or meta (as the full description has it), every page valid against that
description, one `errored` with problems on, connection endpoints but never a token, and no
charge (the description gives no price)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.kinds.vector_databases import SIZES
from tests.conftest import full_spec

ENDPOINT = "/v2/vector-databases"
HOST = "https://api.digitalocean.com"
TOKEN = SimToken("ro", "dop_v1_" + "cd" * 32, scopes=["database:read", "droplet:read"])


def simulator(**counts: Any) -> Simulator:
    spec = FleetSpec(seed=7, droplets=20, **counts)
    return Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),),
                                     requests_per_minute=100_000, requests_per_hour=100_000))


def get(sim: Simulator, query: str = "") -> httpx.Response:
    return httpx.get(f"{sim.url}{ENDPOINT}{query}",
                     headers={"Authorization": f"Bearer {TOKEN.token}"})


def openapi() -> OpenAPI:
    full = full_spec()
    item = {"get": full["paths"][ENDPOINT]["get"]}
    return OpenAPI.from_dict({
        "openapi": full["openapi"], "info": full["info"], "servers": [{"url": HOST}],
        "paths": {ENDPOINT: json.loads(json.dumps(item))},
        "components": {"securitySchemes": full["components"]["securitySchemes"]},
        "security": full["security"],
    })


def spec_errors(spec: OpenAPI, response: httpx.Response) -> list[str]:
    url = response.request.url
    request = MockRequest(HOST, "GET", url.path, args=dict(url.params))
    mock = MockResponse(response.content, status_code=response.status_code,
                        content_type=response.headers["content-type"])
    return [str(error) for error in spec.iter_response_errors(request, mock)]


def test_none_unless_counted() -> None:
    with simulator() as sim:
        assert get(sim).json() == {"vector_dbs": [], "total": 0}


def test_pages_by_total_without_links_each_valid_against_the_full_spec() -> None:
    spec = openapi()
    with simulator(vector_databases=5, problems=True) as sim:
        pages = [get(sim, f"?per_page=2&page={n}") for n in (1, 2, 3, 4)]
        whole = get(sim).json()
        refused = httpx.get(f"{sim.url}{ENDPOINT}?per_page=x",
                            headers={"Authorization": f"Bearer {TOKEN.token}"})
    for page in pages:
        assert page.status_code == 200
        assert spec_errors(spec, page) == []
        assert set(page.json()) == {"vector_dbs", "total"}
        assert page.json()["total"] == 5
    assert [len(p.json()["vector_dbs"]) for p in pages] == [2, 2, 1, 0]
    paged = [d for p in pages for d in p.json()["vector_dbs"]]
    assert paged == whole["vector_dbs"]
    assert len({d["id"] for d in paged}) == 5
    assert refused.status_code == 400
    assert [d["status"] for d in paged] == ["active", "errored", "active", "active", "active"]
    assert {d["size"] for d in paged} <= set(SIZES)
    for database in paged:
        assert database["endpoints"]["http"].startswith("https://")
        assert "api_token" not in database
        assert "password" not in json.dumps(database)


def test_a_wrong_answer_would_be_caught() -> None:
    spec = openapi()
    with simulator(vector_databases=1) as sim:
        response = get(sim)
    body = response.json()
    body["total"] = "1"  # a string where the spec has an integer
    wrong = httpx.Response(200, json=body, request=response.request)
    assert spec_errors(spec, wrong) != []


def test_the_token_needs_database_read_and_nothing_is_billed() -> None:
    other = SimToken("other", "dop_v1_" + "ef" * 32, scopes=["droplet:read"])
    config = SimulatorConfig(accounts=(SimAccount(
        "acme", tokens=(TOKEN, other), fleet=FleetSpec(seed=7, droplets=20, vector_databases=2)),))
    with Simulator(config) as sim, simulator() as without:
        refused = httpx.get(f"{sim.url}{ENDPOINT}",
                            headers={"Authorization": f"Bearer {other.token}"})
        names = {d["name"] for d in get(sim).json()["vector_dbs"]}
        charges = sim.fleet("acme").ledger().charges
        baseline = without.fleet("acme").ledger().charges
    assert refused.status_code == 403
    assert len(names) == 2
    assert not [c for c in charges if any(name in c.description for name in names)]
    assert sorted(map(repr, charges)) == sorted(map(repr, baseline))
